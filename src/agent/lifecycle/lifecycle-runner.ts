/**
 * Owns the run itself: clients as state machines driven by events on a VirtualClock. Each client's restarts,
 * location changes and token expiries, and the run's site events, are clock events; a restart event calls the
 * client's `ClientRuntime.start` and schedules the next restart (computed from the install, so nothing drifts).
 * No setTimeout, no long promise chains: months pass as fast as the events can run.
 */
import type { VirtualClock } from '../../clock/clock.js';
import { CcmsimError } from '../../errors.js';
import type { SiteEventAction } from './lifecycle-options.js';
import { formatLocalIso } from './local-time.js';
import type { ClientRuntime, ClientStartResult, SiteControl } from './client-runtime.js';
import type { HeldToken, RenewReason, Via } from './renewal-rule.js';
import { locationAt, locationChanges, restartTime, type ClientSchedule } from './schedule.js';
import { finalStatus, tokenSummary, type ClientFinalState, type Timeline, type TimelineEntry } from './timeline.js';

export interface LifecycleClient {
  runtime: ClientRuntime;
  schedule: ClientSchedule;
}

export interface ScheduledSiteEvent {
  atMs: number;
  action: SiteEventAction;
  text: string;
}

export interface RunLifecycleOptions {
  clock: VirtualClock;
  clients: LifecycleClient[];
  siteEvents?: ScheduledSiteEvent[];
  site?: SiteControl;
  /** Absolute end of the run. */
  endMs: number;
  /** Called with each entry as it is recorded (progress output). */
  onEntry?: (e: TimelineEntry) => void;
}

interface ClientTally {
  starts: number;
  renewals: number;
  refusals: number;
  lapses: number;
}

/** Runs the clients from now (their install) to `endMs` and returns the timeline. */
export async function runLifecycle(options: RunLifecycleOptions): Promise<Timeline> {
  const { clock, endMs } = options;
  const startMs = clock.now();
  const entries: TimelineEntry[] = [];
  const record = (e: TimelineEntry): void => {
    entries.push(e);
    options.onEntry?.(e);
  };
  const tallies = new Map<ClientRuntime, ClientTally>();

  for (const ev of options.siteEvents ?? []) {
    if (ev.atMs > endMs) continue;
    if (options.site === undefined) throw new CcmsimError('CCMSIM_INTERNAL', 'site events need a SiteControl (an in-process site)');
    const site = options.site;
    clock.schedule(ev.atMs, async () => {
      const detail = await site.apply(ev.action, clock.now());
      record({ kind: 'site-event', atMs: clock.now(), at: new Date(clock.now()).toISOString(), detail: `${ev.text}: ${detail}` });
    });
  }

  for (const { runtime, schedule } of options.clients) {
    const tz = runtime.timeZone;
    const tally: ClientTally = { starts: 0, renewals: 0, refusals: 0, lapses: 0 };
    tallies.set(runtime, tally);
    const base = (atMs: number): Pick<TimelineEntry, 'atMs' | 'at' | 'client'> => ({ atMs, at: formatLocalIso(atMs, tz), client: runtime.name });

    const watchExpiry = (token: HeldToken | undefined): void => {
      if (token === undefined || token.expiresMs > endMs) return;
      clock.schedule(token.expiresMs, () => {
        if (runtime.state().token?.tokenId !== token.tokenId) return;
        tally.lapses++;
        record({
          ...base(clock.now()),
          kind: 'lapsed',
          tokenId: token.tokenId,
          detail: `token ${token.tokenId} expired without renewal (90 days after ${formatLocalIso(token.issuedMs, tz)})`,
        });
      });
    };

    const installed = runtime.state().token;
    record({
      ...base(schedule.installMs),
      kind: 'install',
      via: installed?.via ?? 'install',
      location: locationAt(schedule, schedule.installMs),
      ...(installed ? { expiresMs: installed.expiresMs, expires: formatLocalIso(installed.expiresMs, tz), tokenId: installed.tokenId } : {}),
      detail: `installed on the ${locationAt(schedule, schedule.installMs)}; first client token ${installed?.tokenId ?? '(none)'}`,
    });
    watchExpiry(installed);

    for (const change of locationChanges(schedule)) {
      clock.schedule(change.atMs, () => {
        record({ ...base(clock.now()), kind: 'location', location: change.location, detail: `now ${change.location}` });
      });
    }

    const scheduleRestart = (k: number): void => {
      const at = restartTime(schedule, k);
      if (at === undefined) return;
      clock.schedule(at, async () => {
        const nowMs = clock.now();
        tally.starts++;
        const results = await runtime.start({ nowMs, location: locationAt(schedule, nowMs), startIndex: k });
        for (const result of results) recordResult(nowMs, result);
        scheduleRestart(k + 1);
      });
    };

    const recordResult = (nowMs: number, result: ClientStartResult): void => {
      if (result.action === 'renewed') {
        tally.renewals++;
        record({
          ...base(nowMs),
          kind: 'renewed',
          via: result.via,
          why: result.why,
          tokenId: result.token.tokenId,
          expiresMs: result.token.expiresMs,
          expires: formatLocalIso(result.token.expiresMs, tz),
          detail: `new token ${result.token.tokenId} (${renewalWhy(result.why, result.via)}), signed by ${result.token.signer}`,
        });
        watchExpiry(result.token);
      } else if (result.action === 'refused') {
        tally.refusals++;
        record({
          ...base(nowMs),
          kind: 'refused',
          via: result.via,
          why: result.attempted === 'use-cmg' ? 'use-cmg' : (result.why ?? 'due'),
          code: result.code,
          hresult: result.hresult,
          detail: `${result.attempted === 'renew' ? 'token renewal' : 'request'} refused: ${result.message}`,
        });
      }
    };
    scheduleRestart(0);
  }

  await clock.run(endMs);

  const final: ClientFinalState[] = options.clients.map(({ runtime, schedule }) => {
    const s = runtime.state();
    const t = tallies.get(runtime)!;
    return {
      client: runtime.name,
      timeZone: runtime.timeZone,
      location: locationAt(schedule, endMs),
      status: finalStatus(s.token, s.problem, endMs),
      token: tokenSummary(s.token, runtime.timeZone),
      ...t,
    };
  });
  return { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString(), entries, final };
}

/** Why a renewal happened, for the timeline. An expired token renewed through the CMG was presented within the site's
 * 5-minute clock skew (docs/protocol.md): the timeline says so, as its lapse was recorded just before. */
function renewalWhy(why: RenewReason, via: Via): string {
  if (why === 'due') return '30 days or more old';
  if (why === 'expired' && via === 'CMG') return "expired, still within the site's 5-minute clock skew";
  return why;
}
