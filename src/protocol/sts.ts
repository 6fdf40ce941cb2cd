/**
 * Owns the CCM_STS bodies (ours, docs/protocol.md "Ours" 4): UTF-8 XML, `Content-Type: text/xml; charset=utf-8`.
 * Request `<CcmTokenRequest SchemaVersion="1.0"><SMSID>GUID:…</SMSID><Purpose>Issue|Renew</Purpose></CcmTokenRequest>`;
 * answer `<CcmTokenResponse SchemaVersion="1.0" Status="0"><Token>…</Token><TokenId>…</TokenId><ExpiresAt>…Z</ExpiresAt></CcmTokenResponse>`;
 * a refusal is `<CcmTokenResponse SchemaVersion="1.0" Status="1" ErrorCode="CCMSIM_…"><Error>message</Error></CcmTokenResponse>`.
 */
import { CcmsimError, ERROR_CODES, type ErrorCode } from '../errors.js';
import { smsGuid, type SmsGuid } from '../ids.js';
import { formatCcmTime, parseCcmTime } from './msg-header.js';
import { attr, escapeXml, malformed, parseXml, rootElement, text } from './xml-util.js';

export const STS_CONTENT_TYPE = 'text/xml; charset=utf-8';
export type StsPurpose = 'Issue' | 'Renew';

export interface StsRequest {
  smsId: SmsGuid;
  purpose: StsPurpose;
}

export interface StsResponse {
  token: string;
  tokenId: string;
  expiresAt: Date;
}

export function buildStsRequest(request: { smsId: string; purpose: StsPurpose }): string {
  return `<CcmTokenRequest SchemaVersion="1.0"><SMSID>${escapeXml(smsGuid(request.smsId))}</SMSID><Purpose>${request.purpose}</Purpose></CcmTokenRequest>`;
}

export function parseStsRequest(xml: string): StsRequest {
  const root = rootElement(parseXml(xml, 'the CcmTokenRequest'), 'CcmTokenRequest', 'the CcmTokenRequest');
  const id = text(root, 'SMSID');
  if (!id) throw malformed('the CcmTokenRequest has no <SMSID>');
  let smsId: SmsGuid;
  try {
    smsId = smsGuid(id);
  } catch {
    throw malformed(`the CcmTokenRequest has a malformed SMSID ${JSON.stringify(id)}`);
  }
  const purpose = text(root, 'Purpose');
  if (purpose !== 'Issue' && purpose !== 'Renew') throw malformed(`the CcmTokenRequest has Purpose ${JSON.stringify(purpose ?? null)}; expected Issue or Renew`);
  return { smsId, purpose };
}

export function buildStsResponse(response: StsResponse): string {
  return (
    `<CcmTokenResponse SchemaVersion="1.0" Status="0"><Token>${escapeXml(response.token)}</Token>` +
    `<TokenId>${escapeXml(response.tokenId)}</TokenId><ExpiresAt>${formatCcmTime(response.expiresAt)}</ExpiresAt></CcmTokenResponse>`
  );
}

/** The XML body of a refused token request: carries the CCMSIM_ code so the agent can log the precise reason. */
export function buildStsRefusal(refusal: { code: ErrorCode; message: string }): string {
  return `<CcmTokenResponse SchemaVersion="1.0" Status="1" ErrorCode="${refusal.code}"><Error>${escapeXml(refusal.message)}</Error></CcmTokenResponse>`;
}

/**
 * The issued token, or: a CcmsimError with the refusal's own code (Status ≠ 0 with a known ErrorCode), or
 * CCMSIM_PROTOCOL_MALFORMED for a body that is neither.
 */
export function parseStsResponse(xml: string): StsResponse {
  const root = rootElement(parseXml(xml, 'the CcmTokenResponse'), 'CcmTokenResponse', 'the CcmTokenResponse');
  const status = attr(root, 'Status');
  if (status !== '0') {
    const code = attr(root, 'ErrorCode');
    const message = text(root, 'Error') || `the token service refused the request (Status ${status ?? 'missing'})`;
    if (code !== undefined && code in ERROR_CODES) throw new CcmsimError(code as ErrorCode, message);
    throw malformed(`the CcmTokenResponse has Status ${JSON.stringify(status ?? null)}: ${message}`);
  }
  const token = text(root, 'Token')?.trim();
  const tokenId = text(root, 'TokenId');
  const expires = text(root, 'ExpiresAt');
  if (!token) throw malformed('the CcmTokenResponse has no <Token>');
  if (!tokenId) throw malformed('the CcmTokenResponse has no <TokenId>');
  const expiresMs = expires === undefined ? undefined : parseCcmTime(expires);
  if (expiresMs === undefined) throw malformed(`the CcmTokenResponse has ExpiresAt ${JSON.stringify(expires ?? null)}; expected yyyy-mm-ddThh:mm:ssZ`);
  return { token, tokenId, expiresAt: new Date(expiresMs) };
}
