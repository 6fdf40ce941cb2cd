import { describe, it, expect } from 'vitest';
import { FleetMetrics, latencyStats, newHistogram } from '../../src/fleet/fleet-metrics.js';
import { formatSummaryTable, mergeSummaries } from '../../src/fleet/fleet-summary.js';
import { renderReport } from '../../src/fleet/fleet-report.js';
import { fakeFleet } from './fake-driver.js';

// 18882 µs falls in HdrHistogram's bucket 18880–18895 (3 significant digits), whose highest value a percentile reports.
const MAX = 18_882;

describe('latency percentiles never exceed the recorded max', () => {
  it('in the summary of a run', () => {
    const m = new FleetMetrics(0, 1);
    m.request('mplist', 120, true);
    m.request('mplist', MAX, true);
    const l = m.latencySummary()['mplist']!;
    expect([l.p50, l.p90, l.p99, l.max]).toEqual([120, MAX, MAX, MAX]);
  });

  it('in a merge (whose max is the shards\' exact max, not a bucket\'s top), its table and its report', async () => {
    const shards = await Promise.all([0, 1].map((i) => fakeFleet({ agents: 2, seed: 1, runFor: '2d', installWindow: '1h', shard: `${i}/2` })));
    const [a, b] = shards.map((s, i) => {
      const h = newHistogram();
      h.recordValue(i === 0 ? MAX : 15_000);
      return { ...s.summary, latency: { all: latencyStats(h) } };
    });
    const merged = mergeSummaries([a!, b!], shards[0]!.agents + shards[1]!.agents);
    const l = merged.latency['all']!;
    expect(l.max).toBe(MAX);
    expect([l.p50, l.p99]).toEqual([15_007, MAX]);
    expect(formatSummaryTable(merged)).toMatch(/latency all \(ms\)\s+p50 15\.01 {2}p90 18\.88 {2}p99 18\.88 {2}max 18\.88 {2}n=2/);
    const values = (series: string): number[] =>
      [...renderReport(merged).matchAll(new RegExp(`data-series="${series}" data-x="\\d+" data-label="all" data-value="([\\d.]+)"`, 'g'))].map((x) => Number(x[1]));
    expect(values('p99')).toEqual([18.882]);
    expect(values('max')).toEqual([18.882]);
  });
});
