/**
 * Owns a real install from the `ccmsetup-sim` front door: the simulator options (`--site-dir | --site-url`,
 * `--machine-dir`, `--computer-name`, `--network`, `--timezone`, `--seed`, `--json`, `--simulate`, `--start`), the
 * embedded or remote site, the clock, running the agent, and what is printed: a short summary (or `--json`), the seed
 * to repeat the run, and on failure one human line on stderr. The process exit code is ccmsetup's return code.
 */
import { existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { RealClock, VirtualClock, type Clock } from '../clock/clock.js';
import { Random } from '../clock/random.js';
import { freshKeys, type KeyProvider } from '../crypto/key-provider.js';
import { CcmsimError } from '../errors.js';
import { isDirectory } from '../make-directory.js';
import { runCcmsetup, type AgentCommandLine } from '../agent/ccmsetup-flow.js';
import { drawComputerName } from '../agent/computer-name.js';
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
import { parseInstallOptions, wantsRunFor, type InstallOptions } from './ccmsetup-options.js';

// Issue 5 hook (lifecycle engineer): `--run-for` runs the installed client on for months (docs/lifecycle.md).
import { runInstallAndKeepRunning } from './ccmsetup-run-for.js';

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
  if (existsSync(path) && !isDirectory(path)) throw new CcmsimError('CCMSIM_USAGE', `--machine-dir ${given}: is a file, not a directory`);
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
