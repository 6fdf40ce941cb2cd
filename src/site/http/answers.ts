/**
 * Owns the shapes of the site's answers: XML/text/binary 200s and refusals. Every refusal carries
 * `X-CCMSim-Error: <CCMSIM_… code>` (docs/protocol.md, "Ours" 5); 401s also carry
 * `WWW-Authenticate: Bearer error="invalid_token"`. A refusal body is one plain-text line naming the problem.
 */
import { CcmsimError, isCcmsimError, type ErrorCode } from '../../errors.js';
import { buildStsRefusal } from '../../protocol/sts.js';
import type { HttpResponse } from './http-types.js';

/** The HTTP status for a refusal whose error carries none. */
const DEFAULT_STATUS: Partial<Record<ErrorCode, number>> = {
  CCMSIM_PROTOCOL_MALFORMED: 400,
  CCMSIM_BAD_ID: 400,
  CCMSIM_SIGNATURE_INVALID: 403,
  CCMSIM_CMG_NOT_ALLOWED: 403,
  CCMSIM_TOKEN_CERT_MISMATCH: 403,
  CCMSIM_REGISTRATION_REFUSED: 403,
  CCMSIM_TOKEN_MALFORMED: 401,
  CCMSIM_TOKEN_ALGORITHM: 401,
  CCMSIM_TOKEN_UNKNOWN_KEY: 401,
  CCMSIM_TOKEN_SIGNATURE: 401,
  CCMSIM_TOKEN_CLAIMS: 401,
  CCMSIM_TOKEN_NOT_YET_VALID: 401,
  CCMSIM_TOKEN_EXPIRED: 401,
  CCMSIM_TOKEN_BLOCKED: 401,
  CCMSIM_TOKEN_UNKNOWN: 401,
  CCMSIM_TOKEN_REVOKED: 401,
  CCMSIM_TOKEN_SIGNER_RETIRED: 401,
  CCMSIM_SITE_STATE: 503,
};

export function statusOf(err: CcmsimError): number {
  return err.httpStatus ?? DEFAULT_STATUS[err.code] ?? 500;
}

/** A refusal for `err` (a CcmsimError keeps its code and message; anything else is a 500 CCMSIM_INTERNAL). */
export function refusal(err: unknown): HttpResponse {
  const e = isCcmsimError(err) ? err : new CcmsimError('CCMSIM_INTERNAL', 'internal server error');
  const status = statusOf(e);
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', 'X-CCMSim-Error': e.code };
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer error="invalid_token"';
  if (e.hresult) headers['X-CCMSim-HResult'] = e.hresult;
  return { status, headers, body: `${oneLine(e.message)}\r\n` };
}

export function refuse(code: ErrorCode, message: string, httpStatus?: number): HttpResponse {
  return refusal(new CcmsimError(code, message, httpStatus === undefined ? {} : { httpStatus }));
}

export function notFound(path: string): HttpResponse {
  return { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `404 Not Found: ${oneLine(path)}\r\n` };
}

export function methodNotAllowed(method: string, allowed: string[]): HttpResponse {
  return {
    status: 405,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', Allow: allowed.join(', ') },
    body: `405 Method Not Allowed: ${oneLine(method)}\r\n`,
  };
}

export function xml(body: string, status = 200): HttpResponse {
  return { status, headers: { 'Content-Type': 'text/xml; charset=utf-8' }, body };
}

export function text(body: string, status = 200): HttpResponse {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body };
}

export function json(value: unknown, status = 200): HttpResponse {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: `${JSON.stringify(value, null, 2)}\n` };
}

export function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 500);
}

/** A refusal of a CCM_STS request: the same status and headers, with the CcmTokenResponse refusal body. */
export function stsRefusal(err: unknown): HttpResponse {
  const res = refusal(err);
  const e = isCcmsimError(err) ? err : new CcmsimError('CCMSIM_INTERNAL', 'internal server error');
  return { ...res, headers: { ...res.headers, 'Content-Type': 'text/xml; charset=utf-8' }, body: buildStsRefusal({ code: e.code, message: oneLine(e.message) }) };
}
