import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentPlan, nextDueStart } from '../../src/fleet/fleet-engine.js';
import { mergeFleetDirs } from '../../src/fleet/fleet-output.js';
import { comparableSummary } from '../../src/fleet/fleet-summary.js';
import { DAY_MS } from '../../src/agent/lifecycle/duration.js';
import { fakeFleet } from './fake-driver.js';

const fleet = fakeFleet;

describe('fleet engine (fake driver)', () => {
  it('installs every agent inside the install window and renews each token every 30 days', async () => {
    const { summary, agents } = await fleet({ agents: 120, seed: 7, runFor: '100d', installWindow: '7d' });
    expect(summary.counts.registrations).toBe(120);
    expect(summary.counts.installFailures).toBe(0);
    // Tokens issued in days 0-7 are renewed at ~30, ~60 and ~90 days: three renewals each.
    expect(summary.counts.renewals).toBe(360);
    expect(summary.series.registrations.slice(0, 8).reduce((a, b) => a + b, 0)).toBe(120);
    expect(summary.series.registrations.slice(8).every((v) => v === 0)).toBe(true);
    expect(summary.site?.clients).toBe(120);
    expect(summary.site?.clientTokens).toBe(120 + 360);
    for (const line of agents.trim().split('\n')) {
      const a = JSON.parse(line) as { renewals: number; installed: boolean; starts: number };
      expect(a.installed).toBe(true);
      expect(a.renewals).toBe(3);
      // Starts with nothing due are skipped: only the three due starts ran.
      expect(a.starts).toBe(3);
    }
    expect(summary.tokenExpiry.perDay.reduce((a, b) => a + b, 0)).toBe(120);
  });

  it('gives the same per-agent outcomes at any concurrency', async () => {
    const raw = { agents: 90, seed: 42, runFor: '70d', installWindow: '3d', faults: 'mp-503=0.2,reset=0.05' };
    const a = await fleet({ ...raw, concurrency: 1 });
    const b = await fleet({ ...raw, concurrency: 7 });
    const c = await fleet({ ...raw, concurrency: 256 });
    expect(a.agents).toBe(b.agents);
    expect(a.agents).toBe(c.agents);
    expect(comparableSummary(a.summary)).toEqual(comparableSummary(c.summary));
    expect(readFileSync(join(a.dir, 'events.ndjson'), 'utf8')).toBe(readFileSync(join(c.dir, 'events.ndjson'), 'utf8'));
  });

  it('merges shards 0/3, 1/3 and 2/3 into the unsharded run, count for count', async () => {
    const raw = { agents: 100, seed: 3, runFor: '65d', installWindow: '2d', faults: 'mp-503=0.1' };
    const whole = await fleet(raw);
    const shards = await Promise.all([0, 1, 2].map((i) => fleet({ ...raw, shard: `${i}/3` })));
    expect(shards.map((s) => s.summary.counts.agents)).toEqual([34, 33, 33]);
    const out = join(mkdtempSync(join(tmpdir(), 'fleet-merge-')), 'merged');
    const merged = await mergeFleetDirs(shards.map((s) => s.dir), out);
    expect(comparableSummary(merged)).toEqual(comparableSummary(whole.summary));
    expect(merged.shards).toEqual({ count: 3, included: [0, 1, 2] });
    expect(readFileSync(join(out, 'agents.ndjson'), 'utf8')).toBe(whole.agents);
    expect(readFileSync(join(out, 'events.ndjson'), 'utf8')).toBe(readFileSync(join(whole.dir, 'events.ndjson'), 'utf8'));
    await expect(mergeFleetDirs([shards[0]!.dir, shards[0]!.dir], join(out, 'again'))).rejects.toThrow(/given twice/);
    // A shard of another run is refused, naming only the options that differ.
    const stranger = await fleet({ ...raw, seed: 4, shard: '1/3' });
    await expect(mergeFleetDirs([shards[0]!.dir, stranger.dir], join(out, 'mixed'))).rejects.toThrow(
      /^the shards come from different runs: seed 3 in one shard, 4 in another$/,
    );
  });

  it('retries through 503s and resets: every agent registers once', async () => {
    const { summary } = await fleet({ agents: 80, seed: 11, runFor: '40d', faults: 'mp-503=0.2,reset=0.05' });
    expect(summary.counts.registrations).toBe(80);
    expect(summary.counts.retries).toBeGreaterThan(0);
    expect(summary.counts.faultsInjected['503']).toBeGreaterThan(0);
    expect(summary.site?.clients).toBe(80);
  });

  it('holds every agent back while the MP is down, then installs them', async () => {
    const { summary } = await fleet({ agents: 30, seed: 5, runFor: '10d', installWindow: '1d', faults: 'mp-down=0d-2d' });
    expect(summary.counts.registrations).toBe(30);
    expect(summary.series.registrations[0]).toBe(0);
    expect(summary.series.registrations[1]).toBe(0);
    expect(summary.counts.faultsInjected['mp-down']).toBeGreaterThan(0);
  });

  it('plans arrivals from (seed, index) only', () => {
    const o = { seed: 9, startMs: 0, installWindowMs: 7 * DAY_MS, internetShare: 0.7 };
    const plans = Array.from({ length: 1000 }, (_, i) => agentPlan(o, i));
    expect(plans.every((p) => p.arrivalMs >= 0 && p.arrivalMs < 7 * DAY_MS)).toBe(true);
    const internet = plans.filter((p) => p.network === 'internet').length;
    expect(internet).toBeGreaterThan(640);
    expect(internet).toBeLessThan(760);
    expect(agentPlan(o, 500)).toEqual(plans[500]);
  });

  it('skips to the first start at which a 30-day-old token is due', () => {
    const installMs = Date.parse('2026-01-05T08:00:00Z');
    const schedule = { installMs, endMs: installMs + 200 * DAY_MS, timeZone: 'UTC', restart: { everyMs: DAY_MS }, installNetwork: 'intranet' as const, offline: [] };
    const client = { token: () => ({ tokenId: 't', issuedMs: installMs, expiresMs: installMs + 90 * DAY_MS, signer: 's', via: 'install' as const }), start: async () => [] };
    // Restart k is day k+1 at the install's time of day: the first one 30 days after the install is k = 29.
    expect(nextDueStart(schedule, client, 0)).toBe(29);
    expect(nextDueStart(schedule, client, 40)).toBe(40);
    expect(nextDueStart({ ...schedule, endMs: installMs + 20 * DAY_MS }, client, 0)).toBeUndefined();
  });

  it('finds the same start as a linear scan across DST changes and other restart periods', async () => {
    const { restartTime } = await import('../../src/agent/lifecycle/schedule.js');
    const installMs = Date.parse('2026-02-20T14:30:00Z');
    for (const [timeZone, everyMs] of [['America/New_York', DAY_MS], ['Europe/Berlin', 3 * DAY_MS], ['UTC', 36 * 3_600_000]] as const) {
      const schedule = { installMs, endMs: installMs + 150 * DAY_MS, timeZone, restart: { everyMs }, installNetwork: 'internet' as const, offline: [] };
      for (const issuedDays of [0, 10, 31, 95]) {
        const issuedMs = installMs + issuedDays * DAY_MS;
        const client = { token: () => ({ tokenId: 't', issuedMs, expiresMs: issuedMs + 90 * DAY_MS, signer: 's', via: 'install' as const }), start: async () => [] };
        for (const fromK of [0, 3, 20]) {
          let expected: number | undefined;
          for (let k = fromK; ; k++) {
            const t = restartTime(schedule, k);
            if (t === undefined) break;
            if (t >= issuedMs + 30 * DAY_MS) {
              expected = k;
              break;
            }
          }
          expect(nextDueStart(schedule, client, fromK)).toBe(expected);
        }
      }
    }
  });
});
