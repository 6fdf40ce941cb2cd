/**
 * Owns what every `ccmsim site …` subcommand (and `bulkregtoken-sim`) shares: picking the site directory
 * (`--site-dir`, `CCMSIM_SITE_DIR`, `.ccmsim/site`), opening the site on the real clock, and the overrides tests use
 * so they never generate RSA keys.
 */
import type { Argv } from 'yargs';
import { RealClock, type Clock } from '../../clock/clock.js';
import { pickSeed, Random } from '../../clock/random.js';
import type { KeyProvider } from '../../crypto/key-provider.js';
import { CcmsimError } from '../../errors.js';
import type { Io } from '../io.js';
import { openSite, type Site } from '../../site/site.js';
import { resolveSiteDir } from '../../site/site-dir.js';
import type { SiteInitOptions } from '../../site/site-config.js';

export interface SiteCliDeps {
  keys?: KeyProvider;
  clock?: Clock;
  random?: Random;
}

/** Overrides for tests (committed keys, a virtual clock). Left empty in production. */
export const siteCliOverrides: SiteCliDeps = {};

export function withSiteDirOption<T>(y: Argv<T>): Argv<T & { 'site-dir': string | undefined }> {
  return y.option('site-dir', {
    type: 'string',
    requiresArg: true,
    describe: 'the site directory (default: $CCMSIM_SITE_DIR, else .ccmsim/site under the working directory)',
  }) as Argv<T & { 'site-dir': string | undefined }>;
}

/** Opens (creating on first use with the documented defaults) the site a command names. */
export async function openSiteForCli(
  io: Io,
  siteDirOption: string | undefined,
  options: { create?: boolean; init?: SiteInitOptions; deps?: SiteCliDeps; seed?: number } = {},
): Promise<Site> {
  const deps = { ...siteCliOverrides, ...options.deps };
  const siteDir = resolveSiteDir({ siteDir: siteDirOption, env: io.env, cwd: io.cwd });
  return openSite({
    siteDir,
    clock: deps.clock ?? new RealClock(),
    random: deps.random ?? new Random(options.seed ?? pickSeed()),
    create: options.create ?? true,
    init: options.init,
    keys: deps.keys,
  });
}

/** Adds `--seed`: the seeded source behind a command's random choices (tenant ID, serials, GUIDs). */
export function withSeedOption<T>(y: Argv<T>): Argv<T & { seed: string | undefined }> {
  // A string, so an error quotes what was typed (yargs' number type turns 'abc' into NaN).
  return y.option('seed', {
    type: 'string',
    requiresArg: true,
    describe: 'seed for the random choices (default: random, printed so the run can be repeated)',
  }) as Argv<T & { seed: string | undefined }>;
}

/** The seed a command runs with: the one given, or a fresh one to print. */
export function resolveSeed(value: unknown): number {
  if (value === undefined) return pickSeed();
  const n = /^\s*\+?\d+\s*$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new CcmsimError('CCMSIM_USAGE', `--seed takes a whole number, not ${String(value)}`);
  return n;
}

/** `true|false` (also yes/no, on/off, 1/0) for the config switches. */
export function parseSwitch(name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim().toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(text)) return true;
  if (['false', 'no', 'off', '0'].includes(text)) return false;
  throw new CcmsimError('CCMSIM_USAGE', `--${name} takes true or false, not ${JSON.stringify(String(value))}`);
}

/** `2026-01-31 10:00:00Z`-style UTC text, for tables. */
export function formatUtc(ms: number | undefined): string {
  if (ms === undefined) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** A plain text table: header, dashes, rows; columns padded to the widest cell. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}
