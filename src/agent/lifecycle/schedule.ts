/**
 * Owns one client's timetable over a run: when the client service restarts (a fixed local time of day, DST-aware in
 * the client's zone, counted in calendar days from the install's local date) and where the client is at any instant
 * (internet, intranet or offline). Pure functions of the options; the runner turns them into clock events.
 */
import { DAY_MS } from './duration.js';
import type { Network, NetworkPeriod, OfflineWindow, RestartSpec } from './lifecycle-options.js';
import { fromLocal, toLocal } from './local-time.js';

export type Location = Network | 'offline';

export interface ClientSchedule {
  installMs: number;
  /** End of the run (absolute). */
  endMs: number;
  /** IANA zone of the client. */
  timeZone: string;
  restart: RestartSpec;
  /** Where the client is when no --roam period says otherwise (the install's network). */
  installNetwork: Network;
  /** Offsets from the install. */
  roam?: NetworkPeriod[];
  /** Offsets from the install. */
  offline: OfflineWindow[];
}

/**
 * The `k`-th restart after the install (k = 0 is the first), or undefined past the end of the run.
 * Whole-day periods: on local dates install date + n·period at the restart time of day (the install's own time of
 * day unless `--restart-at`), taking the ones strictly after the install; each date is derived from the install date,
 * never from the previous restart, so nothing drifts across DST or month ends. Other periods: install + (k+1)·period.
 */
export function restartTime(s: ClientSchedule, k: number): number | undefined {
  let at: number;
  if (s.restart.everyMs % DAY_MS !== 0) {
    at = s.installMs + (k + 1) * s.restart.everyMs;
  } else {
    const days = s.restart.everyMs / DAY_MS;
    const install = toLocal(s.installMs, s.timeZone);
    const tod = s.restart.at ?? { hour: install.hour, minute: install.minute, second: install.second };
    const ms = s.restart.at === undefined ? install.millisecond : 0;
    const onDay = (n: number): number =>
      fromLocal({ year: install.year, month: install.month, day: install.day + n * days, ...tod, millisecond: ms }, s.timeZone);
    const skip = onDay(0) > s.installMs ? 0 : 1;
    at = onDay(k + skip);
  }
  return at <= s.endMs ? at : undefined;
}

/** Where the client is at `ms`: offline windows win over --roam periods. */
export function locationAt(s: ClientSchedule, ms: number): Location {
  const rel = ms - s.installMs;
  if (s.offline.some((w) => rel >= w.fromMs && (w.toMs === undefined || rel < w.toMs))) return 'offline';
  if (s.roam === undefined) return s.installNetwork;
  for (const p of s.roam) {
    if (rel >= p.fromMs && (p.toMs === undefined || rel < p.toMs)) return p.network;
  }
  return s.roam[s.roam.length - 1]!.network;
}

/** The instants (after the install, within the run) at which the client's location changes, with the new location. */
export function locationChanges(s: ClientSchedule): Array<{ atMs: number; location: Location }> {
  const edges = new Set<number>();
  for (const p of s.roam ?? []) {
    edges.add(p.fromMs);
    if (p.toMs !== undefined) edges.add(p.toMs);
  }
  for (const w of s.offline) {
    edges.add(w.fromMs);
    if (w.toMs !== undefined) edges.add(w.toMs);
  }
  const out: Array<{ atMs: number; location: Location }> = [];
  let current = locationAt(s, s.installMs);
  for (const rel of [...edges].filter((e) => e > 0).sort((a, b) => a - b)) {
    const atMs = s.installMs + rel;
    if (atMs > s.endMs) break;
    const next = locationAt(s, atMs);
    if (next !== current) out.push({ atMs, location: next });
    current = next;
  }
  return out;
}
