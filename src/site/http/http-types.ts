/**
 * Owns the shapes that pass between the HTTP/1.1 front (`request-parser`, `http-server`) and the site's handlers:
 * a fully read request, the answer a handler gives, and the front's limits.
 */

export interface HttpRequest {
  /** As sent, case kept (`CCM_POST`, `GET`). */
  method: string;
  /** The request target exactly as on the request line (`/SMS_MP/.sms_aut?MPLIST`). */
  target: string;
  /** The path part of the target, percent-decoding not applied. */
  path: string;
  /** The query part without `?`, or '' when there is none. */
  query: string;
  /** `HTTP/1.1` or `HTTP/1.0`. */
  version: string;
  /** Header names lower-cased; repeated headers joined with `, ` (as Node does). */
  headers: Record<string, string>;
  /** Header lines as received (name case kept), for logs. */
  rawHeaders: Array<[string, string]>;
  body: Buffer;
  remoteAddress: string;
  remotePort: number;
  /** Set on connections that came in over TLS. */
  tls?: {
    /** The SNI host name the client asked for. */
    servername: string | undefined;
    /** True when the client presented a certificate (MutualAuth). */
    clientCertificate: boolean;
    /** SHA-1 thumbprint (upper hex) of the client certificate, when one was presented. */
    clientCertificateThumbprint?: string;
  };
  /** Which request this is on its connection (1 for the first). */
  sequence: number;
}

export interface HttpResponse {
  status: number;
  /** Extra headers. `Content-Length`, `Date`, `Server` and `Connection` are set by the writer. */
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Close the connection after this answer. */
  close?: boolean;
}

export type HttpHandler = (req: HttpRequest) => Promise<HttpResponse | 'reset'>;

export interface HttpLimits {
  /** Request line + header lines, bytes; over it the answer is 431. */
  maxHeaderBytes: number;
  /** Body bytes (Content-Length); over it the answer is 413. */
  maxBodyBytes: number;
  /** Most header lines in one request; over it the answer is 431. */
  maxHeaderCount: number;
  /** A connection with no bytes moving for this long is closed (408 when a request was half read). */
  idleTimeoutMs: number;
  /** Requests served on one connection before the server closes it. */
  maxRequestsPerConnection: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  // IIS's default MaxRequestBytes is 16 KiB for the request line and headers.
  maxHeaderBytes: 16 * 1024,
  // A registration with two certificates is a few KiB; 4 MiB leaves room for big STS or DDR bodies.
  maxBodyBytes: 4 * 1024 * 1024,
  maxHeaderCount: 100,
  // IIS's connectionTimeout default is 120 s.
  idleTimeoutMs: 120_000,
  maxRequestsPerConnection: 1000,
};
