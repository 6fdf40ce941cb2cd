/**
 * Owns the site-issued client token (docs/protocol.md, "Ours" 3): issuing one to a registered client, checking one
 * presented with a request, and renewal (a new token revokes the previous). Rules (cli.md §6, issue 5): through the
 * CMG a token is issued only against a valid bulk token or renewed against a still-valid client token; an expired
 * token is replaced only by the internal MP, for a signature-authenticated client, when the site lets the MP issue
 * tokens to intranet clients.
 */
import { CcmsimError } from '../errors.js';
import { clientTokenId, isGuid, smsGuid, type ClientTokenId, type SmsGuid, type Thumbprint } from '../ids.js';
import type { ClientTokenClaims } from '../protocol/tokens.js';
import type { Site } from './site.js';
import { tokenIssuer, TOKEN_AUDIENCE } from './site-config.js';
import { checkTimes, claimMismatch, CLOCK_SKEW_MS, signSiteJwt, tokenError, verifySiteJwt } from './site-jwt.js';
import { getBulkToken } from './bulk-tokens.js';
import { clientRecord, type ClientRecord } from './registrations.js';
import { statement, unusedId, writeTransaction } from './store.js';
import type { SiteCertificate } from './site-pki.js';

export const CLIENT_TOKEN_LIFETIME_MS = 90 * 24 * 60 * 60 * 1000;

export interface IssueClientTokenOptions {
  /** Where the request came in: the internal MP or through the CMG. */
  via: 'mp' | 'cmg';
  /** The first token through the CMG: the tracking GUID of the bulk token the caller validated. */
  bulkTokenGuid?: string;
  /** A renewal: the ID of the client token the caller authenticated (authenticateClientToken with allowRetiredSigner). */
  presentedTokenId?: string;
  /** The client's record as this request already read it (its signed headers named it), instead of reading it again. */
  registered?: ClientRecord;
}

export interface IssuedClientToken {
  token: string;
  tokenId: ClientTokenId;
  smsId: SmsGuid;
  certThumbprint: Thumbprint;
  issuedMs: number;
  expiresMs: number;
  via: 'mp' | 'cmg';
  /** The token this one replaces (now revoked), if any. */
  replacedTokenIds: ClientTokenId[];
  signedBy: Thumbprint;
}

export interface ClientTokenRecord {
  tokenId: ClientTokenId;
  smsId: SmsGuid;
  issuedMs: number;
  expiresMs: number;
  revokedMs: number | undefined;
  signedBy: Thumbprint;
  certThumbprint: Thumbprint;
  via: 'mp' | 'cmg';
}

export interface AuthenticatedClient {
  smsId: SmsGuid;
  tokenId: ClientTokenId;
  certThumbprint: Thumbprint;
  issuedMs: number;
  expiresMs: number;
  signer: SiteCertificate;
}

interface TokenRow {
  token_id: string;
  sms_id: string;
  issued_ms: number;
  expires_ms: number;
  revoked_ms: number | null;
  signed_by: string;
  via: 'mp' | 'cmg';
  cert_thumbprint: string;
}

function fromRow(row: TokenRow): ClientTokenRecord {
  return {
    tokenId: row.token_id as ClientTokenId,
    smsId: row.sms_id as SmsGuid,
    issuedMs: row.issued_ms,
    expiresMs: row.expires_ms,
    revokedMs: row.revoked_ms ?? undefined,
    signedBy: row.signed_by as Thumbprint,
    certThumbprint: row.cert_thumbprint as Thumbprint,
    via: row.via,
  };
}

function refused(message: string, httpStatus: number): CcmsimError {
  return new CcmsimError('CCMSIM_REGISTRATION_REFUSED', message, { httpStatus });
}

export function getClientToken(site: Site, tokenId: string): ClientTokenRecord | undefined {
  const row = statement(site.db, 'SELECT * FROM client_tokens WHERE token_id = ?').get(tokenId.toLowerCase()) as TokenRow | undefined;
  return row ? fromRow(row) : undefined;
}

/** A client's tokens, oldest first (or every client's, when `smsId` is not given). */
export function listClientTokens(site: Site, smsId?: string): ClientTokenRecord[] {
  const rows = smsId
    ? (statement(site.db, 'SELECT * FROM client_tokens WHERE sms_id = ? ORDER BY issued_ms, rowid').all(smsGuid(smsId)) as TokenRow[])
    : (statement(site.db, 'SELECT * FROM client_tokens ORDER BY issued_ms, rowid').all() as TokenRow[]);
  return rows.map(fromRow);
}

/** Issues (or renews) a registered client's token, applying the site's rules for the path it came in on. */
export async function issueClientToken(site: Site, smsIdText: string, options: IssueClientTokenOptions): Promise<IssuedClientToken> {
  const smsId = smsGuid(smsIdText);
  const nowMs = site.clock.now();
  const config = site.config();
  const client = clientRecord(site, smsId, options.registered);
  if (!client) throw refused(`${smsId} is not a registered client; register first`, 403);
  if (options.via === 'cmg' && !config.cmgEnabled) {
    throw new CcmsimError('CCMSIM_CMG_NOT_ALLOWED', 'client settings do not enable clients to use a cloud management gateway', { httpStatus: 403 });
  }
  if (options.presentedTokenId !== undefined) {
    const presented = getClientToken(site, options.presentedTokenId);
    if (!presented || presented.smsId !== smsId) throw tokenError('CCMSIM_TOKEN_UNKNOWN', `the site never issued client token ${options.presentedTokenId} to ${smsId}`);
    if (presented.revokedMs !== undefined) throw tokenError('CCMSIM_TOKEN_REVOKED', `client token ${presented.tokenId} was revoked or superseded`);
    const expired = nowMs > presented.expiresMs + CLOCK_SKEW_MS;
    if (expired && options.via === 'cmg') {
      throw tokenError('CCMSIM_TOKEN_EXPIRED', `client token ${presented.tokenId} expired at ${new Date(presented.expiresMs).toISOString()}; connect to a management point on the internal network for a new one`);
    }
    if (expired && !config.intranetTokens) {
      throw refused('the site does not let the management point issue tokens to clients on the internal network', 403);
    }
  } else if (options.bulkTokenGuid !== undefined) {
    const bulk = getBulkToken(site, options.bulkTokenGuid);
    if (!bulk) throw tokenError('CCMSIM_TOKEN_UNKNOWN', `this site never issued a bulk registration token with GUID ${options.bulkTokenGuid}`);
    if (bulk.blocked) throw tokenError('CCMSIM_TOKEN_BLOCKED', `the bulk registration token ${bulk.guid} is blocked`);
    if (nowMs > bulk.validUntilMs + CLOCK_SKEW_MS) throw tokenError('CCMSIM_TOKEN_EXPIRED', `the bulk registration token ${bulk.guid} has expired`);
  } else {
    if (options.via === 'cmg') {
      throw tokenError('CCMSIM_TOKEN_UNKNOWN', 'through the cloud management gateway a token is issued only against a valid bulk registration token or client token');
    }
    if (!config.intranetTokens) throw refused('the site does not let the management point issue tokens to clients on the internal network', 403);
  }

  const tokenId = unusedId(site.db, 'client_tokens', 'token_id', () => clientTokenId(site.random.uuid()));
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + CLIENT_TOKEN_LIFETIME_MS / 1000;
  const tenant = config.tenantId.toUpperCase();
  const claims: ClientTokenClaims = {
    SCCMTokenCategory: 'SCCMClientAuthToken',
    Authority: 'SCCM',
    Type: 'ClientAuthentication',
    TenantId: tenant,
    DeviceId: smsId,
    CertThumbprint: client.signingThumbprint,
    jti: tokenId,
    iss: tokenIssuer(tenant),
    aud: TOKEN_AUDIENCE,
    iat,
    nbf: iat,
    exp,
  };
  const { token, signer } = await signSiteJwt(site, claims);
  const replaced = writeTransaction(site.db, () => {
    const previous = statement(site.db, 'SELECT token_id FROM client_tokens WHERE sms_id = ? AND revoked_ms IS NULL').all(smsId) as Array<{
      token_id: string;
    }>;
    statement(site.db, 'UPDATE client_tokens SET revoked_ms = ? WHERE sms_id = ? AND revoked_ms IS NULL').run(nowMs, smsId);
    statement(
      site.db,
      `INSERT INTO client_tokens (token_id, sms_id, issued_ms, expires_ms, signed_by, via, cert_thumbprint)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(tokenId, smsId, iat * 1000, exp * 1000, signer.thumbprint, options.via, client.signingThumbprint);
    return previous.map((p) => p.token_id as ClientTokenId);
  });
  return {
    token,
    tokenId,
    smsId,
    certThumbprint: client.signingThumbprint,
    issuedMs: iat * 1000,
    expiresMs: exp * 1000,
    via: options.via,
    replacedTokenIds: replaced,
    signedBy: signer.thumbprint,
  };
}

export interface AuthenticateOptions {
  /**
   * Accept a token signed by a retired SMS Token Signing certificate. Only the token service's Renew path sets it, so a
   * client whose token predates a rotation gets a new one at its next start (docs/site.md); every other endpoint refuses.
   */
  allowRetiredSigner?: boolean;
  /** Accept an expired token (the internal MP's Renew path; the client is then authenticated by its signature). */
  allowExpired?: boolean;
  /** The client's record as this request already read it (its signed headers named it), instead of reading it again. */
  registered?: ClientRecord;
}

/**
 * Checks a client token presented with a request whose `ClientTokenSignature` verified against the certificate with
 * `signingThumbprint`. Failures: MALFORMED, ALGORITHM, UNKNOWN_KEY, SIGNATURE, SIGNER_RETIRED, CLAIMS, NOT_YET_VALID,
 * EXPIRED, CERT_MISMATCH (403), UNKNOWN, REVOKED (each with httpStatus 401 unless noted).
 */
export async function authenticateClientToken(
  site: Site,
  token: string,
  signingThumbprint: string,
  nowMs: number = site.clock.now(),
  options: AuthenticateOptions = {},
): Promise<AuthenticatedClient> {
  const what = 'the client token';
  const { payload, signer } = await verifySiteJwt(site, token, what);
  if (signer.status === 'retired' && !options.allowRetiredSigner) {
    throw tokenError(
      'CCMSIM_TOKEN_SIGNER_RETIRED',
      `${what} is signed by a retired SMS Token Signing certificate (${signer.thumbprint}); the client needs a new token`,
      { signer: signer.thumbprint },
    );
  }
  const tenant = site.config().tenantId.toUpperCase();
  if (payload['aud'] !== TOKEN_AUDIENCE) throw claimMismatch(what, 'aud', payload['aud'], TOKEN_AUDIENCE);
  if (payload['iss'] !== tokenIssuer(tenant)) throw claimMismatch(what, 'iss', payload['iss'], tokenIssuer(tenant));
  if (payload['Type'] !== 'ClientAuthentication') throw claimMismatch(what, 'Type', payload['Type'], 'ClientAuthentication');
  if (payload['SCCMTokenCategory'] !== 'SCCMClientAuthToken') throw claimMismatch(what, 'SCCMTokenCategory', payload['SCCMTokenCategory'], 'SCCMClientAuthToken');
  if (payload['TenantId'] !== tenant) throw claimMismatch(what, 'TenantId', payload['TenantId'], tenant);
  const jti = payload['jti'];
  if (typeof jti !== 'string' || !isGuid(jti)) throw claimMismatch(what, 'jti', jti, 'a GUID');
  const deviceId = payload['DeviceId'];
  if (typeof deviceId !== 'string' || !/^GUID:[0-9A-F-]{36}$/.test(deviceId)) throw claimMismatch(what, 'DeviceId', deviceId, 'GUID:<SMS GUID>');
  const certThumbprint = payload['CertThumbprint'];
  if (typeof certThumbprint !== 'string' || !/^[0-9A-F]{40}$/.test(certThumbprint)) throw claimMismatch(what, 'CertThumbprint', certThumbprint, 'a SHA-1 thumbprint');
  let times: { nbfMs: number; expMs: number };
  try {
    times = checkTimes(payload, nowMs, what);
  } catch (err) {
    if (!(options.allowExpired && err instanceof CcmsimError && err.code === 'CCMSIM_TOKEN_EXPIRED')) throw err;
    times = { nbfMs: Number(payload['nbf']) * 1000, expMs: Number(payload['exp']) * 1000 };
  }
  if (certThumbprint !== signingThumbprint.toUpperCase()) {
    throw tokenError('CCMSIM_TOKEN_CERT_MISMATCH', `${what} was issued to certificate ${certThumbprint}, not to ${signingThumbprint.toUpperCase()}`);
  }
  const record = getClientToken(site, jti);
  if (!record || record.smsId !== deviceId) throw tokenError('CCMSIM_TOKEN_UNKNOWN', `this site never issued client token ${jti.toLowerCase()} to ${deviceId}`);
  if (record.revokedMs !== undefined) {
    throw tokenError('CCMSIM_TOKEN_REVOKED', `${what} ${record.tokenId} was revoked or superseded at ${new Date(record.revokedMs).toISOString()}`);
  }
  const client = clientRecord(site, deviceId, options.registered);
  if (!client || client.signingThumbprint !== certThumbprint) {
    throw tokenError('CCMSIM_TOKEN_CERT_MISMATCH', `${deviceId} is no longer registered with certificate ${certThumbprint}`);
  }
  return { smsId: record.smsId, tokenId: record.tokenId, certThumbprint: certThumbprint as Thumbprint, issuedMs: times.nbfMs, expiresMs: times.expMs, signer };
}

/** Whether a client token record is still usable at `nowMs` (not revoked, not expired). */
export function isClientTokenLive(record: ClientTokenRecord, nowMs: number): boolean {
  return record.revokedMs === undefined && nowMs <= record.expiresMs + CLOCK_SKEW_MS;
}

