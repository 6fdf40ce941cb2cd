/**
 * Owns the site's HTTP/1.1 server over `net` (the MP) or `tls` (the CMG): connections, keep-alive, Content-Length
 * bodies, the size limits (413 / 431), malformed requests (400), idle timeouts (408 when a request was half read) and
 * a clean close. One request at a time per connection; bytes pipelined behind it wait in the buffer and are served
 * in order after the answer.
 *
 * Idle timeouts are socket inactivity timers (real I/O time), not site-clock time: they exist to free sockets.
 */
import { createHash } from 'node:crypto';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { KeyObject } from 'node:crypto';
import { parseRequestHead } from './request-parser.js';
import { serializeResponse } from './response-writer.js';
import { DEFAULT_HTTP_LIMITS, type HttpHandler, type HttpLimits, type HttpRequest, type HttpResponse } from './http-types.js';

export interface HttpServerTls {
  /** PEM certificate chain the server presents. */
  cert: string;
  key: string | KeyObject;
  /** Ask clients for a certificate (MutualAuth); any certificate or none is accepted at the TLS layer. */
  requestClientCertificate?: boolean;
}

/** A request the front refused before any handler saw it. */
export interface ProtocolRefusal {
  status: number;
  reason: string;
  remoteAddress: string;
  /** The request line, when one was read. */
  requestLine?: string;
}

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  tls?: HttpServerTls;
  handler: HttpHandler;
  limits?: Partial<HttpLimits>;
  /** Epoch ms for Date headers (the site's clock). */
  now: () => number;
  onRefusal?: (refusal: ProtocolRefusal) => void;
  /** A handler threw: the client got a 500. */
  onHandlerError?: (err: unknown, req: HttpRequest) => void;
  onTlsError?: (err: Error) => void;
}

export interface HttpServer {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  /** Open connections (for tests and shutdown). */
  connectionCount(): number;
  /** Stops accepting, lets answers in progress finish (up to `graceMs`), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

interface Connection {
  socket: Socket;
  buffer: Buffer;
  busy: boolean;
  closing: boolean;
  sequence: number;
  continueSent: boolean;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const connections = new Set<Connection>();
  let shuttingDown = false;
  let onDrained: (() => void) | undefined;

  const onSocket = (socket: Socket): void => {
    const conn: Connection = { socket, buffer: Buffer.alloc(0), busy: false, closing: false, sequence: 0, continueSent: false };
    connections.add(conn);
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleTimeoutMs);
    socket.on('timeout', () => {
      if (conn.busy) return; // the handler answers in its own time
      if (conn.buffer.length > 0 && !conn.closing) {
        refuse(conn, 408, 'idle timeout with a request half read');
      } else {
        socket.destroy();
      }
    });
    socket.on('data', (chunk: Buffer) => {
      if (conn.closing) return; // draining after a refusal
      conn.buffer = conn.buffer.length === 0 ? chunk : Buffer.concat([conn.buffer, chunk]);
      if (!conn.busy) pump(conn);
    });
    socket.on('error', () => {
      // Resets by the peer are normal (clients that give up, fault injection); the socket is gone either way.
    });
    socket.on('close', () => {
      connections.delete(conn);
      if (connections.size === 0) onDrained?.();
    });
    if (shuttingDown) socket.destroy();
  };

  const remote = (conn: Connection): string => conn.socket.remoteAddress ?? 'unknown';

  const refuse = (conn: Connection, status: number, reason: string, requestLine?: string): void => {
    quietly(() => options.onRefusal?.({ status, reason, remoteAddress: remote(conn), ...(requestLine !== undefined ? { requestLine } : {}) }));
    const body = `${status} ${reason}\r\n`;
    writeAndClose(conn, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body });
  };

  const writeAndClose = (conn: Connection, res: HttpResponse): void => {
    conn.closing = true;
    conn.buffer = Buffer.alloc(0);
    const bytes = serializeResponse({ ...res, close: true }, { nowMs: options.now(), keepAlive: false });
    // end() half-closes: the client can still read the answer while we discard what it keeps sending.
    conn.socket.end(bytes);
    conn.socket.resume();
    // Do not wait forever for a client that never closes its side.
    conn.socket.setTimeout(Math.min(limits.idleTimeoutMs, 5000), () => conn.socket.destroy());
  };

  const pump = (conn: Connection): void => {
    while (!conn.busy && !conn.closing && conn.buffer.length > 0) {
      const parsed = parseRequestHead(conn.buffer, limits);
      if (parsed.kind === 'incomplete') return;
      if (parsed.kind === 'error') {
        // The request line ends at the first CR or LF: a head refused for a bare LF still names its request.
        const lf = conn.buffer.indexOf(0x0a);
        const cr = conn.buffer.indexOf(0x0d);
        const lineEnd = cr >= 0 && (lf < 0 || cr < lf) ? cr : lf;
        refuse(conn, parsed.status, parsed.reason, lineEnd > 0 ? conn.buffer.toString('latin1', 0, Math.min(lineEnd, 200)) : undefined);
        return;
      }
      const { head, consumed } = parsed;
      const requestLine = `${head.method} ${head.target} ${head.version}`;
      if (head.contentLength > limits.maxBodyBytes) {
        refuse(conn, 413, `body of ${head.contentLength} bytes over the ${limits.maxBodyBytes}-byte limit`, requestLine);
        return;
      }
      const total = consumed + head.contentLength;
      if (conn.buffer.length < total) {
        if (head.expectContinue && !conn.continueSent) {
          conn.continueSent = true;
          conn.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        }
        return;
      }
      const body = Buffer.from(conn.buffer.subarray(consumed, total));
      conn.buffer = conn.buffer.subarray(total);
      conn.continueSent = false;
      conn.sequence += 1;
      const req: HttpRequest = {
        method: head.method,
        target: head.target,
        path: head.path,
        query: head.query,
        version: head.version,
        headers: head.headers,
        rawHeaders: head.rawHeaders,
        body,
        remoteAddress: remote(conn),
        remotePort: conn.socket.remotePort ?? 0,
        sequence: conn.sequence,
        ...(options.tls ? { tls: tlsInfo(conn.socket as TLSSocket) } : {}),
      };
      const keepAlive = head.keepAlive && !shuttingDown && conn.sequence < limits.maxRequestsPerConnection;
      conn.busy = true;
      conn.socket.pause();
      void serve(conn, req, keepAlive, head.method.toUpperCase() === 'HEAD');
    }
  };

  const serve = async (conn: Connection, req: HttpRequest, keepAlive: boolean, headOnly: boolean): Promise<void> => {
    const internalError: HttpResponse = { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: '500 Internal Server Error\r\n', close: true };
    let res: HttpResponse | 'reset';
    try {
      res = await options.handler(req);
    } catch (err) {
      quietly(() => options.onHandlerError?.(err, req));
      res = internalError;
    }
    if (conn.socket.destroyed) {
      conn.busy = false;
      return;
    }
    if (res === 'reset') {
      resetSocket(conn.socket);
      conn.busy = false;
      return;
    }
    let stayOpen = keepAlive && !res.close && !shuttingDown;
    let bytes: Buffer;
    try {
      bytes = serializeResponse(res, { nowMs: options.now(), keepAlive: stayOpen, headOnly });
    } catch (err) {
      // A handler answer the writer cannot carry (a line break in a header) is a server bug: 500, never a crash.
      quietly(() => options.onHandlerError?.(err, req));
      stayOpen = false;
      bytes = serializeResponse(internalError, { nowMs: options.now(), keepAlive: false, headOnly });
    }
    conn.busy = false;
    if (!stayOpen) {
      conn.closing = true;
      conn.socket.end(bytes);
      conn.socket.resume();
      return;
    }
    conn.socket.write(bytes);
    conn.socket.resume();
    pump(conn);
  };

  const server: NetServer = options.tls
    ? createTlsServer(
        {
          cert: options.tls.cert,
          key: typeof options.tls.key === 'string' ? options.tls.key : (options.tls.key.export({ type: 'pkcs8', format: 'pem' }) as string),
          requestCert: options.tls.requestClientCertificate === true,
          rejectUnauthorized: false,
          minVersion: 'TLSv1.2',
        },
        onSocket,
      )
    : createNetServer(onSocket);
  if (options.tls) {
    server.on('tlsClientError', (err: Error) => quietly(() => options.onTlsError?.(err)));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  return {
    host: options.host,
    port,
    secure: options.tls !== undefined,
    connectionCount: () => connections.size,
    close: async (graceMs = 2000) => {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Busy connections finish their answer; serve() sees shuttingDown and closes after it.
      for (const conn of connections) if (!conn.busy) conn.socket.destroy();
      if (connections.size > 0) {
        // Event-driven (no polling on unref'd timers), so a bare CLI process cannot exit with the close pending.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            for (const conn of connections) conn.socket.destroy();
            resolve();
          }, graceMs);
          onDrained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await closed;
    },
  };
}

function tlsInfo(socket: TLSSocket): NonNullable<HttpRequest['tls']> {
  const servername = typeof socket.servername === 'string' ? socket.servername : undefined;
  const peer = socket.getPeerCertificate?.();
  const raw = peer && 'raw' in peer ? (peer.raw as Buffer | undefined) : undefined;
  if (raw && raw.length > 0) {
    return {
      servername,
      clientCertificate: true,
      clientCertificateThumbprint: createHash('sha1').update(raw).digest('hex').toUpperCase(),
    };
  }
  return { servername, clientCertificate: false };
}

/** Runs a reporting callback; a failure there (a log that cannot be written) must not take the server down. */
function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Nothing sensible to do: the answer to the client does not depend on the report.
  }
}

function resetSocket(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
