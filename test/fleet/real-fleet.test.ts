import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { XMLParser } from 'fast-xml-parser';
import { fixedKeys } from '../../src/crypto/key-provider.js';
import { resolveFleetOptions, type RawFleetOptions } from '../../src/fleet/fleet-options.js';
import { runFleetToDir, type FleetRunOutput } from '../../src/fleet/fleet-run.js';
import { mergeFleetDirs } from '../../src/fleet/fleet-output.js';
import { comparableSummary } from '../../src/fleet/fleet-summary.js';
import { testKeyPair, TEST_KEY_COUNT } from '../helpers/test-keys.js';

const pairs = Array.from({ length: TEST_KEY_COUNT }, (_, i) => testKeyPair(i));

/** A fleet of real agents (ccmsetup flow + lifecycle) against a new embedded site; test keys only. */
async function realFleet(raw: RawFleetOptions): Promise<FleetRunOutput & { out: string }> {
  const out = join(mkdtempSync(join(tmpdir(), 'fleet-real-')), 'out');
  const options = resolveFleetOptions({ out, keyPool: 8, ...raw });
  const result = await runFleetToDir(options, { wallNow: () => performance.now(), poolKeys: pairs.slice(8), siteKeys: fixedKeys(pairs.slice(0, 8)) });
  return { ...result, out };
}

const text = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8');

describe('fleet with the real agent and the embedded site', () => {
  let main: FleetRunOutput & { out: string };
  beforeAll(async () => {
    main = await realFleet({ agents: 40, seed: 1, runFor: '70d', installWindow: '1d' });
  });

  it('registers every agent, renews every token twice in 70 days, and the summary matches the site database', () => {
    const { summary, run } = main;
    expect(run.internalErrors).toEqual([]);
    expect(summary.counts.registrations).toBe(40);
    expect(summary.counts.installFailures).toBe(0);
    expect(summary.counts.registrationsViaCmg + summary.counts.registrationsViaMp).toBe(40);
    expect(summary.counts.registrationsViaCmg).toBe(summary.counts.internet);
    expect(summary.counts.renewals).toBe(80);
    expect(summary.site).toEqual({ clients: 40, duplicateClients: 0, clientTokens: summary.counts.firstTokens + summary.counts.renewals });
    for (const line of text(main.out, 'agents.ndjson').trim().split('\n')) {
      const a = JSON.parse(line) as { installed: boolean; renewals: number; tokenExpires: string };
      expect(a.installed).toBe(true);
      expect(a.renewals).toBe(2);
      expect(Date.parse(a.tokenExpires)).toBeGreaterThan(Date.parse('2026-01-05T08:00:00Z') + 70 * 86_400_000);
    }
    // The key pool is said out loud.
    expect(summary.keys.note).toMatch(/share 8 RSA key pairs/);
    expect(summary.latency['all']!.count).toBe(summary.counts.requests);
  });

  it('writes one k6-style event per line', () => {
    const lines = text(main.out, 'events.ndjson').trim().split('\n').map((l) => JSON.parse(l) as { type: string; metric: string; data: { time: string; tags: Record<string, string> } });
    expect(lines.every((l) => l.type === 'Point' && typeof l.data.time === 'string' && l.data.tags['agent'] !== undefined)).toBe(true);
    expect(lines.filter((l) => l.metric === 'fleet_registration')).toHaveLength(40);
    expect(lines.filter((l) => l.metric === 'fleet_renewal')).toHaveLength(80);
    // One spelling of the path for every metric, so a group-by on `via` does not split.
    const vias = new Set(lines.filter((l) => l.data.tags['via'] !== undefined).map((l) => l.data.tags['via']));
    expect([...vias].sort()).toEqual(['cmg', 'mp']);
  });

  it('writes a self-contained report.html whose charts carry their data points', () => {
    const html = text(main.out, 'report.html');
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?\s*(?:https?:|\/\/)/i);
    expect(html).not.toMatch(/<script|<link|@import|url\(/i);
    const svgs = [...html.matchAll(/<svg\b[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });
    const charts = new Map<string, Array<Record<string, string>>>();
    for (const svg of svgs) {
      const doc = parser.parse(svg) as { svg: Record<string, unknown> };
      const points: Array<Record<string, string>> = [];
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) return node.forEach(walk);
        if (node && typeof node === 'object') {
          const o = node as Record<string, unknown>;
          if (o['class'] === 'point') points.push(o as Record<string, string>);
          for (const v of Object.values(o)) walk(v);
        }
      };
      walk(doc.svg);
      charts.set(String(doc.svg['data-chart']), points);
    }
    expect([...charts.keys()].sort()).toEqual(['activity', 'failures', 'latency', 'token-expiry']);
    const sum = (chart: string, series: string): number =>
      charts.get(chart)!.filter((p) => p['data-series'] === series).reduce((s, p) => s + Number(p['data-value']), 0);
    expect(sum('activity', 'registrations')).toBe(40);
    expect(sum('activity', 'renewals')).toBe(80);
    expect(charts.get('activity')!.filter((p) => p['data-series'] === 'renewals')).toHaveLength(70);
    expect(sum('token-expiry', 'tokens')).toBe(40);
    expect(charts.get('latency')!.filter((p) => p['data-series'] === 'p99').map((p) => p['data-label'])).toContain('all');
  });

  it('with mp-503=0.2,reset=0.05 every agent still registers, once', async () => {
    const { summary, run } = await realFleet({ agents: 30, seed: 4, runFor: '35d', installWindow: '1d', faults: 'mp-503=0.2,reset=0.05' });
    expect(run.internalErrors).toEqual([]);
    expect(summary.counts.registrations).toBe(30);
    expect(summary.counts.retries).toBeGreaterThan(0);
    expect(summary.counts.faultsInjected['503']).toBeGreaterThan(0);
    expect(summary.counts.faultsInjected['reset']).toBeGreaterThan(0);
    expect(summary.site!.clients).toBe(30);
    expect(summary.site!.duplicateClients).toBe(0);
  });

  it('merges shards 0/3, 1/3, 2/3 into the unsharded run, and outcomes do not depend on concurrency', async () => {
    const raw = { agents: 24, seed: 9, runFor: '35d', installWindow: '0s', faults: 'mp-503=0.1' };
    const whole = await realFleet({ ...raw, concurrency: 64 });
    const serial = await realFleet({ ...raw, concurrency: 1 });
    expect(whole.clock.largestBatch).toBeGreaterThan(1);
    expect(text(serial.out, 'agents.ndjson')).toBe(text(whole.out, 'agents.ndjson'));
    const shards = [];
    for (const i of [0, 1, 2]) shards.push(await realFleet({ ...raw, shard: `${i}/3` }));
    const merged = await mergeFleetDirs(shards.map((s) => s.out), join(mkdtempSync(join(tmpdir(), 'fleet-merged-')), 'm'));
    expect(comparableSummary(merged)).toEqual(comparableSummary(whole.summary));
    expect(merged.counts.registrations).toBe(24);
  });
});

describe('fleet scenarios', () => {
  it('a token-signing rotation mid-run: internet clients are refused once, then renew from the new signer', async () => {
    const { summary, out } = await realFleet({ agents: 12, seed: 5, internetShare: 1, runFor: '20d', installWindow: '1d', siteEvent: '10d:rotate-token-signing' });
    expect(summary.counts.registrations).toBe(12);
    expect(summary.counts.failuresByReason).toEqual({ CCMSIM_TOKEN_SIGNER_RETIRED: 12 });
    expect(summary.counts.renewals).toBe(12);
    const events = text(out, 'events.ndjson').trim().split('\n').map((l) => JSON.parse(l) as { metric: string; data: { time: string; tags: Record<string, string> } });
    const rotation = events.find((e) => e.metric === 'fleet_site_event')!;
    // The same seed and options give the same events: no thumbprint of the new (randomly generated) key.
    expect(rotation.data.tags['detail']).toBe('SMS Token Signing certificate rotated: the active one retired, a new one active');
    // Each refusal and its renewal happen at the client's first start after the rotation.
    for (const r of events.filter((e) => e.metric === 'fleet_refusal')) {
      expect(r.data.time >= rotation.data.time).toBe(true);
      expect(events.some((e) => e.metric === 'fleet_renewal' && e.data.tags['agent'] === r.data.tags['agent'] && e.data.time === r.data.time)).toBe(true);
    }
  });

  it('a bulk token blocked mid-window: later internet installs are refused, intranet ones are not', async () => {
    const { summary, out } = await realFleet({ agents: 16, seed: 6, runFor: '5d', installWindow: '2d', siteEvent: '1d:block-bulk-token' });
    const agents = text(out, 'agents.ndjson').trim().split('\n').map((l) => JSON.parse(l) as { network: string; arrival: string; installed: boolean; failure: string | null });
    const cut = Date.parse('2026-01-06T08:00:00Z');
    for (const a of agents) {
      const late = Date.parse(a.arrival) >= cut;
      expect(a.installed).toBe(!(late && a.network === 'internet'));
      if (!a.installed) expect(a.failure).toBe('CCMSIM_TOKEN_BLOCKED');
    }
    expect(summary.counts.installFailures).toBeGreaterThan(0);
    expect(summary.site!.clients).toBe(summary.counts.registrations);
  });

  it('offline windows delay renewals until the client is back', async () => {
    const { summary, out } = await realFleet({ agents: 8, seed: 8, runFor: '60d', installWindow: '0s', offline: '20d-45d' });
    expect(summary.counts.renewals).toBe(8);
    for (const line of text(out, 'events.ndjson').trim().split('\n')) {
      const e = JSON.parse(line) as { metric: string; data: { time: string } };
      if (e.metric === 'fleet_renewal') expect(Date.parse(e.data.time)).toBeGreaterThanOrEqual(Date.parse('2026-01-05T08:00:00Z') + 45 * 86_400_000);
    }
  });
});
