/**
 * Owns the cloud management gateway: `/CCM_Proxy_MutualAuth/<id>/…` and `/CCM_Proxy_ServerAuth/<id>/…`
 * (case-insensitive, as IIS). It refuses before forwarding (protocol.md §4.3): an unknown id (404), MutualAuth
 * without a client certificate (403; token clients have none and use ServerAuth), client settings that do not allow
 * the CMG (403 CCMSIM_CMG_NOT_ALLOWED), and on `ccm_system_tokenauth/request` and `CCM_STS` a missing or invalid
 * token (401/403). Accepted requests go to the MP's handlers in-process, logged like the CMG service and the CMG
 * connection point (CMGService.log, SMS_Cloud_ProxyConnector.log).
 */
import { CcmsimError, isCcmsimError } from '../errors.js';
import type { Site } from './site.js';
import type { HttpRequest, HttpResponse } from './http/http-types.js';
import { notFound, refusal as plainRefusal, stsRefusal } from './http/answers.js';
import { reasonPhrase } from './http/response-writer.js';
import type { ServerLogs, LogScope } from './server-logs.js';
import type { MpEndpoints } from './mp-endpoints.js';
import { authenticateTokenRequest, describeRefusal, presentedTokenSecrets, type RequestAuth } from './request-auth.js';

export interface CmgEndpointsOptions {
  site: Site;
  logs: ServerLogs;
  mp: MpEndpoints;
  /** Told of each request the connection point forwarded to the MP, with the MP's answer (the MP's IIS log lists them). */
  onForwarded?: (req: HttpRequest, mpPath: string, status: number, startedMs: number) => void;
}

export interface CmgEndpoints {
  handle(req: HttpRequest): Promise<HttpResponse>;
}

const PROXY_RE = /^\/ccm_proxy_(mutualauth|serverauth)\/([^/]+)(\/.*)?$/i;

interface UriStats {
  requests: number;
  requestBytes: number;
  responses: number;
  responseBytes: number;
  elapsedMs: number;
}

export function createCmgEndpoints(options: CmgEndpointsOptions): CmgEndpoints {
  const { site, logs, mp } = options;
  const stats = new Map<string, UriStats>();
  // Log-only IDs come from their own stream, so they do not shift the IDs the site hands out.
  const logRandom = site.random.fork('cmg-connector-log');
  let threadSeed = 0;

  const record = (uri: string, req: HttpRequest, res: HttpResponse, elapsedMs: number, scope: LogScope): void => {
    const s = stats.get(uri) ?? { requests: 0, requestBytes: 0, responses: 0, responseBytes: 0, elapsedMs: 0 };
    s.requests += 1;
    s.requestBytes += req.body.length + headBytes(req);
    s.responses += 1;
    s.responseBytes += res.body === undefined ? 0 : Buffer.byteLength(res.body);
    s.elapsedMs += elapsedMs;
    stats.set(uri, s);
    logs.write(
      'CMGService',
      `RequestUri: ${uri}  RequestCount: ${s.requests}  RequestSize: ${s.requestBytes} Bytes  ResponseCount: ${s.responses}  ` +
        `ResponseSize: ${s.responseBytes} Bytes  AverageElapsedTime: ${Math.round(s.elapsedMs / s.requests)} ms`,
      1,
      scope,
    );
  };

  return {
    async handle(req) {
      const started = site.clock.now();
      const scope: LogScope = { secrets: presentedTokenSecrets(req), threadSeed: threadSeed++ };
      const match = PROXY_RE.exec(req.path);
      if (!match) {
        logs.write('CMGService', `Rejected request for ${req.path}: not a proxy path.`, 2, scope);
        return notFound(req.path);
      }
      const mode = match[1]!.toLowerCase() as 'mutualauth' | 'serverauth';
      const id = match[2]!;
      const rest = match[3] ?? '/';
      const uri = `/CCM_PROXY_${mode.toUpperCase()}/${id}${rest.toUpperCase()}`;
      // Refusals of CCM_STS requests carry the CcmTokenResponse refusal body.
      const refusal = rest.toLowerCase() === '/ccm_sts' ? stsRefusal : plainRefusal;
      const finish = (res: HttpResponse): HttpResponse => {
        record(uri, req, res, site.clock.now() - started, scope);
        return res;
      };
      const config = site.config();
      if (id !== config.cmgId) {
        logs.write('CMGService', `Rejected request ${uri}: no management point is published with id ${id}.`, 2, scope);
        return finish(notFound(req.path));
      }
      if (mode === 'mutualauth' && !req.tls?.clientCertificate) {
        logs.write('CMGService', `Rejected request ${uri}: MutualAuth requires a client authentication certificate and none was presented.`, 2, scope);
        return finish(
          refusal(
            new CcmsimError('CCMSIM_CLIENT_CERT_REQUIRED', `${req.path}: MutualAuth needs a PKI client certificate; token clients use /CCM_Proxy_ServerAuth/${id}`, {
              httpStatus: 403,
            }),
          ),
        );
      }
      if (!config.cmgEnabled) {
        logs.write('CMGService', `Rejected request ${uri}: client settings do not allow clients to use the cloud management gateway.`, 2, scope);
        return finish(refusal(new CcmsimError('CCMSIM_CMG_NOT_ALLOWED', 'client settings do not enable clients to use a cloud management gateway', { httpStatus: 403 })));
      }
      const lowerRest = rest.toLowerCase();
      const tokenPath = lowerRest === '/ccm_system_tokenauth/request' || lowerRest === '/ccm_sts';
      let auth: RequestAuth = { kind: 'none' };
      if (mode === 'serverauth' && (tokenPath || req.method.toUpperCase() === 'CCM_POST')) {
        // The CMG does not forward requests from clients with an invalid token (protocol.md §4.3).
        try {
          auth = await authenticateTokenRequest(site, req, {
            logs,
            scope,
            via: 'cmg',
            purpose: lowerRest === '/ccm_sts' ? 'sts' : 'message',
          });
        } catch (err) {
          logs.write('CMGService', `Rejected request ${uri}: ${describeRefusal(err)}`, 2, scope);
          return finish(refusal(err));
        }
        if (auth.kind === 'none') {
          const err = new CcmsimError('CCMSIM_TOKEN_MALFORMED', `${req.path}: a token client must present a token (Authorization: Bearer)`, { httpStatus: 401 });
          logs.write('CMGService', `Rejected request ${uri}: no token presented.`, 2, scope);
          return finish(refusal(err));
        }
      }
      const mpUrl = `http://${config.mpHost}${rest}`;
      const messageId = logRandom.uuid();
      logs.write(
        'SMS_CLOUD_PROXYCONNECTOR',
        `Switched to internal URL. Replaced 'https://${config.cmgHost}${req.path}' in 'https://${config.cmgHost}${req.target}' with '${mpUrl}'`,
        0,
        scope,
      );
      let res: HttpResponse;
      const forwardedAt = site.clock.now();
      try {
        res = await mp.handle({ http: req, via: 'cmg', path: rest, auth, scope, cmgMode: mode });
      } catch (err) {
        if (!isCcmsimError(err)) throw err;
        res = refusal(err);
      }
      options.onForwarded?.(req, rest, res.status, forwardedAt);
      logs.write(
        'SMS_CLOUD_PROXYCONNECTOR',
        `MessageID: ${messageId} RequestURI: ${mpUrl} EndpointName: ${endpointName(rest)} ResponseHeader: HTTP/1.1 ${res.status} ${reasonPhrase(res.status)} ~~ ` +
          `ResponseBodySize: ${res.body === undefined ? 0 : Buffer.byteLength(res.body)} ElapsedTime: ${site.clock.now() - started} ms`,
        1,
        scope,
      );
      return finish(res);
    },
  };
}

function headBytes(req: HttpRequest): number {
  let n = req.method.length + req.target.length + 12;
  for (const [k, v] of req.rawHeaders) n += k.length + v.length + 4;
  return n;
}

/** The connector's EndpointName: the first path segment (`CCM_STS`, `ccm_system_tokenauth`, `SMS_MP`). */
function endpointName(rest: string): string {
  return rest.split('/').filter(Boolean)[0] ?? '/';
}
