// A site directory whose database was lost, emptied or damaged is refused with one CCMSIM_SITE_STATE line and left
// exactly as found; it never silently becomes a new site (new keys, new hierarchy ID, every token and client orphaned).
import { describe, it, expect } from 'vitest';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { openSite, type OpenSiteOptions } from '../../src/site/site.js';
import { ensureSiteDirs, resolveSiteDir, sitePaths } from '../../src/site/site-dir.js';
import { VirtualClock } from '../../src/clock/clock.js';
import { Random } from '../../src/clock/random.js';
import { createBulkToken } from '../../src/site/bulk-tokens.js';
import { cleanupsAfterEach, makeSite, START_MS, tempDir, testKeys, type SiteFixture } from './site-fixture.js';

const cleanups = cleanupsAfterEach();

/** Every file under `dir` with a hash of its bytes (and its mode), to show a refusal changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out[relative(dir, p)] = `${st.mode.toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
}

/** A site made and closed, with a bulk token (so there is something to lose), then `damage` done to it. */
async function closedSite(damage: (dir: string) => void): Promise<string> {
  const fixture: SiteFixture = await makeSite();
  cleanups.push(fixture.cleanup);
  await createBulkToken(fixture.site, {});
  fixture.site.close();
  damage(fixture.dir);
  return fixture.dir;
}

const reopen = (dir: string, extra: Partial<OpenSiteOptions> = {}) =>
  openSite({ siteDir: dir, clock: new VirtualClock(START_MS), random: new Random('again'), create: true, keys: testKeys(7), ...extra });

async function refusal(dir: string, extra: Partial<OpenSiteOptions> = {}): Promise<Error & { code?: string }> {
  try {
    const site = await reopen(dir, extra);
    site.close();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('the site was opened');
}

function sql(dir: string, text: string): void {
  const db = new Database(sitePaths(dir).db);
  db.exec(text);
  db.close();
}

describe('a lost site is refused, not replaced', () => {
  it('a zero-byte site.db next to the earlier keys: CCMSIM_SITE_STATE naming both, and nothing in the directory changes', async () => {
    const dir = await closedSite((d) => writeFileSync(sitePaths(d).db, ''));
    const before = snapshot(dir);
    for (const create of [true, false]) {
      const err = await refusal(dir, { create });
      expect(err.code).toBe('CCMSIM_SITE_STATE');
      expect(err.message).toMatch(/site\.db is empty, but .*pki holds an earlier site's keys \(restore site\.db from a backup, or remove the site directory/);
      expect(err.message).not.toContain('\n');
    }
    expect(snapshot(dir)).toEqual(before);
  });

  it('a deleted site.db next to the earlier keys: refused, no new database made', async () => {
    const dir = await closedSite((d) => rmSync(sitePaths(d).db));
    const before = snapshot(dir);
    const err = await refusal(dir);
    expect(err.code).toBe('CCMSIM_SITE_STATE');
    expect(err.message).toMatch(/site\.db is missing, but .*pki holds an earlier site's keys/);
    expect(existsSync(sitePaths(dir).db)).toBe(false);
    expect(snapshot(dir)).toEqual(before);
  });

  it('only the root certificate left in pki/ still counts as an earlier site', async () => {
    const dir = await closedSite((d) => {
      const p = sitePaths(d);
      for (const f of readdirSync(p.pki)) if (f.endsWith('.key')) rmSync(join(p.pki, f));
      rmSync(p.db);
    });
    expect((await refusal(dir)).code).toBe('CCMSIM_SITE_STATE');
  });

  it('a database that lost its configuration row: refused before any key is made or written', async () => {
    const dir = await closedSite((d) => sql(d, 'DELETE FROM site_config'));
    const before = snapshot(dir);
    let asked = 0;
    const err = await refusal(dir, { keys: { kind: 'fixed', next: () => (asked++, testKeys(7).next()) } });
    expect(err.code).toBe('CCMSIM_SITE_STATE');
    expect(err.message).toMatch(/has lost its configuration row but holds certificates, bulk_tokens \(restore site\.db/);
    expect(asked).toBe(0);
    expect(snapshot(dir)).toEqual(before);
  });

  it('a database emptied of everything while the earlier keys stay: refused under the write lock, no key written', async () => {
    const dir = await closedSite((d) => sql(d, 'DELETE FROM bulk_tokens; DELETE FROM certificates; DELETE FROM site_config'));
    const keysBefore = readdirSync(sitePaths(dir).pki).sort();
    const err = await refusal(dir);
    expect(err.code).toBe('CCMSIM_SITE_STATE');
    expect(err.message).toMatch(/holds no site, but .*pki holds an earlier site's keys/);
    expect(readdirSync(sitePaths(dir).pki).sort()).toEqual(keysBefore);
  });

  it('a fresh directory, or an empty site.db with no keys beside it, still becomes a site', async () => {
    const { dir, cleanup } = tempDir('fresh');
    cleanups.push(cleanup);
    const empty = join(dir, 'empty');
    ensureSiteDirs(sitePaths(empty));
    writeFileSync(sitePaths(empty).db, '');
    const site = await reopen(empty);
    expect(site.created).toBe(true);
    site.close();
    const fresh = await reopen(join(dir, 'fresh'));
    expect(fresh.created).toBe(true);
    fresh.close();
  });

  it('several openers of a fresh directory at once still make one site, none refused', async () => {
    const { dir, cleanup } = tempDir('race');
    cleanups.push(cleanup);
    const clock = new VirtualClock(START_MS);
    const sites = await Promise.all(
      Array.from({ length: 6 }, (_, i) => openSite({ siteDir: dir, clock, random: new Random(`r${i}`), create: true, keys: testKeys(i * 3) })),
    );
    expect(sites.filter((s) => s.created)).toHaveLength(1);
    expect(new Set(sites.map((s) => s.config().tenantId)).size).toBe(1);
    expect(readdirSync(sitePaths(dir).pki).filter((f) => f.endsWith('.key'))).toHaveLength(3);
    for (const s of sites) s.close();
  });
});

describe('a damaged database is refused when opened', () => {
  it.each([
    ['DROP TABLE bulk_tokens', /is damaged: table bulk_tokens is missing/],
    ['DROP INDEX client_tokens_by_client', /is damaged: index client_tokens_by_client is missing/],
    ['ALTER TABLE clients DROP COLUMN hardware_id', /is damaged: table clients lacks column hardware_id/],
  ])('%s', async (damage, message) => {
    const dir = await closedSite((d) => sql(d, damage));
    const err = await refusal(dir, { create: false });
    expect(err.code).toBe('CCMSIM_SITE_STATE');
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/\(restore site\.db from a backup, or remove the site directory to start a new site\)$/);
  });

  it('a certificate whose PEM does not parse, naming it', async () => {
    let thumbprint = '';
    const dir = await closedSite((d) => {
      const db = new Database(sitePaths(d).db);
      thumbprint = (db.prepare(`SELECT thumbprint FROM certificates WHERE role = 'token-signing'`).pluck().get() as string);
      db.prepare(`UPDATE certificates SET pem = 'garbage' WHERE thumbprint = ?`).run(thumbprint);
      db.close();
    });
    const err = await refusal(dir, { create: false });
    expect(err.code).toBe('CCMSIM_SITE_STATE');
    expect(err.message).toContain(`the active token-signing certificate ${thumbprint} is not a readable PEM certificate`);
  });

  it.each([
    ['garbage in', (file: string) => writeFileSync(file, 'garbage')],
    ['a deleted', (file: string) => rmSync(file)],
  ])('%s key file of an active certificate: refused at open naming the file (a client took the 500 it caused for a busy site)', async (_, damage) => {
    let keyFile = '';
    const dir = await closedSite((d) => {
      const db = new Database(sitePaths(d).db);
      keyFile = join(sitePaths(d).pki, db.prepare(`SELECT key_file FROM certificates WHERE role = 'token-signing'`).pluck().get() as string);
      db.close();
      damage(keyFile);
    });
    const err = await refusal(dir, { create: false });
    expect(err.code).toBe('CCMSIM_SITE_STATE');
    expect(err.message).toBe(`cannot read the private key of the token-signing certificate (${keyFile})`);
  });

  it('a certificate row holding another certificate than its thumbprint names', async () => {
    const dir = await closedSite((d) =>
      sql(d, `UPDATE certificates SET pem = (SELECT pem FROM certificates WHERE role = 'issuing-root') WHERE role = 'cmg-server'`),
    );
    const err = await refusal(dir, { create: false });
    expect(err.code).toBe('CCMSIM_SITE_STATE');
    expect(err.message).toMatch(/the active cmg-server certificate [0-9A-F]{40} holds another certificate \([0-9A-F]{40}\)/);
  });
});

describe('a site directory that cannot be made', () => {
  it('a regular file where the directory should be: one CCMSIM_SITE_STATE line, the file untouched', async () => {
    const { dir, cleanup } = tempDir('file');
    cleanups.push(cleanup);
    const file = join(dir, 'site');
    writeFileSync(file, 'mine');
    const err = await refusal(file);
    expect(err.code).toBe('CCMSIM_SITE_STATE');
    expect(err.message).toBe(`cannot create the site directory ${file}: it is a file, not a directory`);
    expect(readFileSync(file, 'utf8')).toBe('mine');
  });

  it('a file where pki/ should be names that file', async () => {
    const { dir, cleanup } = tempDir('file');
    cleanups.push(cleanup);
    writeFileSync(join(dir, 'pki'), '');
    const err = await refusal(dir);
    expect(err.message).toBe(`cannot create the site directory ${dir}: a file is in the way: ${join(dir, 'pki')} is not a directory`);
  });

  it('an empty --site-dir is a usage error, not the default site', () => {
    expect(() => resolveSiteDir({ siteDir: '', env: {}, cwd: '/w' })).toThrow(/^--site-dir is empty: give a directory/);
    expect(() => resolveSiteDir({ siteDir: '  ', env: { CCMSIM_SITE_DIR: '/env' }, cwd: '/w' })).toThrow(expect.objectContaining({ code: 'CCMSIM_USAGE' }));
  });
});
