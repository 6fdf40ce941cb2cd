/**
 * Owns `ccmsim demo` (`npm start`), the project's main job on the embedded site: in a fresh site directory it creates
 * a bulk registration token, installs an internet client with Microsoft's documented command line, installs an
 * intranet client without a token, blocks the token and shows a third install refused, then prints a summary and
 * where every log is. The token itself is never printed: only its tracking GUID.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseCmLog } from '../../log/reader.js';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { RealClock, type Clock } from '../../clock/clock.js';
import { pickSeed, Random } from '../../clock/random.js';
import { freshKeys, type KeyProvider } from '../../crypto/key-provider.js';
import { CcmsimError } from '../../errors.js';
import { runCcmsetup, type AgentCommandLine } from '../../agent/ccmsetup-flow.js';
import { drawComputerName } from '../../agent/computer-name.js';
import type { CcmsetupOutcome } from '../../agent/outcome.js';
import { runOnClock } from '../../agent/run-on-clock.js';
import { parseCcmsetupCommandLine } from '../../agent/command-line.js';
import { startEmbeddedSite } from '../../embedded/embedded-site.js';
import { blockBulkToken, createBulkToken, type NewBulkToken } from '../../site/bulk-tokens.js';
import type { CommandContext } from '../ccmsim-main.js';
import { TOOL_EXIT } from '../exit-codes.js';

export interface DemoDeps {
  keys?: KeyProvider;
  siteKeys?: KeyProvider;
  clock?: Clock;
}

/** Overrides for tests (committed keys). Left empty in production. */
export const demoOverrides: DemoDeps = {};

interface Step {
  title: string;
  outcome: CcmsetupOutcome;
  expectSuccess: boolean;
}

export function demoCommand(y: Argv, ctx: CommandContext): Argv {
  return y.command(
    'demo',
    'the main job: a fresh site, a bulk token, an internet client (Microsoft\'s documented command line), an intranet client, and a blocked token refused',
    (c) =>
      c
        .option('seed', { type: 'string', requiresArg: true, describe: 'repeat a demo exactly (default: random, printed)' })
        .option('dir', { type: 'string', requiresArg: true, describe: 'where the demo writes (default: logs/demo-<seed>)' })
        .option('timezone', { type: 'string', requiresArg: true, default: 'UTC', describe: 'IANA time zone of the simulated machines' }),
    async (argv) => {
      ctx.exitCode = await runDemo(ctx, {
        seed: argv.seed as string | undefined,
        dir: argv.dir as string | undefined,
        timeZone: argv.timezone as string,
      });
    },
  );
}

/** The site's own log lines that name this token and its refusal (the other side of the story). */
function siteLinesAbout(siteDir: string, guid: string): string[] {
  const out: string[] = [];
  for (const [folder, name] of [
    ['SMS_CCM', 'MP_RegistrationManager.log'],
    ['CMG', 'CMGService.log'],
  ] as const) {
    const path = join(siteDir, folder, 'Logs', name);
    if (!existsSync(path)) continue;
    for (const r of parseCmLog(readFileSync(path)).records) {
      if (r.message.includes(guid) && /BLOCKED|blocked/.test(r.message)) out.push(`${name}: ${r.message.replace(/~+$/, '')}`);
    }
  }
  return out;
}

function freshDir(base: string): string {
  if (!existsSync(base)) return base;
  for (let i = 2; ; i++) {
    const candidate = `${base}-${i}`;
    if (!existsSync(candidate)) return candidate;
  }
}

/** `--seed` as typed: a whole number from 1 to 2^31-1 (errors quote the text, never a parsed NaN). */
function demoSeed(text: string | number | undefined): number | undefined {
  if (text === undefined) return undefined;
  const typed = String(text).trim();
  if (!/^[+-]?\d+$/.test(typed)) throw new CcmsimError('CCMSIM_USAGE', `--seed ${typed}: not a number`);
  const seed = Number(typed);
  if (seed < 1 || seed > 2 ** 31 - 1) throw new CcmsimError('CCMSIM_USAGE', `--seed ${typed}: must be an integer from 1 to 2147483647`);
  return seed;
}

export async function runDemo(
  ctx: CommandContext,
  options: { seed?: string | number | undefined; dir?: string | undefined; timeZone: string },
): Promise<number> {
  const io = ctx.io;
  const deps = demoOverrides;
  const givenSeed = demoSeed(options.seed);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: options.timeZone });
  } catch {
    throw new CcmsimError('CCMSIM_USAGE', `--timezone ${options.timeZone}: not an IANA time zone`);
  }
  const seed = givenSeed ?? pickSeed();
  const random = new Random(seed);
  const root = freshDir(resolve(io.cwd, options.dir ?? join('logs', `demo-${seed}`)));
  const clock = deps.clock ?? new RealClock();
  const keys = deps.keys ?? freshKeys();
  io.stdout(`ccmsim demo (seed ${seed}; repeat with: ccmsim demo --seed ${seed})\n`);
  io.stdout(`Site and machines: ${root}\n\n`);

  const connection = await startEmbeddedSite({
    siteDir: join(root, 'site'),
    clock,
    random: random.fork('site'),
    ...(deps.siteKeys ? { keys: deps.siteKeys } : {}),
  });
  const steps: Step[] = [];
  try {
    const site = connection.site!;
    const config = site.config();
    const cmg = `${config.cmgHost}/CCM_Proxy_MutualAuth/${config.cmgId}`;
    const names = new Random(`${seed}/names`);
    const install = async (title: string, line: string, expectSuccess: boolean): Promise<void> => {
      const computerName = drawComputerName(names);
      const commandLine: AgentCommandLine = parseCcmsetupCommandLine(line);
      io.stdout(`${steps.length + 2}. ${title}\n   ccmsetup-sim ${commandLine.maskedCommandLine.replace(/^ccmsetup\.exe\s*/i, '')}\n`);
      const outcome = await runOnClock(clock, () =>
        runCcmsetup({
          commandLine,
          machineDir: join(root, computerName),
          computerName,
          timeZone: options.timeZone,
          clock,
          random: random.fork(`agent/${computerName}`),
          keys,
          site: connection.client,
          siteNames: connection.siteNames,
        }),
      );
      steps.push({ title, outcome, expectSuccess });
      const verdict =
        outcome.exitCode === 0
          ? `installed and registered ${outcome.via === 'cmg' ? 'through the CMG' : 'with the MP'} as ${outcome.smsId}`
          : `refused: ${outcome.error?.message ?? outcome.result} [${outcome.error?.hresult ?? ''}] (${outcome.error?.code ?? ''})`;
      io.stdout(`   ${computerName}: return code ${outcome.exitCode}, ${verdict}\n\n`);
    };

    let created: NewBulkToken | undefined = await createBulkToken(site);
    const bulk = { guid: created.guid, validUntilMs: created.validUntilMs };
    let token: string | undefined = created.token;
    created = undefined;
    io.stdout(
      `1. BulkRegistrationTokenTool.exe /new: token ${bulk.guid}, valid until ${new Date(bulk.validUntilMs).toISOString()}\n` +
        '   (the installs below receive it; it is shown only masked, and is logged and stored nowhere)\n\n',
    );
    const internetLine = (t: string): string => `/mp:https://${cmg} CCMHOSTNAME=${cmg} SMSSiteCode=${config.siteCode} /regtoken:${t}`;
    await install("Internet client, Microsoft's documented command line with the bulk token", internetLine(token), true);
    await install('Intranet client: registers with the MP, no token needed', `/mp:${config.mpHost} SMSSITECODE=${config.siteCode}`, true);
    blockBulkToken(site, bulk.guid);
    io.stdout(`   The console's Block action: bulk token ${bulk.guid} is now blocked.\n\n`);
    await install('Internet client with the blocked token: the CMG refuses it', internetLine(token), false);
    token = undefined;
    const siteSide = siteLinesAbout(join(root, 'site'), bulk.guid);
    if (siteSide.length > 0) {
      io.stdout('   What the site logged about it:\n');
      for (const l of siteSide.slice(0, 3)) io.stdout(`     ${l}\n`);
      io.stdout('\n');
    }
  } finally {
    await connection.close();
  }

  io.stdout('Summary\n');
  for (const s of steps) {
    const ok = (s.outcome.exitCode === 0) === s.expectSuccess;
    io.stdout(`  ${ok ? 'as expected' : 'UNEXPECTED '}  return code ${String(s.outcome.exitCode).padStart(2)}  ${s.outcome.computerName.padEnd(15)}  ${s.title}\n`);
  }
  io.stdout('\nClient logs\n');
  for (const s of steps) {
    const l = s.outcome.logs;
    for (const p of [l.ccmsetup, l.clientIdManagerStartup, l.clientLocation]) if (p) io.stdout(`  ${p}\n`);
  }
  // SMSCFG.ini is no log: the client's identity (SMS GUID, certificate), listed apart.
  io.stdout('\nClient identity (SMSCFG.ini)\n');
  for (const s of steps) io.stdout(`  ${join(s.outcome.machineDir, 'Windows', 'SMSCFG.ini')}\n`);
  io.stdout('\nSite logs\n');
  io.stdout(`  ${join(root, 'site', 'SMS_CCM', 'Logs')}  (MP_RegistrationManager.log, CCM_STS.log, ClientAuth.log, CcmIsapi.log when a request is malformed)\n`);
  io.stdout(`  ${join(root, 'site', 'CMG', 'Logs')}  (CMGService.log, SMS_Cloud_ProxyConnector.log)\n`);
  io.stdout(`  ${join(root, 'site', 'inetpub', 'logs', 'LogFiles', 'W3SVC1')}  (the MP's IIS log, u_exYYMMDD.log)\n`);
  io.stdout(`\nSee the registered clients: ccmsim site clients list --site-dir ${join(root, 'site')}\n`);
  const allAsExpected = steps.length === 3 && steps.every((s) => (s.outcome.exitCode === 0) === s.expectSuccess);
  return allAsExpected ? TOOL_EXIT.SUCCESS : TOOL_EXIT.FAILURE;
}
