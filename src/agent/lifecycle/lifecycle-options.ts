/**
 * Owns the `--run-for` family of simulator options and their validation: `--run-for`, `--restart-every`,
 * `--restart-at`, `--roam`, `--offline`, `--site-event`, `--start` and `--json`. Offsets are relative to the install;
 * every mistake is a CCMSIM_USAGE error naming the option and the rule.
 */
import { CcmsimError } from '../../errors.js';
import { DAY_MS, formatDuration, parseDuration } from './duration.js';
import { fromLocal } from './local-time.js';
import { parseIsoDateTime, parseStartTime } from '../../clock/clock.js';

export type Network = 'internet' | 'intranet';

/** A network location period, offsets from the install; `toMs` undefined = open end. */
export interface NetworkPeriod {
  network: Network;
  fromMs: number;
  toMs?: number;
}

/** An offline window [fromMs, toMs), offsets from the install; `toMs` undefined = offline to the end of the run. */
export interface OfflineWindow {
  fromMs: number;
  toMs?: number;
}

export type SiteEventAction = { kind: 'rotate-token-signing' } | { kind: 'cmg-enabled'; value: boolean };

export interface SiteEventSpec {
  /** Offset from the install. */
  atMs: number;
  action: SiteEventAction;
  /** The option text, for the timeline. */
  text: string;
}

export interface RestartSpec {
  everyMs: number;
  /** Local time of day of the restarts; undefined = the install's local time of day. Only for whole-day periods. */
  at?: { hour: number; minute: number; second: number };
}

export interface LifecycleOptions {
  runForMs: number;
  restart: RestartSpec;
  /** Undefined: the client stays where it was installed. */
  roam?: NetworkPeriod[];
  offline: OfflineWindow[];
  siteEvents: SiteEventSpec[];
  json: boolean;
}

function usage(message: string): never {
  throw new CcmsimError('CCMSIM_USAGE', message);
}

function listOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const all = Array.isArray(value) ? value : [value];
  return all
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** `from-to` or `from-` (open end), both durations from the install. */
function parseRange(text: string, what: string): { fromMs: number; toMs?: number } {
  const m = /^([^-]+)-([^-]*)$/.exec(text.trim());
  if (m === null) usage(`${what}: '${text}' is not a range (use <from>-<to> or <from>- with durations, e.g. 30d-32d or 32d-)`);
  const fromMs = parseDuration(m[1]!, what, { allowZero: true });
  if (m[2] === '') return { fromMs };
  const toMs = parseDuration(m[2]!, what, { allowZero: true });
  if (toMs <= fromMs) usage(`${what}: '${text}' ends before it starts`);
  return { fromMs, toMs };
}

/**
 * `--roam "internet:0d-30d,intranet:30d-32d,internet:32d-"`: periods in order, the first from 0d, each starting
 * where the previous one ends (no gaps, no overlaps), only the last one open-ended and it must be.
 */
export function parseRoam(value: string | string[]): NetworkPeriod[] {
  const items = listOf(value);
  if (items.length === 0) usage(`--roam: give at least one period, e.g. "internet:0d-30d,intranet:30d-"`);
  const periods: NetworkPeriod[] = [];
  for (const item of items) {
    const colon = item.indexOf(':');
    if (colon < 0) usage(`--roam: '${item}' lacks a network (use internet:<from>-<to> or intranet:<from>-<to>)`);
    const name = item.slice(0, colon).trim().toLowerCase();
    if (name !== 'internet' && name !== 'intranet') usage(`--roam: '${item}' names network '${name}'; use internet or intranet (offline windows go in --offline)`);
    const range = parseRange(item.slice(colon + 1), '--roam');
    const prev = periods[periods.length - 1];
    if (prev === undefined) {
      if (range.fromMs !== 0) usage(`--roam: the first period must start at 0d (the install), '${item}' starts at ${formatDuration(range.fromMs)}`);
    } else {
      if (prev.toMs === undefined) usage(`--roam: only the last period may be open-ended, '${prev.network}:${formatDuration(prev.fromMs)}-' is followed by '${item}'`);
      if (range.fromMs > prev.toMs) usage(`--roam: gap between ${formatDuration(prev.toMs)} and ${formatDuration(range.fromMs)} ('${item}'); periods must follow each other`);
      if (range.fromMs < prev.toMs) usage(`--roam: '${item}' overlaps the period ending at ${formatDuration(prev.toMs)}; periods must follow each other`);
    }
    periods.push({ network: name, ...range });
  }
  const last = periods[periods.length - 1]!;
  if (last.toMs !== undefined) usage(`--roam: the last period must be open-ended (e.g. ${last.network}:${formatDuration(last.fromMs)}-)`);
  return periods;
}

/** `--offline 40d-140d` (repeatable, or a comma list); windows may not overlap. */
export function parseOffline(value: string | string[] | undefined): OfflineWindow[] {
  const windows = listOf(value).map((item) => parseRange(item, '--offline'));
  const sorted = [...windows].sort((a, b) => a.fromMs - b.fromMs);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (prev.toMs === undefined || cur.fromMs < prev.toMs) {
      usage(`--offline: windows starting at ${formatDuration(prev.fromMs)} and ${formatDuration(cur.fromMs)} overlap`);
    }
  }
  return sorted;
}

/** `--site-event 60d:rotate-token-signing`, `--site-event 90d:cmg-enabled=false` (repeatable, or a comma list). */
export function parseSiteEvents(value: string | string[] | undefined): SiteEventSpec[] {
  return listOf(value)
    .map((item): SiteEventSpec => {
      const colon = item.indexOf(':');
      if (colon < 0) usage(`--site-event: '${item}' is not <offset>:<event> (e.g. 60d:rotate-token-signing or 90d:cmg-enabled=false)`);
      const atMs = parseDuration(item.slice(0, colon), '--site-event', { allowZero: true });
      const what = item.slice(colon + 1).trim().toLowerCase();
      if (what === 'rotate-token-signing') return { atMs, action: { kind: 'rotate-token-signing' }, text: item };
      const m = /^cmg-enabled=(true|false|yes|no|1|0)$/.exec(what);
      if (m !== null) return { atMs, action: { kind: 'cmg-enabled', value: ['true', 'yes', '1'].includes(m[1]!) }, text: item };
      return usage(`--site-event: unknown event '${item.slice(colon + 1)}' (known: rotate-token-signing, cmg-enabled=true|false)`);
    })
    .sort((a, b) => a.atMs - b.atMs);
}

/** `--restart-at 08:00` (24-hour local time of the client, optionally with seconds). */
export function parseRestartAt(text: string): { hour: number; minute: number; second: number } {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  const hour = Number(m?.[1]);
  const minute = Number(m?.[2]);
  const second = Number(m?.[3] ?? 0);
  if (m === null || hour > 23 || minute > 59 || second > 59) usage(`--restart-at: '${text}' is not a 24-hour local time such as 08:00`);
  return { hour, minute, second };
}

/**
 * `--start`: an ISO 8601 date-time. With `Z` or an offset it is that instant; without one it is the client's local
 * time in `timeZone` (a date alone is local midnight).
 */
export function parseStartOption(text: string, timeZone: string): number {
  const t = parseIsoDateTime(text);
  if (t === undefined) usage(`--start: '${text}' is not a valid ISO date-time (e.g. 2028-01-31T10:00 local, or 2028-01-31T10:00:00Z)`);
  if (t.offsetMinutes !== undefined) return parseStartTime(text);
  return fromLocal(t, timeZone);
}

/** The raw option values as a command line gives them (repeatable options may come as arrays). */
export interface RawLifecycleOptions {
  runFor?: string;
  restartEvery?: string;
  restartAt?: string;
  roam?: string | string[];
  offline?: string | string[];
  siteEvent?: string | string[];
  json?: boolean;
}

/** The options that only mean something after the install, with `--run-for`, as typed. */
export const RUN_FOR_ONLY_OPTIONS = ['restart-every', 'restart-at', 'roam', 'offline', 'site-event'] as const;

/** The usage error for options of that family given without `--run-for` (`names` as typed, without `--`). */
export function runForOnly(names: readonly string[]): never {
  usage(`--${names.join(', --')} only appl${names.length === 1 ? 'ies' : 'y'} with --run-for <duration>`);
}

/**
 * Validates the options together. Returns undefined when `--run-for` is absent (the others are then refused, so a
 * forgotten `--run-for` is not silently ignored). `alwaysInternet` is CCMALWAYSINF=1.
 */
export function parseLifecycleOptions(raw: RawLifecycleOptions, context: { alwaysInternet: boolean }): LifecycleOptions | undefined {
  if (raw.runFor === undefined) {
    const stray = (['restartEvery', 'restartAt', 'roam', 'offline', 'siteEvent'] as const).filter((k) => raw[k] !== undefined);
    if (stray.length > 0) runForOnly(stray.map(kebab));
    return undefined;
  }
  const runForMs = parseDuration(raw.runFor, '--run-for');
  const everyMs = raw.restartEvery === undefined ? DAY_MS : parseDuration(raw.restartEvery, '--restart-every');
  const restart: RestartSpec = { everyMs };
  if (raw.restartAt !== undefined) {
    if (everyMs % DAY_MS !== 0) usage(`--restart-at needs --restart-every in whole days (got ${formatDuration(everyMs)})`);
    restart.at = parseRestartAt(raw.restartAt);
  }
  const options: LifecycleOptions = {
    runForMs,
    restart,
    offline: parseOffline(raw.offline),
    siteEvents: parseSiteEvents(raw.siteEvent),
    json: raw.json === true,
  };
  if (raw.roam !== undefined) {
    const roam = parseRoam(raw.roam);
    if (context.alwaysInternet && roam.some((p) => p.network === 'intranet')) {
      usage('--roam puts the client on the intranet, but CCMALWAYSINF=1 makes it always internet-based');
    }
    options.roam = roam;
  }
  return options;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

const VALUED = ['--run-for', '--restart-every', '--restart-at', '--roam', '--offline', '--site-event', '--start'] as const;

/**
 * Takes this module's options out of a simulator argument list (`--x v` or `--x=v`; `--json[=true|false]` is a switch) and returns
 * them with the arguments it does not own, in order.
 */
export function extractLifecycleArgs(args: readonly string[]): { raw: RawLifecycleOptions & { start?: string }; rest: string[] } {
  const raw: RawLifecycleOptions & { start?: string } = {};
  const rest: string[] = [];
  const add = (name: (typeof VALUED)[number], value: string): void => {
    switch (name) {
      case '--run-for':
        raw.runFor = value;
        break;
      case '--restart-every':
        raw.restartEvery = value;
        break;
      case '--restart-at':
        raw.restartAt = value;
        break;
      case '--start':
        raw.start = value;
        break;
      case '--roam':
        raw.roam = [...listOf(raw.roam), value];
        break;
      case '--offline':
        raw.offline = [...listOf(raw.offline), value];
        break;
      case '--site-event':
        raw.siteEvent = [...listOf(raw.siteEvent), value];
        break;
    }
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(0, eq) : arg).toLowerCase();
    if (name === '--json' && (eq < 0 || /^(true|false)$/i.test(arg.slice(eq + 1)))) {
      raw.json = eq < 0 || arg.slice(eq + 1).toLowerCase() === 'true';
      continue;
    }
    const known = VALUED.find((v) => v === name);
    if (known === undefined) {
      rest.push(arg);
      continue;
    }
    if (eq >= 0) add(known, arg.slice(eq + 1));
    else {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) usage(`${known} needs a value`);
      add(known, value);
      i++;
    }
  }
  return { raw, rest };
}
