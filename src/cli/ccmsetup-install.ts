/**
 * Owns a real install from the `ccmsetup-sim` front door: the simulator options (`--site-dir | --site-url`,
 * `--machine-dir`, `--computer-name`, `--network`, `--timezone`, `--seed`, `--json`, `--simulate`, `--start`), the
 * embedded or remote site, the clock, running the agent, and what is printed: a short summary (or `--json`), the seed
 * to repeat the run, and on failure one human line on stderr. The process exit code is ccmsetup's return code.
 */
import { statSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { RealClock, VirtualClock, parseStartTime, type Clock } from '../clock/clock.js';
import { pickSeed, Random } from '../clock/random.js';
import { freshKeys, type KeyProvider } from '../crypto/key-provider.js';
import { CcmsimError, isCcmsimError } from '../errors.js';
import { runCcmsetup, type AgentCommandLine, type SimulateOption } from '../agent/ccmsetup-flow.js';
import { drawComputerName, normalizeComputerName } from '../agent/computer-name.js';
import { machinePaths, readMachineIdentity } from '../agent/client-state.js';
import { logRefusedCommandLine } from '../agent/refused-command-line.js';
import { maskedArgumentLine } from '../args/parse-ccmsetup-args.js';
import type { CcmsetupOutcome } from '../agent/outcome.js';
import { runOnClock } from '../agent/run-on-clock.js';
import { connectRemoteSite, startEmbeddedSite, type SiteConnection } from '../embedded/embedded-site.js';
import { resolveSiteDir } from '../site/site-dir.js';
import { CCMSETUP_EXIT, ccmsetupExitCode } from './exit-codes.js';
import { reportError, type Io } from './io.js';
import { errorJson, wantsJson } from './ccmsetup-json.js';
// Issue 5 hook (lifecycle engineer): `--run-for` runs the installed client on for months (docs/lifecycle.md).
import { runInstallAndKeepRunning, wantsRunFor } from './ccmsetup-run-for.js';

export interface InstallCliDeps {
  /** Key pairs for the clients' certificates (tests pass fixed keys). */
  keys?: KeyProvider;
  /** Key pairs for a site created on first use (tests pass fixed keys). */
  siteKeys?: KeyProvider;
  /** A clock to run on instead of the real one (or the virtual one `--start` makes). */
  clock?: Clock;
}

/** Overrides for tests (committed keys, a virtual clock). Left empty in production. */
export const installCliOverrides: InstallCliDeps = {};

export interface InstallOptions {
  siteDir: string | undefined;
  siteUrl: string | undefined;
  machineDir: string | undefined;
  computerName: string | undefined;
  network: 'intranet' | 'internet' | undefined;
  timeZone: string;
  seed: number;
  seedGiven: boolean;
  json: boolean;
  simulate: SimulateOption | undefined;
  startMs: number | undefined;
}

/** The simulator's time zone when `--timezone` is not given: UTC, so runs repeat byte for byte on any host. */
export const DEFAULT_TIME_ZONE = 'UTC';

const VALUE_OPTIONS = ['site-dir', 'site-url', 'machine-dir', 'computer-name', 'network', 'timezone', 'seed', 'simulate', 'start'] as const;

/** What an empty value option is told to give instead. */
const EMPTY_VALUE_HINT: Partial<Record<string, string>> = {
  'site-dir': 'a directory, or leave the option out for $CCMSIM_SITE_DIR, else .ccmsim/site',
  'site-url': "the URL of a running ccmsim site serve's MP, e.g. http://127.0.0.1:8080",
  'machine-dir': 'a directory, or leave the option out for logs/<COMPUTERNAME>',
};

/** Reads the simulator options (`--x v`, `--x=v`); anything unknown or empty is a usage error naming it. */
export function parseInstallOptions(simulatorArgs: readonly string[]): InstallOptions {
  const values: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < simulatorArgs.length; i++) {
    const arg = simulatorArgs[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new CcmsimError('CCMSIM_USAGE', `unexpected simulator argument ${JSON.stringify(arg)}`);
    const name = m[1]!;
    if (name === 'json') {
      if (m[2] !== undefined && !/^(true|false)$/i.test(m[2])) throw new CcmsimError('CCMSIM_USAGE', '--json takes no value');
      json = m[2] === undefined || m[2].toLowerCase() === 'true';
      continue;
    }
    if (!(VALUE_OPTIONS as readonly string[]).includes(name)) {
      throw new CcmsimError('CCMSIM_USAGE', `unknown simulator option --${name} (known: --${[...VALUE_OPTIONS, 'json'].join(', --')})`);
    }
    let value = m[2];
    if (value === undefined) {
      value = simulatorArgs[i + 1];
      if (value === undefined || value.startsWith('--')) throw new CcmsimError('CCMSIM_USAGE', `--${name} needs a value`);
      i++;
    }
    // An empty value is a slip (an unset shell variable): taken as given, `--site-url ''` ran the embedded site and
    // `--site-dir ''` the default one.
    if (value.trim() === '') throw new CcmsimError('CCMSIM_USAGE', `--${name} is empty: give ${EMPTY_VALUE_HINT[name] ?? 'a value'}`);
    values[name] = value;
  }
  if (values['site-dir'] !== undefined && values['site-url'] !== undefined) {
    throw new CcmsimError('CCMSIM_USAGE', 'give either --site-dir (embedded site) or --site-url (a running ccmsim site serve), not both');
  }
  const network = values['network'];
  if (network !== undefined && network !== 'intranet' && network !== 'internet') {
    throw new CcmsimError('CCMSIM_USAGE', `--network takes intranet or internet, not ${JSON.stringify(network)}`);
  }
  const simulate = values['simulate'];
  if (simulate !== undefined && simulate !== 'pending-reboot' && simulate !== 'prereq-failure') {
    throw new CcmsimError('CCMSIM_USAGE', `--simulate takes pending-reboot or prereq-failure, not ${JSON.stringify(simulate)}`);
  }
  const timeZone = values['timezone'] ?? DEFAULT_TIME_ZONE;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new CcmsimError('CCMSIM_USAGE', `--timezone ${timeZone}: not an IANA time zone (e.g. UTC, Europe/Paris, America/Los_Angeles)`);
  }
  let seed: number | undefined;
  if (values['seed'] !== undefined) {
    if (!/^\d{1,10}$/.test(values['seed']) || Number(values['seed']) < 1 || Number(values['seed']) > 2 ** 31 - 1) {
      throw new CcmsimError('CCMSIM_USAGE', `--seed ${values['seed']}: must be an integer from 1 to 2147483647`);
    }
    seed = Number(values['seed']);
  }
  let startMs: number | undefined;
  if (values['start'] !== undefined) {
    try {
      startMs = parseStartTime(values['start']);
    } catch {
      throw new CcmsimError('CCMSIM_USAGE', `--start ${values['start']}: not an ISO date-time (e.g. 2026-03-01T09:00:00Z)`);
    }
  }
  return {
    siteDir: values['site-dir'],
    siteUrl: values['site-url'],
    machineDir: values['machine-dir'],
    computerName: values['computer-name'] !== undefined ? normalizeComputerName(values['computer-name']) : undefined,
    network: network as InstallOptions['network'],
    timeZone,
    seed: seed ?? pickSeed(),
    seedGiven: seed !== undefined,
    json,
    simulate: simulate as SimulateOption | undefined,
    startMs,
  };
}

/**
 * The computer a run installs on. A machine directory is one computer: run again without --computer-name, it keeps the
 * name (and so the hardware) it was installed with, instead of a new one drawn from this run's seed.
 */
async function machineOf(options: InstallOptions, random: Random, io: Io): Promise<{ computerName: string; machineDir: string }> {
  if (options.machineDir !== undefined) checkMachineDir(options.machineDir, resolve(io.cwd, options.machineDir));
  const knownName =
    options.computerName === undefined && options.machineDir !== undefined
      ? (await readMachineIdentity(machinePaths(resolve(io.cwd, options.machineDir))))?.computerName
      : undefined;
  const computerName = options.computerName ?? knownName ?? drawComputerName(random.fork('computer-name'));
  return { computerName, machineDir: resolve(io.cwd, options.machineDir ?? join('logs', computerName)) };
}

/** A `--machine-dir` that exists must be a directory (it is created when missing). */
function checkMachineDir(given: string, path: string): void {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return;
  }
  if (!stats.isDirectory()) throw new CcmsimError('CCMSIM_USAGE', `--machine-dir ${given}: is a file, not a directory`);
}

function clockOf(options: InstallOptions, deps: InstallCliDeps): Clock {
  return deps.clock ?? (options.startMs !== undefined ? new VirtualClock(options.startMs) : new RealClock());
}

/**
 * A refused ccmsetup command line still leaves its ccmsetup.log on the machine, ending with the exit line a tester
 * looks for. Nothing is written when the simulator options themselves are unusable (no machine to write on).
 */
export async function logRefusal(typed: readonly string[], simulatorArgs: readonly string[], reason: string, io: Io, deps: InstallCliDeps = installCliOverrides): Promise<void> {
  let options: InstallOptions;
  try {
    options = parseInstallOptions(simulatorArgs);
  } catch {
    return;
  }
  const random = new Random(options.seed);
  try {
    const { machineDir } = await machineOf(options, random, io);
    logRefusedCommandLine({
      machineDir,
      timeZone: options.timeZone,
      clock: clockOf(options, deps),
      random: random.fork('refused'),
      maskedCommandLine: maskedArgumentLine(typed),
      reason,
    });
  } catch {
    // A machine directory that cannot take the log (a file, a damaged identity): the command line's own error is
    // reported already, and a second error about the machine would only hide it.
  }
}

export interface InstallRun {
  outcome: CcmsetupOutcome;
  seed: number;
}

/**
 * Runs one install with parsed options against the embedded site (default) or `--site-url`. Resolves to the outcome;
 * throws only for problems before ccmsetup starts (a bad option, an unreadable site).
 */
export async function installWithOptions(
  commandLine: AgentCommandLine,
  options: InstallOptions,
  io: Io,
  deps: InstallCliDeps = installCliOverrides,
): Promise<InstallRun> {
  const random = new Random(options.seed);
  const { computerName, machineDir } = await machineOf(options, random, io);
  const clock = clockOf(options, deps);
  let retryHinted = false;
  const connection: SiteConnection = options.siteUrl
    ? await connectRemoteSite(options.siteUrl, clock)
    : await startEmbeddedSite({
        siteDir: resolveSiteDir({ siteDir: options.siteDir, env: io.env, cwd: io.cwd }),
        clock,
        random: random.fork('site'),
        ...(deps.siteKeys ? { keys: deps.siteKeys } : {}),
      });
  try {
    const outcome = await runOnClock(clock, () =>
      runCcmsetup({
        commandLine,
        machineDir,
        computerName,
        network: options.network,
        timeZone: options.timeZone,
        clock,
        // Per computer: two machines run with one seed still get their own SMS GUID, serials and message IDs.
        random: random.fork(`agent/${computerName}`),
        keys: deps.keys ?? freshKeys(),
        site: connection.client,
        siteNames: connection.siteNames,
        simulate: options.simulate,
        onEvent: (e) => {
          if (e.kind === 'retry' && !options.json && clock.kind === 'real') {
            const at = new Date(e.nextAttemptAt).toISOString();
            io.stdout(`ccmsetup-sim: ${e.reason}; next retry at ${at} (gives up at ${new Date(e.giveUpAt).toISOString()})\n`);
            // On the real clock these are real waits, as ccmsetup's (up to /downloadtimeout, a day by default).
            if (!retryHinted) io.stdout('ccmsetup-sim: waiting as ccmsetup does (/retry, /downloadtimeout); Ctrl+C stops, --start runs on a virtual clock where waits pass at once\n');
            retryHinted = true;
          }
        },
      }),
    );
    return { outcome, seed: options.seed };
  } finally {
    await connection.close();
  }
}

/** What a finished run prints. Returns the exit code. */
export function printOutcome(run: InstallRun, options: InstallOptions, io: Io): number {
  const { outcome, seed } = run;
  if (options.json) {
    io.stdout(`${JSON.stringify({ ...outcome, seed }, null, 2)}\n`);
  } else {
    io.stdout(summaryText(outcome));
    io.stdout(`  seed:      ${seed} (repeat this run with --seed ${seed})\n`);
  }
  if (outcome.error) {
    const err = new CcmsimError(outcome.error.code, outcome.error.message, outcome.error.hresult ? { hresult: outcome.error.hresult } : {});
    reportError(io, 'ccmsetup-sim', err);
  } else if (outcome.result === 'unassigned') {
    io.stderr(
      `ccmsetup-sim: the client installed but site assignment to ${outcome.requestedSiteCode ?? '?'} failed; it stays unmanaged and retries every 10 minutes (see ${outcome.logs.clientLocation ?? outcome.logs.ccmsetup})\n`,
    );
  }
  return outcome.exitCode;
}

function summaryText(o: CcmsetupOutcome): string {
  const what: Record<CcmsetupOutcome['result'], string> = {
    installed: `installed the client and registered ${o.via === 'cmg' ? 'through the CMG' : 'with the management point'}`,
    unassigned: 'installed the client, which is not assigned to a site',
    uninstalled: 'uninstalled the client',
    'nothing-to-uninstall': 'found no client to uninstall',
    'client-exists': 'found a client already installed (/logon): nothing done',
    failed: 'failed',
  };
  // Return code 7 is no failure: ccmsetup stops until the computer restarts, then carries on.
  const outcome = o.exitCode === CCMSETUP_EXIT.REBOOT_REQUIRED ? 'needs a restart before setup can go on (/forcereboot restarts by itself)' : what[o.result];
  const lines = [`ccmsetup-sim: ${o.computerName} ${outcome} (return code ${o.exitCode})`];
  if (o.smsId) lines.push(`  client:    ${o.smsId}, ${o.network} client, registration ${o.registration}`);
  if (o.assignedSiteCode) lines.push(`  site:      ${o.assignedSiteCode}`);
  if (o.clientTokenExpiresAt) lines.push(`  token:     the client's own token, valid until ${o.clientTokenExpiresAt}`);
  lines.push(`  machine:   ${o.machineDir}`);
  lines.push(`  logs:      ${o.logs.ccmsetup}`);
  if (o.logs.clientIdManagerStartup) lines.push(`             ${o.logs.clientIdManagerStartup}`);
  if (o.logs.clientLocation) lines.push(`             ${o.logs.clientLocation}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The install path of `ccmsetup-sim`: given the parsed ccmsetup command line and the simulator options, runs the
 * install and prints. Problems before ccmsetup starts are one stderr line and ccmsetup's return code for them.
 */
export async function runInstallFromCli(commandLine: AgentCommandLine, simulatorArgs: readonly string[], io: Io): Promise<number> {
  // Issue 5 hook (lifecycle engineer): with `--run-for`, install and then keep the client running.
  if (wantsRunFor(simulatorArgs)) return runInstallAndKeepRunning(commandLine, simulatorArgs, io);
  let options: InstallOptions;
  try {
    options = parseInstallOptions(simulatorArgs);
    const run = await installWithOptions(commandLine, options, io);
    return printOutcome(run, options, io);
  } catch (err) {
    const exitCode = ccmsetupExitCode(err);
    if (wantsJson(simulatorArgs)) io.stdout(errorJson(exitCode, err));
    reportError(io, 'ccmsetup-sim', err);
    return exitCode;
  }
}
