/**
 * Owns the main-thread side of a site running in a worker (site-worker.ts): starting it, publishing the fleet's
 * virtual time to it through shared memory, answering its sleep requests on the fleet's clock, and the
 * SiteBackend calls as messages. Only available from the built JavaScript (the worker file must be .js).
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { CcmsimError, type ErrorCode } from '../errors.js';
import type { RsaKeyPair } from '../crypto/rsa-keys.js';
import { createSiteTransport, type SiteEndpoints } from '../agent/site-transport.js';
import type { VirtualClock } from '../clock/clock.js';
import type { FaultSpec } from './fleet-faults.js';
import type { FleetSite } from './fleet-site.js';
import type { SiteBackend } from './site-backend.js';
import type { SiteWorkerData, SiteWorkerReady } from './site-worker.js';

const WORKER_URL = new URL('./site-worker.js', import.meta.url);

/** Whether the site can run in a worker here (the compiled worker file exists: not under a TypeScript test runner). */
export function siteWorkerAvailable(): boolean {
  return import.meta.url.endsWith('.js') && existsSync(fileURLToPath(WORKER_URL));
}

export async function startSiteWorker(options: {
  siteDir: string;
  seed: number;
  startMs: number;
  faults: FaultSpec;
  timeZone: string;
  clock: VirtualClock;
  siteKeys?: RsaKeyPair[] | undefined;
}): Promise<FleetSite & { backend: SiteBackend }> {
  const time = new SharedArrayBuffer(8);
  options.clock.shareTime(new Float64Array(time));
  const data: SiteWorkerData = {
    siteDir: options.siteDir,
    seed: options.seed,
    startMs: options.startMs,
    faults: options.faults,
    timeZone: options.timeZone,
    time,
    ...(options.siteKeys ? { siteKeys: options.siteKeys } : {}),
  };
  const worker = new Worker(WORKER_URL, { workerData: data });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  let calls = 0;
  let failure: Error | undefined;
  const fail = (err: Error): void => {
    failure = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const ready = new Promise<SiteWorkerReady>((resolve, reject) => {
    worker.on('message', (msg: { type: string; id: number; ms: number; value: unknown; message: string; code?: string }) => {
      switch (msg.type) {
        case 'ready':
          resolve(msg as unknown as SiteWorkerReady);
          break;
        case 'failed':
          reject(new CcmsimError((msg.code as ErrorCode | undefined) ?? 'CCMSIM_SITE_STATE', `the fleet's site did not start: ${msg.message}`));
          break;
        case 'sleep':
          // A latency fault: the site waits on the fleet's clock (the agent's request keeps the clock busy meanwhile).
          void options.clock.sleep(msg.ms).then(() => worker.postMessage({ type: 'wake', id: msg.id }));
          break;
        case 'result':
          pending.get(msg.id)?.resolve(msg.value);
          pending.delete(msg.id);
          break;
        case 'error':
          pending.get(msg.id)?.reject(new CcmsimError((msg.code as ErrorCode | undefined) ?? 'CCMSIM_INTERNAL', msg.message));
          pending.delete(msg.id);
          break;
      }
    });
    worker.on('error', (err) => {
      reject(err);
      fail(err);
    });
    worker.on('exit', (code) => {
      if (code !== 0) fail(new CcmsimError('CCMSIM_INTERNAL', `the fleet's site thread stopped (exit code ${code})`));
    });
  });
  const call = <T>(op: string, ...args: unknown[]): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const id = ++calls;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ type: 'call', id, op, args });
    });
  };
  let r: SiteWorkerReady;
  try {
    r = await ready;
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  const siteNames = { mpUrl: r.mpUrl, cmgUrl: r.cmgUrl };
  const endpoints: SiteEndpoints = {
    ...siteNames,
    trustedRootPem: r.rootPem,
    hostMap: { [r.mpHost]: { address: '127.0.0.1', port: r.mpPort }, [r.cmgHost]: { address: '127.0.0.1', port: r.cmgPort } },
  };
  const transport = createSiteTransport(endpoints);
  const backend: SiteBackend = {
    siteCode: r.siteCode,
    createBulkToken: (lifetimeMinutes) => call('createBulkToken', lifetimeMinutes),
    blockBulkToken: (guid) => call('blockBulkToken', guid),
    apply: (action, nowMs) => call('apply', action, nowMs),
    counts: () => call('counts'),
    faults: () => call('faults'),
  };
  return {
    endpoints,
    transport,
    siteNames,
    site: undefined,
    backend,
    async close() {
      await transport.close();
      const keepAlive = setInterval(() => undefined, 20);
      try {
        await call('close');
      } finally {
        clearInterval(keepAlive);
        await worker.terminate();
      }
    },
  };
}
