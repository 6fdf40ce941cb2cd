/**
 * Owns `ccmsetup-sim … --run-for <duration>` (issue 5, docs/lifecycle.md): the install as usual, then the installed
 * client keeps running on the virtual clock against the same site (reopened from its directory), with restarts,
 * roaming, offline windows and site events, and the run's timeline is printed after the install summary
 * (`--json`: one JSON object holding both). Reached from `runInstallFromCli` through its marked hook.
 */
import { RealClock, VirtualClock } from '../clock/clock.js';
import { Random } from '../clock/random.js';
import type { AgentCommandLine } from '../agent/ccmsetup-flow.js';
import { RealClientRuntime } from '../agent/lifecycle/real-runtime.js';
import { openLifecycleLog } from '../agent/lifecycle/lifecycle-log.js';
import type { SiteEventAction } from '../agent/lifecycle/lifecycle-options.js';
import { planLifecycle } from '../agent/lifecycle/lifecycle-plan.js';
import { runLifecycle } from '../agent/lifecycle/lifecycle-runner.js';
import { siteControlFor } from '../agent/lifecycle/site-control.js';
import { formatTimelineTable, timelineJson } from '../agent/lifecycle/timeline.js';
import { connectRemoteSite, startEmbeddedSite, type SiteConnection } from '../embedded/embedded-site.js';
import { resolveSiteDir } from '../site/site-dir.js';
import { installCliOverrides, installWithOptions, printOutcome, type InstallCliDeps } from './ccmsetup-install.js';
import { readSimulatorOptions } from './ccmsetup-options.js';
import { ccmsetupExitCode } from './exit-codes.js';
import { reportError, type Io } from './io.js';


/** The thread id the client service writes its token lines with (CcmExec's, stable for a run). */
const CLIENT_SERVICE_THREAD = 3904;

export async function runInstallAndKeepRunning(
  commandLine: AgentCommandLine,
  simulatorArgs: readonly string[],
  io: Io,
  deps: InstallCliDeps = installCliOverrides,
): Promise<number> {
  try {
    const { options, runFor } = readSimulatorOptions(commandLine, simulatorArgs);
    const { raw, lifecycle, alwaysInternet } = runFor!;
    const startMs = options.startMs ?? new RealClock().now();
    const clock = deps.clock instanceof VirtualClock ? deps.clock : new VirtualClock(startMs);
    const run = await installWithOptions(commandLine, { ...options, json: false, startMs: clock.now() }, io, { ...deps, clock });
    // Offsets and restart times count from the end of the install (the client's first start, when it got its token).
    const installMs = clock.now();
    const outcome = run.outcome;
    if (outcome.result !== 'installed' || outcome.exitCode !== 0) return printOutcome(run, { ...options, json: raw.json === true }, io);

    const plan = planLifecycle(lifecycle, { installMs, timeZone: options.timeZone, network: alwaysInternet ? 'internet' : outcome.network });
    const connection: SiteConnection = options.siteUrl
      ? await connectRemoteSite(options.siteUrl)
      : await startEmbeddedSite({
          siteDir: resolveSiteDir({ siteDir: options.siteDir, env: io.env, cwd: io.cwd }),
          clock,
          random: new Random(run.seed).fork('lifecycle-site'),
          ...(deps.siteKeys ? { keys: deps.siteKeys } : {}),
        });
    const log = openLifecycleLog({ machineDir: outcome.machineDir, timeZone: options.timeZone, clock, thread: CLIENT_SERVICE_THREAD });
    try {
      const runtime = await RealClientRuntime.load({
        machineDir: outcome.machineDir,
        timeZone: options.timeZone,
        clock,
        site: connection.client,
        siteNames: connection.siteNames,
        log,
      });
      const timeline = await runLifecycle({
        clock,
        clients: [{ runtime, schedule: plan.schedule }],
        siteEvents: plan.siteEvents,
        ...(connection.site ? { site: siteControlFor(connection.site) } : {}),
        endMs: plan.endMs,
      });
      if (raw.json === true) {
        io.stdout(`${JSON.stringify({ install: { ...outcome, seed: run.seed }, lifecycle: JSON.parse(timelineJson(timeline)) as unknown }, null, 2)}\n`);
      } else {
        printOutcome(run, { ...options, json: false }, io);
        io.stdout(`\n${formatTimelineTable(timeline, () => options.timeZone)}\n`);
      }
      if (connection.site && plan.siteEvents.length > 0) io.stderr(siteEventsNote(connection.site.siteDir, plan.siteEvents.map((e) => e.action)));
      return outcome.exitCode;
    } finally {
      log.close();
      await connection.close();
    }
  } catch (err) {
    reportError(io, 'ccmsetup-sim', err);
    return ccmsetupExitCode(err);
  }
}

/**
 * Site events change the site itself, as an admin's change would, so the next run meets the changed site: say so,
 * with the command that undoes a CMG switch (a rotation needs no undoing: clients renew onto the new certificate).
 */
function siteEventsNote(siteDir: string, actions: SiteEventAction[]): string {
  const cmg = actions.filter((a): a is Extract<SiteEventAction, { kind: 'cmg-enabled' }> => a.kind === 'cmg-enabled').at(-1);
  const undo = cmg !== undefined && !cmg.value ? `; to allow CMG clients again: ccmsim site config --site-dir ${JSON.stringify(siteDir)} --cmg-enabled true` : '';
  return `ccmsetup-sim: note: the site in ${siteDir} keeps what --site-event changed${undo}\n`;
}
