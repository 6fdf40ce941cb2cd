/**
 * Owns wall-clock arithmetic in the simulated client's IANA time zone (never the host's): the local date and time of
 * an instant, and the instant of a local date and time, DST-aware. Offsets come from the log module's Windows bias
 * (UTC = local + bias), itself computed with Intl for the named zone.
 */
import type { CalendarDateTime } from '../../clock/clock.js';
import { biasMinutes } from '../../log/bias.js';
import { DAY_MS, MINUTE_MS } from './duration.js';

/** A wall-clock date and time in the client's zone. */
export type LocalDateTime = CalendarDateTime;

/** The local date and time of `ms` in `timeZone`. */
export function toLocal(ms: number, timeZone: string): LocalDateTime {
  return toLocalParts(ms - biasMinutes(ms, timeZone) * MINUTE_MS);
}

function asUtc(l: LocalDateTime): number {
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.millisecond);
}

/**
 * The instant of a local date and time in `timeZone`. Day overflow is normalised (`day: 32` is next month). Like
 * Temporal's 'compatible' choice: a time repeated when clocks go back is its first occurrence; a time skipped when
 * clocks go forward moves forward by the gap (02:30 on a spring-forward night is 03:30).
 */
export function fromLocal(l: LocalDateTime, timeZone: string): number {
  const naive = asUtc(l);
  const biases = new Set([biasMinutes(naive - DAY_MS, timeZone), biasMinutes(naive, timeZone), biasMinutes(naive + DAY_MS, timeZone)]);
  const candidates = [...biases].map((b) => naive + b * MINUTE_MS).sort((a, b) => a - b);
  const norm = asUtc(toLocalParts(naive));
  const matching = candidates.filter((c) => asUtc(toLocal(c, timeZone)) === norm);
  if (matching.length > 0) return matching[0]!;
  // Skipped local time: the instant before the gap's bias, i.e. the later candidate.
  return candidates[candidates.length - 1]!;
}

function toLocalParts(naive: number): LocalDateTime {
  const d = new Date(naive);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(),
  };
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** `2028-03-02 08:00:00` in the zone. */
export function formatLocal(ms: number, timeZone: string): string {
  const l = toLocal(ms, timeZone);
  return `${pad(l.year, 4)}-${pad(l.month)}-${pad(l.day)} ${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}`;
}

/** `03/02/2028 08:00:00`: the `MM/DD/YYYY HH:MM:SS` form of the client's token lines. */
export function formatTokenTime(ms: number, timeZone: string): string {
  const l = toLocal(ms, timeZone);
  return `${pad(l.month)}/${pad(l.day)}/${pad(l.year, 4)} ${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}`;
}

/** The ISO form with the zone's offset at that instant: `2028-03-02T08:00:00-05:00`. */
export function formatLocalIso(ms: number, timeZone: string): string {
  const bias = biasMinutes(ms, timeZone);
  const off = -bias;
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${formatLocal(ms, timeZone).replace(' ', 'T')}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}
