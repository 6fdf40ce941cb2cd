/**
 * Owns the site's SQLite connection: opening `site.db` with WAL, foreign keys and a busy timeout, running the
 * migrations, turning SQLite failures into one-line `CCMSIM_SITE_STATE` errors, and the per-connection cache of
 * prepared statements.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { CcmsimError, isCcmsimError } from '../errors.js';
import { migrate } from './migrations.js';

export type SiteDb = Database.Database;

/** How long a writer waits for another process's write lock before giving up. */
export const BUSY_TIMEOUT_MS = 10_000;

export interface OpenStoreOptions {
  path: string;
  nowMs: number;
  /** Create the file when it does not exist (otherwise a missing database is an error). */
  create: boolean;
}

export function openStore(options: OpenStoreOptions): SiteDb {
  if (!options.create && !existsSync(options.path)) {
    throw new CcmsimError('CCMSIM_SITE_STATE', `no site database at ${options.path} (run: ccmsim site init)`);
  }
  let db: SiteDb | undefined;
  try {
    db = new Database(options.path, { fileMustExist: !options.create, timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode (only a power loss can drop the last commits).
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new CcmsimError('CCMSIM_SITE_STATE', `the site database ${options.path} is damaged: ${String(check)}`);
    migrate(db, options.nowMs);
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

/** Runs `fn` in an immediate (write-locking) transaction so concurrent processes serialize on it. */
export function writeTransaction<T>(db: SiteDb, fn: () => T): T {
  try {
    return db.transaction(fn).immediate();
  } catch (err) {
    throw siteStateError(err, 'site database write failed');
  }
}

export function bool(value: unknown): boolean {
  return value === 1 || value === true || value === 1n;
}
