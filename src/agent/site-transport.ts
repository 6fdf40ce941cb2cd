/**
 * Owns the agent's HTTP and HTTPS: requests are addressed with the real host names (`MP01.CONTOSO.COM`,
 * `CONTOSO.CLOUDAPP.NET`) and go to the address and port a host map names, with the Host header, TLS SNI and the
 * certificate check all using the real name and the site's root as the only trusted CA. One transport (undici pools)
 * is shared by every agent that talks to the same site, so a fleet does not open a pool per agent.
 */
import { Pool } from 'undici';
import { CcmsimError, HRESULT } from '../errors.js';

export interface HostTarget {
  /** Address to connect to, e.g. 127.0.0.1. */
  address: string;
  port: number;
}

export interface SiteEndpoints {
  /** The MP as clients name it, e.g. `http://MP01.CONTOSO.COM`. */
  mpUrl: string;
  /** The CMG as clients name it, e.g. `https://CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500`. */
  cmgUrl: string;
  /** PEM of the site's SMS Issuing root: the only CA the agent trusts for HTTPS. */
  trustedRootPem: string;
  /** Real host name (any case) → where it really listens. Hosts not in the map are refused as unreachable. */
  hostMap: Record<string, HostTarget>;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface HttpRequest {
  method: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface SiteTransport {
  readonly endpoints: SiteEndpoints;
  request(url: string, init: HttpRequest): Promise<HttpReply>;
  close(): Promise<void>;
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|CERT_|HOSTNAME_MISMATCH)/;

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

function errorMessages(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e instanceof Error; i++) {
    parts.push(e.message);
    e = e.cause;
  }
  return parts.filter(Boolean).join(': ');
}

/** Turns a socket or TLS failure into the error a real client reports (WinHTTP's HRESULTs). */
export function classifyNetworkError(err: unknown, url: string): CcmsimError {
  const codes = errorCodes(err);
  const detail = errorMessages(err) || codes.join(', ') || 'connection failed';
  if (codes.some((c) => TLS_CODES.test(c)) || /certificate|TLS|SSL/i.test(detail)) {
    return new CcmsimError('CCMSIM_TLS_FAILURE', `TLS failure talking to ${url}: ${detail}`, {
      hresult: HRESULT.WINHTTP_SECURE_FAILURE,
      cause: err,
    });
  }
  return new CcmsimError('CCMSIM_SITE_UNREACHABLE', `cannot reach ${url}: ${detail}`, {
    hresult: HRESULT.WINHTTP_CANNOT_CONNECT,
    cause: err,
  });
}

/** The host of `urlText` as it was given: `new URL` lower-cases it, and Windows (and its logs) show it as configured. */
export function hostAsGiven(urlText: string): string {
  return /^[a-z]+:\/\/([^/:?#]+)/i.exec(urlText)?.[1] ?? new URL(urlText).hostname;
}

export function createSiteTransport(endpoints: SiteEndpoints, options: { timeoutMs?: number } = {}): SiteTransport {
  const pools = new Map<string, Pool>();
  const map = new Map(Object.entries(endpoints.hostMap).map(([k, v]) => [k.toLowerCase(), v]));
  // A single-label name (NetBIOS, as in /mp:MP01) resolves as Windows' DNS suffix search would: to the one known FQDN
  // whose first label it is. Two FQDNs sharing a first label leave the short name unresolved.
  const shortNames = new Map<string, HostTarget | undefined>();
  for (const [fqdn, target] of map) {
    const label = fqdn.split('.')[0]!;
    if (label === fqdn || map.has(label)) continue;
    shortNames.set(label, shortNames.has(label) ? undefined : target);
  }
  for (const [label, target] of shortNames) if (target !== undefined) map.set(label, target);
  const timeout = options.timeoutMs ?? 30_000;

  function poolFor(url: URL, urlText: string): Pool {
    const host = url.hostname.toLowerCase();
    const target = map.get(host);
    if (!target) {
      throw new CcmsimError('CCMSIM_SITE_UNREACHABLE', `cannot resolve ${hostAsGiven(urlText)}: the host is not known to this simulated network`, {
        hresult: HRESULT.WINHTTP_NAME_NOT_RESOLVED,
      });
    }
    const key = `${url.protocol}//${host}`;
    let pool = pools.get(key);
    if (!pool) {
      const origin = `${url.protocol}//${target.address}:${target.port}`;
      pool = new Pool(origin, {
        // A fleet's agents all share this transport: with 8 connections per origin the site thread sat waiting while
        // requests queued behind busy connections (docs/fleet.md, bench figures). Undici opens connections as
        // requests need them, so a single agent uses one or two.
        connections: 32,
        connectTimeout: timeout,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        ...(url.protocol === 'https:'
          ? { connect: { servername: url.hostname, ca: endpoints.trustedRootPem, rejectUnauthorized: true } }
          : {}),
      });
      pools.set(key, pool);
    }
    return pool;
  }

  return {
    endpoints,
    async request(urlText, init) {
      const url = new URL(urlText);
      const pool = poolFor(url, urlText);
      const hostHeader = url.port ? `${url.hostname}:${url.port}` : url.hostname;
      try {
        const res = await pool.request({
          method: init.method as 'GET',
          path: `${url.pathname}${url.search}`,
          headers: { host: hostHeader, 'user-agent': 'ccmhttp', ...(init.headers ?? {}) },
          ...(init.body !== undefined ? { body: init.body } : {}),
          // undici closes the socket after a body sent with a method it does not know (CCM_POST): keep it alive.
          reset: false,
        });
        const body = Buffer.from(await res.body.arrayBuffer());
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
        }
        return { status: res.statusCode, headers, body };
      } catch (err) {
        throw classifyNetworkError(err, urlText);
      }
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.close().catch(() => undefined)));
    },
  };
}
