/**
 * Owns the fleet run: every agent of this shard is a small state object plus its events on one VirtualClock queue
 * (a binary heap keyed by virtual time and sequence). An agent's arrival is an event; its install runs the driver
 * (the real ccmsetup flow); afterwards each client start at which the lifecycle rule can act is an event. Starts
 * with nothing due are skipped without I/O: the next event is the first restart at or after the token's renewal age.
 *
 * Per-agent randomness comes from `random.fork(index)`, faults from (seed, agent, attempt), and requests wait for a
 * concurrency slot in real time (never on the clock), so outcomes do not depend on --concurrency or --shard.
 */
import type { Clock } from '../clock/clock.js';
import { Random } from '../clock/random.js';
import { RENEW_AGE_MS } from '../agent/lifecycle/renewal-rule.js';
import { locationAt, restartTime, type ClientSchedule } from '../agent/lifecycle/schedule.js';
import type { ClientStartResult } from '../agent/lifecycle/client-runtime.js';
import { describeError } from '../agent/outcome.js';
import type { FleetOptions } from './fleet-options.js';
import { runDays } from './fleet-options.js';
import { createLimiter } from './limiter.js';
import { FleetMetrics, type AgentOutcome } from './fleet-metrics.js';
import type { FleetAgentDriver, FleetAgentSpec, FleetClient, FleetServices, Network, SiteCounts } from './fleet-driver.js';

export interface FleetProgress {
  virtualMs: number;
  arrived: number;
  installed: number;
  failed: number;
  total: number;
}

/** A virtual clock the engine can run: VirtualClock, batching each instant (fleet) or one event at a time. */
export type RunnableClock = Clock & {
  run(untilMs?: number): Promise<void>;
  schedule(atMs: number, fn: () => void | Promise<void>, options?: { first?: boolean }): () => void;
};

export interface RunFleetDeps {
  clock: RunnableClock;
  createDriver(services: FleetServices): Promise<FleetAgentDriver>;
  /** Real elapsed milliseconds (fractional): latency and agents per second. */
  wallNow(): number;
  onProgress?: (p: FleetProgress) => void;
  /** Keep every event for events.ndjson (default true; the memory bench turns it off). */
  collectEvents?: boolean;
}

export interface FleetPerformance {
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  peakRssBytes: number;
  agentsPerSecond: number;
  peakInFlight: number;
}

export interface FleetRunResult {
  options: FleetOptions;
  driver: string;
  metrics: FleetMetrics;
  outcomes: AgentOutcome[];
  performance: FleetPerformance;
  site: SiteCounts | undefined;
  /** Unexpected errors (bugs, not site refusals), first few. */
  internalErrors: string[];
}

/** A few numbers per agent: this is what an idle agent costs, besides its client and its one queued event. */
interface AgentSlot {
  index: number;
  network: Network;
  arrivalMs: number;
  seq: number;
  installedMs: number;
  via: 'mp' | 'cmg' | undefined;
  failure: string | undefined;
  retries: number;
  starts: number;
  renewals: number;
  refusals: number;
  requests: number;
  client: FleetClient | undefined;
  schedule: ClientSchedule | undefined;
  /** The start queued next and how to cancel it (site events bring starts forward). */
  nextK: number;
  cancelNext: (() => void) | undefined;
}

/** `FLT-0000017`: unique, NetBIOS-safe (≤ 15 characters), and readable in logs. */
export function agentName(index: number): string {
  return `FLT-${String(index).padStart(7, '0')}`;
}

/** Arrival and network of one agent: functions of (seed, index) only. */
export function agentPlan(o: Pick<FleetOptions, 'seed' | 'startMs' | 'installWindowMs' | 'internetShare'>, index: number): { arrivalMs: number; network: Network } {
  const r = new Random(o.seed).fork(`agent/${index}/plan`);
  const arrivalMs = o.startMs + Math.floor(r.next() * o.installWindowMs);
  const network: Network = r.next() < o.internetShare ? 'internet' : 'intranet';
  return { arrivalMs, network };
}

/** Indexes of the agents in shard i/n: index mod n = i. */
export function shardIndexes(o: Pick<FleetOptions, 'agents' | 'shard'>): number[] {
  const out: number[] = [];
  for (let i = o.shard.index; i < o.agents; i += o.shard.count) out.push(i);
  return out;
}

/** Whether this agent writes client logs under --agent-logs (sample:N spreads N agents evenly over the fleet). */
export function writesLogs(o: Pick<FleetOptions, 'agentLogs' | 'agents'>, index: number): boolean {
  const m = o.agentLogs;
  if (m.kind === 'all') return true;
  if (m.kind === 'none') return false;
  const stride = Math.max(1, Math.floor(o.agents / m.count));
  return index % stride === 0 && index / stride < m.count;
}

export async function runFleet(options: FleetOptions, deps: RunFleetDeps): Promise<FleetRunResult> {
  const { clock } = deps;
  const o = options;
  const endMs = o.startMs + o.runForMs;
  if (clock.now() > o.startMs) throw new RangeError('the virtual clock is past the run start');
  const metrics = new FleetMetrics(o.startMs, runDays(o), deps.collectEvents ?? true);
  const limiter = createLimiter(o.concurrency);
  const slots = new Map<number, AgentSlot>();
  const internalErrors: string[] = [];
  const services: FleetServices = {
    limit: (fn) => limiter.run(fn),
    request(agent, op, micros, ok) {
      metrics.request(op, micros, ok);
      const slot = slots.get(agent);
      if (slot) slot.requests++;
    },
    fault(kind) {
      metrics.fault(kind);
    },
    wallNow: deps.wallNow,
  };
  const cpu0 = process.cpuUsage();
  const wall0 = deps.wallNow();
  const driver = await deps.createDriver(services);
  const progress = { virtualMs: o.startMs, arrived: 0, installed: 0, failed: 0, total: 0 };
  const tick = (): void => {
    progress.virtualMs = clock.now();
    deps.onProgress?.(progress);
  };

  const indexes = shardIndexes(o);
  progress.total = indexes.length;
  const c = metrics.counts;
  for (const index of indexes) {
    const plan = agentPlan(o, index);
    const slot: AgentSlot = {
      index,
      network: plan.network,
      arrivalMs: plan.arrivalMs,
      seq: 0,
      installedMs: 0,
      via: undefined,
      failure: undefined,
      retries: 0,
      starts: 0,
      renewals: 0,
      refusals: 0,
      requests: 0,
      client: undefined,
      schedule: undefined,
      nextK: -1,
      cancelNext: undefined,
    };
    slots.set(index, slot);
    c.agents++;
    if (plan.network === 'internet') c.internet++;
    else c.intranet++;
    clock.schedule(plan.arrivalMs, () => install(slot));
  }

  const event = (slot: AgentSlot, metric: string, tags: Record<string, string> = {}): void => {
    metrics.event(clock.now(), slot.index, slot.seq++, metric, tags);
  };

  async function install(slot: AgentSlot): Promise<void> {
    progress.arrived++;
    event(slot, 'fleet_arrival', { network: slot.network });
    const spec: FleetAgentSpec = {
      index: slot.index,
      name: agentName(slot.index),
      network: slot.network,
      arrivalMs: slot.arrivalMs,
      timeZone: o.timeZone,
      random: new Random(o.seed).fork(slot.index),
      writeLogs: writesLogs(o, slot.index),
    };
    let outcome;
    try {
      outcome = await driver.install(spec, {
        retry: (reason) => {
          slot.retries++;
          c.retries++;
          event(slot, 'fleet_retry', { reason: reason.slice(0, 120) });
        },
      });
    } catch (err) {
      const e = describeError(err);
      if (internalErrors.length < 10) internalErrors.push(`${spec.name}: ${e.message}`);
      outcome = { result: { ok: false, via: undefined, failure: e.code, token: undefined }, client: undefined };
    }
    const { result, client } = outcome;
    if (!result.ok || client === undefined) {
      slot.failure = result.failure ?? 'CCMSIM_INTERNAL';
      c.installFailures++;
      progress.failed++;
      metrics.failure(slot.failure, clock.now());
      event(slot, 'fleet_install_failure', { code: slot.failure });
      tick();
      return;
    }
    slot.client = client;
    slot.via = result.via;
    slot.installedMs = clock.now();
    c.installed++;
    c.registrations++;
    if (result.via === 'cmg') c.registrationsViaCmg++;
    else c.registrationsViaMp++;
    metrics.registrationsByDay[metrics.dayOf(clock.now())]!++;
    if (result.token) c.firstTokens++;
    progress.installed++;
    event(slot, 'fleet_registration', { via: result.via ?? 'mp', network: slot.network });
    const schedule: ClientSchedule = {
      installMs: slot.installedMs,
      endMs,
      timeZone: o.timeZone,
      restart: { everyMs: o.restartEveryMs },
      installNetwork: slot.network,
      offline: o.offline,
      ...(o.roam !== undefined ? { roam: o.roam } : {}),
    };
    slot.schedule = schedule;
    scheduleStart(slot, schedule, nextDueStart(schedule, client, 0));
    tick();
  }

  function scheduleStart(slot: AgentSlot, schedule: ClientSchedule, k: number | undefined): void {
    slot.cancelNext = undefined;
    if (k === undefined) return;
    const at = restartTime(schedule, k);
    if (at === undefined) return;
    slot.nextK = k;
    slot.cancelNext = clock.schedule(at, async () => {
      slot.cancelNext = undefined;
      const client = slot.client!;
      slot.starts++;
      c.starts++;
      let results: ClientStartResult[];
      try {
        results = await client.start({ nowMs: clock.now(), location: locationAt(schedule, clock.now()), startIndex: k });
      } catch (err) {
        const e = describeError(err);
        if (internalErrors.length < 10) internalErrors.push(`${agentName(slot.index)} start ${k}: ${e.message}`);
        results = [{ action: 'refused', via: 'MP', attempted: 'renew', code: e.code, hresult: e.hresult ?? '', message: e.message }];
      }
      let refused = false;
      for (const r of results) {
        if (r.action === 'renewed') {
          slot.renewals++;
          c.renewals++;
          if (r.via === 'CMG') c.renewalsViaCmg++;
          else c.renewalsViaMp++;
          metrics.renewalsByDay[metrics.dayOf(clock.now())]!++;
          // Lower case in events.ndjson, as fleet_registration and agents.ndjson write it.
          event(slot, 'fleet_renewal', { via: r.via.toLowerCase(), why: r.why });
        } else if (r.action === 'refused') {
          refused = true;
          slot.refusals++;
          c.refusals++;
          metrics.failure(r.code, clock.now());
          event(slot, 'fleet_refusal', { via: r.via.toLowerCase(), code: r.code, attempted: r.attempted });
        }
      }
      // A start that ended refused tries again at the very next start; otherwise the next one is the first start
      // at which the rule can act.
      const endedRefused = refused && results[results.length - 1]?.action === 'refused';
      scheduleStart(slot, schedule, endedRefused ? k + 1 : nextDueStart(schedule, client, k + 1));
      if (slot.starts % 8 === 0) tick();
    });
  }

  let site: SiteCounts | undefined;
  // Site events run before the client starts of their instant; afterwards every installed client's next start is
  // its very next restart, so the change shows where the client would meet it (the lifecycle's rule).
  let siteSeq = 0;
  for (const ev of o.siteEvents) {
    clock.schedule(
      o.startMs + ev.atMs,
      async () => {
        const detail = driver.siteEvent ? await driver.siteEvent(ev.action) : 'not supported by this driver';
        metrics.event(clock.now(), -1, siteSeq++, 'fleet_site_event', { event: ev.text, detail: detail.slice(0, 200) });
        if (ev.action.kind === 'block-bulk-token') return;
        for (const slot of slots.values()) {
          if (slot.client === undefined || slot.schedule === undefined) continue;
          const k = firstRestartAtOrAfter(slot.schedule, clock.now());
          if (k === undefined || (slot.cancelNext !== undefined && k >= slot.nextK)) continue;
          slot.cancelNext?.();
          scheduleStart(slot, slot.schedule, k);
        }
      },
      { first: true },
    );
  }

  try {
    await clock.run(endMs);
    site = driver.siteCounts ? await driver.siteCounts().catch(() => undefined) : undefined;
  } finally {
    await driver.close().catch(() => undefined);
  }

  const outcomes: AgentOutcome[] = [];
  for (const index of indexes) {
    const s = slots.get(index)!;
    const token = s.client?.token();
    if (token) metrics.tokenExpiry(token.expiresMs);
    outcomes.push({
      agent: s.index,
      name: agentName(s.index),
      network: s.network,
      arrival: new Date(s.arrivalMs).toISOString(),
      installed: s.client !== undefined,
      via: s.via ?? null,
      installedAt: s.client ? new Date(s.installedMs).toISOString() : null,
      failure: s.failure ?? null,
      retries: s.retries,
      starts: s.starts,
      renewals: s.renewals,
      refusals: s.refusals,
      requests: s.requests,
      tokenExpires: token ? new Date(token.expiresMs).toISOString() : null,
    });
  }
  const wallMs = deps.wallNow() - wall0;
  const cpu = process.cpuUsage(cpu0);
  tick();
  return {
    options: o,
    driver: driver.description,
    metrics,
    outcomes,
    site,
    internalErrors,
    performance: {
      wallMs,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      agentsPerSecond: wallMs > 0 ? (indexes.length * 1000) / wallMs : 0,
      peakInFlight: limiter.peak,
    },
  };
}

/** The first restart at or after `atMs`. */
export function firstRestartAtOrAfter(schedule: ClientSchedule, atMs: number): number | undefined {
  const first = restartTime(schedule, 0);
  if (first === undefined) return undefined;
  if (first >= atMs) return 0;
  return nextAt(schedule, 0, first, atMs);
}

/**
 * The first restart (index ≥ fromK) at which the rule can act: no token, or a token at least 30 days old. Starts
 * before it would find nothing due and, in a fleet, cost nothing; skipping them keeps months of idle agents cheap.
 */
export function nextDueStart(schedule: ClientSchedule, client: FleetClient, fromK: number): number | undefined {
  const token = client.token();
  if (token === undefined) return fromK;
  const dueAt = Math.min(token.issuedMs + RENEW_AGE_MS, token.expiresMs);
  const first = restartTime(schedule, fromK);
  if (first === undefined) return undefined;
  if (first >= dueAt) return fromK;
  return nextAt(schedule, fromK, first, dueAt);
}

/** The first index ≥ fromK whose restart is at or after `dueAt`, knowing restart fromK (at `first`) is before it. */
function nextAt(schedule: ClientSchedule, fromK: number, first: number, dueAt: number): number | undefined {
  // Restarts are everyMs apart, give or take a DST hour: jump to the estimate, then step to the exact one.
  // (restartTime converts local times through Intl, so every call counts.)
  let k = fromK + Math.max(1, Math.ceil((dueAt - first) / schedule.restart.everyMs));
  for (;;) {
    const t = restartTime(schedule, k);
    if (t !== undefined && t < dueAt) {
      k++;
      continue;
    }
    if (k - 1 > fromK) {
      const before = restartTime(schedule, k - 1);
      if (before === undefined || before >= dueAt) {
        k--;
        continue;
      }
    }
    return t === undefined ? undefined : k;
  }
}
