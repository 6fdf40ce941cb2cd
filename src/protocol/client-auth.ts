/**
 * Owns the headers that carry a token and pair it with the client's certificate (ours, docs/protocol.md "Ours" 1–2):
 * `Authorization: Bearer <jwt>`, `ClientToken: GUID:<id>;<yyyy-mm-ddThh:mm:ssZ>;2` and `ClientTokenSignature`,
 * the CCM signature (reversed, upper hex) over UTF-16LE(ClientToken) + 00 00, as real clients sign policy downloads.
 */
import type { KeyObject } from 'node:crypto';
import { signCcm, signCcmAsync, verifyCcm } from '../crypto/ccm-signature.js';
import { CcmsimError } from '../errors.js';
import { smsGuid, type SmsGuid } from '../ids.js';
import { formatCcmTime, parseCcmTime } from './msg-header.js';

/** A ClientToken timestamp further than this from the site's clock is refused ("Ours" 2). */
export const CLIENT_AUTH_MAX_SKEW_MS = 15 * 60 * 1000;

export interface ClientAuthHeaders {
  Authorization?: string;
  ClientToken: string;
  ClientTokenSignature: string;
  [name: string]: string | undefined;
}

export interface ParsedClientAuth {
  bearer: string | undefined;
  smsId: SmsGuid;
  /** As sent, `yyyy-mm-ddThh:mm:ssZ`. */
  timestamp: string;
  timestampMs: number;
  signatureHex: string;
  /** The ClientToken header value: the signed text (before UTF-16LE + NUL). */
  signedText: string;
}

function signedBytes(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, 'utf16le'), Buffer.from([0, 0])]);
}

export interface ClientAuthOptions {
  token?: string;
  smsId: string;
  signingKey: KeyObject;
  now: Date | number;
}

export function buildClientAuthHeaders(options: ClientAuthOptions): ClientAuthHeaders {
  const clientToken = clientTokenText(options);
  return clientAuthHeaders(options, clientToken, signCcm(options.signingKey, signedBytes(clientToken)));
}

/** The same headers, signed off the main thread (the agent's form). */
export async function buildClientAuthHeadersAsync(options: ClientAuthOptions): Promise<ClientAuthHeaders> {
  const clientToken = clientTokenText(options);
  return clientAuthHeaders(options, clientToken, await signCcmAsync(options.signingKey, signedBytes(clientToken)));
}

function clientTokenText(options: ClientAuthOptions): string {
  return `${smsGuid(options.smsId)};${formatCcmTime(new Date(options.now))};2`;
}

function clientAuthHeaders(options: ClientAuthOptions, clientToken: string, signatureHex: string): ClientAuthHeaders {
  const headers: ClientAuthHeaders = { ClientToken: clientToken, ClientTokenSignature: signatureHex };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  return headers;
}

type HeaderBag = Record<string, string | string[] | undefined>;

/** A header by name, case-insensitively; the first value when repeated. */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== lower || value === undefined) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/** The token of an `Authorization: Bearer …` header, if any. */
export function bearerOf(headers: HeaderBag): string | undefined {
  const auth = headerValue(headers, 'authorization');
  const m = auth === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(auth);
  return m ? m[1] : undefined;
}

function malformedHeader(reason: string): CcmsimError {
  return new CcmsimError('CCMSIM_PROTOCOL_MALFORMED', reason, { httpStatus: 400 });
}

/**
 * Undefined when the request has no ClientToken header (an unknown client's first contact); otherwise the parsed
 * pair, or CCMSIM_PROTOCOL_MALFORMED naming what is wrong.
 */
export function parseClientAuthHeaders(headers: HeaderBag): ParsedClientAuth | undefined {
  const clientToken = headerValue(headers, 'clienttoken');
  if (clientToken === undefined) return undefined;
  const signatureHex = headerValue(headers, 'clienttokensignature')?.trim();
  if (!signatureHex) throw malformedHeader('the ClientToken header comes without a ClientTokenSignature');
  if (!/^[0-9A-Fa-f]+$/.test(signatureHex)) throw malformedHeader('the ClientTokenSignature is not hex');
  const signedText = clientToken.trim();
  const m = /^(GUID:[^;]+);([^;]+);(\d+)$/i.exec(signedText);
  if (!m) throw malformedHeader(`the ClientToken header is not GUID:<id>;<time>;2: ${JSON.stringify(signedText.slice(0, 80))}`);
  let smsId: SmsGuid;
  try {
    smsId = smsGuid(m[1]!);
  } catch {
    throw malformedHeader(`the ClientToken header names a malformed SMS GUID ${JSON.stringify(m[1])}`);
  }
  const timestampMs = parseCcmTime(m[2]!);
  if (timestampMs === undefined) throw malformedHeader(`the ClientToken timestamp ${JSON.stringify(m[2])} is not yyyy-mm-ddThh:mm:ssZ`);
  return { bearer: bearerOf(headers), smsId, timestamp: m[2]!, timestampMs, signatureHex, signedText };
}

/** Whether the ClientTokenSignature verifies with `publicKey` (the client's registered signing certificate). */
export function verifyClientAuthSignature(parsed: Pick<ParsedClientAuth, 'signedText' | 'signatureHex'>, publicKey: KeyObject): boolean {
  return verifyCcm(publicKey, signedBytes(parsed.signedText), parsed.signatureHex);
}

/** Throws CCMSIM_SIGNATURE_INVALID (403) for a signature that does not verify or a timestamp more than `skewMs` off. */
export function verifyClientAuth(parsed: ParsedClientAuth, publicKey: KeyObject, nowMs: number, skewMs: number = CLIENT_AUTH_MAX_SKEW_MS): void {
  if (!verifyClientAuthSignature(parsed, publicKey)) {
    throw new CcmsimError('CCMSIM_SIGNATURE_INVALID', `the ClientTokenSignature for ${parsed.smsId} does not verify with its signing certificate`, { httpStatus: 403 });
  }
  const skew = Math.abs(parsed.timestampMs - nowMs);
  if (skew > skewMs) {
    throw new CcmsimError('CCMSIM_SIGNATURE_INVALID', `the ClientToken timestamp ${parsed.timestamp} is ${Math.round(skew / 60000)} minutes from the server's clock (limit ${Math.round(skewMs / 60000)})`, {
      httpStatus: 403,
    });
  }
}
