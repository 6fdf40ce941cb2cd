/**
 * Owns the fleet's site when it runs in a worker thread: the embedded site (its servers, TLS, SQLite, signing and
 * server logs) on the second core. Its clock reads the fleet's virtual time from shared memory — the time cannot move
 * while an agent waits for an answer, so the site always sees the agent's instant — and its sleeps (latency faults)
 * are sleeps on the fleet's clock, asked for by message. The fault hook is rebuilt here from the spec (a pure
 * function of seed, agent and attempt). Operations (bulk tokens, site events, counts) arrive as messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Clock } from '../clock/clock.js';
import { Random } from '../clock/random.js';
import { fixedKeys } from '../crypto/key-provider.js';
import type { RsaKeyPair } from '../crypto/rsa-keys.js';
import { createFaultHook, type FaultSpec } from './fleet-faults.js';
import { startFleetSite } from './fleet-site.js';
import { localBackend } from './site-backend.js';

export interface SiteWorkerData {
  siteDir: string;
  seed: number;
  startMs: number;
  faults: FaultSpec;
  timeZone: string;
  time: SharedArrayBuffer;
  siteKeys?: RsaKeyPair[];
}

export interface SiteWorkerReady {
  type: 'ready';
  mpPort: number;
  cmgPort: number;
  rootPem: string;
  mpHost: string;
  cmgHost: string;
  cmgUrl: string;
  mpUrl: string;
  siteCode: string | undefined;
}

async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as SiteWorkerData;
  const view = new Float64Array(data.time);
  const wakes = new Map<number, () => void>();
  let sleeps = 0;
  const sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const id = ++sleeps;
      wakes.set(id, resolve);
      port.postMessage({ type: 'sleep', id, ms });
    });
  const clock: Clock = {
    kind: 'virtual',
    now: () => view[0]!,
    sleep,
    schedule(atMs, fn) {
      let cancelled = false;
      void sleep(Math.max(0, atMs - view[0]!)).then(() => (cancelled ? undefined : fn()));
      return () => {
        cancelled = true;
      };
    },
    spawn: (fn) => fn(),
  };
  const faults: Record<string, number> = {};
  const site = await startFleetSite({
    siteDir: data.siteDir,
    clock,
    random: new Random(data.seed),
    keys: data.siteKeys ? fixedKeys(data.siteKeys) : undefined,
    faults: data.faults.active
      ? createFaultHook(data.faults, data.seed, clock, data.startMs, (kind) => {
          faults[kind] = (faults[kind] ?? 0) + 1;
        })
      : undefined,
    timeZone: data.timeZone,
  });
  const backend = localBackend(site.site!);
  const hostOf = (url: string): [string, { port: number }] => {
    const name = new URL(url).hostname.toLowerCase();
    return Object.entries(site.endpoints.hostMap).find(([k]) => k.toLowerCase() === name)!;
  };
  const [mpHost, mp] = hostOf(site.siteNames.mpUrl);
  const [cmgHost, cmg] = hostOf(site.siteNames.cmgUrl);
  const ready: SiteWorkerReady = {
    type: 'ready',
    mpPort: mp.port,
    cmgPort: cmg.port,
    rootPem: site.endpoints.trustedRootPem,
    mpHost,
    cmgHost,
    mpUrl: site.siteNames.mpUrl,
    cmgUrl: site.siteNames.cmgUrl,
    siteCode: backend.siteCode,
  };
  port.on('message', (msg: { type: string; id: number; op?: string; args?: unknown[] }) => {
    if (msg.type === 'wake') {
      const wake = wakes.get(msg.id);
      wakes.delete(msg.id);
      wake?.();
      return;
    }
    if (msg.type !== 'call') return;
    const args = msg.args ?? [];
    const run = async (): Promise<unknown> => {
      switch (msg.op) {
        case 'createBulkToken':
          return backend.createBulkToken(args[0] as number);
        case 'blockBulkToken':
          return backend.blockBulkToken(args[0] as string);
        case 'apply':
          return backend.apply(args[0] as never, args[1] as number);
        case 'counts':
          return backend.counts();
        case 'faults':
          return { ...faults };
        case 'close':
          await site.close();
          return undefined;
        default:
          throw new Error(`unknown site operation ${msg.op}`);
      }
    };
    run().then(
      (value) => port.postMessage({ type: 'result', id: msg.id, value }),
      (err: unknown) => port.postMessage({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err), code: (err as { code?: string }).code }),
    );
  });
  port.postMessage(ready);
}

main().catch((err: unknown) => {
  parentPort?.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err), code: (err as { code?: string }).code });
});
