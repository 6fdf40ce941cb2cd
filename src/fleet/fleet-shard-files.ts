/**
 * Owns reading one shard's output directory for `fleet merge`, and proving its files are what a fleet run writes:
 * summary.json's shape and types, each agents.ndjson and events.ndjson line, every latency histogram decodable and
 * holding its count, agents.ndjson's lines and digest as the summary states them. Files are edited, truncated and
 * mixed up by hand; a merge must refuse them (one CCMSIM_FILE_UNREADABLE line naming the file and the fault) rather
 * than add "lots" to a count or crash on a missing field. The checks are small hand-written combinators.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CcmsimError } from '../errors.js';
import type { Histogram } from 'hdr-histogram-js';
import { decodeHistogram, emptyCounts, newHistogram, type AgentOutcome, type FleetEvent } from './fleet-metrics.js';
import { digestOf, type FleetSummary } from './fleet-summary.js';

export const SHARD_FILES = { summary: 'summary.json', agents: 'agents.ndjson', events: 'events.ndjson' } as const;

export interface ShardFiles {
  dir: string;
  summary: FleetSummary;
  /** agents.ndjson as written (its digest is the summary's agentsDigest). */
  agentsText: string;
  agents: AgentOutcome[];
  events: FleetEvent[];
}

/** What is wrong with a value, as `counts.renewals is "lots", not a count`. */
class Fault extends Error {}

type Check = (value: unknown, at: string) => void;

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function fault(value: unknown, at: string, wanted: string): never {
  throw new Fault(value === undefined ? `${at} is missing` : `${at} is ${show(value)}, not ${wanted}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const child = (at: string, key: string | number): string => (typeof key === 'number' ? `${at}[${key}]` : at === '' ? key : `${at}.${key}`);

const count: Check = (v, at) => (Number.isSafeInteger(v) && (v as number) >= 0) || fault(v, at, 'a count');
const amount: Check = (v, at) => (typeof v === 'number' && Number.isFinite(v) && v >= 0) || fault(v, at, 'a number of at least 0');
const finite: Check = (v, at) => (typeof v === 'number' && Number.isFinite(v)) || fault(v, at, 'a number');
const text: Check = (v, at) => typeof v === 'string' || fault(v, at, 'a string');
const flag: Check = (v, at) => typeof v === 'boolean' || fault(v, at, 'true or false');
// Merge orders events by comparing time strings: only toISOString's one spelling sorts right.
const isoTime: Check = (v, at) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v) || fault(v, at, 'an ISO time');
const sha256: Check = (v, at) => (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) || fault(v, at, 'a SHA-256 in hex');
const oneOf =
  (...values: readonly unknown[]): Check =>
  (v, at) =>
    values.includes(v) || fault(v, at, values.map((x) => JSON.stringify(x)).join(' or '));
const nullOr =
  (check: Check): Check =>
  (v, at) =>
    v === null || check(v, at);
const arrayOf =
  (check: Check): Check =>
  (v, at) =>
    Array.isArray(v) ? v.forEach((x, i) => check(x, child(at, i))) : fault(v, at, 'an array');
const recordOf =
  (check: Check): Check =>
  (v, at) =>
    isObject(v) ? Object.entries(v).forEach(([k, x]) => check(x, child(at, k))) : fault(v, at, 'an object');
const shape =
  (fields: Record<string, Check>): Check =>
  (v, at) => {
    if (!isObject(v)) fault(v, at === '' ? 'the line' : at, 'an object');
    for (const [k, check] of Object.entries(fields)) check(v[k], child(at, k));
  };

const PERFORMANCE = { wallMs: amount, cpuUserMs: amount, cpuSystemMs: amount, peakRssBytes: amount, agentsPerSecond: amount, peakInFlight: count };

const SUMMARY = shape({
  options: recordOf((v, at) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || fault(v, at, 'a string or a number')),
  shards: shape({ count: count, included: arrayOf(count) }),
  driver: text,
  keys: shape({ mode: oneOf('pool', 'unique'), size: nullOr(count), note: text }),
  // Every counter the run keeps, so a new one is checked as soon as it exists.
  counts: shape(Object.fromEntries(Object.entries(emptyCounts()).map(([k, v]) => [k, typeof v === 'number' ? count : recordOf(count)]))),
  series: shape({ start: isoTime, dayMs: amount, registrations: arrayOf(count), renewals: arrayOf(count), failures: arrayOf(count) }),
  tokenExpiry: shape({ start: isoTime, perDay: arrayOf(count) }),
  latency: recordOf(shape({ count: count, p50: amount, p90: amount, p99: amount, max: amount, encoded: text })),
  performance: shape({ ...PERFORMANCE, concurrency: arrayOf(count), perShard: arrayOf(shape({ ...PERFORMANCE, shard: count })) }),
  site: nullOr(shape({ clients: count, duplicateClients: count, clientTokens: count })),
  agentsDigest: sha256,
  internalErrors: arrayOf(text),
});

const AGENT = shape({
  agent: count,
  name: text,
  network: oneOf('internet', 'intranet'),
  arrival: isoTime,
  installed: flag,
  via: nullOr(oneOf('mp', 'cmg')),
  installedAt: nullOr(isoTime),
  failure: nullOr(text),
  retries: count,
  starts: count,
  renewals: count,
  refusals: count,
  requests: count,
  tokenExpires: nullOr(isoTime),
});

const EVENT = shape({
  type: oneOf('Point'),
  metric: text,
  data: shape({
    time: isoTime,
    value: finite,
    // Site events are agent -1; merge orders by the agent's number.
    tags: (v, at) => {
      recordOf(text)(v, at);
      const agent = (v as Record<string, unknown>)['agent'];
      if (typeof agent !== 'string' || !/^(?:-1|0|[1-9]\d*)$/.test(agent)) fault(agent, child(at, 'agent'), 'an agent number');
    },
  }),
});

/** The top of the histogram bucket `value` falls in: what a decoded histogram reports as its max. */
function bucketTop(value: number): number {
  const h = newHistogram();
  h.recordValue(value);
  return h.getValueAtPercentile(100);
}

function unreadable(path: string, problem: string): CcmsimError {
  return new CcmsimError('CCMSIM_FILE_UNREADABLE', `${path}: ${problem}`);
}

/** A missing file is CCMSIM_FILE_NOT_FOUND, any other failure to read it CCMSIM_FILE_UNREADABLE. */
function fileError(path: string, dir: string, err: unknown): CcmsimError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new CcmsimError('CCMSIM_FILE_NOT_FOUND', `${path} is missing (is ${dir} the --out of a fleet shard?)`);
  return unreadable(path, `cannot be read (${code ?? (err as Error).message})`);
}

function readText(path: string, dir: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw fileError(path, dir, err);
  }
}

function readSummary(dir: string): FleetSummary {
  const path = join(dir, SHARD_FILES.summary);
  let value: unknown;
  try {
    value = JSON.parse(readText(path, dir));
  } catch (err) {
    if (err instanceof CcmsimError) throw err;
    throw unreadable(path, 'not JSON');
  }
  if (!isObject(value) || value['schema'] !== 1 || value['tool'] !== 'ccmsim fleet') {
    throw unreadable(path, 'not a ccmsim fleet summary (it lacks "schema": 1, "tool": "ccmsim fleet")');
  }
  try {
    SUMMARY(value, '');
    const s = value as unknown as FleetSummary;
    if (s.shards.count < 1) fault(s.shards.count, 'shards.count', 'a count of at least 1');
    for (const [i, shard] of s.shards.included.entries()) if (shard >= s.shards.count) fault(shard, `shards.included[${i}]`, `a shard below ${s.shards.count}`);
    for (const [op, l] of Object.entries(s.latency)) {
      let held: Histogram;
      try {
        held = decodeHistogram(l.encoded);
      } catch (err) {
        throw new Fault(`latency.${op}.encoded is not an HdrHistogram (${(err as Error).message})`);
      }
      if (held.totalCount !== l.count) throw new Fault(`latency.${op}.encoded holds ${held.totalCount} values, but latency.${op}.count says ${l.count}`);
      // The merge keeps the shards' exact max (a decoded histogram knows only its bucket): it must lie in that bucket.
      if (l.max > held.maxValue || bucketTop(l.max) !== held.maxValue) throw new Fault(`latency.${op}.max is ${l.max}, but latency.${op}.encoded holds values up to ${held.maxValue}`);
    }
    return s;
  } catch (err) {
    if (err instanceof Fault) throw unreadable(path, err.message);
    throw err;
  }
}

/** Line `n` of `path` parsed and checked, undefined when blank; a fault is thrown as `path:n: …`. */
function checkedLine<T>(line: string, path: string, n: number, check: (value: unknown) => void): T | undefined {
  if (line.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw unreadable(`${path}:${n}`, 'not a JSON line');
  }
  try {
    check(value);
  } catch (err) {
    if (err instanceof Fault) throw unreadable(`${path}:${n}`, err.message);
    throw err;
  }
  return value as T;
}

/** An agent of shard i of n has an index ≡ i (mod n): one in another shard's file means files were mixed up. */
function ownedBy(summary: FleetSummary): (agent: number, at: string) => void {
  const { count: n, included } = summary.shards;
  return (agent, at) => {
    if (!included.includes(agent % n)) throw new Fault(`${at} ${agent} belongs to shard ${agent % n} of ${n}, not to this directory's (${included.join(', ')})`);
  };
}

/** Reads and checks one shard directory. Throws CCMSIM_FILE_NOT_FOUND or CCMSIM_FILE_UNREADABLE naming the file. */
export async function readShardFiles(dir: string): Promise<ShardFiles> {
  const summary = readSummary(dir);
  const owned = ownedBy(summary);

  const agentsPath = join(dir, SHARD_FILES.agents);
  const agentsText = readText(agentsPath, dir);
  const agents: AgentOutcome[] = [];
  for (const [i, line] of agentsText.split('\n').entries()) {
    const agent = checkedLine<AgentOutcome>(line, agentsPath, i + 1, (v) => {
      AGENT(v, '');
      owned((v as AgentOutcome).agent, 'agent');
    });
    if (agent) agents.push(agent);
  }
  if (agents.length !== summary.counts.agents) {
    throw unreadable(agentsPath, `${agents.length} agents, but ${SHARD_FILES.summary} counts ${summary.counts.agents}`);
  }
  if (digestOf(agentsText) !== summary.agentsDigest) {
    throw unreadable(agentsPath, `its SHA-256 is not the agentsDigest of ${SHARD_FILES.summary} (the file was changed after the run)`);
  }

  // Events are streamed: they are the largest file.
  const eventsPath = join(dir, SHARD_FILES.events);
  const input = createReadStream(eventsPath);
  try {
    await new Promise<void>((resolve, reject) => input.once('open', () => resolve()).once('error', reject));
  } catch (err) {
    throw fileError(eventsPath, dir, err);
  }
  const events: FleetEvent[] = [];
  let n = 0;
  try {
    for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      const event = checkedLine<FleetEvent>(line, eventsPath, ++n, (v) => {
        EVENT(v, '');
        const agent = Number((v as FleetEvent).data.tags['agent']);
        if (agent >= 0) owned(agent, 'data.tags.agent');
      });
      if (event) events.push(event);
    }
  } catch (err) {
    throw err instanceof CcmsimError ? err : fileError(eventsPath, dir, err);
  } finally {
    input.destroy();
  }
  return { dir, summary, agentsText, agents, events };
}
