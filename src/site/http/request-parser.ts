/**
 * Owns reading one HTTP/1.1 request head from the bytes a connection has received so far. We parse requests
 * ourselves because Node's HTTP server refuses the `CCM_POST` method (HPE_INVALID_METHOD, even with
 * insecureHTTPParser). Any RFC 9110 token is a method. Malformed input gets the status an IIS front would give.
 *
 * Not supported, on purpose: `Transfer-Encoding` request bodies (answered 411 Length Required: every CCM client
 * sends Content-Length), obs-fold header continuations and bare-LF line ends (400, as IIS), HTTP/2 and HTTP/0.9
 * (505 / 400).
 */
import type { HttpLimits } from './http-types.js';

export interface RequestHead {
  method: string;
  target: string;
  path: string;
  query: string;
  version: 'HTTP/1.0' | 'HTTP/1.1';
  headers: Record<string, string>;
  rawHeaders: Array<[string, string]>;
  /** From Content-Length (0 when absent). */
  contentLength: number;
  /** Whether the connection stays open after the answer, from the version and the Connection header. */
  keepAlive: boolean;
  expectContinue: boolean;
}

export type HeadParseResult =
  | { kind: 'incomplete' }
  /** `consumed` bytes (leading blank lines, request line, headers and the blank line) belong to the head. */
  | { kind: 'head'; head: RequestHead; consumed: number }
  | { kind: 'error'; status: number; reason: string };

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// The target is visible ASCII only (RFC 3986 has no control characters, DEL or bytes over 0x7F; IIS answers 400):
// checked by this pass over the line, not a second one.
const REQUEST_LINE_RE = /^([^ ]+) ([!-~]+) HTTP\/(\d+)\.(\d+)$/;
// Field values: visible ASCII, obs-text (0x80-0xFF), space and tab; no other control characters.
const BAD_VALUE_CHAR_RE = /[\x00-\x08\x0a-\x1f\x7f]/;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
// RFC 9110 §7.2 Host: uri-host [ ":" port ], uri-host an IP literal in brackets or a reg-name (may be empty).
const HOST_RE = /^(?:\[[\w.:%~!$&'()*+,;=-]+\]|[\w.%~!$&'()*+,;=-]*)(?::\d*)?$/;

function error(status: number, reason: string): HeadParseResult {
  return { kind: 'error', status, reason };
}

/** Wire text for a refusal reason, which goes back in the answer and into the logs: quoted, cut, ASCII only. */
function quote(text: string, max: number): string {
  return JSON.stringify(text.slice(0, max)).replace(/[\x7f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function parseRequestHead(buffer: Buffer, limits: Pick<HttpLimits, 'maxHeaderBytes' | 'maxHeaderCount'>): HeadParseResult {
  // RFC 9112 §2.2: a server should ignore at least one empty line before the request line.
  let start = 0;
  while (start + 1 < buffer.length && buffer[start] === 0x0d && buffer[start + 1] === 0x0a) start += 2;
  if (start < buffer.length && buffer[start] === 0x0a) return error(400, 'bare LF before the request line');
  const end = buffer.indexOf(CRLFCRLF, start);
  if (end < 0) {
    if (buffer.length - start > limits.maxHeaderBytes) return error(431, `request head over ${limits.maxHeaderBytes} bytes`);
    // A head ended by bare LFs (or CRs) would never show a CRLFCRLF: refuse it now, as IIS does, not at the idle timer.
    if (hasBareLineBreak(buffer, start)) return error(400, 'bare CR or LF in the request head');
    // A request line that is plainly not HTTP need not wait for more bytes.
    const firstLineEnd = buffer.indexOf('\r\n', start, 'latin1');
    if (firstLineEnd >= 0) {
      const problem = requestLineProblem(buffer.toString('latin1', start, firstLineEnd));
      if (problem) return problem;
    }
    return { kind: 'incomplete' };
  }
  const headBytes = end - start;
  if (headBytes > limits.maxHeaderBytes) return error(431, `request head over ${limits.maxHeaderBytes} bytes`);
  const text = buffer.toString('latin1', start, end);
  const lines = text.split('\r\n');
  const requestLine = lines[0] ?? '';
  const problem = requestLineProblem(requestLine);
  if (problem) return problem;
  const match = REQUEST_LINE_RE.exec(requestLine)!;
  const method = match[1]!;
  const target = match[2]!;
  const version = `HTTP/${match[3]}.${match[4]}` as RequestHead['version'];

  const headerLines = lines.slice(1);
  if (headerLines.length > limits.maxHeaderCount) return error(431, `more than ${limits.maxHeaderCount} header lines`);
  const headers: Record<string, string> = {};
  const rawHeaders: Array<[string, string]> = [];
  const contentLengths: string[] = [];
  for (const line of headerLines) {
    if (line.includes('\n') || line.includes('\r')) return error(400, 'bare CR or LF in a header line');
    if (line.startsWith(' ') || line.startsWith('\t')) return error(400, 'obsolete header line folding');
    const colon = line.indexOf(':');
    if (colon <= 0) return error(400, `header line without a name: ${quote(line, 40)}`);
    const name = line.slice(0, colon);
    if (!TOKEN_RE.test(name)) return error(400, `malformed header name ${quote(name, 40)}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (BAD_VALUE_CHAR_RE.test(value)) return error(400, `control character in header ${name}`);
    rawHeaders.push([name, value]);
    const key = name.toLowerCase();
    // RFC 9112 §3.2: more than one Host line is a 400 (joined, they would name no host).
    if (key === 'host' && headers.host !== undefined) return error(400, 'more than one Host header');
    if (key === 'content-length') contentLengths.push(...value.split(',').map((v) => v.trim()));
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }

  if (version === 'HTTP/1.1' && headers.host === undefined) return error(400, 'HTTP/1.1 request without a Host header');
  if (headers.host !== undefined && !HOST_RE.test(headers.host)) return error(400, 'invalid Host header');
  if (headers['transfer-encoding'] !== undefined) {
    return error(411, 'Transfer-Encoding request bodies are not supported; send Content-Length');
  }
  let contentLength = 0;
  if (contentLengths.length > 0) {
    const first = contentLengths[0]!;
    if (!/^[0-9]{1,15}$/.test(first) || contentLengths.some((v) => v !== first)) {
      return error(400, `malformed Content-Length ${quote(headers['content-length']!, 80)}`);
    }
    contentLength = Number(first);
  }

  const connection = (headers.connection ?? '').toLowerCase().split(',').map((v) => v.trim());
  const keepAlive = version === 'HTTP/1.1' ? !connection.includes('close') : connection.includes('keep-alive');
  const expectContinue = (headers.expect ?? '').toLowerCase() === '100-continue';

  const { path, query } = splitTarget(target);
  return {
    kind: 'head',
    head: { method, target, path, query, version, headers, rawHeaders, contentLength, keepAlive, expectContinue },
    consumed: end + CRLFCRLF.length,
  };
}

/**
 * Whether the head so far has an LF without its CR or a CR without its LF. A CR as the last byte may be half of a
 * CRLF still arriving. Only heads still incomplete get here: native byte searches, no decoding.
 */
function hasBareLineBreak(buffer: Buffer, start: number): boolean {
  for (let i = buffer.indexOf(0x0a, start); i >= 0; i = buffer.indexOf(0x0a, i + 1)) {
    if (i === start || buffer[i - 1] !== 0x0d) return true;
  }
  for (let i = buffer.indexOf(0x0d, start); i >= 0 && i + 1 < buffer.length; i = buffer.indexOf(0x0d, i + 1)) {
    if (buffer[i + 1] !== 0x0a) return true;
  }
  return false;
}

function requestLineProblem(line: string): HeadParseResult | undefined {
  const match = REQUEST_LINE_RE.exec(line);
  if (!match) {
    // Not echoed: the reason goes back in the answer's body and into the logs.
    if (/^[^ ]+ [^ ]+ HTTP\/\d+\.\d+$/.test(line)) return error(400, 'control character or non-ASCII byte in the request target');
    return error(400, `malformed request line ${quote(line, 80)}`);
  }
  if (!TOKEN_RE.test(match[1]!)) return error(400, `malformed method ${quote(match[1]!, 40)}`);
  if (match[3] !== '1' || (match[4] !== '0' && match[4] !== '1')) return error(505, `HTTP version ${match[3]}.${match[4]} not supported`);
  const target = match[2]!;
  if (!target.startsWith('/') && target !== '*' && !/^https?:\/\//i.test(target)) {
    return error(400, `malformed request target ${quote(target, 80)}`);
  }
  return undefined;
}

/** Splits an origin-form or absolute-form target into path and query. */
export function splitTarget(target: string): { path: string; query: string } {
  let rest = target;
  const absolute = /^https?:\/\/[^/?#]*/i.exec(rest);
  if (absolute) rest = rest.slice(absolute[0].length) || '/';
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  return q < 0 ? { path: rest, query: '' } : { path: rest.slice(0, q), query: rest.slice(q + 1) };
}
