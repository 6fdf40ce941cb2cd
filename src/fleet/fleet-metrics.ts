/**
 * Owns what a fleet run counts: registrations, renewals, failures by reason, retries, requests and injected faults;
 * per-day series over virtual time; the token-expiry distribution; request latency in HdrHistograms (µs, so shard
 * histograms merge exactly); and the per-agent outcomes. Everything here except latency is a function of the seed and
 * the options, which is what makes shards merge count for count.
 */
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { DAY_MS } from '../agent/lifecycle/duration.js';
import type { FaultKind } from './fleet-faults.js';

/** Request kinds the latency is split by. */
export const REQUEST_OPS = ['mplist', 'content', 'register', 'token', 'other'] as const;
export type RequestOp = (typeof REQUEST_OPS)[number];

export interface FleetCounts {
  agents: number;
  internet: number;
  intranet: number;
  installed: number;
  installFailures: number;
  registrations: number;
  registrationsViaCmg: number;
  registrationsViaMp: number;
  /** Client tokens issued at install time (the first token). */
  firstTokens: number;
  renewals: number;
  renewalsViaCmg: number;
  renewalsViaMp: number;
  /** Client starts the rule evaluated (quiet starts between renewals are skipped: they cost nothing). */
  starts: number;
  refusals: number;
  /** ccmsetup retries (every /retry minutes) during installs. */
  retries: number;
  requests: number;
  /** Requests that failed at the socket or with a non-2xx answer. */
  requestFailures: number;
  failuresByReason: Record<string, number>;
  faultsInjected: Record<string, number>;
}

export interface LatencyStats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** hdr-histogram-js compressed base64: the exact histogram, for merging. */
  encoded: string;
}

export interface AgentOutcome {
  agent: number;
  name: string;
  network: 'internet' | 'intranet';
  arrival: string;
  installed: boolean;
  via: 'mp' | 'cmg' | null;
  installedAt: string | null;
  failure: string | null;
  retries: number;
  starts: number;
  renewals: number;
  refusals: number;
  requests: number;
  tokenExpires: string | null;
}

/** One line of events.ndjson, in k6's Point shape (`--out json`): consumers of k6 output read it as is. */
export interface FleetEvent {
  type: 'Point';
  metric: string;
  data: { time: string; value: number; tags: Record<string, string> };
}

export function emptyCounts(): FleetCounts {
  return {
    agents: 0,
    internet: 0,
    intranet: 0,
    installed: 0,
    installFailures: 0,
    registrations: 0,
    registrationsViaCmg: 0,
    registrationsViaMp: 0,
    firstTokens: 0,
    renewals: 0,
    renewalsViaCmg: 0,
    renewalsViaMp: 0,
    starts: 0,
    refusals: 0,
    retries: 0,
    requests: 0,
    requestFailures: 0,
    failuresByReason: {},
    faultsInjected: {},
  };
}

export function newHistogram(): Histogram {
  // 1 µs to 10 min at 3 significant digits; autoResize covers anything longer.
  return hdr.build({ useWebAssembly: false, lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}

/**
 * The figures of one histogram. A percentile is its bucket's highest value (up to 0.1 % above what was recorded) while
 * `max` is exact, so percentiles are clamped to `max`: p99 18895 with max 18882 reads as a bug. A decoded histogram
 * knows only buckets, so a merge passes the shards' exact max.
 */
export function latencyStats(h: Histogram, exactMax = h.maxValue): LatencyStats {
  const count = h.totalCount;
  const max = count ? exactMax : 0;
  return {
    count,
    p50: count ? Math.min(h.getValueAtPercentile(50), max) : 0,
    p90: count ? Math.min(h.getValueAtPercentile(90), max) : 0,
    p99: count ? Math.min(h.getValueAtPercentile(99), max) : 0,
    max,
    encoded: hdr.encodeIntoCompressedBase64(h),
  };
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

export class FleetMetrics {
  readonly counts = emptyCounts();
  /** Per virtual day since the start. */
  readonly registrationsByDay: number[];
  readonly renewalsByDay: number[];
  readonly failuresByDay: number[];
  /** Final token expiry of each agent, per day since the start. */
  readonly tokenExpiryByDay: number[];
  readonly latency = new Map<RequestOp | 'all', Histogram>();
  private readonly events: Array<{ t: number; agent: number; seq: number; line: FleetEvent }> = [];

  constructor(
    readonly startMs: number,
    readonly days: number,
    private readonly collectEvents = true,
  ) {
    this.registrationsByDay = new Array<number>(days).fill(0);
    this.renewalsByDay = new Array<number>(days).fill(0);
    this.failuresByDay = new Array<number>(days).fill(0);
    // Tokens live 90 days: their expiries reach 91 days past the end.
    this.tokenExpiryByDay = new Array<number>(days + 91).fill(0);
  }

  dayOf(ms: number): number {
    return Math.max(0, Math.min(this.days - 1, Math.floor((ms - this.startMs) / DAY_MS)));
  }

  failure(reason: string, atMs: number): void {
    this.counts.failuresByReason[reason] = (this.counts.failuresByReason[reason] ?? 0) + 1;
    this.failuresByDay[this.dayOf(atMs)]!++;
  }

  fault(kind: FaultKind): void {
    this.counts.faultsInjected[kind] = (this.counts.faultsInjected[kind] ?? 0) + 1;
  }

  request(op: RequestOp, micros: number, ok: boolean): void {
    this.counts.requests++;
    if (!ok) this.counts.requestFailures++;
    const v = Math.max(1, Math.round(micros));
    for (const key of [op, 'all'] as const) {
      let h = this.latency.get(key);
      if (!h) {
        h = newHistogram();
        this.latency.set(key, h);
      }
      h.recordValue(v);
    }
  }

  tokenExpiry(expiresMs: number): void {
    const day = Math.max(0, Math.min(this.tokenExpiryByDay.length - 1, Math.floor((expiresMs - this.startMs) / DAY_MS)));
    this.tokenExpiryByDay[day]!++;
  }

  event(atMs: number, agent: number, seq: number, metric: string, tags: Record<string, string> = {}, value = 1): void {
    if (!this.collectEvents) return;
    this.events.push({
      t: atMs,
      agent,
      seq,
      line: { type: 'Point', metric, data: { time: new Date(atMs).toISOString(), value, tags: { agent: String(agent), ...tags } } },
    });
  }

  /** Events in (virtual time, agent, per-agent order): the same for any concurrency or sharding. */
  sortedEvents(): FleetEvent[] {
    return this.events.sort((a, b) => a.t - b.t || a.agent - b.agent || a.seq - b.seq).map((e) => e.line);
  }

  latencySummary(): Record<string, LatencyStats> {
    const out: Record<string, LatencyStats> = {};
    for (const key of ['all', ...REQUEST_OPS] as const) {
      const h = this.latency.get(key);
      if (h) out[key] = latencyStats(h);
    }
    return out;
  }
}

/** Which latency bucket a request URL belongs to. */
export function requestOpOf(url: string): RequestOp {
  const u = url.toLowerCase();
  if (u.includes('mplist') || u.includes('mpkeyinformation')) return 'mplist';
  if (u.includes('/ccm_client/')) return 'content';
  if (u.includes('/ccm_sts')) return 'token';
  if (u.includes('ccm_system')) return 'register';
  return 'other';
}
