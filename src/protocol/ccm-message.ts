/**
 * Owns the CCM message codec (protocol.md §1.3, §1.7): multipart/mixed with boundary `aAbBcCdDv1234567890VxXyYzZ`;
 * part 1 `text/plain; charset=UTF-16` = FF FE + UTF-16LE `<Msg>` header; part 2 `application/octet-stream` =
 * zlib (RFC 1950) of UTF-16LE body + 00 00; then CRLF and the closing `--boundary--`.
 *
 * Byte layout against sccmwtf's Python: identical part headers, BOM header, zlib stream and closing delimiter.
 * One difference: sccmwtf compresses `UTF-16LE(body + NUL) + ASCII CRLF` (the CRLF inside the zlib stream) while its
 * `Body Length` excludes that CRLF. We follow the real client capture (§1.3, HUNT: body = UTF-16 + 00 00, no CRLF
 * inside) so Python clients that strip only the NUL also parse our replies; the decoder accepts both forms.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { decodeUtf16leStrict } from './utf16.js';
import { buildMsgHeader, type MsgHeaderFields } from './msg-header.js';
import { assertWellFormedXml, malformed } from './xml-util.js';

export const CCM_BOUNDARY = 'aAbBcCdDv1234567890VxXyYzZ';
export const CCM_HEADER_PART_TYPE = 'text/plain; charset=UTF-16';
export const CCM_BODY_PART_TYPE = 'application/octet-stream';
/** Refuse to inflate more than this (a zlib bomb guard). */
export const MAX_CCM_BODY_BYTES = 32 * 1024 * 1024;

export interface CcmMessage {
  /** The `<Msg>` header XML. */
  header: string;
  /** The body XML (no NUL). */
  body: string;
}

export interface EncodedCcmMessage {
  contentType: string;
  bytes: Buffer;
}

/** `Body Length`: UTF-16 bytes of the body including its NUL terminator. */
export function ccmBodyLength(body: string): number {
  return Buffer.byteLength(body, 'utf16le') + 2;
}

/**
 * `header` is the `<Msg>` XML (its `<Body … Length="…">` is rewritten to the real length) or the fields for
 * buildMsgHeader (whose bodyLength is then ignored).
 */
export function encodeCcmMessage(message: { header: string | MsgHeaderFields; body: string; boundary?: string }): EncodedCcmMessage {
  const boundary = message.boundary ?? CCM_BOUNDARY;
  const bodyLength = ccmBodyLength(message.body);
  const header =
    typeof message.header === 'string'
      ? message.header.replace(/(<Body\b[^>]*?\bLength=")[^"]*(")/, `$1${bodyLength}$2`)
      : buildMsgHeader({ ...message.header, bodyLength });
  const bodyBytes = Buffer.concat([Buffer.from(message.body, 'utf16le'), Buffer.from([0, 0])]);
  const bytes = Buffer.concat([
    Buffer.from(`--${boundary}\r\ncontent-type: ${CCM_HEADER_PART_TYPE}\r\n\r\n`, 'ascii'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from(header, 'utf16le'),
    Buffer.from(`\r\n--${boundary}\r\ncontent-type: ${CCM_BODY_PART_TYPE}\r\n\r\n`, 'ascii'),
    deflateSync(bodyBytes),
    Buffer.from(`\r\n--${boundary}--`, 'ascii'),
  ]);
  return { contentType: `multipart/mixed; boundary="${boundary}"`, bytes };
}

/** The boundary parameter of a multipart Content-Type, or a MALFORMED error saying what is wrong. */
export function boundaryOf(contentType: string): string {
  const [mediaType = '', ...params] = contentType.split(';');
  if (!/^multipart\/[a-z0-9.+-]+$/i.test(mediaType.trim())) {
    throw malformed(`Content-Type ${JSON.stringify(contentType)} is not multipart`);
  }
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    let value = param.slice(eq + 1).trim();
    if (value.startsWith('"')) {
      if (!value.endsWith('"') || value.length < 2) throw malformed('the multipart boundary has an unterminated quote');
      value = value.slice(1, -1);
    }
    // RFC 2046 bchars, 1 to 70 characters, not ending in a space.
    if (!/^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/.test(value)) {
      throw malformed(`the multipart boundary ${JSON.stringify(value)} is invalid`);
    }
    return value;
  }
  throw malformed(`Content-Type ${JSON.stringify(contentType)} has no boundary`);
}

interface Part {
  headers: Map<string, string>;
  content: Buffer;
}

function splitMultipart(bytes: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`, 'ascii');
  const crlfDelimiter = Buffer.from(`\r\n--${boundary}`, 'ascii');
  let pos: number;
  if (bytes.subarray(0, delimiter.length).equals(delimiter)) pos = 0;
  else {
    const found = bytes.indexOf(crlfDelimiter);
    if (found < 0) throw malformed(`the body holds no multipart delimiter --${boundary}`);
    pos = found + 2; // a preamble is allowed before the first delimiter
  }
  const parts: Part[] = [];
  for (;;) {
    pos += delimiter.length;
    if (bytes[pos] === 0x2d && bytes[pos + 1] === 0x2d) return parts; // the close delimiter
    // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
    while (bytes[pos] === 0x20 || bytes[pos] === 0x09) pos++;
    if (bytes[pos] !== 0x0d || bytes[pos + 1] !== 0x0a) {
      if (pos >= bytes.length) throw malformed('the multipart body ends without its closing delimiter');
      throw malformed(`a multipart delimiter is not followed by CRLF (byte ${pos})`);
    }
    pos += 2;
    const headerEnd = bytes.indexOf('\r\n\r\n', pos, 'ascii');
    const next = bytes.indexOf(crlfDelimiter, pos);
    if (next < 0) throw malformed(`multipart part ${parts.length + 1} is not terminated by a delimiter`);
    const headers = new Map<string, string>();
    let contentStart: number;
    if (bytes.subarray(pos, pos + 2).toString('ascii') === '\r\n') {
      contentStart = pos + 2; // a part without headers
    } else {
      if (headerEnd < 0 || headerEnd > next) throw malformed(`multipart part ${parts.length + 1} has no blank line after its headers`);
      for (const line of bytes.subarray(pos, headerEnd).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) throw malformed(`multipart part ${parts.length + 1} has a malformed header line ${JSON.stringify(line)}`);
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      contentStart = headerEnd + 4;
    }
    parts.push({ headers, content: bytes.subarray(contentStart, next) });
    pos = next + 2;
  }
}

function mediaTypeOf(part: Part): string {
  return (part.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

function stripNul(text: string): string {
  return text.endsWith('\u0000') ? text.slice(0, -1) : text;
}

export function decodeCcmMessage(contentType: string, bytes: Buffer): CcmMessage {
  const boundary = boundaryOf(contentType);
  const parts = splitMultipart(bytes, boundary);
  if (parts.length < 2) throw malformed(`the CCM message has ${parts.length} part(s); a header part and a body part are required`);
  const headerPart = parts.find((p) => mediaTypeOf(p) === 'text/plain') ?? parts[0]!;
  const bodyPart = parts.find((p) => mediaTypeOf(p) === 'application/octet-stream') ?? parts.find((p) => p !== headerPart)!;
  if (headerPart === bodyPart) throw malformed('the CCM message has no separate header and body parts');

  const header = stripNul(decodeUtf16leStrict(headerPart.content, 'the message header'));
  assertWellFormedXml(header, 'the message header');

  let inflated: Buffer;
  try {
    inflated = inflateSync(bodyPart.content, { maxOutputLength: MAX_CCM_BODY_BYTES });
  } catch (err) {
    throw malformed(`the message body is not a valid zlib stream (${(err as Error).message})`);
  }
  // sccmwtf and Metasploit put an ASCII CRLF after the NUL inside the compressed data.
  if (inflated.length >= 4 && inflated.length % 2 === 0 && inflated.subarray(-4).equals(Buffer.from([0, 0, 0x0d, 0x0a]))) {
    inflated = inflated.subarray(0, -2);
  }
  const body = stripNul(decodeUtf16leStrict(inflated, 'the message body'));
  assertWellFormedXml(body, 'the message body');
  return { header, body };
}
