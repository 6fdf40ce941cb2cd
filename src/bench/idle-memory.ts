/**
 * Owns the bench's memory figures. An idle agent is an installed client waiting for its next start: the engine's
 * slot and its one queued event (measured with 10,000 and 50,000 agents through the real engine and a batching VirtualClock, with
 * a driver that installs instantly), plus the client it holds — the lifecycle's RealClientRuntime loaded from a real
 * machine directory and the agent's CCM site client — measured on a sample of real installed machines.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { VirtualClock } from '../clock/clock.js';
import { runFleet } from '../fleet/fleet-engine.js';
import { resolveFleetOptions } from '../fleet/fleet-options.js';
import { DAY_MS } from '../agent/lifecycle/duration.js';
import type { HeldToken } from '../agent/lifecycle/renewal-rule.js';
import { RealClientRuntime } from '../agent/lifecycle/real-runtime.js';
import { createCcmSiteClient } from '../agent/ccm-site-client.js';
import type { SiteTransport } from '../agent/site-transport.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** Heap bytes per idle agent held by the engine (slot, schedule, queued event, a client holding its token). */
export async function engineBytesPerIdleAgent(agents: number, outDir: string): Promise<number> {
  const options = resolveFleetOptions({ agents, seed: 1, runFor: '40d', installWindow: '1h', out: outDir, concurrency: 64 });
  const clock = new VirtualClock(options.startMs, { batch: true, tickMs: options.tickMs });
  const before = settledHeap();
  let during = before;
  // Two days in, every agent is installed and waits for the start at which its token is 30 days old.
  clock.schedule(options.startMs + 2 * DAY_MS, () => {
    during = settledHeap();
  });
  await runFleet(options, {
    clock,
    wallNow: () => 0,
    collectEvents: false,
    createDriver: async () => ({
      description: 'idle agents',
      async install(spec) {
        const token: HeldToken = { tokenId: spec.random.uuid(), issuedMs: clock.now(), expiresMs: clock.now() + 90 * DAY_MS, signer: 'S', via: 'install' };
        return { result: { ok: true, via: 'mp', failure: undefined, token }, client: { token: () => token, start: async () => [] } };
      },
      async close() {},
    }),
  });
  return (during - before) / agents;
}

/** Heap bytes per real installed client: RealClientRuntime (state, certificates, token, key) plus its site client. */
export async function realClientBytes(machinesDir: string, sample: number): Promise<{ bytes: number; sampled: number }> {
  const dirs = readdirSync(machinesDir).slice(0, sample);
  if (dirs.length === 0) return { bytes: 0, sampled: 0 };
  const clock = new VirtualClock(0, { batch: true });
  const stub: SiteTransport = { endpoints: { mpUrl: '', cmgUrl: '', trustedRootPem: '', hostMap: {} }, request: () => Promise.reject(new Error('idle')), close: async () => undefined };
  const held: unknown[] = [];
  const before = settledHeap();
  for (const d of dirs) {
    const site = createCcmSiteClient(stub, clock);
    held.push(site, await RealClientRuntime.load({ machineDir: join(machinesDir, d), timeZone: 'UTC', clock, site }));
  }
  const after = settledHeap();
  // `held` keeps every client alive until the heap is measured.
  return { bytes: (after - before) / dirs.length, sampled: held.length / 2 };
}
