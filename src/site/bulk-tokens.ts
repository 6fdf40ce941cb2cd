/**
 * Owns bulk registration tokens (BulkRegistrationTokenTool.exe's job): making one, checking one presented by a
 * client, blocking and unblocking. Only the tracking GUID, times, lifetime and blocked state are stored: never the
 * token text or its signature ("The site database doesn't, however, store bulk registration tokens.").
 */
import { CcmsimError } from '../errors.js';
import { isGuid, tokenGuid, type TokenGuid } from '../ids.js';
import type { BulkTokenClaims } from '../protocol/tokens.js';
import type { Site } from './site.js';
import { tokenIssuer, TOKEN_AUDIENCE } from './site-config.js';
import { checkTimes, claimMismatch, signSiteJwt, tokenError, verifySiteJwt } from './site-jwt.js';
import { bool, statement, unusedId, writeTransaction } from './store.js';

export const BULK_LIFETIME_DEFAULT_MINUTES = 4320;
export const BULK_LIFETIME_MIN_MINUTES = 1;
export const BULK_LIFETIME_MAX_MINUTES = 10080;

/** The documented known issue (2020 revision of the token-based authentication article). */
export const PASSIVE_MODE_KNOWN_ISSUE = "You can't create a bulk registration token on a site that has a site server in passive mode.";

export interface NewBulkToken {
  guid: TokenGuid;
  /** The JWT: print it once, keep it nowhere. */
  token: string;
  createdMs: number;
  validUntilMs: number;
  lifetimeMinutes: number;
}

export interface BulkTokenRecord {
  guid: TokenGuid;
  createdMs: number;
  lifetimeMinutes: number;
  validUntilMs: number;
  blocked: boolean;
  blockChangedMs: number | undefined;
}

export type BulkTokenStatus = 'Active' | 'Blocked' | 'Expired';

export interface ValidBulkToken {
  guid: TokenGuid;
  tenantId: string;
  notBeforeMs: number;
  expiresMs: number;
}

interface BulkRow {
  guid: string;
  created_ms: number;
  lifetime_minutes: number;
  valid_until_ms: number;
  blocked: number;
  block_changed_ms: number | null;
}

function fromRow(row: BulkRow): BulkTokenRecord {
  return {
    guid: row.guid as TokenGuid,
    createdMs: row.created_ms,
    lifetimeMinutes: row.lifetime_minutes,
    validUntilMs: row.valid_until_ms,
    blocked: bool(row.blocked),
    blockChangedMs: row.block_changed_ms ?? undefined,
  };
}

export function checkBulkLifetime(minutes: number): void {
  if (!Number.isInteger(minutes) || minutes < BULK_LIFETIME_MIN_MINUTES || minutes > BULK_LIFETIME_MAX_MINUTES) {
    throw new CcmsimError(
      'CCMSIM_USAGE',
      `/lifetime ${String(minutes)}: must be an integer number of minutes from ${BULK_LIFETIME_MIN_MINUTES} to ${BULK_LIFETIME_MAX_MINUTES}`,
    );
  }
}

/** Makes and signs a bulk registration token; records only its GUID, times and lifetime. */
export async function createBulkToken(site: Site, options: { lifetimeMinutes?: number } = {}): Promise<NewBulkToken> {
  const lifetimeMinutes = options.lifetimeMinutes ?? BULK_LIFETIME_DEFAULT_MINUTES;
  checkBulkLifetime(lifetimeMinutes);
  const config = site.config();
  if (config.serverMode === 'passive') {
    throw new CcmsimError('CCMSIM_SITE_PASSIVE', `the site server is in passive mode. ${PASSIVE_MODE_KNOWN_ISSUE}`);
  }
  const guid = unusedId(site.db, 'bulk_tokens', 'guid', () => tokenGuid(site.random.uuid()));
  const nbf = Math.floor(site.clock.now() / 1000);
  const exp = nbf + lifetimeMinutes * 60;
  const claims: BulkTokenClaims = {
    SCCMTokenCategory: 'SCCMPreAuthToken',
    Authority: 'SCCM',
    License: 'SCCM',
    Type: 'BulkRegistration',
    TenantId: config.tenantId.toUpperCase(),
    UniqueId: guid,
    iss: tokenIssuer(config.tenantId),
    aud: TOKEN_AUDIENCE,
    exp,
    nbf,
  };
  const { token } = await signSiteJwt(site, claims);
  writeTransaction(site.db, () => {
    statement(site.db, 'INSERT INTO bulk_tokens (guid, created_ms, lifetime_minutes, valid_until_ms, blocked) VALUES (?, ?, ?, ?, 0)').run(
      guid,
      nbf * 1000,
      lifetimeMinutes,
      exp * 1000,
    );
  });
  return { guid, token, createdMs: nbf * 1000, validUntilMs: exp * 1000, lifetimeMinutes };
}

/**
 * Checks a bulk token presented by a client. Each failure is a CcmsimError with its own code and httpStatus 401:
 * MALFORMED, ALGORITHM, UNKNOWN_KEY, SIGNATURE, CLAIMS, NOT_YET_VALID, EXPIRED, UNKNOWN (never issued), BLOCKED.
 */
export async function validateBulkToken(site: Site, token: string, nowMs: number = site.clock.now()): Promise<ValidBulkToken> {
  const what = 'the bulk registration token';
  const { payload, signer } = await verifySiteJwt(site, token, what);
  if (signer.status === 'retired') {
    throw tokenError('CCMSIM_TOKEN_UNKNOWN_KEY', `${what} is signed by a retired SMS Token Signing certificate (${signer.thumbprint}); create a new bulk token`, {
      retired: true,
    });
  }
  const config = site.config();
  const tenant = config.tenantId.toUpperCase();
  if (payload['aud'] !== TOKEN_AUDIENCE) throw claimMismatch(what, 'aud', payload['aud'], TOKEN_AUDIENCE);
  if (payload['iss'] !== tokenIssuer(tenant)) throw claimMismatch(what, 'iss', payload['iss'], tokenIssuer(tenant));
  if (payload['Type'] !== 'BulkRegistration') throw claimMismatch(what, 'Type', payload['Type'], 'BulkRegistration');
  if (payload['SCCMTokenCategory'] !== 'SCCMPreAuthToken') throw claimMismatch(what, 'SCCMTokenCategory', payload['SCCMTokenCategory'], 'SCCMPreAuthToken');
  if (payload['Authority'] !== 'SCCM') throw claimMismatch(what, 'Authority', payload['Authority'], 'SCCM');
  if (payload['TenantId'] !== tenant) throw claimMismatch(what, 'TenantId', payload['TenantId'], tenant);
  const uniqueId = payload['UniqueId'];
  if (typeof uniqueId !== 'string' || !isGuid(uniqueId)) throw claimMismatch(what, 'UniqueId', uniqueId, 'a GUID');
  const { nbfMs, expMs } = checkTimes(payload, nowMs, what);
  const guid = tokenGuid(uniqueId);
  const record = getBulkToken(site, guid);
  if (!record) throw tokenError('CCMSIM_TOKEN_UNKNOWN', `this site never issued a bulk registration token with GUID ${guid}`, { guid });
  if (record.blocked) throw tokenError('CCMSIM_TOKEN_BLOCKED', `the bulk registration token ${guid} is blocked`, { guid });
  return { guid, tenantId: tenant, notBeforeMs: nbfMs, expiresMs: expMs };
}

export function getBulkToken(site: Site, guid: string): BulkTokenRecord | undefined {
  const row = statement(site.db, 'SELECT * FROM bulk_tokens WHERE guid = ?').get(guid.toLowerCase()) as BulkRow | undefined;
  return row ? fromRow(row) : undefined;
}

/** Every bulk token the site issued, newest first. */
export function listBulkTokens(site: Site): BulkTokenRecord[] {
  return (statement(site.db, 'SELECT * FROM bulk_tokens ORDER BY created_ms DESC, rowid DESC').all() as BulkRow[]).map(fromRow);
}

export function bulkTokenStatus(record: BulkTokenRecord, nowMs: number): BulkTokenStatus {
  if (record.blocked) return 'Blocked';
  if (nowMs > record.validUntilMs) return 'Expired';
  return 'Active';
}

function setBlocked(site: Site, guidText: string, blocked: boolean): BulkTokenRecord {
  const guid = tokenGuid(guidText);
  return writeTransaction(site.db, () => {
    const before = getBulkToken(site, guid);
    if (!before) throw new CcmsimError('CCMSIM_TOKEN_UNKNOWN', `this site never issued a bulk registration token with GUID ${guid}`, { httpStatus: 404 });
    if (before.blocked !== blocked) {
      statement(site.db, 'UPDATE bulk_tokens SET blocked = ?, block_changed_ms = ? WHERE guid = ?').run(blocked ? 1 : 0, site.clock.now(), guid);
    }
    return getBulkToken(site, guid)!;
  });
}

/** Blocks a bulk token (the console's Block action): clients presenting it are refused from now on. */
export function blockBulkToken(site: Site, guid: string): BulkTokenRecord {
  return setBlocked(site, guid, true);
}

export function unblockBulkToken(site: Site, guid: string): BulkTokenRecord {
  return setBlocked(site, guid, false);
}
