/**
 * Owns a fleet run's output directory: summary.json, agents.ndjson (one outcome per agent), events.ndjson (one event
 * per line, k6's Point shape) and report.html; and `mergeFleetDirs`, which combines shard directories into one.
 */
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CcmsimError } from '../errors.js';
import { fileSystemFailure, makeDirectory, unwritable, whyCannotMake } from '../make-directory.js';
import type { FleetRunResult } from './fleet-engine.js';
import type { FleetEvent } from './fleet-metrics.js';
import { readShardFiles, SHARD_FILES } from './fleet-shard-files.js';
import { agentsNdjson, buildSummary, mergeSummaries, type FleetSummary } from './fleet-summary.js';
import { renderReport } from './fleet-report.js';

export const OUTPUT_FILES = { ...SHARD_FILES, report: 'report.html' } as const;

/**
 * `--out` must be new or empty (a run never mixes with an earlier one's files), and makeable: its nearest existing
 * ancestor a writable directory. Throws CCMSIM_USAGE otherwise; creates nothing, so a refused command leaves no trace.
 */
export function checkOutDir(dir: string): void {
  if (existsSync(dir)) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      throw new CcmsimError('CCMSIM_USAGE', `--out ${dir} exists and is not a directory`);
    }
    if (entries.length > 0) throw new CcmsimError('CCMSIM_USAGE', `--out ${dir} is not empty (give a new directory for each run)`);
    const why = unwritable(dir);
    if (why !== undefined) throw new CcmsimError('CCMSIM_USAGE', `--out ${dir} cannot be written: ${why}`);
    return;
  }
  const why = whyCannotMake(dir);
  if (why !== undefined) throw new CcmsimError('CCMSIM_USAGE', `--out ${dir} cannot be created: ${why}`);
}

/** Checks `--out` (checkOutDir) and makes it; the site and machines go inside. */
export function prepareOutDir(dir: string): void {
  checkOutDir(dir);
  try {
    makeDirectory(dir);
  } catch (err) {
    throw new CcmsimError('CCMSIM_USAGE', `--out ${dir} cannot be created: ${fileSystemFailure(err, dir)}`, { cause: err });
  }
}

async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(path);
  for (const line of lines) {
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

function* eventLines(events: FleetEvent[]): Iterable<string> {
  for (const e of events) yield `${JSON.stringify(e)}\n`;
}

export async function writeFleetOutputs(dir: string, run: FleetRunResult): Promise<FleetSummary> {
  const summary = buildSummary(run);
  writeFileSync(join(dir, OUTPUT_FILES.agents), agentsNdjson(run.outcomes));
  await writeLines(join(dir, OUTPUT_FILES.events), eventLines(run.metrics.sortedEvents()));
  writeFileSync(join(dir, OUTPUT_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(dir, OUTPUT_FILES.report), renderReport(summary));
  return summary;
}

/** Combines shard outputs into one directory: the same files an unsharded run writes, count for count. */
export async function mergeFleetDirs(dirs: string[], outDir: string): Promise<FleetSummary> {
  if (dirs.length === 0) throw new CcmsimError('CCMSIM_USAGE', 'fleet merge: name at least one shard directory');
  // Before reading the shards: a wrong --out is refused at once, not after a long read.
  checkOutDir(outDir);
  // Every shard is read and checked before anything is merged or written (fleet-shard-files.ts).
  const shards = [];
  for (const d of dirs) shards.push(await readShardFiles(d));
  const agentsText = agentsNdjson(shards.flatMap((s) => s.agents));
  const summary = mergeSummaries(shards.map((s) => s.summary), agentsText);
  // Site events (agent -1) happen once per run but every shard records them: keep the first shard's.
  const events = shards.flatMap((s, i) => (i === 0 ? s.events : s.events.filter((e) => e.data.tags['agent'] !== '-1')));
  // Each shard's file is in (time, agent, per-agent order) and an agent lives in one shard: a stable sort on
  // (time, agent) restores the unsharded order.
  events.sort((a, b) => (a.data.time < b.data.time ? -1 : a.data.time > b.data.time ? 1 : Number(a.data.tags['agent']) - Number(b.data.tags['agent'])));
  prepareOutDir(outDir);
  writeFileSync(join(outDir, OUTPUT_FILES.agents), agentsText);
  await writeLines(join(outDir, OUTPUT_FILES.events), eventLines(events));
  writeFileSync(join(outDir, OUTPUT_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(outDir, OUTPUT_FILES.report), renderReport(summary));
  return summary;
}
