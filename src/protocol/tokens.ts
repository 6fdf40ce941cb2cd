/**
 * Owns the token formats: the bulk registration token's claims as decoded from Microsoft's example
 * (protocol.md §4.2), the client token's claims (ours, docs/protocol.md "Ours" 3), RS256 signing and the signature
 * check, the `x5t` header value, and a strict unverified decoder that refuses anything that is not a JWT
 * (CCMSIM_TOKEN_MALFORMED). Claims, times and which key belong to the site.
 * RS256 is done with node:crypto directly rather than jose (whose WebCrypto path cost a fleet's site thread more
 * than the RSA work itself): signing on the thread pool, verifying inline (a verification is a fraction of a
 * signature). The tests check both directions against jose (tokens signed here verify with jose, and back).
 */
import { verify, type KeyObject } from 'node:crypto';
import { signSha256Async } from '../crypto/async-sign.js';
import { CcmsimError } from '../errors.js';
import type { Thumbprint } from '../ids.js';

export const TOKEN_AUDIENCE = 'urn:sccm:service';
export const BULK_TOKEN_CATEGORY = 'SCCMPreAuthToken';
export const CLIENT_TOKEN_CATEGORY = 'SCCMClientAuthToken';
export const BULK_TOKEN_TYPE = 'BulkRegistration';
export const CLIENT_TOKEN_TYPE = 'ClientAuthentication';

/** `urn:sccm:oauth2:<tenant>`, the tenant in lower case as in Microsoft's example. */
export function tokenIssuer(tenantId: string): string {
  return `urn:sccm:oauth2:${tenantId.toLowerCase()}`;
}

/** Bulk registration token claims (protocol.md §4.2), in the order Microsoft's example has them. */
export interface BulkTokenClaims {
  SCCMTokenCategory: typeof BULK_TOKEN_CATEGORY;
  Authority: 'SCCM';
  License: 'SCCM';
  Type: typeof BULK_TOKEN_TYPE;
  /** Hierarchy ID, upper case. */
  TenantId: string;
  /** The tracking GUID, lower case. */
  UniqueId: string;
  iss: string;
  aud: typeof TOKEN_AUDIENCE;
  exp: number;
  nbf: number;
}

/** The client's own token (ours, docs/protocol.md "Ours" 3). */
export interface ClientTokenClaims {
  SCCMTokenCategory: typeof CLIENT_TOKEN_CATEGORY;
  Authority: 'SCCM';
  Type: typeof CLIENT_TOKEN_TYPE;
  TenantId: string;
  /** `GUID:…` SMS GUID. */
  DeviceId: string;
  /** SHA-1 thumbprint of the client's SMS Signing Certificate. */
  CertThumbprint: string;
  /** Token ID, lower-case GUID. */
  jti: string;
  iss: string;
  aud: typeof TOKEN_AUDIENCE;
  iat: number;
  nbf: number;
  exp: number;
}

export interface JwtHeader {
  typ?: string;
  alg?: string;
  x5t?: string;
  [key: string]: unknown;
}

/** base64url of the 20 SHA-1 bytes: the JOSE `x5t` of a certificate. */
export function x5tOf(thumbprint: Thumbprint | string): string {
  if (!/^[0-9a-fA-F]{40}$/.test(thumbprint)) throw new CcmsimError('CCMSIM_BAD_ID', `not a SHA-1 thumbprint: ${thumbprint}`);
  return Buffer.from(thumbprint, 'hex').toString('base64url');
}

/**
 * RS256 compact JWS with the header `{"typ":"JWT","alg":"RS256","x5t":…}` (that order, as Microsoft's example).
 * The claims are serialised in their own key order.
 */
export async function signJwt(header: { x5t: string; typ?: 'JWT'; alg?: 'RS256' }, claims: object, privateKey: KeyObject): Promise<string> {
  const h = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5t: header.x5t })).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signingInput = `${h}.${p}`;
  // RSASSA-PKCS1-v1_5 with SHA-256 (node's default padding for RSA keys): deterministic, as jose's was.
  return `${signingInput}.${(await signSha256Async(privateKey, Buffer.from(signingInput))).toString('base64url')}`;
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;

/** The shape of a compact JWS: three base64url segments, the first two non-empty. No decoding. */
export function looksLikeJwt(value: string): boolean {
  const parts = value.trim().split('.');
  return parts.length === 3 && parts[0]!.length > 0 && parts[1]!.length > 0 && parts.every((p) => SEGMENT.test(p));
}

function malformedToken(reason: string): CcmsimError {
  return new CcmsimError('CCMSIM_TOKEN_MALFORMED', reason, { httpStatus: 401 });
}

// Stateless between calls (no `stream` option), so one decoder serves every segment.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  if (segment.length === 0) throw malformedToken(`the token's ${what} is empty`);
  if (!SEGMENT.test(segment) || segment.length % 4 === 1) throw malformedToken(`the token's ${what} is not base64url`);
  let text: string;
  try {
    text = STRICT_UTF8.decode(Buffer.from(segment, 'base64url'));
  } catch {
    throw malformedToken(`the token's ${what} is not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformedToken(`the token's ${what} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformedToken(`the token's ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

export interface DecodedJwt {
  header: JwtHeader;
  payload: Record<string, unknown>;
  /** The raw signature bytes (empty for an unsigned `alg: none` token, which the verifier must refuse). */
  signature: Buffer;
  /** `header.payload`: what the signature covers. */
  signingInput: string;
}

/**
 * The last token decoded, by its exact text. The site reads a presented token's kind and GUID for routing and its
 * logs, then decodes the same text again to verify it: once per token request. The result is frozen, so the two
 * readers cannot change what the other sees. Failures are not kept.
 */
let lastDecoded: { token: string; decoded: DecodedJwt } | undefined;

/**
 * Splits and decodes a compact JWS without checking the signature. Throws CCMSIM_TOKEN_MALFORMED for anything
 * that is not three base64url segments with UTF-8 JSON objects as header and payload (Microsoft's own example
 * token is refused here: the documentation corrupted its payload).
 */
export function decodeJwtUnverified(token: string): DecodedJwt {
  if (lastDecoded !== undefined && lastDecoded.token === token) return lastDecoded.decoded;
  if (typeof token !== 'string' || token.trim().length === 0) throw malformedToken('the token is empty');
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw malformedToken(`the token has ${parts.length} dot-separated part(s); a JWT has 3`);
  const [h, p, s] = parts as [string, string, string];
  const header = decodeSegment(h, 'header');
  const payload = decodeSegment(p, 'payload');
  if (!SEGMENT.test(s) || s.length % 4 === 1) throw malformedToken("the token's signature is not base64url");
  const decoded: DecodedJwt = Object.freeze({
    header: Object.freeze(header) as JwtHeader,
    payload: Object.freeze(payload),
    signature: Buffer.from(s, 'base64url'),
    signingInput: `${h}.${p}`,
  });
  lastDecoded = { token, decoded };
  return decoded;
}

/** Whether the RS256 signature of a decoded token verifies with `publicKey` (an empty signature never does). */
export function jwtSignatureVerifies(decoded: DecodedJwt, publicKey: KeyObject): boolean {
  if (decoded.signature.length === 0) return false;
  try {
    return verify('sha256', Buffer.from(decoded.signingInput), publicKey, decoded.signature);
  } catch {
    return false;
  }
}
