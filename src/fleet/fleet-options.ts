/**
 * Owns the options of `ccmsim fleet`: the raw values a command line gives, their validation (every mistake is a
 * CCMSIM_USAGE error naming the option and the rule) and the resolved `FleetOptions` the engine runs from.
 * Durations use the lifecycle's syntax (`180d`, `36h`, `1d12h`), so a fleet reads like `ccmsetup-sim --run-for`.
 */
import { CcmsimError } from '../errors.js';
import { parseStartTime } from '../clock/clock.js';
import { isJwtShaped } from '../args/masking.js';
import { DAY_MS, MINUTE_MS, formatDuration, parseDuration } from '../agent/lifecycle/duration.js';
import { parseFaults, formatFaults, type FaultSpec } from './fleet-faults.js';
import {
  parseOffline,
  parseRoam,
  parseSiteEvents,
  type NetworkPeriod,
  type OfflineWindow,
  type SiteEventAction,
} from '../agent/lifecycle/lifecycle-options.js';

/** Site events of a fleet: the lifecycle's (token-signing rotation, the CMG client setting) plus blocking the bulk token. */
export type FleetSiteAction = SiteEventAction | { kind: 'block-bulk-token' };

export interface FleetSiteEvent {
  /** Offset from the run's start. */
  atMs: number;
  action: FleetSiteAction;
  text: string;
}

export type KeyMode = { kind: 'pool'; size: number } | { kind: 'unique' };
export type AgentLogMode = { kind: 'none' } | { kind: 'sample'; count: number } | { kind: 'all' };

export interface FleetShard {
  index: number;
  count: number;
}

export interface FleetOptions {
  agents: number;
  seed: number;
  /** Share of agents installed on the internet (bulk registration through the CMG); the rest register on the intranet. */
  internetShare: number;
  /** Absolute start of the run (virtual time). */
  startMs: number;
  /** --site-url without --start: the run starts at the remote site's clock (runFleetToDir reads it into startMs). */
  startFromSite?: boolean;
  /** Length of the whole run from the start; agents arrive during the first `installWindowMs`. */
  runForMs: number;
  installWindowMs: number;
  /** Client service restarts (the lifecycle's `--restart-every`). */
  restartEveryMs: number;
  /** ccmsetup's /retry, minutes. */
  retryMinutes: number;
  /** Virtual-time resolution: events are rounded up to it, and agents due in the same tick run side by side. */
  tickMs: number;
  /** Cap on HTTP requests in flight at once. */
  concurrency: number;
  keys: KeyMode;
  faults: FaultSpec;
  siteUrl: string | undefined;
  shard: FleetShard;
  agentLogs: AgentLogMode;
  /** IANA zone of the simulated machines. */
  timeZone: string;
  /** Offline windows of every agent, offsets from its install (the lifecycle's --offline). */
  offline: OfflineWindow[];
  /** Network periods of every agent after its install (the lifecycle's --roam); undefined: it stays where it installed. */
  roam: NetworkPeriod[] | undefined;
  siteEvents: FleetSiteEvent[];
  out: string;
}

/** What a command line (or a test) gives; strings are parsed here so every error names its option. */
export interface RawFleetOptions {
  agents?: number | string | undefined;
  seed?: number | string | undefined;
  internetShare?: number | string | undefined;
  runFor?: string | undefined;
  start?: string | undefined;
  installWindow?: string | undefined;
  restartEvery?: string | undefined;
  retry?: number | string | undefined;
  tick?: string | undefined;
  concurrency?: number | string | undefined;
  keyPool?: number | string | undefined;
  uniqueKeys?: boolean | undefined;
  faults?: string | undefined;
  siteUrl?: string | undefined;
  shard?: string | undefined;
  agentLogs?: string | undefined;
  timeZone?: string | undefined;
  offline?: string | string[] | undefined;
  roam?: string | undefined;
  siteEvent?: string | string[] | undefined;
  /** Checked here, never kept in the options (a bulk token is neither stored nor logged): the run gets it on its own. */
  regtoken?: string | undefined;
  out?: string | undefined;
}

/** Defaults: a fixed start so that the same seed and options always give the same run. */
export const FLEET_DEFAULTS = {
  agents: 100,
  internetShare: 0.7,
  runFor: '30d',
  start: '2026-01-05T08:00:00Z',
  installWindow: '1d',
  restartEvery: '1d',
  retry: 10,
  tick: '1s',
  concurrency: 64,
  keyPool: 16,
  agentLogs: 'none',
  timeZone: 'UTC',
} as const;

/**
 * A site refuses a ClientToken timestamp more than 15 minutes from its own clock (docs/protocol.md). A remote site
 * keeps its own clock while the fleet's runs ahead, so a run against one must stay within this of the site's time.
 */
export const REMOTE_SITE_SKEW_MS = 15 * MINUTE_MS;
/** --run-for and --install-window when --site-url is given without them. */
export const REMOTE_SITE_DEFAULTS = { runFor: '15m', installWindow: '5m' } as const;

/** Beyond this, a single process is the wrong tool: shard the run. */
const MAX_AGENTS = 1_000_000;

function usage(message: string): never {
  throw new CcmsimError('CCMSIM_USAGE', message);
}

function integer(value: number | string | undefined, what: string, min: number, max: number, fallback?: number): number {
  if (value === undefined || value === '') {
    if (fallback !== undefined) return fallback;
    usage(`${what} is required`);
  }
  const n = typeof value === 'number' ? value : /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) usage(`${what}: '${value}' must be a whole number from ${min} to ${max}`);
  return n;
}

export function parseShard(text: string): FleetShard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) usage(`--shard: '${text}' must be i/n, e.g. 0/3 (the agents whose index mod n is i)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > 10_000) usage(`--shard: '${text}': n must be from 1 to 10000`);
  if (index >= count) usage(`--shard: '${text}': i must be less than n (shards are numbered from 0)`);
  return { index, count };
}

export function parseAgentLogs(text: string): AgentLogMode {
  const v = text.trim();
  if (v === 'none') return { kind: 'none' };
  if (v === 'all') return { kind: 'all' };
  const m = /^sample:(\d+)$/.exec(v);
  if (m !== null && Number(m[1]) >= 1) return { kind: 'sample', count: Number(m[1]) };
  usage(`--agent-logs: '${text}' must be none, all or sample:N (N ≥ 1: the logs of N agents)`);
}

function parseStart(text: string): number {
  try {
    return parseStartTime(text);
  } catch {
    usage(`--start: '${text}' is not a valid ISO 8601 date-time (e.g. 2026-01-05T08:00:00Z; without an offset it is UTC)`);
  }
}

/** --regtoken belongs to a run against --site-url with internet agents; the embedded site makes its own bulk token. */
function checkRegtoken(regtoken: string | undefined, siteUrl: string | undefined, internetShare: number): void {
  if (regtoken === undefined) {
    if (siteUrl !== undefined && internetShare > 0) usage('--site-url with internet agents needs --regtoken (a bulk token from that site), or --internet-share 0');
    return;
  }
  if (siteUrl === undefined) usage('--regtoken goes with --site-url: the embedded site makes its own bulk token for the internet agents');
  // The value is never echoed: it may be a real token.
  if (!isJwtShaped(regtoken.trim())) usage(`--regtoken: must be a bulk registration token (three base64url parts joined by dots; got ${regtoken.length} characters)`);
}

function checkTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    usage(`--timezone: '${tz}' is not an IANA time zone`);
  }
  return tz;
}

export function resolveFleetOptions(raw: RawFleetOptions): FleetOptions {
  const agents = integer(raw.agents, '--agents', 1, MAX_AGENTS, FLEET_DEFAULTS.agents);
  const seed = integer(raw.seed, '--seed', 1, 2 ** 31 - 1);
  const shareText = raw.internetShare ?? FLEET_DEFAULTS.internetShare;
  const internetShare = typeof shareText === 'number' ? shareText : /^\s*\d*\.?\d+\s*$/.test(shareText) ? Number(shareText) : Number.NaN;
  if (!(internetShare >= 0 && internetShare <= 1)) usage(`--internet-share: '${shareText}' must be a number from 0 to 1`);
  const siteUrl = raw.siteUrl?.trim() || undefined;
  // Against a remote site the defaults are a run that fits its clock (installs and first tokens: see below).
  const defaults = siteUrl === undefined ? FLEET_DEFAULTS : { ...FLEET_DEFAULTS, ...REMOTE_SITE_DEFAULTS };
  const runForMs = parseDuration(raw.runFor ?? defaults.runFor, '--run-for');
  const installWindowMs = parseDuration(raw.installWindow ?? defaults.installWindow, '--install-window', { allowZero: true });
  if (siteUrl !== undefined && runForMs > REMOTE_SITE_SKEW_MS) {
    usage(
      `--site-url: --run-for ${formatDuration(runForMs)} is longer than 15m: a remote site keeps its own clock and refuses requests more than ` +
        `15 minutes off it, so a fleet against it installs and gets first tokens only (e.g. --run-for 15m --install-window 5m)`,
    );
  }
  if (installWindowMs >= runForMs) {
    usage(`--install-window ${formatDuration(installWindowMs)} must be shorter than --run-for ${formatDuration(runForMs)} (arrivals happen inside the run)`);
  }
  const tickMs = parseDuration(raw.tick ?? FLEET_DEFAULTS.tick, '--tick');
  if (tickMs > 3_600_000) usage(`--tick: '${raw.tick}' must be at most 1h`);
  const restartEveryMs = parseDuration(raw.restartEvery ?? FLEET_DEFAULTS.restartEvery, '--restart-every');
  if (restartEveryMs < 60_000) usage(`--restart-every: '${raw.restartEvery}' must be at least 1m`);
  if (raw.uniqueKeys === true && raw.keyPool !== undefined) usage('--key-pool and --unique-keys exclude each other: give one');
  const keys: KeyMode = raw.uniqueKeys === true ? { kind: 'unique' } : { kind: 'pool', size: integer(raw.keyPool, '--key-pool', 1, 4096, FLEET_DEFAULTS.keyPool) };
  const faults = parseFaults(raw.faults ?? '');
  if (siteUrl !== undefined) {
    try {
      const u = new URL(siteUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      usage(`--site-url: '${siteUrl}' is not an http(s) URL (give the MP URL of a running 'ccmsim site serve')`);
    }
    if (faults.active) usage('--faults needs the embedded site (the fault hook runs inside it); drop --site-url or --faults');
  }
  if (faults.mpDown && faults.mpDown.toMs > runForMs) usage(`--faults mp-down=${formatDuration(faults.mpDown.fromMs)}-${formatDuration(faults.mpDown.toMs)} ends after --run-for`);
  const siteEvents = parseFleetSiteEvents(raw.siteEvent);
  for (const e of siteEvents) if (e.atMs >= runForMs) usage(`--site-event ${e.text}: after the end of the run (--run-for ${formatDuration(runForMs)})`);
  if (siteEvents.length > 0 && siteUrl !== undefined) usage('--site-event needs the embedded site (a remote site is changed with ccmsim site …)');
  checkRegtoken(raw.regtoken, siteUrl, internetShare);
  const out = raw.out?.trim();
  if (!out) usage('--out DIR is required (where summary.json, events.ndjson and report.html go)');
  return {
    agents,
    seed,
    internetShare,
    startMs: parseStart(raw.start ?? FLEET_DEFAULTS.start),
    ...(siteUrl !== undefined && raw.start === undefined ? { startFromSite: true } : {}),
    runForMs,
    installWindowMs,
    restartEveryMs,
    retryMinutes: integer(raw.retry, '--retry', 1, 1440, FLEET_DEFAULTS.retry),
    tickMs,
    concurrency: integer(raw.concurrency, '--concurrency', 1, 4096, FLEET_DEFAULTS.concurrency),
    keys,
    faults,
    siteUrl,
    shard: raw.shard === undefined ? { index: 0, count: 1 } : parseShard(raw.shard),
    agentLogs: parseAgentLogs(raw.agentLogs ?? FLEET_DEFAULTS.agentLogs),
    timeZone: checkTimeZone(raw.timeZone ?? FLEET_DEFAULTS.timeZone),
    offline: parseOffline(raw.offline),
    roam: raw.roam === undefined ? undefined : parseRoam(raw.roam),
    siteEvents,
    out,
  };
}

/**
 * The run's start against a remote site whose clock read `siteNowMs`: that time, unless --start was given; a given
 * --start must keep the whole run (start to start + --run-for) within 15 minutes of the site's clock.
 */
export function startOnSiteClock(o: FleetOptions, siteNowMs: number): FleetOptions {
  if (o.startFromSite === true) return { ...o, startMs: siteNowMs };
  if (o.startMs < siteNowMs - REMOTE_SITE_SKEW_MS || o.startMs + o.runForMs > siteNowMs + REMOTE_SITE_SKEW_MS) {
    usage(
      `--start ${new Date(o.startMs).toISOString()} is too far from the clock of the site at ${o.siteUrl ?? 'the site'} ` +
        `(${new Date(siteNowMs).toISOString()}): it refuses requests more than 15 minutes off its clock, so the run ` +
        `(--start to --start + --run-for) must stay within 15 minutes of it; drop --start to start at the site's time`,
    );
  }
  return o;
}

/** `--site-event 60d:rotate-token-signing`, `90d:cmg-enabled=false` (the lifecycle's) and `3d:block-bulk-token`. */
export function parseFleetSiteEvents(value: string | string[] | undefined): FleetSiteEvent[] {
  const items = (value === undefined ? [] : Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const out: FleetSiteEvent[] = [];
  for (const item of items) {
    const colon = item.indexOf(':');
    const what = colon >= 0 ? item.slice(colon + 1).trim().toLowerCase() : '';
    if (what === 'block-bulk-token') {
      out.push({ atMs: parseDuration(item.slice(0, colon), '--site-event', { allowZero: true }), action: { kind: 'block-bulk-token' }, text: item });
    } else if (colon >= 0 && what !== 'rotate-token-signing' && !what.startsWith('cmg-enabled=')) {
      // The lifecycle's parser knows only its two events; the fleet's list has a third.
      usage(`--site-event: unknown event '${item.slice(colon + 1)}' (known: rotate-token-signing, cmg-enabled=true|false, block-bulk-token)`);
    } else {
      out.push(...parseSiteEvents(item));
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/**
 * The options that decide per-agent outcomes, as stored in summary.json: shards of one run must agree on them, and a
 * merge refuses shards that do not. Concurrency, the output directory and the shard itself are left out.
 */
export function outcomeOptions(o: FleetOptions): Record<string, string | number> {
  return {
    agents: o.agents,
    seed: o.seed,
    internetShare: o.internetShare,
    start: new Date(o.startMs).toISOString(),
    runFor: formatDuration(o.runForMs),
    installWindow: formatDuration(o.installWindowMs),
    restartEvery: formatDuration(o.restartEveryMs),
    retry: o.retryMinutes,
    tick: formatDuration(o.tickMs),
    keys: o.keys.kind === 'pool' ? `pool:${o.keys.size}` : 'unique',
    faults: formatFaults(o.faults),
    site: o.siteUrl ?? 'embedded',
    timeZone: o.timeZone,
    offline: o.offline.map((w) => `${formatDuration(w.fromMs)}-${w.toMs === undefined ? '' : formatDuration(w.toMs)}`).join(',') || 'none',
    roam: o.roam?.map((p) => `${p.network}:${formatDuration(p.fromMs)}-${p.toMs === undefined ? '' : formatDuration(p.toMs)}`).join(',') ?? 'none',
    siteEvents: o.siteEvents.map((e) => e.text).join(',') || 'none',
  };
}

/** Number of whole virtual days the run covers (the x axis of the charts). */
export function runDays(o: Pick<FleetOptions, 'runForMs'>): number {
  return Math.ceil(o.runForMs / DAY_MS);
}
