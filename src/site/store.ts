/**
 * Owns the site's SQLite connection: opening `site.db` with WAL, foreign keys and a busy timeout, running the
 * migrations, turning SQLite failures into one-line `CCMSIM_SITE_STATE` errors, the per-connection cache of
 * prepared statements, and the per-connection cache of what is read from rarely changed tables (`keptRead`).
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { CcmsimError, isCcmsimError } from '../errors.js';
import { migrate, schemaProblems } from './migrations.js';

export type SiteDb = Database.Database;

/** How long a writer waits for another process's write lock before giving up. */
export const BUSY_TIMEOUT_MS = 10_000;

export interface OpenStoreOptions {
  path: string;
  nowMs: number;
  /** Create the file when it does not exist (otherwise a missing database is an error). */
  create: boolean;
  /**
   * The error for a database that holds nothing (a zero-byte file, say) when a site is known to have been made here:
   * thrown before anything is written to it, so the file is left as found.
   */
  refuseEmpty?: () => CcmsimError;
}

/** What to do about a damaged database, said after each refusal of one. */
export const DAMAGED_DB_ADVICE = 'restore site.db from a backup, or remove the site directory to start a new site';

export function openStore(options: OpenStoreOptions): SiteDb {
  if (!options.create && !existsSync(options.path)) {
    throw new CcmsimError('CCMSIM_SITE_STATE', `no site database at ${options.path} (run: ccmsim site init)`);
  }
  let db: SiteDb | undefined;
  try {
    db = new Database(options.path, { fileMustExist: !options.create, timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Before the first write (setting WAL writes the header): reading the schema writes nothing.
    if (options.refuseEmpty && db.prepare('SELECT count(*) FROM sqlite_master').pluck().get() === 0) throw options.refuseEmpty();
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode (only a power loss can drop the last commits).
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new CcmsimError('CCMSIM_SITE_STATE', `the site database ${options.path} is damaged: ${String(check)}`);
    migrate(db, options.nowMs);
    const problems = schemaProblems(db);
    if (problems.length > 0) {
      throw new CcmsimError('CCMSIM_SITE_STATE', `the site database ${options.path} is damaged: ${problems.join('; ')} (${DAMAGED_DB_ADVICE})`);
    }
    return db;
  } catch (err) {
    db?.close();
    throw siteStateError(err, `cannot open the site database ${options.path}`);
  }
}

const statements = new WeakMap<SiteDb, Map<string, Database.Statement>>();

/**
 * The prepared statement for `sql` on `db`, prepared once per connection (preparing cost more than running the
 * statement on every request). Only for fixed SQL run with get/run/all; SQLite re-prepares it after a schema change.
 */
export function statement(db: SiteDb, sql: string): Database.Statement {
  let byText = statements.get(db);
  if (byText === undefined) {
    byText = new Map();
    statements.set(db, byText);
  }
  let stmt = byText.get(sql);
  if (stmt === undefined) {
    stmt = db.prepare(sql);
    byText.set(sql, stmt);
  }
  return stmt;
}

interface Kept {
  dataVersion: number;
  generation: number;
  value: unknown;
}

/** Per connection: what `keptRead` keeps, and how often this connection changed each kept table (`tableChanged`). */
const kept = new WeakMap<SiteDb, { values: Map<string, Kept>; generations: Map<string, number> }>();

function keptOf(db: SiteDb): { values: Map<string, Kept>; generations: Map<string, number> } {
  let k = kept.get(db);
  if (k === undefined) {
    k = { values: new Map(), generations: new Map() };
    kept.set(db, k);
  }
  return k;
}

/**
 * `read()`, kept until the table `table` may have changed: `PRAGMA data_version` moves when another connection (another
 * process: `ccmsim site …` beside a running site) commits, seen from the next turn of the event loop; `tableChanged`
 * marks this connection's own writes, which do not move it. Inside a transaction it always reads (and keeps nothing),
 * so an uncommitted change is never kept.
 * For the site's configuration and certificates: read on every request, changed a handful of times in a site's life.
 */
export function keptRead<T>(db: SiteDb, table: string, read: () => T): T {
  if (db.inTransaction) return read();
  const k = keptOf(db);
  const dataVersion = dataVersionThisTurn(db);
  const generation = k.generations.get(table) ?? 0;
  const entry = k.values.get(table);
  if (entry !== undefined && entry.dataVersion === dataVersion && entry.generation === generation) return entry.value as T;
  const value = read();
  k.values.set(table, { dataVersion, generation, value });
  return value;
}

/** `PRAGMA data_version` as read in this synchronous stretch of code (one read serves every kept read of it). */
const versionThisTurn = new WeakMap<SiteDb, number>();

/**
 * A request's synchronous part asks for the configuration and the certificates several times; each `PRAGMA
 * data_version` is a read transaction of its own (file locks included). Another process's commit is seen from the next
 * turn of the event loop, as if it had landed just after this one.
 */
function dataVersionThisTurn(db: SiteDb): number {
  let version = versionThisTurn.get(db);
  if (version === undefined) {
    version = statement(db, 'PRAGMA data_version').pluck().get() as number;
    versionThisTurn.set(db, version);
    queueMicrotask(() => versionThisTurn.delete(db));
  }
  return version;
}

/** Marks `table` changed by this connection (call before or inside the writing transaction; a rollback only costs a read). */
export function tableChanged(db: SiteDb, table: string): void {
  const k = keptOf(db);
  k.generations.set(table, (k.generations.get(table) ?? 0) + 1);
}

/**
 * A new ID from `draw` that `table.column` does not hold yet. The site's IDs come from its seeded Random, so a site
 * opened again with the same seed (two `ccmsetup-sim --seed 9` runs against one site) draws the same IDs again; the
 * next draw is taken instead of failing on the UNIQUE constraint. `table` and `column` are code constants.
 */
export function unusedId<T extends string>(db: SiteDb, table: 'client_tokens' | 'bulk_tokens' | 'clients', column: string, draw: () => T): T {
  const taken = statement(db, `SELECT 1 FROM ${table} WHERE ${column} = ?`);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const id = draw();
    if (taken.get(id) === undefined) return id;
  }
  throw new CcmsimError('CCMSIM_SITE_STATE', `cannot draw an unused ${table}.${column}`);
}

/** Wraps a SQLite failure (busy, corrupt, read-only) as a one-line CCMSIM_SITE_STATE error; passes ours through. */
export function siteStateError(err: unknown, what: string): CcmsimError {
  if (isCcmsimError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return new CcmsimError('CCMSIM_SITE_STATE', `${what}: ${message}`, {
    cause: err,
    details: typeof code === 'string' ? { sqliteCode: code } : undefined,
  });
}

/**
 * Runs `fn` in an immediate (write-locking) transaction so concurrent processes serialize on it. The outermost one
 * runs prepared BEGIN IMMEDIATE / COMMIT / ROLLBACK statements: better-sqlite3's `db.transaction(fn)` builds a new
 * wrapper function per call, a cost every token a fleet's site issues paid. Nested calls keep its savepoints.
 */
export function writeTransaction<T>(db: SiteDb, fn: () => T): T {
  try {
    if (db.inTransaction) return db.transaction(fn)();
    statement(db, 'BEGIN IMMEDIATE').run();
    try {
      const result = fn();
      statement(db, 'COMMIT').run();
      return result;
    } catch (err) {
      // `fn` failed, or COMMIT did (SQLite may already have rolled back then).
      if (db.inTransaction) statement(db, 'ROLLBACK').run();
      throw err;
    }
  } catch (err) {
    throw siteStateError(err, 'site database write failed');
  }
}

export function bool(value: unknown): boolean {
  return value === 1 || value === true || value === 1n;
}
