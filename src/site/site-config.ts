/**
 * Owns the site's configuration row: site code, hierarchy (tenant) ID, site server mode, the token settings and the
 * CMG / MP names. A change made by another process (the CLI) is seen at once: the row is kept per connection only
 * until `PRAGMA data_version` says another connection committed, and this connection's own writes drop it.
 */
import { CcmsimError } from '../errors.js';
import { siteCode, type SiteCode } from '../ids.js';
import { bool, keptRead, statement, tableChanged, type SiteDb, writeTransaction } from './store.js';

export interface SiteConfig {
  siteCode: SiteCode;
  /** The hierarchy ID, used as the tokens' tenant: upper-case GUID (lower case in `iss`). */
  tenantId: string;
  serverMode: 'active' | 'passive';
  /** "The management point issues tokens to clients on the internal network" (on by default). */
  intranetTokens: boolean;
  /** Client setting "Enable clients to use a cloud management gateway" (on by default). */
  cmgEnabled: boolean;
  /** The CMG's host name, e.g. `CONTOSO.CLOUDAPP.NET`. */
  cmgHost: string;
  /** The CMG's id in `/CCM_Proxy_MutualAuth/<id>`. */
  cmgId: string;
  /** The management point's FQDN. */
  mpHost: string;
  /** Testing switch: the content manifest's hashes are broken (ccmsetup return code 10). */
  corruptManifest: boolean;
  createdMs: number;
  updatedMs: number;
}

/** What `ccmsim site init` may set. The defaults make Microsoft's documented example command line work unchanged. */
export interface SiteInitOptions {
  siteCode?: string;
  cmgHost?: string;
  cmgId?: string;
  mpHost?: string;
}

export const SITE_DEFAULTS = {
  siteCode: 'ABC',
  cmgHost: 'CONTOSO.CLOUDAPP.NET',
  cmgId: '72186325152220500',
  mpHost: 'MP01.CONTOSO.COM',
} as const;

/** The settings `ccmsim site config` changes. */
export interface SiteConfigPatch {
  serverMode?: 'active' | 'passive';
  intranetTokens?: boolean;
  cmgEnabled?: boolean;
  corruptManifest?: boolean;
}

interface ConfigRow {
  site_code: string;
  tenant_id: string;
  server_mode: 'active' | 'passive';
  intranet_tokens: number;
  cmg_enabled: number;
  cmg_host: string;
  cmg_id: string;
  mp_host: string;
  corrupt_manifest: number;
  created_ms: number;
  updated_ms: number;
}

export function normalizeInitOptions(options: SiteInitOptions): Required<SiteInitOptions> {
  const code = siteCode(options.siteCode ?? SITE_DEFAULTS.siteCode);
  const cmgHost = (options.cmgHost ?? SITE_DEFAULTS.cmgHost).trim();
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(cmgHost)) {
    throw new CcmsimError('CCMSIM_USAGE', `--cmg-host ${cmgHost}: not a host name (give it without https:// or a path)`);
  }
  const cmgId = (options.cmgId ?? SITE_DEFAULTS.cmgId).trim();
  if (!/^[0-9]{1,20}$/.test(cmgId)) throw new CcmsimError('CCMSIM_USAGE', `--cmg-id ${cmgId}: must be digits, like 72186325152220500`);
  const mpHost = (options.mpHost ?? SITE_DEFAULTS.mpHost).trim();
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(mpHost)) {
    throw new CcmsimError('CCMSIM_USAGE', `--mp-host ${mpHost}: not a host name`);
  }
  return { siteCode: code, cmgHost: cmgHost.toUpperCase(), cmgId, mpHost: mpHost.toUpperCase() };
}

export function hasConfig(db: SiteDb): boolean {
  return statement(db, 'SELECT 1 FROM site_config WHERE id = 1').get() !== undefined;
}

/** Inserts the configuration row of a new site (call inside the init transaction). */
export function insertConfig(db: SiteDb, init: Required<SiteInitOptions>, tenantId: string, nowMs: number): void {
  tableChanged(db, 'site_config');
  db.prepare(
    `INSERT INTO site_config (id, site_code, tenant_id, server_mode, intranet_tokens, cmg_enabled, cmg_host, cmg_id, mp_host,
       corrupt_manifest, created_ms, updated_ms)
     VALUES (1, ?, ?, 'active', 1, 1, ?, ?, ?, 0, ?, ?)`,
  ).run(init.siteCode, tenantId.toUpperCase(), init.cmgHost, init.cmgId, init.mpHost, nowMs, nowMs);
}

/** Reads the configuration (kept between changes: see `keptRead`). */
export function readConfig(db: SiteDb): SiteConfig {
  // A copy, as every read used to return a fresh object.
  return { ...keptRead(db, 'site_config', () => readConfigRow(db)) };
}

function readConfigRow(db: SiteDb): SiteConfig {
  const row = statement(db, 'SELECT * FROM site_config WHERE id = 1').get() as ConfigRow | undefined;
  if (!row) throw new CcmsimError('CCMSIM_SITE_STATE', 'the site database has no configuration (run: ccmsim site init)');
  return {
    siteCode: row.site_code as SiteCode,
    tenantId: row.tenant_id,
    serverMode: row.server_mode,
    intranetTokens: bool(row.intranet_tokens),
    cmgEnabled: bool(row.cmg_enabled),
    cmgHost: row.cmg_host,
    cmgId: row.cmg_id,
    mpHost: row.mp_host,
    corruptManifest: bool(row.corrupt_manifest),
    createdMs: row.created_ms,
    updatedMs: row.updated_ms,
  };
}

export function updateConfig(db: SiteDb, patch: SiteConfigPatch, nowMs: number): SiteConfig {
  tableChanged(db, 'site_config');
  return writeTransaction(db, () => {
    const sets: string[] = [];
    const values: unknown[] = [];
    if (patch.serverMode !== undefined) {
      if (patch.serverMode !== 'active' && patch.serverMode !== 'passive') {
        throw new CcmsimError('CCMSIM_USAGE', `site server mode must be active or passive, not ${String(patch.serverMode)}`);
      }
      sets.push('server_mode = ?');
      values.push(patch.serverMode);
    }
    if (patch.intranetTokens !== undefined) sets.push('intranet_tokens = ?'), values.push(patch.intranetTokens ? 1 : 0);
    if (patch.cmgEnabled !== undefined) sets.push('cmg_enabled = ?'), values.push(patch.cmgEnabled ? 1 : 0);
    if (patch.corruptManifest !== undefined) sets.push('corrupt_manifest = ?'), values.push(patch.corruptManifest ? 1 : 0);
    if (sets.length > 0) {
      sets.push('updated_ms = ?');
      values.push(nowMs);
      db.prepare(`UPDATE site_config SET ${sets.join(', ')} WHERE id = 1`).run(...values);
    }
    return readConfig(db);
  });
}

// The tokens' issuer and audience are protocol facts; re-exported for the site's callers.
export { tokenIssuer, TOKEN_AUDIENCE } from '../protocol/tokens.js';
