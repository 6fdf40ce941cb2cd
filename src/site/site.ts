/**
 * Owns opening a site: its directory, store, configuration and PKI. `openSite({ create: true })` makes a new site
 * with the documented defaults on first use, and only where no site was made before: a lost or emptied database next
 * to an earlier site's keys, or a database that lost its configuration, is refused rather than silently replaced.
 * Every service (bulk tokens, client tokens, registrations) takes the returned `Site`.
 */
import { existsSync } from 'node:fs';
import { CcmsimError } from '../errors.js';
import type { Clock } from '../clock/clock.js';
import type { Random } from '../clock/random.js';
import { freshKeys, type KeyProvider } from '../crypto/key-provider.js';
import { earlierSiteFiles, ensureSiteDirs, sitePaths, type SitePaths } from './site-dir.js';
import { DAMAGED_DB_ADVICE, openStore, statement, type SiteDb, writeTransaction } from './store.js';
import {
  hasConfig,
  insertConfig,
  normalizeInitOptions,
  readConfig,
  updateConfig,
  type SiteConfig,
  type SiteConfigPatch,
  type SiteInitOptions,
} from './site-config.js';
import { buildSitePki, damagedCertificate, listCertificates, readPrivateKey, rotateTokenSigning, storeCertificate, type SiteCertificate } from './site-pki.js';

export interface OpenSiteOptions {
  siteDir: string;
  clock: Clock;
  random: Random;
  /** Make the directory and a new site (with `init` or the defaults) when there is none. */
  create?: boolean;
  /** Settings for a new site; ignored when the site exists (compare with `site.config()` to detect a conflict). */
  init?: SiteInitOptions;
  /** Where new RSA key pairs come from (default: fresh keys). Tests pass fixed keys and never generate any. */
  keys?: KeyProvider;
}

export interface Site {
  readonly siteDir: string;
  readonly paths: SitePaths;
  readonly clock: Clock;
  readonly random: Random;
  readonly keys: KeyProvider;
  readonly db: SiteDb;
  /** True when this call made the site. */
  readonly created: boolean;
  /** The configuration, read from the database every time (another process may have changed it). */
  config(): SiteConfig;
  updateConfig(patch: SiteConfigPatch): SiteConfig;
  certificates(): SiteCertificate[];
  rotateTokenSigning(): Promise<{ retired: SiteCertificate; active: SiteCertificate }>;
  close(): void;
}

export async function openSite(options: OpenSiteOptions): Promise<Site> {
  const paths = sitePaths(options.siteDir);
  // Only a site's init writes keys, and only after the database exists: keys with no database mean it was lost.
  const earlier = earlierSiteFiles(paths);
  if (earlier.length > 0 && !existsSync(paths.db)) {
    throw new CcmsimError('CCMSIM_SITE_STATE', `the site database ${paths.db} is missing, but ${paths.pki} holds an earlier site's keys (${DAMAGED_DB_ADVICE})`);
  }
  if (!options.create && !existsSync(paths.db)) {
    throw new CcmsimError('CCMSIM_SITE_STATE', `no site in ${paths.root} (run: ccmsim site init)`);
  }
  // Bad init options are refused before anything is made: a failed `site init` must not leave a site behind.
  const init = options.create ? normalizeInitOptions(options.init ?? {}) : undefined;
  if (options.create) ensureSiteDirs(paths);
  const keys = options.keys ?? freshKeys();
  const db = openStore({
    path: paths.db,
    nowMs: options.clock.now(),
    create: options.create === true,
    // Keys on disk mean another process's migrations committed before them, so an empty database here is a lost one.
    ...(earlier.length > 0
      ? { refuseEmpty: () => new CcmsimError('CCMSIM_SITE_STATE', `the site database ${paths.db} is empty, but ${paths.pki} holds an earlier site's keys (${DAMAGED_DB_ADVICE})`) }
      : {}),
  });
  let created = false;
  try {
    if (!hasConfig(db)) {
      // Certificates commit with the configuration row; seen without it, the row was lost.
      refuseLostSite(db, paths, 'holds');
      if (!options.create || init === undefined) throw new CcmsimError('CCMSIM_SITE_STATE', `the site in ${paths.root} was never initialized (run: ccmsim site init)`);
      // Keys are made outside the transaction (it is synchronous); a process that loses the race discards its own.
      const tenantId = options.random.uuid().toUpperCase();
      const pki = await buildSitePki({ keys, random: options.random, cmgHost: init.cmgHost });
      created = writeTransaction(db, () => {
        if (hasConfig(db)) return false;
        // Under the write lock no other init is writing keys, so keys in pki/ now are an earlier site's.
        refuseLostSite(db, paths, 'keys');
        const nowMs = options.clock.now();
        insertConfig(db, init, tenantId, nowMs);
        for (const cert of pki) storeCertificate(db, paths, cert, nowMs);
        return true;
      });
    }
    const damaged = damagedCertificate(db);
    if (damaged !== undefined) throw new CcmsimError('CCMSIM_SITE_STATE', `the site database ${paths.db} is damaged: ${damaged} (${DAMAGED_DB_ADVICE})`);
    // An active certificate's key is read now (and kept), so a lost or damaged key file is one refusal at open rather
    // than a server error in the middle of an install, which a client would take for a busy server and retry for a day.
    for (const cert of listCertificates(db)) if (cert.status === 'active') readPrivateKey(paths, cert);
  } catch (err) {
    db.close();
    throw err;
  }
  const site: Site = {
    siteDir: paths.root,
    paths,
    clock: options.clock,
    random: options.random,
    keys,
    db,
    created,
    config: () => readConfig(db),
    updateConfig: (patch) => updateConfig(db, patch, options.clock.now()),
    certificates: () => listCertificates(db),
    rotateTokenSigning: () => rotateTokenSigning({ db, paths, keys, random: options.random, nowMs: options.clock.now() }),
    close: () => {
      if (db.open) db.close();
    },
  };
  return site;
}

/**
 * Refuses a database without its configuration row that still shows a site was made: rows in the site's tables, or
 * (`keys`, only under the write lock) private keys in `pki/`. Making a new site there would orphan every earlier token
 * and client (and, before this check, failed on the certificates' unique index after writing new key files).
 */
function refuseLostSite(db: SiteDb, paths: SitePaths, check: 'holds' | 'keys'): void {
  const held = (['certificates', 'clients', 'bulk_tokens', 'client_tokens'] as const).filter(
    (table) => statement(db, `SELECT 1 FROM ${table} LIMIT 1`).get() !== undefined,
  );
  // Outside the lock another process's init may have committed between the two reads: its row is there now.
  if (held.length > 0 && !hasConfig(db)) {
    throw new CcmsimError('CCMSIM_SITE_STATE', `the site database ${paths.db} has lost its configuration row but holds ${held.join(', ')} (${DAMAGED_DB_ADVICE})`);
  }
  if (check === 'keys' && earlierSiteFiles(paths).length > 0) {
    throw new CcmsimError('CCMSIM_SITE_STATE', `the site database ${paths.db} holds no site, but ${paths.pki} holds an earlier site's keys (${DAMAGED_DB_ADVICE})`);
  }
}

/** Whether `options.init` asks for something other than what the existing site has. */
export function initConflicts(config: SiteConfig, init: SiteInitOptions): string[] {
  const wanted = normalizeInitOptions({
    siteCode: init.siteCode ?? config.siteCode,
    cmgHost: init.cmgHost ?? config.cmgHost,
    cmgId: init.cmgId ?? config.cmgId,
    mpHost: init.mpHost ?? config.mpHost,
  });
  const problems: string[] = [];
  if (wanted.siteCode !== config.siteCode) problems.push(`site code ${config.siteCode}`);
  if (wanted.cmgHost !== config.cmgHost) problems.push(`CMG host ${config.cmgHost}`);
  if (wanted.cmgId !== config.cmgId) problems.push(`CMG id ${config.cmgId}`);
  if (wanted.mpHost !== config.mpHost) problems.push(`MP host ${config.mpHost}`);
  return problems;
}
