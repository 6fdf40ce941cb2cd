/**
 * Owns starting the site's servers on loopback: the MP over HTTP and the CMG over HTTPS with the site's CMG
 * certificate (issued by the SMS Issuing root; clients check it with SNI = the CMG host), both on our own HTTP/1.1
 * front. Every request reads site state from the store, so changes made by the CLI in another process apply at
 * once. A fault hook (for fleet runs) is consulted per request before any handler.
 */
import type { Clock } from '../clock/clock.js';
import type { Site } from './site.js';
import { startHttpServer, type HttpServer } from './http/http-server.js';
import type { HttpLimits, HttpRequest, HttpResponse } from './http/http-types.js';
import { ServerLogs } from './server-logs.js';
import { createMpEndpoints } from './mp-endpoints.js';
import { createCmgEndpoints } from './cmg-endpoints.js';
import { activeCertificate, privateKeyOf } from './site-pki.js';
import type { SiteServerAddresses } from './mp-info.js';
import { IisLog } from './iis-log.js';
import { presentedTokenSecrets } from './request-auth.js';

/** What a fault hook sees of a request. */
export interface FaultRequest {
  server: 'mp' | 'cmg';
  method: string;
  path: string;
  headers: Readonly<Record<string, string>>;
}

/** 'ok' serves normally; '503' answers Service Unavailable; 'reset' drops the connection; delayMs waits (site clock) first. */
export type FaultDecision = 'ok' | '503' | 'reset' | { delayMs: number };
export type FaultHook = (req: FaultRequest) => FaultDecision | Promise<FaultDecision>;

export interface SiteServersOptions {
  host: string;
  /** 0 (default) picks a free port. */
  mpPort?: number;
  cmgPort?: number;
  /** Defaults to the site's clock. */
  clock?: Clock;
  faults?: FaultHook;
  /** IANA zone the server logs are printed in (default UTC). */
  timeZone?: string;
  limits?: Partial<HttpLimits>;
  /** Server log rollover (bytes / history files). */
  logMaxSize?: number;
  logMaxHistory?: number;
  /** Server logs written once per event-loop turn rather than per line (fleets); see ServerLogsOptions. */
  batchLogWrites?: boolean;
}

export interface SiteServers {
  mpUrl: string;
  /** `https://<CMG host>:<port>/CCM_Proxy_MutualAuth/<id>`: the host name must be mapped to `host` by the client. */
  cmgUrl: string;
  mpPort: number;
  cmgPort: number;
  host: string;
  logs: ServerLogs;
  close(): Promise<void>;
}

export async function startSiteServers(site: Site, options: SiteServersOptions): Promise<SiteServers> {
  const clock = options.clock ?? site.clock;
  const logs = new ServerLogs({
    paths: site.paths,
    clock,
    ...(options.timeZone !== undefined ? { timeZone: options.timeZone } : {}),
    ...(options.logMaxSize !== undefined ? { maxSize: options.logMaxSize } : {}),
    ...(options.logMaxHistory !== undefined ? { maxHistory: options.logMaxHistory } : {}),
    ...(options.batchLogWrites === true ? { batchWrites: true } : {}),
  });
  logs.checkWritable();
  // The MP's IIS access log: one line per request, whatever its fate, including those the CMG forwards.
  const iis = new IisLog(site.paths, { batchWrites: options.batchLogWrites === true });
  iis.checkWritable(clock.now());
  let addresses: SiteServerAddresses = { mpUrl: '', cmgUrl: undefined, cmgAddress: undefined, cmgPort: undefined };
  const mp = createMpEndpoints({ site, logs, addresses: () => addresses });
  const cmg = createCmgEndpoints({
    site,
    logs,
    mp,
    // Forwarded requests reach the MP from the CMG connection point (on the site server), on the MP's port 80.
    onForwarded: (req, mpPath, status, startedMs) =>
      iisLine(
        { method: req.method, path: mpPath, query: req.query, remoteAddress: options.host, userAgent: req.headers['user-agent'], serverPort: 80, secrets: presentedTokenSecrets(req) },
        status,
        startedMs,
      ),
  });

  const withFaults =
    (server: 'mp' | 'cmg', handler: (req: HttpRequest) => Promise<HttpResponse>) =>
    async (req: HttpRequest): Promise<HttpResponse | 'reset'> => {
      if (options.faults) {
        const decision = await options.faults({ server, method: req.method, path: req.path, headers: req.headers });
        if (decision === 'reset') return 'reset';
        if (decision === '503') {
          return { status: 503, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '60' }, body: '503 Service Unavailable\r\n' };
        }
        if (typeof decision === 'object' && decision.delayMs > 0) await clock.sleep(decision.delayMs);
      }
      return handler(req);
    };

  const iisLine = (
    req: { method: string; path: string; query: string; remoteAddress: string; userAgent: string | undefined; serverPort: number; secrets?: string[] },
    status: number,
    started: number,
  ): void => {
    iis.write({
      timeMs: clock.now(),
      serverIp: options.host,
      method: req.method,
      path: req.path,
      query: req.query,
      serverPort: req.serverPort,
      clientIp: req.remoteAddress.replace(/^::ffff:/, ''),
      userAgent: req.userAgent,
      status,
      timeTakenMs: clock.now() - started,
      secrets: req.secrets ?? [],
    });
  };
  const mpHandler = withFaults('mp', (req) => mp.handle({ http: req, via: 'mp', path: req.path }));
  const loggedMpHandler = async (req: HttpRequest): Promise<HttpResponse | 'reset'> => {
    const started = clock.now();
    const line = {
      method: req.method,
      path: req.path,
      query: req.query,
      remoteAddress: req.remoteAddress,
      userAgent: req.headers['user-agent'],
      serverPort: portOfHost(req.headers['host']),
      secrets: presentedTokenSecrets(req),
    };
    let res: HttpResponse | 'reset';
    try {
      res = await mpHandler(req);
    } catch (err) {
      iisLine(line, 500, started);
      throw err;
    }
    if (res !== 'reset') iisLine(line, res.status, started);
    return res;
  };

  const onHandlerError = (server: 'mp' | 'cmg') => (err: unknown, req: HttpRequest) => {
    const what = err instanceof Error ? err.message : String(err);
    logs.write(server === 'mp' ? 'CcmIsapi' : 'CMGService', `Internal error serving ${req.method} ${req.path}: ${what}`, 3);
  };
  const onRefusal = (server: 'mp' | 'cmg') => (r: { status: number; reason: string; remoteAddress: string; requestLine?: string }) => {
    logs.write(server === 'mp' ? 'CcmIsapi' : 'CMGService', `HTTP ${r.status} to ${r.remoteAddress}: ${r.reason}`, 2);
    if (server === 'mp') {
      const [method = '-', target = '-'] = (r.requestLine ?? '').split(' ');
      const q = target.indexOf('?');
      const path = q < 0 ? target : target.slice(0, q);
      iisLine({ method, path, query: q < 0 ? '' : target.slice(q + 1), remoteAddress: r.remoteAddress, userAgent: undefined, serverPort: 80 }, r.status, clock.now());
    }
  };

  let mpServer: HttpServer;
  try {
    mpServer = await startHttpServer({
      host: options.host,
      port: options.mpPort ?? 0,
      now: () => clock.now(),
      handler: loggedMpHandler,
      ...(options.limits ? { limits: options.limits } : {}),
      onHandlerError: onHandlerError('mp'),
      onRefusal: onRefusal('mp'),
    });
  } catch (err) {
    // A port in use or an unusable host: the logs opened above must not keep the process (or their files) open.
    logs.close();
    iis.close();
    throw err;
  }
  let cmgServer: HttpServer;
  try {
    const cmgCert = activeCertificate(site.db, 'cmg-server');
    const rootCert = activeCertificate(site.db, 'issuing-root');
    cmgServer = await startHttpServer({
      host: options.host,
      port: options.cmgPort ?? 0,
      now: () => clock.now(),
      // Chain: the CMG certificate, then the root that issued it.
      tls: { cert: `${cmgCert.pem.trim()}\n${rootCert.pem.trim()}\n`, key: privateKeyOf(site.paths, cmgCert), requestClientCertificate: true },
      handler: withFaults('cmg', (req) => cmg.handle(req)),
      ...(options.limits ? { limits: options.limits } : {}),
      onHandlerError: onHandlerError('cmg'),
      onRefusal: onRefusal('cmg'),
      onTlsError: (err) => logs.write('CMGService', `TLS handshake failed: ${err.message}`, 2),
    });
  } catch (err) {
    await mpServer.close();
    logs.close();
    iis.close();
    throw err;
  }
  const config = site.config();
  const mpUrl = `http://${options.host}:${mpServer.port}`;
  const cmgUrl = `https://${config.cmgHost}:${cmgServer.port}/CCM_Proxy_MutualAuth/${config.cmgId}`;
  addresses = { mpUrl, cmgUrl, cmgAddress: options.host, cmgPort: cmgServer.port };

  let closing: Promise<void> | undefined;
  return {
    mpUrl,
    cmgUrl,
    mpPort: mpServer.port,
    cmgPort: cmgServer.port,
    host: options.host,
    logs,
    close: () => {
      closing ??= (async () => {
        await Promise.all([mpServer.close(), cmgServer.close()]);
        logs.close();
        iis.close();
      })();
      return closing;
    },
  };
}

/**
 * s-port as IIS logs it: the port the client addressed (the Host header's, else HTTP's 80), not the loopback port the
 * simulated network maps MP01.CONTOSO.COM:80 to.
 */
function portOfHost(host: string | undefined): number {
  const m = /:(\d{1,5})$/.exec(host ?? '');
  return m ? Number(m[1]) : 80;
}
