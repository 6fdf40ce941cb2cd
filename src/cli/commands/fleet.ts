/**
 * Owns `ccmsim fleet` (thousands of real agents against one site on a virtual clock, with faults, metrics and a
 * report) and `ccmsim fleet merge DIR… --out DIR` (shard outputs combined into one run). Printing, the progress bar
 * (on a TTY only) and the wall clock live here; the run itself is src/fleet/.
 */
import { resolve } from 'node:path';
import { stopwatchMs } from '../../clock/clock.js';
import cliProgress from 'cli-progress';
import type { Argv } from 'yargs';
import type { CommandContext } from '../ccmsim-main.js';
import { TOOL_EXIT } from '../exit-codes.js';
import type { KeyProvider } from '../../crypto/key-provider.js';
import type { RsaKeyPair } from '../../crypto/rsa-keys.js';
import { FLEET_DEFAULTS, resolveFleetOptions } from '../../fleet/fleet-options.js';
import { runFleetToDir } from '../../fleet/fleet-run.js';
import { preferBatchScheduling } from '../../fleet/batch-scheduling.js';
import { mergeFleetDirs, OUTPUT_FILES } from '../../fleet/fleet-output.js';
import { formatSummaryTable } from '../../fleet/fleet-summary.js';
import type { FleetProgress } from '../../fleet/fleet-engine.js';

/** Overrides for tests (committed keys, never generated ones). Left empty in production. */
export const fleetOverrides: { poolKeys?: readonly RsaKeyPair[]; siteKeys?: KeyProvider } = {};

const wallNow = stopwatchMs;

function progressBar(ctx: CommandContext, total: number): { update(p: FleetProgress): void; stop(): void } {
  if (!ctx.io.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: 'fleet [{bar}] {percentage}% | virtual {day} | installed {installed}/{total} failed {failed}', hideCursor: true, stream: process.stderr, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const payload = { day: new Date(p.virtualMs).toISOString().slice(0, 16).replace('T', ' '), installed: p.installed, failed: p.failed };
      if (!started) {
        bar.start(total, 0, payload);
        started = true;
      }
      bar.update(p.installed + p.failed, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/**
 * The run's options belong to `fleet` alone (yargs options are global by default, so `fleet merge` would list and
 * silently accept them), and each one that takes a value requires it (`--agents --seed 1` must not mean 100 agents).
 */
const RUN_VALUE = { type: 'string', requiresArg: true, global: false } as const;
const RUN_SWITCH = { type: 'boolean', global: false } as const;

export function fleetCommand(y: Argv, ctx: CommandContext): Argv {
  return y.command(
    'fleet',
    'simulate a fleet of clients (the same ccmsetup flow and token lifecycle as ccmsetup-sim) against one site, on a virtual clock',
    (c) =>
      c
        .command(
          'merge <dirs..>',
          'combine the --out directories of shards (--shard i/n) into one summary and report',
          (m) =>
            m
              .positional('dirs', { type: 'string', array: true, demandOption: true, describe: 'shard output directories' })
              .option('out', { type: 'string', requiresArg: true, demandOption: true, describe: 'where the merged files go (new or empty)' }),
          async (argv) => {
            const dirs = (argv.dirs as string[]).map((d) => resolve(ctx.io.cwd, d));
            const out = resolve(ctx.io.cwd, String(argv.out));
            const summary = await mergeFleetDirs(dirs, out);
            ctx.io.stdout(`ccmsim fleet merge: ${dirs.length} shard(s) of ${summary.shards.count}\n`);
            ctx.io.stdout(formatSummaryTable(summary));
            ctx.io.stdout(`\nWrote ${[OUTPUT_FILES.summary, OUTPUT_FILES.agents, OUTPUT_FILES.events, OUTPUT_FILES.report].map((f) => resolve(out, f)).join('\n      ')}\n`);
            if (summary.shards.included.length < summary.shards.count) {
              ctx.io.stderr(`ccmsim: warning: only shards ${summary.shards.included.join(',')} of ${summary.shards.count} were merged\n`);
            }
            ctx.exitCode = TOOL_EXIT.SUCCESS;
          },
        )
        .option('agents', { ...RUN_VALUE, describe: `number of agents (default ${FLEET_DEFAULTS.agents})` })
        .option('seed', { ...RUN_VALUE, describe: 'seed of the run (required: same seed and options, same outcomes)' })
        .option('internet-share', { ...RUN_VALUE, describe: `share of internet agents (CMG + bulk token), default ${FLEET_DEFAULTS.internetShare}` })
        .option('run-for', { ...RUN_VALUE, describe: `length of the run from --start, e.g. 180d (default ${FLEET_DEFAULTS.runFor})` })
        .option('start', { ...RUN_VALUE, describe: `virtual start, ISO 8601 (default ${FLEET_DEFAULTS.start}; no offset = UTC)` })
        .option('install-window', { ...RUN_VALUE, describe: `arrivals spread over this much time (default ${FLEET_DEFAULTS.installWindow}; 0s = all at once)` })
        .option('restart-every', { ...RUN_VALUE, describe: `client service restarts (default ${FLEET_DEFAULTS.restartEvery})` })
        .option('retry', { ...RUN_VALUE, describe: `ccmsetup /retry in minutes (default ${FLEET_DEFAULTS.retry})` })
        .option('tick', { ...RUN_VALUE, describe: `virtual-time resolution; agents due in one tick run side by side (default ${FLEET_DEFAULTS.tick})` })
        .option('concurrency', { ...RUN_VALUE, describe: `cap on requests in flight (default ${FLEET_DEFAULTS.concurrency})` })
        .option('key-pool', { ...RUN_VALUE, describe: `agents share K key pairs, each with its own certificates (default ${FLEET_DEFAULTS.keyPool})` })
        .option('unique-keys', { ...RUN_SWITCH, describe: 'every agent generates its own RSA-2048 keys (slow: about 14 keys/s on 2 cores)' })
        .option('faults', { ...RUN_VALUE, describe: 'site faults, e.g. mp-503=0.2,reset=0.05,latency=50ms,mp-down=10d-11d' })
        .option('site-url', { ...RUN_VALUE, describe: "a running 'ccmsim site serve' (default: an embedded site in --out); installs and first tokens on the site's clock, --run-for at most 15m (default 15m, arrivals in 5m)" })
        .option('regtoken', { ...RUN_VALUE, describe: 'bulk token for internet agents with --site-url' })
        .option('shard', { ...RUN_VALUE, describe: 'run the agents whose index mod n is i, e.g. 0/3' })
        .option('agent-logs', { ...RUN_VALUE, describe: `none | sample:N | all (default ${FLEET_DEFAULTS.agentLogs})` })
        .option('offline', { ...RUN_VALUE, array: true, describe: "every agent's offline windows, offsets from its install (e.g. 40d-60d)" })
        .option('roam', { ...RUN_VALUE, describe: 'network periods of every agent after its install (e.g. "internet:0d-30d,intranet:30d-")' })
        .option('site-event', {
          ...RUN_VALUE,
          array: true,
          describe: 'site changes, offsets from --start: 60d:rotate-token-signing, 90d:cmg-enabled=false, 3d:block-bulk-token',
        })
        .option('site-thread', { ...RUN_SWITCH, default: true, describe: 'run the embedded site in a worker thread (the second core); --no-site-thread keeps it on the main thread' })
        .option('batch-scheduling', {
          ...RUN_SWITCH,
          default: true,
          describe: "on Linux, schedule the run's threads as a batch workload (SCHED_BATCH, through chrt): no wake-up preemption between agents, site and signing threads; --no-batch-scheduling keeps the default policy",
        })
        .option('timezone', { ...RUN_VALUE, describe: `IANA zone of the machines (default ${FLEET_DEFAULTS.timeZone})` })
        .option('out', { ...RUN_VALUE, describe: 'output directory (new or empty): summary.json, agents.ndjson, events.ndjson, report.html, site/, machines/' }),
    async (argv) => {
      const options = resolveFleetOptions({
        agents: argv.agents as string | undefined,
        seed: argv.seed as string | undefined,
        internetShare: argv['internet-share'] as string | undefined,
        runFor: argv['run-for'] as string | undefined,
        start: argv.start as string | undefined,
        installWindow: argv['install-window'] as string | undefined,
        restartEvery: argv['restart-every'] as string | undefined,
        retry: argv.retry as string | undefined,
        tick: argv.tick as string | undefined,
        concurrency: argv.concurrency as string | undefined,
        keyPool: argv['key-pool'] as string | undefined,
        uniqueKeys: argv['unique-keys'] as boolean | undefined,
        faults: argv.faults as string | undefined,
        siteUrl: argv['site-url'] as string | undefined,
        shard: argv.shard as string | undefined,
        agentLogs: argv['agent-logs'] as string | undefined,
        timeZone: argv.timezone as string | undefined,
        offline: argv.offline as string[] | undefined,
        roam: argv.roam as string | undefined,
        siteEvent: argv['site-event'] as string[] | undefined,
        regtoken: argv.regtoken === undefined ? undefined : String(argv.regtoken),
        out: argv.out === undefined ? undefined : resolve(ctx.io.cwd, String(argv.out)),
      });
      const shard = options.shard.count > 1 ? ` shard ${options.shard.index}/${options.shard.count}` : '';
      const scheduling = argv['batch-scheduling'] !== false && preferBatchScheduling() === 'batch' ? ', threads SCHED_BATCH' : '';
      // Printed once every check has passed (a used --out, a remote site's clock), so a refused run prints only its error.
      const header = `ccmsim fleet: ${options.agents} agents${shard}, seed ${options.seed}, ${options.keys.kind === 'pool' ? `key pool ${options.keys.size}` : 'unique keys'}${scheduling}, output ${options.out}\n`;
      const bar = progressBar(ctx, Math.ceil((options.agents - options.shard.index) / options.shard.count));
      let result;
      try {
        result = await runFleetToDir(options, {
          wallNow,
          onChecked: () => ctx.io.stdout(header),
          onProgress: (p) => bar.update(p),
          ...(fleetOverrides.poolKeys ? { poolKeys: fleetOverrides.poolKeys } : {}),
          ...(fleetOverrides.siteKeys ? { siteKeys: fleetOverrides.siteKeys } : {}),
          ...(argv.regtoken !== undefined ? { regtoken: String(argv.regtoken).trim() } : {}),
          siteThread: argv['site-thread'] !== false,
        });
      } finally {
        bar.stop();
      }
      ctx.io.stdout(formatSummaryTable(result.summary));
      ctx.io.stdout(`\nWrote ${[OUTPUT_FILES.summary, OUTPUT_FILES.agents, OUTPUT_FILES.events, OUTPUT_FILES.report].map((f) => resolve(options.out, f)).join('\n      ')}\n`);
      for (const e of result.run.internalErrors) ctx.io.stderr(`ccmsim: internal error in an agent: ${e}\n`);
      ctx.exitCode = result.run.internalErrors.length > 0 ? TOOL_EXIT.FAILURE : TOOL_EXIT.SUCCESS;
    },
  );
}
