/**
 * Owns fault injection for fleet runs: the `--faults` syntax, and the decision whether one request meets a fault.
 * The decision is a pure function of (seed, agent, attempt) — plus the virtual time for the MP-down window — never of
 * arrival order, so a run gives the same per-agent outcomes at any concurrency and in any shard.
 *
 * Requests carry `X-CCMSim-Fault-Key: <agent>.<attempt>` (our header, sent only by fleet runs; a real client never
 * sends it). The site's fault hook (startSiteServers' `faults`) reads it; requests without it are never faulted.
 */
import { CcmsimError } from '../errors.js';
import { Random } from '../clock/random.js';
import { formatDuration, parseDuration } from '../agent/lifecycle/duration.js';
import type { FaultDecision, FaultHook, FaultRequest } from '../site/site-servers.js';

export const FAULT_KEY_HEADER = 'x-ccmsim-fault-key';

export interface FaultSpec {
  /** Share of requests answered HTTP 503 (by the MP, or by the CMG for the MP behind it). */
  p503: number;
  /** Share of requests whose connection is reset before any answer. */
  pReset: number;
  /** Added latency on every request that meets no other fault (virtual ms, on the site's clock). */
  latencyMs: number;
  /** Offsets from the run's start during which the MP is down. */
  mpDown: { fromMs: number; toMs: number } | undefined;
  /** Whether any fault is configured. */
  active: boolean;
}

export type FaultKind = 'ok' | '503' | 'reset' | 'latency' | 'mp-down';

export const NO_FAULTS: FaultSpec = { p503: 0, pReset: 0, latencyMs: 0, mpDown: undefined, active: false };

function usage(message: string): never {
  throw new CcmsimError('CCMSIM_USAGE', message);
}

function share(name: string, value: string): number {
  const n = /^\d*\.?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 0 && n <= 1)) usage(`--faults ${name}=${value}: the share must be a number from 0 to 1`);
  return n;
}

/** `mp-503=0.2,reset=0.05,latency=50ms,mp-down=10d-11d` (every part optional; empty = no faults). */
export function parseFaults(text: string): FaultSpec {
  const spec: FaultSpec = { ...NO_FAULTS };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) usage(`--faults: '${part}' must be name=value (mp-503=0.2, reset=0.05, latency=50ms, mp-down=10d-11d)`);
    const name = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    switch (name) {
      case 'mp-503':
      case '503':
        spec.p503 = share(name, value);
        break;
      case 'reset':
        spec.pReset = share(name, value);
        break;
      case 'latency': {
        const m = /^(\d+)(ms|s)$/.exec(value);
        if (m === null) usage(`--faults latency=${value}: give milliseconds or seconds, e.g. 50ms or 2s`);
        spec.latencyMs = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
        if (spec.latencyMs > 600_000) usage(`--faults latency=${value}: at most 600s`);
        break;
      }
      case 'mp-down': {
        const m = /^([^-]+)-([^-]+)$/.exec(value);
        if (m === null) usage(`--faults mp-down=${value}: give a window of offsets from --start, e.g. 10d-11d`);
        const fromMs = parseDuration(m[1]!, `--faults mp-down`, { allowZero: true });
        const toMs = parseDuration(m[2]!, `--faults mp-down`);
        if (toMs <= fromMs) usage(`--faults mp-down=${value}: the window must end after it starts`);
        spec.mpDown = { fromMs, toMs };
        break;
      }
      default:
        usage(`--faults: unknown fault '${name}' (known: mp-503, reset, latency, mp-down)`);
    }
  }
  if (spec.p503 + spec.pReset > 1) usage('--faults: mp-503 and reset together must not exceed 1');
  spec.active = spec.p503 > 0 || spec.pReset > 0 || spec.latencyMs > 0 || spec.mpDown !== undefined;
  return spec;
}

/** The canonical text of a spec (stored in summary.json; shards must agree on it). */
export function formatFaults(spec: FaultSpec): string {
  const parts: string[] = [];
  if (spec.p503 > 0) parts.push(`mp-503=${spec.p503}`);
  if (spec.pReset > 0) parts.push(`reset=${spec.pReset}`);
  if (spec.latencyMs > 0) parts.push(`latency=${spec.latencyMs}ms`);
  if (spec.mpDown) parts.push(`mp-down=${formatDuration(spec.mpDown.fromMs)}-${formatDuration(spec.mpDown.toMs)}`);
  return parts.join(',') || 'none';
}

export function faultKey(agent: number, attempt: number): string {
  return `${agent}.${attempt}`;
}

export function parseFaultKey(value: string | undefined): { agent: number; attempt: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\.(\d+)$/.exec(value.trim());
  return m === null ? undefined : { agent: Number(m[1]), attempt: Number(m[2]) };
}

/**
 * The fault a request meets. `offsetMs` is the virtual time since the run's start (for the MP-down window): a down MP
 * drops direct connections, and the CMG in front of it answers 503.
 */
export function decideFault(spec: FaultSpec, seed: number, agent: number, attempt: number, server: 'mp' | 'cmg', offsetMs: number): FaultKind {
  if (spec.mpDown && offsetMs >= spec.mpDown.fromMs && offsetMs < spec.mpDown.toMs) return 'mp-down';
  if (spec.p503 > 0 || spec.pReset > 0) {
    const u = new Random(`${seed}/fault/${agent}/${attempt}`).next();
    if (u < spec.p503) return '503';
    if (u < spec.p503 + spec.pReset) return 'reset';
  }
  return spec.latencyMs > 0 ? 'latency' : 'ok';
}

export function toSiteDecision(kind: FaultKind, spec: FaultSpec, server: 'mp' | 'cmg'): FaultDecision {
  switch (kind) {
    case '503':
      return '503';
    case 'reset':
      return 'reset';
    case 'mp-down':
      return server === 'mp' ? 'reset' : '503';
    case 'latency':
      return { delayMs: spec.latencyMs };
    case 'ok':
      return 'ok';
  }
}

/** The hook handed to startSiteServers: reads the fault key, decides, counts what it injected. */
export function createFaultHook(
  spec: FaultSpec,
  seed: number,
  clock: { now(): number },
  startMs: number,
  onFault?: (kind: FaultKind, agent: number) => void,
): FaultHook {
  return (req: FaultRequest) => {
    const key = parseFaultKey(headerOf(req.headers, FAULT_KEY_HEADER));
    if (key === undefined) return 'ok';
    const kind = decideFault(spec, seed, key.agent, key.attempt, req.server, clock.now() - startMs);
    if (kind !== 'ok') onFault?.(kind, key.agent);
    return toSiteDecision(kind, spec, req.server);
  };
}

function headerOf(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const direct = headers[name];
  if (direct !== undefined) return direct;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}
