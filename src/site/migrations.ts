/**
 * Owns the site database schema: the ordered list of migrations, the `schema_version` table that records which
 * ones ran, and the check that what they made is all there. A database newer than this code is refused rather than
 * guessed at.
 */
import Database from 'better-sqlite3';
import { CcmsimError } from '../errors.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'site config, certificates, clients, client tokens, bulk tokens',
    sql: `
      CREATE TABLE site_config (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        site_code TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        server_mode TEXT NOT NULL CHECK (server_mode IN ('active', 'passive')),
        intranet_tokens INTEGER NOT NULL CHECK (intranet_tokens IN (0, 1)),
        cmg_enabled INTEGER NOT NULL CHECK (cmg_enabled IN (0, 1)),
        cmg_host TEXT NOT NULL,
        cmg_id TEXT NOT NULL,
        mp_host TEXT NOT NULL,
        corrupt_manifest INTEGER NOT NULL DEFAULT 0 CHECK (corrupt_manifest IN (0, 1)),
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
      );
      CREATE TABLE certificates (
        thumbprint TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('issuing-root', 'token-signing', 'cmg-server')),
        subject TEXT NOT NULL,
        pem TEXT NOT NULL,
        key_file TEXT NOT NULL,
        not_before_ms INTEGER NOT NULL,
        not_after_ms INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
        retired_ms INTEGER
      );
      CREATE UNIQUE INDEX certificates_one_active_per_role ON certificates (role) WHERE status = 'active';
      CREATE TABLE bulk_tokens (
        guid TEXT PRIMARY KEY,
        created_ms INTEGER NOT NULL,
        lifetime_minutes INTEGER NOT NULL CHECK (lifetime_minutes BETWEEN 1 AND 10080),
        valid_until_ms INTEGER NOT NULL,
        blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
        block_changed_ms INTEGER
      );
      CREATE TABLE clients (
        sms_id TEXT PRIMARY KEY,
        netbios_name TEXT NOT NULL,
        fq_name TEXT NOT NULL,
        hardware_id TEXT,
        signing_thumbprint TEXT NOT NULL,
        signing_cert_der BLOB NOT NULL,
        encryption_cert_der BLOB,
        approval TEXT NOT NULL CHECK (approval IN ('approved', 'pending')),
        method TEXT NOT NULL CHECK (method IN ('intranet', 'bulk')),
        bulk_token_guid TEXT REFERENCES bulk_tokens (guid),
        registered_ms INTEGER NOT NULL,
        confirmed_ms INTEGER,
        updated_ms INTEGER NOT NULL,
        CHECK ((method = 'bulk') = (bulk_token_guid IS NOT NULL))
      );
      CREATE TABLE client_tokens (
        token_id TEXT PRIMARY KEY,
        sms_id TEXT NOT NULL REFERENCES clients (sms_id),
        issued_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL,
        revoked_ms INTEGER,
        signed_by TEXT NOT NULL REFERENCES certificates (thumbprint)
      );
    `,
  },
  {
    version: 2,
    name: 'client tokens record how they were issued; lookups by client',
    sql: `
      ALTER TABLE client_tokens ADD COLUMN via TEXT NOT NULL DEFAULT 'mp' CHECK (via IN ('mp', 'cmg'));
      ALTER TABLE client_tokens ADD COLUMN cert_thumbprint TEXT NOT NULL DEFAULT '';
      CREATE INDEX client_tokens_by_client ON client_tokens (sms_id, issued_ms);
      CREATE INDEX clients_by_signing_thumbprint ON clients (signing_thumbprint);
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The schema version recorded in `db` (0 for an empty database). */
export function schemaVersion(db: Database.Database): number {
  const table = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).get();
  if (!table) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Brings `db` up to the last of `migrations`, each in its own immediate transaction so two processes opening the same
 * new site never both apply one. Returns the versions applied.
 */
export function migrate(db: Database.Database, nowMs: number, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const known = migrations[migrations.length - 1]?.version ?? 0;
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)`);
  const applied: number[] = [];
  for (const m of migrations) {
    const step = db.transaction(() => {
      const current = schemaVersion(db);
      if (current >= m.version) return false;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, name, applied_ms) VALUES (?, ?, ?)').run(m.version, m.name, nowMs);
      return true;
    });
    if (step.immediate()) applied.push(m.version);
  }
  const current = schemaVersion(db);
  if (current > known) {
    throw new CcmsimError(
      'CCMSIM_SITE_STATE',
      `the site database is at schema version ${current}, newer than this ccmsim knows (${known}); use a newer ccmsim`,
      { details: { schemaVersion: current, known } },
    );
  }
  return applied;
}

/** Table name → its column names, and the named indexes, of a database. */
interface SchemaShape {
  tables: Map<string, string[]>;
  indexes: Set<string>;
}

function shapeOf(db: Database.Database): SchemaShape {
  const rows = db.prepare(`SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'`).all() as Array<{
    type: string;
    name: string;
  }>;
  const tables = new Map<string, string[]>();
  const indexes = new Set<string>();
  for (const r of rows) {
    if (r.type === 'index') indexes.add(r.name);
    else tables.set(r.name, (db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(r.name) as string[]));
  }
  return { tables, indexes };
}

let expectedShape: SchemaShape | undefined;

/**
 * What `migrations` leave is read from a scratch in-memory database migrated by them, so the check can never drift
 * from the migrations themselves.
 */
function migratedShape(): SchemaShape {
  if (expectedShape === undefined) {
    const scratch = new Database(':memory:');
    try {
      migrate(scratch, 0);
      expectedShape = shapeOf(scratch);
    } finally {
      scratch.close();
    }
  }
  return expectedShape;
}

/**
 * What a migrated database lacks of the schema (a dropped table, column or index), in words; empty when whole. A
 * schema_version that says "done" over a damaged schema would otherwise fail later, one query at a time.
 */
export function schemaProblems(db: Database.Database): string[] {
  const want = migratedShape();
  const have = shapeOf(db);
  const problems: string[] = [];
  for (const [table, columns] of want.tables) {
    const got = have.tables.get(table);
    if (got === undefined) {
      problems.push(`table ${table} is missing`);
      continue;
    }
    const missing = columns.filter((c) => !got.includes(c));
    if (missing.length > 0) problems.push(`table ${table} lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  }
  for (const index of want.indexes) if (!have.indexes.has(index)) problems.push(`index ${index} is missing`);
  return problems;
}
