/**
 * Owns turning a handler's answer into HTTP/1.1 response bytes: status line, headers (Date from the site's clock,
 * Server like IIS, Content-Length always, Connection when closing) and body.
 */
import type { HttpResponse } from './http-types.js';

const REASONS: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  411: 'Length Required',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

export const SERVER_HEADER = 'Microsoft-IIS/10.0';

export interface WriteOptions {
  /** Epoch ms for the Date header (the site's clock). */
  nowMs: number;
  keepAlive: boolean;
  /** HEAD: headers only, Content-Length still the body's. */
  headOnly?: boolean;
}

export function serializeResponse(res: HttpResponse, options: WriteOptions): Buffer {
  const body = res.body === undefined ? Buffer.alloc(0) : typeof res.body === 'string' ? Buffer.from(res.body, 'utf8') : res.body;
  const lines = [`HTTP/1.1 ${res.status} ${reasonPhrase(res.status)}`];
  const skip = new Set(['content-length', 'date', 'server', 'connection', 'transfer-encoding']);
  for (const [name, value] of Object.entries(res.headers ?? {})) {
    if (skip.has(name.toLowerCase())) continue;
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`header ${name} holds a line break`);
    lines.push(`${name}: ${value}`);
  }
  lines.push(`Content-Length: ${body.length}`);
  lines.push(`Server: ${SERVER_HEADER}`);
  lines.push(`Date: ${new Date(options.nowMs).toUTCString()}`);
  if (!options.keepAlive || res.close) lines.push('Connection: close');
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return options.headOnly ? head : Buffer.concat([head, body]);
}
