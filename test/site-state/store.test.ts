import { describe, it, expect, afterEach } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate, schemaVersion } from '../../src/site/migrations.js';
import { openStore, writeTransaction } from '../../src/site/store.js';
import { openSite } from '../../src/site/site.js';
import { resolveSiteDir, sitePaths } from '../../src/site/site-dir.js';
import { Random } from '../../src/clock/random.js';
import { VirtualClock } from '../../src/clock/clock.js';
import { CcmsimError, isCcmsimError } from '../../src/errors.js';
import { cleanupsAfterEach, makeSite, START_MS, tempDir, testKeys, type SiteFixture } from './site-fixture.js';

let fixture: SiteFixture | undefined;
const cleanups = cleanupsAfterEach();
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

describe('site directory', () => {
  it('is --site-dir, else CCMSIM_SITE_DIR, else .ccmsim/site under the working directory', () => {
    expect(resolveSiteDir({ siteDir: 'x', env: { CCMSIM_SITE_DIR: '/env' }, cwd: '/w' })).toBe('/w/x');
    expect(resolveSiteDir({ env: { CCMSIM_SITE_DIR: '/env/site' }, cwd: '/w' })).toBe('/env/site');
    expect(resolveSiteDir({ env: {}, cwd: '/w' })).toBe('/w/.ccmsim/site');
  });

  it('is laid out like the real servers, with private keys readable only by the owner', async () => {
    fixture = await makeSite();
    const p = sitePaths(fixture.dir);
    for (const d of [p.mpLogs, p.cmgLogs, p.pki]) expect(statSync(d).isDirectory()).toBe(true);
    expect(p.mpLogs.endsWith(join('SMS_CCM', 'Logs'))).toBe(true);
    expect(p.cmgLogs.endsWith(join('CMG', 'Logs'))).toBe(true);
    expect(existsSync(p.db)).toBe(true);
    const keys = readdirSync(p.pki).filter((f) => f.endsWith('.key'));
    expect(keys).toHaveLength(3);
    for (const k of keys) expect(statSync(join(p.pki, k)).mode & 0o777).toBe(0o600);
    expect(readdirSync(p.pki).some((f) => f.endsWith('.tmp'))).toBe(false);
    const root = new X509Certificate(readFileSync(p.rootCertificate, 'utf8'));
    expect(root.subject).toContain('SMS Issuing');
  });
});

describe('site store', () => {
  it('a fresh database gets every migration and records the version', () => {
    const { dir, cleanup } = tempDir('db');
    cleanups.push(cleanup);
    const db = openStore({ path: join(dir, 'site.db'), nowMs: START_MS, create: true });
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const rows = db.prepare('SELECT version FROM schema_version ORDER BY version').all() as Array<{ version: number }>;
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    db.close();
  });

  it('an existing database at version 1 is migrated and keeps its data', () => {
    const { dir, cleanup } = tempDir('db');
    cleanups.push(cleanup);
    const path = join(dir, 'site.db');
    const old = new Database(path);
    migrate(old, START_MS, MIGRATIONS.slice(0, 1));
    old.prepare('INSERT INTO bulk_tokens (guid, created_ms, lifetime_minutes, valid_until_ms) VALUES (?, ?, ?, ?)').run('a', 1, 60, 2);
    expect(schemaVersion(old)).toBe(1);
    old.close();
    const db = openStore({ path, nowMs: START_MS, create: false });
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(db.prepare('SELECT lifetime_minutes FROM bulk_tokens WHERE guid = ?').get('a')).toEqual({ lifetime_minutes: 60 });
    const cols = (db.prepare('PRAGMA table_info(client_tokens)').all() as Array<{ name: string }>).map((c) => c.name);
    expect(cols).toContain('via');
    db.close();
  });

  it('refuses a database newer than the code with CCMSIM_SITE_STATE', () => {
    const { dir, cleanup } = tempDir('db');
    cleanups.push(cleanup);
    const path = join(dir, 'site.db');
    const db = openStore({ path, nowMs: START_MS, create: true });
    db.prepare('INSERT INTO schema_version (version, name, applied_ms) VALUES (?, ?, ?)').run(LATEST_SCHEMA_VERSION + 1, 'future', 0);
    db.close();
    let err: unknown;
    try {
      openStore({ path, nowMs: START_MS, create: false });
    } catch (e) {
      err = e;
    }
    expect(isCcmsimError(err, 'CCMSIM_SITE_STATE')).toBe(true);
    expect((err as Error).message).toMatch(/newer than this ccmsim knows/);
  });

  it('opening a missing site without create is a CCMSIM_SITE_STATE error', async () => {
    const { dir, cleanup } = tempDir('none');
    cleanups.push(cleanup);
    await expect(openSite({ siteDir: join(dir, 'nope'), clock: new VirtualClock(START_MS), random: new Random(1) })).rejects.toMatchObject({
      code: 'CCMSIM_SITE_STATE',
    });
  });

  it('bad init options are refused before anything is made, so a corrected retry makes the site asked for', async () => {
    const { dir, cleanup } = tempDir('bad-init');
    cleanups.push(cleanup);
    const siteDir = join(dir, 'site');
    const open = (init: Record<string, string>) =>
      openSite({ siteDir, clock: new VirtualClock(START_MS), random: new Random(1), keys: testKeys(0), create: true, init });
    await expect(open({ siteCode: 'ab!' })).rejects.toMatchObject({ code: 'CCMSIM_BAD_ID' });
    await expect(open({ cmgId: 'notanumber' })).rejects.toMatchObject({ code: 'CCMSIM_USAGE' });
    expect(existsSync(siteDir)).toBe(false);
    const site = await open({ siteCode: 'XYZ' });
    expect(site.config().siteCode).toBe('XYZ');
    site.close();
  });
});

describe('site configuration', () => {
  it('has the documented defaults and a tenant GUID drawn from Random', async () => {
    fixture = await makeSite();
    const c = fixture.site.config();
    expect(c).toMatchObject({
      siteCode: 'ABC',
      cmgHost: 'CONTOSO.CLOUDAPP.NET',
      cmgId: '72186325152220500',
      mpHost: 'MP01.CONTOSO.COM',
      serverMode: 'active',
      intranetTokens: true,
      cmgEnabled: true,
      corruptManifest: false,
    });
    expect(c.tenantId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    expect(fixture.site.created).toBe(true);
  });

  it("a change made through one open site is seen by another from its next turn of the event loop", async () => {
    fixture = await makeSite();
    const other = await fixture.reopen();
    expect(other.created).toBe(false);
    expect(other.config().tenantId).toBe(fixture.site.config().tenantId);
    fixture.site.updateConfig({ serverMode: 'passive', cmgEnabled: false, intranetTokens: false, corruptManifest: true });
    // Within one synchronous stretch the other connection keeps what it read (one data_version check per turn).
    expect(other.config().serverMode).toBe('active');
    await Promise.resolve();
    expect(other.config()).toMatchObject({ serverMode: 'passive', cmgEnabled: false, intranetTokens: false, corruptManifest: true });
    other.updateConfig({ cmgEnabled: true });
    await Promise.resolve();
    expect(fixture.site.config().cmgEnabled).toBe(true);
  });

  it('two processes opening a new site at once make one site', async () => {
    const { dir, cleanup } = tempDir('race');
    cleanups.push(cleanup);
    const clock = new VirtualClock(START_MS);
    const [a, b] = await Promise.all([
      openSite({ siteDir: dir, clock, random: new Random('a'), create: true, keys: testKeys(0) }),
      openSite({ siteDir: dir, clock, random: new Random('b'), create: true, keys: testKeys(5) }),
    ]);
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
    expect(a.config().tenantId).toBe(b.config().tenantId);
    expect(a.certificates()).toHaveLength(3);
    a.close();
    b.close();
  });
});

describe('site PKI', () => {
  it('makes the root, token-signing and CMG certificates, valid 2000..2099 under any clock', async () => {
    fixture = await makeSite();
    const certs = fixture.site.certificates();
    expect(certs.map((c) => c.role).sort()).toEqual(['cmg-server', 'issuing-root', 'token-signing']);
    const byRole = Object.fromEntries(certs.map((c) => [c.role, new X509Certificate(c.pem)]));
    expect(byRole['token-signing']!.subject).toContain('SMS Token Signing Certificate');
    expect(byRole['token-signing']!.checkIssued(byRole['issuing-root']!)).toBe(true);
    expect(byRole['cmg-server']!.checkIssued(byRole['issuing-root']!)).toBe(true);
    expect(byRole['cmg-server']!.checkHost('CONTOSO.CLOUDAPP.NET')).toBeTruthy();
    for (const c of certs) {
      expect(c.notBeforeMs).toBeLessThanOrEqual(Date.parse('2000-01-01T00:00:00Z'));
      expect(c.notAfterMs).toBeGreaterThanOrEqual(Date.parse('2099-12-31T00:00:00Z'));
    }
  });

  it('rotation retires the old token-signing certificate and keeps it', async () => {
    fixture = await makeSite();
    const before = fixture.site.certificates().find((c) => c.role === 'token-signing')!;
    const { retired, active } = await fixture.site.rotateTokenSigning();
    expect(retired.thumbprint).toBe(before.thumbprint);
    expect(active.thumbprint).not.toBe(before.thumbprint);
    const signing = fixture.site.certificates().filter((c) => c.role === 'token-signing');
    expect(signing.map((c) => [c.thumbprint, c.status]).sort()).toEqual(
      [
        [before.thumbprint, 'retired'],
        [active.thumbprint, 'active'],
      ].sort(),
    );
  });
});

describe('write transactions', () => {
  const openDb = (): Database.Database => {
    const { dir, cleanup } = tempDir('tx');
    cleanups.push(cleanup);
    const db = openStore({ path: join(dir, 'site.db'), nowMs: START_MS, create: true });
    cleanups.push(() => db.close());
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    return db;
  };
  const keys = (db: Database.Database): string[] => (db.prepare('SELECT k FROM t ORDER BY k').all() as Array<{ k: string }>).map((r) => r.k);

  it('commit what they did, and a throw rolls all of it back and reaches the caller as it was', () => {
    const db = openDb();
    expect(writeTransaction(db, () => db.prepare("INSERT INTO t VALUES ('a')").run().changes)).toBe(1);
    const refusal = new CcmsimError('CCMSIM_TOKEN_UNKNOWN', 'no such token');
    expect(() =>
      writeTransaction(db, () => {
        db.prepare("INSERT INTO t VALUES ('b')").run();
        throw refusal;
      }),
    ).toThrow(refusal);
    expect(keys(db)).toEqual(['a']);
    expect(db.inTransaction).toBe(false);
  });

  it('turn a SQLite failure into one CCMSIM_SITE_STATE line, leaving nothing behind', () => {
    const db = openDb();
    let caught: unknown;
    try {
      writeTransaction(db, () => {
        db.prepare("INSERT INTO t VALUES ('x')").run();
        db.prepare("INSERT INTO t VALUES ('x')").run(); // UNIQUE constraint
      });
    } catch (err) {
      caught = err;
    }
    expect(isCcmsimError(caught) && caught.code).toBe('CCMSIM_SITE_STATE');
    expect((caught as Error).message).toMatch(/^site database write failed: UNIQUE constraint failed: t\.k$/);
    expect(keys(db)).toEqual([]);
    expect(db.inTransaction).toBe(false);
  });

  it('nest: an inner one that throws undoes only its own part', () => {
    const db = openDb();
    writeTransaction(db, () => {
      db.prepare("INSERT INTO t VALUES ('outer')").run();
      expect(() =>
        writeTransaction(db, () => {
          db.prepare("INSERT INTO t VALUES ('inner')").run();
          throw new Error('inner failed');
        }),
      ).toThrow(/inner failed/);
    });
    expect(keys(db)).toEqual(['outer']);
  });
});
