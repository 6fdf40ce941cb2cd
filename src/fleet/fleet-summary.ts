/**
 * Owns summary.json: building it from a run, merging shard summaries into one (counts and series add up, histograms
 * merge exactly with hdr-histogram-js), and the summary table printed on stdout.
 */
import { createHash } from 'node:crypto';
import { CcmsimError } from '../errors.js';
import type { FleetRunResult, FleetPerformance } from './fleet-engine.js';
import { outcomeOptions } from './fleet-options.js';
import { decodeHistogram, emptyCounts, latencyStats, type AgentOutcome, type FleetCounts, type LatencyStats } from './fleet-metrics.js';
import type { SiteCounts } from './fleet-driver.js';
import { DAY_MS } from '../agent/lifecycle/duration.js';

export interface FleetSummary {
  schema: 1;
  tool: 'ccmsim fleet';
  /** The options that decide outcomes (shards of one run agree on them). */
  options: Record<string, string | number>;
  shards: { count: number; included: number[] };
  driver: string;
  keys: { mode: 'pool' | 'unique'; size: number | null; note: string };
  counts: FleetCounts;
  series: { start: string; dayMs: number; registrations: number[]; renewals: number[]; failures: number[] };
  tokenExpiry: { start: string; perDay: number[] };
  /** Real round-trip times in µs, by request kind. */
  latency: Record<string, LatencyStats>;
  performance: FleetPerformance & { concurrency: number[]; perShard: Array<FleetPerformance & { shard: number }> };
  /** Counts read from the site's database after the run (summed over shards), null for a remote site. */
  site: SiteCounts | null;
  /** SHA-256 of agents.ndjson: equal digests mean equal per-agent outcomes. */
  agentsDigest: string;
  internalErrors: string[];
}

export function keysNote(o: { kind: 'pool'; size: number } | { kind: 'unique' }): FleetSummary['keys'] {
  return o.kind === 'pool'
    ? {
        mode: 'pool',
        size: o.size,
        note: `agents share ${o.size} RSA key pairs (a key pool); each agent still has its own certificates, SMS ID and tokens`,
      }
    : { mode: 'unique', size: null, note: 'every agent generated its own RSA-2048 key pairs' };
}

export function agentsNdjson(outcomes: AgentOutcome[]): string {
  return [...outcomes]
    .sort((a, b) => a.agent - b.agent)
    .map((a) => `${JSON.stringify(a)}\n`)
    .join('');
}

export function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function buildSummary(run: FleetRunResult): FleetSummary {
  const o = run.options;
  const m = run.metrics;
  return {
    schema: 1,
    tool: 'ccmsim fleet',
    options: outcomeOptions(o),
    shards: { count: o.shard.count, included: [o.shard.index] },
    driver: run.driver,
    keys: keysNote(o.keys),
    counts: m.counts,
    series: {
      start: new Date(o.startMs).toISOString(),
      dayMs: DAY_MS,
      registrations: m.registrationsByDay,
      renewals: m.renewalsByDay,
      failures: m.failuresByDay,
    },
    tokenExpiry: { start: new Date(o.startMs).toISOString(), perDay: m.tokenExpiryByDay },
    latency: m.latencySummary(),
    performance: { ...run.performance, concurrency: [o.concurrency], perShard: [{ ...run.performance, shard: o.shard.index }] },
    site: run.site ?? null,
    agentsDigest: digestOf(agentsNdjson(run.outcomes)),
    internalErrors: run.internalErrors,
  };
}

function addInto(target: number[], source: number[]): number[] {
  const out = target.length >= source.length ? [...target] : [...source];
  const other = target.length >= source.length ? source : target;
  other.forEach((v, i) => (out[i] = out[i]! + v));
  return out;
}

function addRecords(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return sortedRecord(out);
}

function sortedRecord(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function addCounts(a: FleetCounts, b: FleetCounts): FleetCounts {
  const out = emptyCounts();
  for (const key of Object.keys(out) as Array<keyof FleetCounts>) {
    if (key === 'failuresByReason' || key === 'faultsInjected') out[key] = addRecords(a[key], b[key]);
    else out[key] = a[key] + b[key];
  }
  return out;
}

/** The options two runs do not share, named one by one: `seed 3 in one shard, 4 in another`. */
function optionsDifference(a: object, b: object): string {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const names = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]));
  return names.map((k) => `${k} ${JSON.stringify(x[k] ?? null)} in one shard, ${JSON.stringify(y[k] ?? null)} in another`).join('; ');
}

/**
 * Merges the summaries of shards of one run (each checked by fleet-shard-files.ts first). `agents` is the merged
 * agents.ndjson (its digest is recomputed). Refuses shards of different runs, of different shard counts, or the same
 * shard twice.
 */
export function mergeSummaries(parts: FleetSummary[], agentsText: string): FleetSummary {
  if (parts.length === 0) throw new CcmsimError('CCMSIM_USAGE', 'fleet merge needs at least one shard directory');
  const first = parts[0]!;
  const seen = new Set<number>();
  for (const p of parts) {
    if (JSON.stringify(p.options) !== JSON.stringify(first.options)) {
      throw new CcmsimError('CCMSIM_USAGE', `the shards come from different runs: ${optionsDifference(first.options, p.options)}`);
    }
    if (p.shards.count !== first.shards.count) throw new CcmsimError('CCMSIM_USAGE', `the shards were cut differently (${p.shards.count} vs ${first.shards.count} shards)`);
    for (const i of p.shards.included) {
      if (seen.has(i)) throw new CcmsimError('CCMSIM_USAGE', `shard ${i}/${first.shards.count} is given twice`);
      seen.add(i);
    }
  }
  const latencyKeys = [...new Set(parts.flatMap((p) => Object.keys(p.latency)))];
  const latency: Record<string, LatencyStats> = {};
  for (const key of latencyKeys) {
    const stats = parts.map((p) => p.latency[key]).filter((l): l is LatencyStats => l !== undefined);
    const h = decodeHistogram(stats[0]!.encoded);
    for (const l of stats.slice(1)) h.add(decodeHistogram(l.encoded));
    latency[key] = latencyStats(h, Math.max(...stats.map((l) => l.max)));
  }
  const perShard = parts.flatMap((p) => p.performance.perShard).sort((a, b) => a.shard - b.shard);
  const cpuUserMs = perShard.reduce((s, p) => s + p.cpuUserMs, 0);
  const cpuSystemMs = perShard.reduce((s, p) => s + p.cpuSystemMs, 0);
  // Shards may run side by side on several machines: the run took as long as its slowest shard.
  const wallMs = Math.max(...perShard.map((p) => p.wallMs));
  const counts = parts.map((p) => p.counts).reduce(addCounts);
  const sites = parts.map((p) => p.site);
  return {
    schema: 1,
    tool: 'ccmsim fleet',
    options: first.options,
    shards: { count: first.shards.count, included: [...seen].sort((a, b) => a - b) },
    driver: first.driver,
    keys: first.keys,
    counts,
    series: {
      start: first.series.start,
      dayMs: first.series.dayMs,
      registrations: parts.map((p) => p.series.registrations).reduce(addInto),
      renewals: parts.map((p) => p.series.renewals).reduce(addInto),
      failures: parts.map((p) => p.series.failures).reduce(addInto),
    },
    tokenExpiry: { start: first.tokenExpiry.start, perDay: parts.map((p) => p.tokenExpiry.perDay).reduce(addInto) },
    latency,
    performance: {
      wallMs,
      cpuUserMs,
      cpuSystemMs,
      peakRssBytes: Math.max(...perShard.map((p) => p.peakRssBytes)),
      agentsPerSecond: wallMs > 0 ? (counts.agents * 1000) / wallMs : 0,
      peakInFlight: Math.max(...perShard.map((p) => p.peakInFlight)),
      concurrency: [...new Set(parts.flatMap((p) => p.performance.concurrency))].sort((a, b) => a - b),
      perShard,
    },
    site: sites.every((s) => s !== null)
      ? sites.reduce((a, b) => ({ clients: a!.clients + b!.clients, duplicateClients: a!.duplicateClients + b!.duplicateClients, clientTokens: a!.clientTokens + b!.clientTokens }))
      : null,
    agentsDigest: digestOf(agentsText),
    internalErrors: parts.flatMap((p) => p.internalErrors),
  };
}

/** The parts of a summary that must be equal between a sharded and an unsharded run of the same seed. */
export function comparableSummary(s: FleetSummary): unknown {
  return {
    options: s.options,
    counts: s.counts,
    series: s.series,
    tokenExpiry: s.tokenExpiry,
    latencyCounts: Object.fromEntries(Object.entries(s.latency).map(([k, v]) => [k, v.count])),
    site: s.site,
    agentsDigest: s.agentsDigest,
  };
}

function fmtMs(us: number): string {
  return (us / 1000).toFixed(us >= 100_000 ? 0 : 2);
}

/** The table printed at the end of a run (and by merge). */
export function formatSummaryTable(s: FleetSummary): string {
  const c = s.counts;
  const p = s.performance;
  const rows: Array<[string, string]> = [
    ['agents', `${c.agents} (internet ${c.internet}, intranet ${c.intranet})${s.shards.count > 1 ? `, shards ${s.shards.included.join(',')} of ${s.shards.count}` : ''}`],
    ['keys', s.keys.note],
    ['installed and registered', `${c.registrations} (CMG ${c.registrationsViaCmg}, MP ${c.registrationsViaMp})`],
    ['install failures', String(c.installFailures)],
    ['renewals', `${c.renewals} (CMG ${c.renewalsViaCmg}, MP ${c.renewalsViaMp})`],
    ['refusals', String(c.refusals)],
    ['retries (/retry)', String(c.retries)],
    ['requests', `${c.requests} (${c.requestFailures} failed)`],
  ];
  const reasons = Object.entries(c.failuresByReason);
  if (reasons.length > 0) rows.push(['failures by reason', reasons.map(([k, v]) => `${k} ${v}`).join(', ')]);
  const faults = Object.entries(c.faultsInjected);
  if (faults.length > 0) rows.push(['faults injected', faults.map(([k, v]) => `${k} ${v}`).join(', ')]);
  if (s.site) rows.push(['site database', `${s.site.clients} clients (${s.site.duplicateClients} duplicates), ${s.site.clientTokens} client tokens`]);
  for (const [op, l] of Object.entries(s.latency)) {
    rows.push([`latency ${op} (ms)`, `p50 ${fmtMs(l.p50)}  p90 ${fmtMs(l.p90)}  p99 ${fmtMs(l.p99)}  max ${fmtMs(l.max)}  n=${l.count}`]);
  }
  rows.push(['wall time', `${(p.wallMs / 1000).toFixed(1)} s (${p.agentsPerSecond.toFixed(1)} agents/s)`]);
  rows.push(['CPU time', `user ${(p.cpuUserMs / 1000).toFixed(1)} s, system ${(p.cpuSystemMs / 1000).toFixed(1)} s`]);
  rows.push(['peak RSS', `${(p.peakRssBytes / 1048576).toFixed(0)} MiB`]);
  if (s.internalErrors.length > 0) rows.push(['internal errors', s.internalErrors.slice(0, 3).join(' | ')]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}\n`).join('');
}
