/**
 * `npm run bench`: from one run, side by side — the floor (crypto and HTTP alone, in isolation), fleet agents per
 * second with a key pool and with unique keys, the fleet-to-floor ratio (the floor computed from the round trips
 * and signatures the fleet run actually made), and memory per idle agent with 10,000 and 50,000 agents. Writes
 * bench/results.json and prints a table. Sizes: `--agents N` (key-pool fleet, default 10000: the target's own size,
 * measured rather than projected), `--unique-agents N` (default 200: unique RSA keys are slow to make),
 * `--idle 10000,50000`, `--concurrency N` (the fleets' --concurrency, default 64). The fleets write their output under
 * `--out-dir` (default: /dev/shm when it is there, so the figure is the simulator's and not the disk's; the table says
 * which was used).
 */
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stopwatchMs } from '../clock/clock.js';
import { resolveFleetOptions } from '../fleet/fleet-options.js';
import { runFleetToDir, type FleetRunOutput } from '../fleet/fleet-run.js';
import { measureFloor, type FloorFigures } from './floor.js';
import { preferBatchScheduling } from '../fleet/batch-scheduling.js';
import { engineBytesPerIdleAgent, realClientBytes } from './idle-memory.js';

const wallNow = stopwatchMs;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/**
 * Signatures a run made: the client signs each registration/confirmation and each token request (ClientToken
 * headers), and self-signs its two certificates; the site signs one JWT per client token it issues.
 */
function signaturesOf(run: FleetRunOutput): number {
  const c = run.summary.counts;
  const l = run.summary.latency;
  return (l['register']?.count ?? 0) + (l['token']?.count ?? 0) + 2 * c.installed + c.firstTokens + c.renewals;
}

function floorSeconds(run: FleetRunOutput, floor: FloorFigures): number {
  const c = run.summary.counts;
  const viaHttps = c.internet / Math.max(1, c.agents);
  const rtCost = viaHttps / floor.httpsRoundTripsPerSecond + (1 - viaHttps) / floor.httpRoundTripsPerSecond;
  return c.requests * rtCost + signaturesOf(run) / floor.rsaSignaturesPerSecond;
}

/** Where the fleets write: tmpfs when the machine has one (Linux /dev/shm), else the OS temp folder. */
function defaultOutDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

async function fleetRun(
  outDir: string,
  label: string,
  agents: number,
  keys: { keyPool?: number; uniqueKeys?: boolean },
  runFor: string,
): Promise<FleetRunOutput> {
  const out = join(mkdtempSync(join(outDir, `ccmsim-bench-${label}-`)), 'out');
  const options = resolveFleetOptions({
    agents,
    seed: 1,
    internetShare: 1,
    runFor,
    // A registration storm: arrivals in one hour, one-minute ticks, so agents overlap their I/O.
    installWindow: '1h',
    tick: '1m',
    concurrency: Number(arg('concurrency', '64')),
    out,
    ...keys,
  });
  return runFleetToDir(options, { wallNow });
}

async function main(): Promise<void> {
  // `npm run bench` preloads thread-pool-size.cjs, which sizes libuv's pool as the `ccmsim` launcher does.
  const poolAgents = Number(arg('agents', '10000'));
  const outDir = arg('out-dir', defaultOutDir());
  const uniqueAgents = Number(arg('unique-agents', '200'));
  const idleSizes = arg('idle', '10000,50000').split(',').map(Number).filter((n) => n > 0);
  const log = (t: string): void => void process.stderr.write(`bench: ${t}\n`);

  log('floor: CCM_POST round trips (HTTP, HTTPS), RSA signatures, RSA key generation');
  const floor = await measureFloor(wallNow);

  // The floor is measured under the default policy; the fleets run as `ccmsim fleet` runs them (batch-scheduling.ts).
  const scheduling = preferBatchScheduling();
  const threads = scheduling === 'batch' ? 'SCHED_BATCH' : 'default policy';
  log(`fleet: ${poolAgents} agents, bulk registration over HTTPS, 180 days of renewals, key pool 16 (threads: ${threads})`);
  log(`fleet output under ${outDir}`);
  const pool = await fleetRun(outDir, 'pool', poolAgents, { keyPool: 16 }, '180d');
  const poolSeconds = pool.run.performance.wallMs / 1000;
  const poolFloor = floorSeconds(pool, floor);

  log(`fleet: ${uniqueAgents} agents with unique keys (install and first renewal)`);
  const unique = await fleetRun(outDir, 'unique', uniqueAgents, { uniqueKeys: true }, '31d');
  const uniqueSeconds = unique.run.performance.wallMs / 1000;
  const uniqueKeysPerSecond = (2 * unique.summary.counts.installed) / uniqueSeconds;

  const memory: Array<{ agents: number; engineBytesPerAgent: number }> = [];
  for (const n of idleSizes) {
    log(`memory: ${n} idle agents`);
    const dir = mkdtempSync(join(tmpdir(), 'ccmsim-bench-idle-'));
    memory.push({ agents: n, engineBytesPerAgent: await engineBytesPerIdleAgent(n, join(dir, 'out')) });
    rmSync(dir, { recursive: true, force: true });
  }
  const client = await realClientBytes(join(pool.run.options.out, 'machines'), 200);
  // A 10,000-agent run leaves about a gigabyte of machine folders (in memory when on tmpfs): remove both runs.
  for (const run of [pool, unique]) rmSync(dirname(run.run.options.out), { recursive: true, force: true });

  const results = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    fleetOutputDir: outDir,
    fleetScheduling: scheduling,
    floor: {
      httpSerialRoundTripsPerSecond: floor.httpSerialRoundTripsPerSecond,
      httpRoundTripsPerSecond: floor.httpRoundTripsPerSecond,
      httpsRoundTripsPerSecond: floor.httpsRoundTripsPerSecond,
      rsaSignaturesPerSecond: floor.rsaSignaturesPerSecond,
      rsaSignatureMs: 1000 / floor.rsaSignaturesPerSecond,
      rsaKeysPerSecond: floor.rsaKeysPerSecond,
    },
    keyPool: {
      agents: poolAgents,
      runFor: '180d',
      wallSeconds: poolSeconds,
      keySetupSeconds: pool.keySetupMs / 1000,
      agentsPerSecond: poolAgents / poolSeconds,
      requests: pool.summary.counts.requests,
      signatures: signaturesOf(pool),
      registrations: pool.summary.counts.registrations,
      renewals: pool.summary.counts.renewals,
      cpuSeconds: (pool.run.performance.cpuUserMs + pool.run.performance.cpuSystemMs) / 1000,
      peakRssMiB: pool.run.performance.peakRssBytes / 1048576,
      floorSeconds: poolFloor,
      floorAgentsPerSecond: poolAgents / poolFloor,
      fleetToFloorRatio: poolFloor / poolSeconds,
      projected10kSeconds: (10_000 / poolAgents) * poolSeconds,
      largestBatch: pool.clock.largestBatch,
    },
    uniqueKeys: {
      agents: uniqueAgents,
      wallSeconds: uniqueSeconds,
      agentsPerSecond: uniqueAgents / uniqueSeconds,
      keysPerSecond: uniqueKeysPerSecond,
      shareOfNativeKeyRate: uniqueKeysPerSecond / floor.rsaKeysPerSecond,
    },
    memory: {
      idle: memory.map((m) => ({ ...m, totalBytesPerAgent: m.engineBytesPerAgent + client.bytes })),
      realClientBytesPerAgent: client.bytes,
      realClientSample: client.sampled,
    },
    targets: { tenThousandAgentsSeconds: 90, fleetToFloorRatio: 0.6, bytesPerIdleAgent: 16 * 1024, uniqueKeyShareOfNative: 0.8 },
  };
  const dir = resolve('bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

  const f = (n: number, d = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows: Array<[string, string, string]> = [
    ['floor: CCM_POST round trips/s, one at a time', f(floor.httpSerialRoundTripsPerSecond, 0), 'undici → bare loopback server, HTTP'],
    ['floor: CCM_POST round trips/s (HTTP | HTTPS)', `${f(floor.httpRoundTripsPerSecond, 0)} | ${f(floor.httpsRoundTripsPerSecond, 0)}`, '64 in flight over 8 keep-alive connections (used for the ratio)'],
    ['floor: RSA-2048 signature', `${f(1000 / floor.rsaSignaturesPerSecond, 2)} ms`, `${f(floor.rsaSignaturesPerSecond, 0)}/s on one core`],
    ['floor: RSA-2048 keys/s (all cores)', f(floor.rsaKeysPerSecond), `${cpus().length} cores`],
    [
      'fleet, key pool: agents/s',
      f(poolAgents / poolSeconds),
      `${poolAgents} agents, HTTPS, 180 d, ${f(poolSeconds)} s${poolAgents === 10_000 ? '' : ` (10k projected ${f((10_000 / poolAgents) * poolSeconds, 0)} s)`}; target ≤ 90 s for 10k; output in ${outDir}; threads ${threads}`,
    ],
    ['floor for that run: agents/s', f(poolAgents / poolFloor), `${pool.summary.counts.requests} round trips + ${signaturesOf(pool)} signatures`],
    ['fleet-to-floor ratio', f(poolFloor / poolSeconds, 3), 'target ≥ 0.6'],
    ['fleet, unique keys: agents/s', f(uniqueAgents / uniqueSeconds, 2), `${f(uniqueKeysPerSecond)} keys/s = ${f((100 * uniqueKeysPerSecond) / floor.rsaKeysPerSecond, 0)}% of native (target ≥ 80%)`],
    ...memory.map(
      (m): [string, string, string] => [
        `memory per idle agent, ${m.agents.toLocaleString('en-US')} agents`,
        `${f((m.engineBytesPerAgent + client.bytes) / 1024)} KB`,
        `engine ${f(m.engineBytesPerAgent / 1024)} KB + client ${f(client.bytes / 1024)} KB (target ≤ 16 KB)`,
      ],
    ),
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  process.stdout.write(`\nccmsetup-sim bench (${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version})\n\n`);
  for (const [a, b, c] of rows) process.stdout.write(`  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}\n`);
  process.stdout.write(`\nWrote ${join(dir, 'results.json')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
