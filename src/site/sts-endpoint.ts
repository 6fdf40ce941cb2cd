/**
 * Owns the token service, `CCM_POST /CCM_STS` (docs/protocol.md, "Ours" 4): it issues a registered client its own
 * token. On the intranet MP a signature-authenticated client gets one when the site lets the MP issue tokens to
 * internal clients, and an expired token is renewed only here; through the CMG the first token needs a valid bulk
 * token and a renewal a valid client token (the CMG checked it before forwarding). Log lines follow the real
 * CCM_STS.log (`ProcessRequest - Start`, `Incoming request URL: …`, `Issued token`, `Return token to client`).
 */
import { CcmsimError, isCcmsimError } from '../errors.js';
import { buildStsResponse, parseStsRequest } from '../protocol/sts.js';
import type { Site } from './site.js';
import type { HttpRequest, HttpResponse } from './http/http-types.js';
import { stsRefusal } from './http/answers.js';
import type { LogScope, ServerLogs } from './server-logs.js';
import { issueClientToken, type IssueClientTokenOptions } from './client-tokens.js';
import { getClient } from './registrations.js';
import { authenticateTokenRequest, describeRefusal, type RequestAuth } from './request-auth.js';

export interface StsRequest {
  site: Site;
  logs: ServerLogs;
  req: HttpRequest;
  via: 'mp' | 'cmg';
  /** Set when the CMG authenticated the request before forwarding. */
  auth: RequestAuth | undefined;
  scope: LogScope;
}

export async function handleStsRequest(options: StsRequest): Promise<HttpResponse> {
  const { site, logs, req, via, scope } = options;
  const sts = (message: string, type: 1 | 2 | 3 = 1): void => logs.write('CCM_STS', message, type, scope);
  const config = site.config();
  sts('ProcessRequest - Start');
  sts(`Incoming request URL: http://${config.mpHost}/CCM_STS`);
  const fail = (err: unknown): HttpResponse => {
    sts(`ProcessRequest - Failed. ${describeRefusal(err)}`, 3);
    return stsRefusal(err);
  };

  let auth = options.auth;
  if (auth === undefined || via === 'mp') {
    try {
      auth = await authenticateTokenRequest(site, req, { logs, scope, via, purpose: 'sts' });
    } catch (err) {
      return fail(err);
    }
  }

  let parsed: ReturnType<typeof parseStsRequest>;
  try {
    parsed = parseStsRequest(req.body.toString('utf8'));
  } catch (err) {
    return fail(isCcmsimError(err) ? err : new CcmsimError('CCMSIM_PROTOCOL_MALFORMED', 'the CcmTokenRequest could not be parsed', { httpStatus: 400 }));
  }
  const smsId = parsed.smsId;
  sts(`Token request from '${smsId}', purpose ${parsed.purpose}, ${via === 'cmg' ? 'through the cloud management gateway' : 'on the intranet'}.`);

  let issue: IssueClientTokenOptions;
  switch (auth.kind) {
    case 'client':
      if (auth.client.smsId !== smsId) return fail(mismatch(`the client token belongs to ${auth.client.smsId}, not to ${smsId}`));
      issue = { via, presentedTokenId: auth.client.tokenId, registered: auth.caller.client };
      break;
    case 'bulk': {
      if (auth.caller && auth.caller.smsId !== smsId) return fail(mismatch(`the request is signed by ${auth.caller.smsId}, not by ${smsId}`));
      if (!auth.caller) {
        // Without signed headers, only the client registered with this very bulk token may ask.
        const client = getClient(site, smsId);
        if (!client || client.bulkTokenGuid !== auth.bulk.guid) {
          return fail(new CcmsimError('CCMSIM_TOKEN_UNKNOWN', `${smsId} was not registered with bulk registration token ${auth.bulk.guid}`, { httpStatus: 401 }));
        }
      }
      issue = { via, bulkTokenGuid: auth.bulk.guid, ...(auth.caller ? { registered: auth.caller.client } : {}) };
      break;
    }
    case 'signature':
      if (via !== 'mp') return fail(new CcmsimError('CCMSIM_TOKEN_MALFORMED', 'through the cloud management gateway a token is needed', { httpStatus: 401 }));
      if (auth.caller.smsId !== smsId) return fail(mismatch(`the request is signed by ${auth.caller.smsId}, not by ${smsId}`));
      issue = { via, registered: auth.caller.client };
      break;
    case 'none':
      return fail(new CcmsimError('CCMSIM_SIGNATURE_INVALID', 'CCM_STS needs a request signed with ClientToken/ClientTokenSignature headers or a token', { httpStatus: 403 }));
  }

  let issued: Awaited<ReturnType<typeof issueClientToken>>;
  try {
    issued = await issueClientToken(site, smsId, issue);
  } catch (err) {
    return fail(err);
  }
  sts(
    `Created SCCM token, token type: ClientAuthentication, hierarchyId: ${config.tenantId.toLowerCase()}, deviceId: ${issued.smsId}, ` +
      `tokenId: ${issued.tokenId}, expires: ${new Date(issued.expiresMs).toISOString()}`,
  );
  if (issued.replacedTokenIds.length > 0) sts(`Superseded token(s) ${issued.replacedTokenIds.join(', ')} for '${issued.smsId}'.`);
  sts('Issued token');
  sts('Return token to client');
  const body = buildStsResponse({ token: issued.token, tokenId: issued.tokenId, expiresAt: new Date(issued.expiresMs) });
  return { status: 200, headers: { 'Content-Type': 'text/xml; charset=utf-8' }, body };
}

function mismatch(message: string): CcmsimError {
  return new CcmsimError('CCMSIM_TOKEN_CERT_MISMATCH', message, { httpStatus: 403 });
}
