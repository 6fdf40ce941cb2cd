/**
 * Owns the Windows time-zone bias and the local time text of CM log records for a simulated machine's IANA zone.
 * Windows convention (TIME_ZONE_INFORMATION): UTC = local + bias, in minutes, DST included; printed like C `%+03d`
 * (`+00`, `+480`, `-60`, `-330`). Nothing here depends on the host's TZ: offsets come from Intl for the named zone.
 */
import { CcmsimError } from '../errors.js';

/** The time of one record as a CM log prints it. */
export interface LocalTimeText {
  /** `HH:MM:SS.mmm` (24 h). */
  localTime: string;
  /** `MM-DD-YYYY`. */
  date: string;
  /** `+00`, `+480`, `-60`, … */
  bias: string;
  /** UTC = local + biasMinutes. */
  biasMinutes: number;
}

interface ZoneCache {
  fmt: Intl.DateTimeFormat;
  /**
   * Bias by UTC minute: offsets only change on whole minutes, so one Intl call per zone and minute is enough. Many
   * minutes, not just the last one: a fleet's agents and a schedule's day-before/day-after checks interleave times.
   */
  byMinute: Map<number, number>;
}

/** Minutes kept per zone before the cache starts over (a few hundred KB at most). */
const MAX_MINUTES_PER_ZONE = 8192;

/** 1970-01-01 to 9999-12-31 UTC: where the UTC zone's bias is 0 without asking Intl (outside, see below). */
const UTC_FAST_FROM_MS = 0;
const UTC_FAST_UNTIL_MS = 253_402_300_800_000;

const zones = new Map<string, ZoneCache>();

function zoneCache(timeZone: string): ZoneCache {
  let cache = zones.get(timeZone);
  if (cache === undefined) {
    let fmt: Intl.DateTimeFormat;
    try {
      fmt = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new CcmsimError('CCMSIM_USAGE', `unknown time zone '${timeZone}' (expected an IANA name such as Europe/Paris)`);
    }
    cache = { fmt, byMinute: new Map() };
    zones.set(timeZone, cache);
  }
  return cache;
}

/** The Windows bias in minutes (UTC = local + bias) for `timeMs` in `timeZone`. */
export function biasMinutes(timeMs: number, timeZone: string): number {
  if (!Number.isFinite(timeMs)) throw new CcmsimError('CCMSIM_INTERNAL', `log record time is not a number: ${timeMs}`);
  // UTC has no offset; the range keeps this exactly what the Intl arithmetic below gives.
  if (timeZone === 'UTC' && timeMs >= UTC_FAST_FROM_MS && timeMs < UTC_FAST_UNTIL_MS) return 0;
  const cache = zoneCache(timeZone);
  const minute = Math.floor(timeMs / 60_000);
  const known = cache.byMinute.get(minute);
  if (known !== undefined) return known;
  const at = minute * 60_000;
  let y = 0,
    mo = 0,
    d = 0,
    h = 0,
    mi = 0,
    s = 0;
  for (const part of cache.fmt.formatToParts(at)) {
    switch (part.type) {
      case 'year':
        y = Number(part.value);
        break;
      case 'month':
        mo = Number(part.value);
        break;
      case 'day':
        d = Number(part.value);
        break;
      case 'hour':
        h = Number(part.value);
        break;
      case 'minute':
        mi = Number(part.value);
        break;
      case 'second':
        s = Number(part.value);
        break;
      default:
        break;
    }
  }
  const localAsUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC maps years 0..99 to 1900+; irrelevant for log times but keep the arithmetic honest.
  const bias = -Math.round((localAsUtc - at) / 60_000);
  const result = bias === 0 ? 0 : bias; // never -0
  if (cache.byMinute.size >= MAX_MINUTES_PER_ZONE) cache.byMinute.clear();
  cache.byMinute.set(minute, result);
  return result;
}

/** Prints a bias like C `%+03d`: `+00`, `+60`, `+480`, `-330`. */
export function formatBiasMinutes(bias: number): string {
  const sign = bias < 0 ? '-' : '+';
  const abs = Math.abs(bias);
  return sign + (abs < 10 ? `0${abs}` : String(abs));
}

/** The bias text for `timeMs` in `timeZone`: `+00`, `+480`, `-60`, `-330`. */
export function formatBias(timeMs: number, timeZone: string): string {
  return formatBiasMinutes(biasMinutes(timeMs, timeZone));
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
}

/** The local time text (`HH:MM:SS.mmm`, `MM-DD-YYYY`) and bias of `timeMs` in `timeZone`. */
export function localTimeText(timeMs: number, timeZone: string): LocalTimeText {
  const bias = biasMinutes(timeMs, timeZone);
  const local = new Date(timeMs - bias * 60_000);
  const year = local.getUTCFullYear();
  return {
    localTime: `${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}.${pad3(local.getUTCMilliseconds())}`,
    date: `${pad2(local.getUTCMonth() + 1)}-${pad2(local.getUTCDate())}-${String(year).padStart(4, '0')}`,
    bias: formatBiasMinutes(bias),
    biasMinutes: bias,
  };
}

/** `YYYYMMDD-HHMMSS` in local time: the stamp of a timestamped history file (`Name-20180115-090826.log`). */
export function historyStamp(timeMs: number, timeZone: string): string {
  const bias = biasMinutes(timeMs, timeZone);
  const l = new Date(timeMs - bias * 60_000);
  return (
    `${String(l.getUTCFullYear()).padStart(4, '0')}${pad2(l.getUTCMonth() + 1)}${pad2(l.getUTCDate())}-` +
    `${pad2(l.getUTCHours())}${pad2(l.getUTCMinutes())}${pad2(l.getUTCSeconds())}`
  );
}
