/**
 * Owns signing and checking the site's JWTs (bulk registration tokens and client tokens): RS256 with the
 * SMS Token Signing key and an `x5t` header, and the checks common to both kinds, in the order that gives each
 * failure its own code (shape, algorithm, signing certificate, signature). Claims are checked by the caller.
 */
import { CcmsimError, type ErrorCode } from '../errors.js';
import { decodeJwtUnverified, jwtSignatureVerifies, signJwt, x5tOf, type DecodedJwt, type BulkTokenClaims, type ClientTokenClaims } from '../protocol/tokens.js';
import { LruCache } from '../lru-cache.js';
import type { Site } from './site.js';
import { activeCertificate, privateKeyOf, publicKeyOf, tokenSigningCertificateByX5t, type SiteCertificate } from './site-pki.js';

/** Bulk and client tokens are accepted this long before `nbf` and after `exp` (docs/protocol.md, "Ours" 6). */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

export function tokenError(code: ErrorCode, message: string, details?: Record<string, unknown>): CcmsimError {
  const httpStatus = code === 'CCMSIM_TOKEN_CERT_MISMATCH' ? 403 : 401;
  return new CcmsimError(code, message, { httpStatus, details });
}

/** Signs `payload` (claims in the given order) with the active token-signing key. */
export async function signSiteJwt(
  site: Site,
  payload: BulkTokenClaims | ClientTokenClaims | Record<string, unknown>,
): Promise<{ token: string; signer: SiteCertificate }> {
  const signer = activeCertificate(site.db, 'token-signing');
  const token = await signJwt({ x5t: x5tOf(signer.thumbprint) }, payload, privateKeyOf(site.paths, signer));
  return { token, signer };
}

/**
 * Tokens whose signature verified, by their exact text, with the thumbprint that verified it (least recently used
 * dropped first). A bulk token is presented with each registration, confirmation and first token request of every
 * client it enrolls (thousands in a fleet); its RSA verification does not need doing again. The signer is still looked
 * up on every use, so a rotation or retirement is seen at once.
 */
const verifiedBy = new LruCache<string, string>(1024);

function signatureVerifies(text: string, decoded: DecodedJwt, signer: SiteCertificate): boolean {
  if (verifiedBy.get(text) === signer.thumbprint) return true;
  if (!jwtSignatureVerifies(decoded, publicKeyOf(signer))) return false;
  verifiedBy.set(text, signer.thumbprint);
  return true;
}

export interface VerifiedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signer: SiteCertificate;
}

/** Shape, algorithm, signing certificate (active or retired) and signature; `what` names the token in messages. */
export async function verifySiteJwt(site: Site, token: string, what: string): Promise<VerifiedJwt> {
  const text = token.trim();
  let decoded: DecodedJwt;
  try {
    decoded = decodeJwtUnverified(text);
  } catch (err) {
    if (err instanceof CcmsimError) throw tokenError('CCMSIM_TOKEN_MALFORMED', `${what} is not a well-formed JWT: ${err.message}`);
    throw tokenError('CCMSIM_TOKEN_MALFORMED', `${what} is not a well-formed JWT`);
  }
  const { header, payload } = decoded;
  // The algorithm is checked before any key is touched: `none` and HS256 never reach a verifier.
  if (header['alg'] !== 'RS256') {
    throw tokenError('CCMSIM_TOKEN_ALGORITHM', `${what} uses algorithm ${JSON.stringify(header['alg'] ?? null)}; only RS256 is accepted`);
  }
  const x5t = header['x5t'];
  if (typeof x5t !== 'string' || x5t === '') throw tokenError('CCMSIM_TOKEN_UNKNOWN_KEY', `${what} names no signing certificate (x5t)`);
  const signer = tokenSigningCertificateByX5t(site.db, x5t);
  if (!signer) throw tokenError('CCMSIM_TOKEN_UNKNOWN_KEY', `${what} is signed by a certificate this site does not know (x5t ${x5t})`, { x5t });
  if (!signatureVerifies(text, decoded, signer)) {
    throw tokenError('CCMSIM_TOKEN_SIGNATURE', `${what} signature does not verify with the SMS Token Signing certificate ${signer.thumbprint}`);
  }
  return { header, payload, signer };
}

/** Refuses a token outside [nbf - skew, exp + skew]. */
export function checkTimes(payload: Record<string, unknown>, nowMs: number, what: string): { nbfMs: number; expMs: number } {
  const nbf = payload['nbf'];
  const exp = payload['exp'];
  if (typeof nbf !== 'number' || !Number.isFinite(nbf) || typeof exp !== 'number' || !Number.isFinite(exp)) {
    throw tokenError('CCMSIM_TOKEN_CLAIMS', `${what} lacks numeric nbf/exp claims`);
  }
  const nbfMs = nbf * 1000;
  const expMs = exp * 1000;
  if (nowMs < nbfMs - CLOCK_SKEW_MS) {
    throw tokenError('CCMSIM_TOKEN_NOT_YET_VALID', `${what} is not valid before ${new Date(nbfMs).toISOString()}`, { notBefore: nbfMs });
  }
  if (nowMs > expMs + CLOCK_SKEW_MS) {
    throw tokenError('CCMSIM_TOKEN_EXPIRED', `${what} expired at ${new Date(expMs).toISOString()}`, { expiredAt: expMs });
  }
  return { nbfMs, expMs };
}

export function claimMismatch(what: string, claim: string, actual: unknown, expected: string): CcmsimError {
  return tokenError('CCMSIM_TOKEN_CLAIMS', `${what} has ${claim} ${JSON.stringify(actual ?? null)}, expected ${JSON.stringify(expected)}`, { claim });
}
