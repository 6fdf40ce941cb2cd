/**
 * A fleet driver without HTTP for engine tests: an install is a few "requests" (each meeting the fault decision of
 * (seed, agent, attempt) and retried every /retry minutes like ccmsetup), a start renews a 30-day-old token. It keeps
 * its own tiny "site database" so tests can check idempotent registration under faults.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { VirtualClock, type Clock } from '../../src/clock/clock.js';
import { resolveFleetOptions, type RawFleetOptions } from '../../src/fleet/fleet-options.js';
import { runFleet } from '../../src/fleet/fleet-engine.js';
import { writeFleetOutputs } from '../../src/fleet/fleet-output.js';
import type { FleetSummary } from '../../src/fleet/fleet-summary.js';
import { DAY_MS, MINUTE_MS } from '../../src/agent/lifecycle/duration.js';
import type { HeldToken } from '../../src/agent/lifecycle/renewal-rule.js';
import { decideFault, type FaultSpec } from '../../src/fleet/fleet-faults.js';
import type { FleetAgentDriver, FleetServices } from '../../src/fleet/fleet-driver.js';

export function fakeDriver(clock: Clock, services: FleetServices, o: { seed: number; startMs: number; faults: FaultSpec; retryMinutes: number }): FleetAgentDriver & { db: Map<string, number> } {
  const db = new Map<string, number>();
  let tokens = 0;
  const attempts = new Map<number, number>();
  const call = async (agent: number, server: 'mp' | 'cmg'): Promise<boolean> => {
    const attempt = (attempts.get(agent) ?? 0) + 1;
    attempts.set(agent, attempt);
    return services.limit(async () => {
      await new Promise((r) => setImmediate(r));
      const kind = decideFault(o.faults, o.seed, agent, attempt, server, clock.now() - o.startMs);
      if (kind !== 'ok') services.fault(kind, agent);
      const ok = kind === 'ok' || kind === 'latency';
      services.request(agent, 'register', 100 + (agent % 7), ok);
      return ok;
    });
  };
  const issue = (): HeldToken => {
    tokens++;
    return { tokenId: `t${tokens}`, issuedMs: clock.now(), expiresMs: clock.now() + 90 * DAY_MS, signer: 'S1', via: 'install' };
  };
  return {
    db,
    description: 'fake agents (no HTTP)',
    async install(spec, ctx) {
      const server = spec.network === 'internet' ? 'cmg' : 'mp';
      await clock.sleep(spec.random.int(1, 60) * 1000);
      for (const step of ['locate', 'register', 'token']) {
        while (!(await call(spec.index, server))) {
          ctx.retry(`${step} failed`);
          await clock.sleep(o.retryMinutes * MINUTE_MS);
        }
        // Registration is idempotent: one record per machine, whatever the retries.
        if (step === 'register') db.set(spec.name, (db.get(spec.name) ?? 0) + 0 || 1);
      }
      let token = issue();
      return {
        result: { ok: true, via: server, failure: undefined, token },
        client: {
          token: () => token,
          async start(ctx2) {
            if (ctx2.nowMs - token.issuedMs < 30 * DAY_MS) return [{ action: 'none', why: 'not-due' }];
            const via = ctx2.location === 'internet' ? 'CMG' : 'MP';
            if (!(await call(spec.index, server))) {
              return [{ action: 'refused', via, attempted: 'renew', why: 'due', code: 'CCMSIM_HTTP_STATUS', hresult: '0x87d0027e', message: '503' }];
            }
            token = { ...issue(), via };
            return [{ action: 'renewed', via, why: 'due', token }];
          },
        },
      };
    },
    async siteCounts() {
      return { clients: db.size, duplicateClients: 0, clientTokens: tokens };
    },
    async close() {},
  };
}

/** A fleet of fake agents written to a new directory as `ccmsim fleet` writes it: cheap shard outputs for merge tests. */
export async function fakeFleet(raw: RawFleetOptions): Promise<{ summary: FleetSummary; dir: string; agents: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-engine-'));
  const o = resolveFleetOptions({ out: dir, ...raw });
  const clock = new VirtualClock(o.startMs);
  const run = await runFleet(o, {
    clock,
    wallNow: () => performance.now(),
    createDriver: async (services) => fakeDriver(clock, services, { seed: o.seed, startMs: o.startMs, faults: o.faults, retryMinutes: o.retryMinutes }),
  });
  const summary = await writeFleetOutputs(dir, run);
  return { summary, dir, agents: readFileSync(join(dir, 'agents.ndjson'), 'utf8') };
}
