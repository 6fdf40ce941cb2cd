/**
 * Owns authenticating a request to the token endpoints (`ccm_system_tokenauth/request`, `CCM_STS`), on the CMG before
 * it forwards and on the MP: the bearer token (docs/protocol.md, "Ours" 1) is a bulk registration token or a client
 * token; a client token must come with `ClientToken`/`ClientTokenSignature` headers signed by the registered signing
 * certificate it names ("Ours" 2), so a token copied to another machine is refused. Every refusal leaves a log line
 * naming the token by GUID only.
 */
import { CcmsimError, isCcmsimError } from '../errors.js';
import type { SmsGuid } from '../ids.js';
import { decodeJwtUnverified } from '../protocol/tokens.js';
import { CLIENT_AUTH_MAX_SKEW_MS, parseClientAuthHeaders, verifyClientAuthSignature } from '../protocol/client-auth.js';
import type { Site } from './site.js';
import type { HttpRequest } from './http/http-types.js';
import { validateBulkToken, type ValidBulkToken } from './bulk-tokens.js';
import { authenticateClientToken, type AuthenticatedClient } from './client-tokens.js';
import { getClient, type ClientRecord } from './registrations.js';
import { certificatePublicKey } from './parsed-certificates.js';
import { tokenSecrets, type LogScope, type ServerLogs } from './server-logs.js';


/** A caller whose ClientToken headers verified against its registered signing certificate. */
export interface SignedCaller {
  smsId: SmsGuid;
  client: ClientRecord;
  timestampMs: number;
}

export type RequestAuth =
  | { kind: 'none' }
  | { kind: 'signature'; caller: SignedCaller }
  | { kind: 'bulk'; bulk: ValidBulkToken; caller: SignedCaller | undefined }
  | { kind: 'client'; client: AuthenticatedClient; caller: SignedCaller };

export interface AuthenticateOptions {
  logs: ServerLogs;
  scope: LogScope;
  via: 'mp' | 'cmg';
  /** 'message': ccm_system_tokenauth/request; 'sts': CCM_STS (renewal accepts a retired signer; the MP also an expired token). */
  purpose: 'message' | 'sts';
}

/** The bearer token of `Authorization: Bearer <jwt>`, if any. */
export function bearerToken(req: HttpRequest): string | undefined {
  const value = req.headers['authorization'];
  if (value === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  if (!match) throw new CcmsimError('CCMSIM_TOKEN_MALFORMED', 'the Authorization header is not "Bearer <token>"', { httpStatus: 401 });
  return match[1]!;
}

/** Token parts a request carries, to keep them out of every log line written while serving it. */
export function presentedTokenSecrets(req: HttpRequest): string[] {
  const value = req.headers['authorization'];
  if (!value) return [];
  const token = value.replace(/^Bearer\s+/i, '').trim();
  return tokenSecrets(token);
}

/** `CODE: message`, for a log line about a refusal. */
export function describeRefusal(err: unknown): string {
  return isCcmsimError(err) ? `${err.code}: ${err.message}` : 'internal error';
}

/** What the unverified token says about itself: its kind and GUID, for routing and for logs (never the token). */
function peek(token: string): { kind: 'client' | 'bulk'; guid: string } {
  try {
    const { payload } = decodeJwtUnverified(token) as { payload: Record<string, unknown> };
    const kind = payload['Type'] === 'ClientAuthentication' ? 'client' : 'bulk';
    const id = kind === 'client' ? payload['jti'] : payload['UniqueId'];
    const guid = typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) ? id.toLowerCase() : 'unknown';
    return { kind, guid };
  } catch {
    return { kind: 'bulk', guid: 'unknown' };
  }
}

/**
 * Checks the ClientToken/ClientTokenSignature headers, if present: the named client must be registered, the
 * timestamp within 15 minutes of the site's clock, and the signature must verify with its registered certificate.
 */
export function verifySignedCaller(site: Site, req: HttpRequest, logs: ServerLogs, scope: LogScope): SignedCaller | undefined {
  let parsed: ReturnType<typeof parseClientAuthHeaders>;
  try {
    parsed = parseClientAuthHeaders(req.headers);
  } catch (err) {
    logs.write('ClientAuth', `Failed to parse the ClientToken headers: ${describeRefusal(err)}`, 3, scope);
    throw err;
  }
  if (!parsed) return undefined;
  const smsId = parsed.smsId;
  const client = getClient(site, smsId);
  if (!client) {
    logs.write('ClientAuth', `ClientToken names '${smsId}', which is not a registered client.`, 3, scope);
    throw new CcmsimError('CCMSIM_SIGNATURE_INVALID', `${smsId} is not a registered client`, { httpStatus: 403 });
  }
  const skew = Math.abs(parsed.timestampMs - site.clock.now());
  if (skew > CLIENT_AUTH_MAX_SKEW_MS) {
    logs.write(
      'ClientAuth',
      `ClientToken timestamp ${new Date(parsed.timestampMs).toISOString()} for '${smsId}' is ${Math.round(skew / 60000)} minutes from the server time; more than 15 minutes is refused.`,
      3,
      scope,
    );
    throw new CcmsimError('CCMSIM_SIGNATURE_INVALID', `the ClientToken timestamp is more than 15 minutes from the site's clock`, { httpStatus: 403 });
  }
  const publicKey = certificatePublicKey(client.signingCertDer);
  if (!verifyClientAuthSignature(parsed, publicKey)) {
    logs.write(
      'ClientAuth',
      `ClientTokenSignature for '${smsId}' does not verify with the registered certificate [Thumbprint ${client.signingThumbprint}].`,
      3,
      scope,
    );
    throw new CcmsimError('CCMSIM_SIGNATURE_INVALID', `the ClientTokenSignature does not verify with the certificate ${smsId} registered`, { httpStatus: 403 });
  }
  logs.write('ClientAuth', `Verified ClientToken signature for '${smsId}' with certificate [Thumbprint ${client.signingThumbprint}].`, 1, scope);
  return { smsId, client, timestampMs: parsed.timestampMs };
}

/** Authenticates a request to a token endpoint. Throws a CcmsimError (with httpStatus) for every refusal. */
export async function authenticateTokenRequest(site: Site, req: HttpRequest, options: AuthenticateOptions): Promise<RequestAuth> {
  const { logs, scope } = options;
  const token = bearerToken(req);
  const tokenLog = options.purpose === 'sts' ? 'CCM_STS' : 'MP_RegistrationManager';
  if (token === undefined) {
    const caller = verifySignedCaller(site, req, logs, scope);
    return caller ? { kind: 'signature', caller } : { kind: 'none' };
  }
  const { kind, guid } = peek(token);
  if (kind === 'bulk') {
    let bulk: ValidBulkToken;
    try {
      bulk = await validateBulkToken(site, token);
    } catch (err) {
      logs.write(tokenLog, `Failed to validate the bulk registration token (TokenId: ${guid}). ${describeRefusal(err)}`, 3, scope);
      throw err;
    }
    logs.write(tokenLog, `Validated bulk registration token. TokenId: ${bulk.guid} TenantId: ${bulk.tenantId}`, 1, scope);
    let caller: SignedCaller | undefined;
    try {
      caller = verifySignedCaller(site, req, logs, scope);
    } catch (err) {
      // A registration message carries its own signature, checked by the MP against the certificate in it (a client
      // reinstalled with new keys signs its headers with a key the site does not know yet); CCM_STS stays strict.
      if (options.purpose !== 'message') throw err;
      logs.write('ClientAuth', `Ignoring the ClientToken headers of a bulk-token registration message. ${describeRefusal(err)}`, 2, scope);
    }
    return { kind: 'bulk', bulk, caller };
  }
  const caller = verifySignedCaller(site, req, logs, scope);
  if (!caller) {
    logs.write('ClientAuth', `Client token (TokenId: ${guid}) presented without ClientToken/ClientTokenSignature headers.`, 3, scope);
    throw new CcmsimError('CCMSIM_SIGNATURE_INVALID', 'a client token must come with ClientToken and ClientTokenSignature headers signed by its certificate', {
      httpStatus: 403,
    });
  }
  let client: AuthenticatedClient;
  try {
    client = await authenticateClientToken(site, token, caller.client.signingThumbprint, site.clock.now(), {
      allowRetiredSigner: options.purpose === 'sts',
      allowExpired: options.purpose === 'sts' && options.via === 'mp',
      registered: caller.client,
    });
    if (client.smsId !== caller.smsId) {
      throw new CcmsimError('CCMSIM_TOKEN_CERT_MISMATCH', `the client token was issued to ${client.smsId}, not to ${caller.smsId}`, { httpStatus: 403 });
    }
  } catch (err) {
    logs.write('ClientAuth', `Failed to validate client token (TokenId: ${guid}) from '${caller.smsId}'. ${describeRefusal(err)}`, 3, scope);
    throw err;
  }
  logs.write('ClientAuth', `Validated client token. TokenId: ${client.tokenId} DeviceId: ${client.smsId} CertThumbprint: ${client.certThumbprint}`, 1, scope);
  return { kind: 'client', client, caller };
}
