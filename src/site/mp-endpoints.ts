/**
 * Owns the management point's request handling: routing (paths case-insensitive, as IIS), the anonymous GETs
 * (`.sms_aut?MPLIST|MPKEYINFORMATION|SITESIGNCERT`, `/CCM_Client/…` content, the simulator's `/ccmsim/site`) and
 * `CCM_POST` CCM messages on `ccm_system`, `ccm_system_windowsauth` and `ccm_system_tokenauth`, dispatched on the
 * header's TargetEndpoint (`MP_ClientRegistration`). The CMG forwards here in-process with the token it already
 * checked. Malformed messages and bad signatures get an error answer and a log line; the server keeps serving.
 */
import { CcmsimError, isCcmsimError } from '../errors.js';
import { smsGuid, type SmsGuid } from '../ids.js';
import { decodeCcmMessage, encodeCcmMessage } from '../protocol/ccm-message.js';
import { NULL_CORRELATION_ID, parseMsgHeader } from '../protocol/msg-header.js';
import {
  buildRegistrationResponse,
  parseRegistrationRequest,
  verifyRegistrationSignature,
  type RegistrationRequest,
} from '../protocol/registration.js';
import type { Site } from './site.js';
import type { HttpRequest, HttpResponse } from './http/http-types.js';
import { json, methodNotAllowed, notFound, refusal, text, xml } from './http/answers.js';
import type { LogScope, ServerLogs } from './server-logs.js';
import { contentFiles, buildManifest, MANIFEST_URL_PATH } from './content.js';
import { mpKeyInformationXml, mpListXml, siteDescription, siteSignCertHex, type SiteServerAddresses } from './mp-info.js';
import { confirmRegistration, getClient, registerClient, type ClientRecord, type RegisterClientInput } from './registrations.js';
import { certificatePublicKey, clientCertificate, type ClientCertificate } from './parsed-certificates.js';
import { authenticateTokenRequest, describeRefusal, presentedTokenSecrets, type RequestAuth } from './request-auth.js';
import { handleStsRequest } from './sts-endpoint.js';
import { unusedId } from './store.js';

/** A request as the MP sees it: straight from its own front, or forwarded by the CMG. */
export interface MpRequest {
  http: HttpRequest;
  via: 'mp' | 'cmg';
  /** The MP-relative path (the CMG strips `/CCM_Proxy_…/<id>`), case as sent. */
  path: string;
  /** What the CMG established before forwarding (none on the MP's own front). */
  auth?: RequestAuth;
  scope?: LogScope;
  /** Which CMG path the request came through: MutualAuth clients proved themselves with a PKI certificate. */
  cmgMode?: 'mutualauth' | 'serverauth';
}

export interface MpEndpoints {
  handle(req: MpRequest): Promise<HttpResponse>;
}

export interface MpEndpointsOptions {
  site: Site;
  logs: ServerLogs;
  /** Where the servers listen (for `/ccmsim/site`); read per request. */
  addresses: () => SiteServerAddresses;
}

/** ApprovalStatus in a Status 0 reply: 1 approved (as ClientIDManagerStartup logs "Approval status 1"), 0 pending. */
export const APPROVAL_STATUS = { approved: 1, pending: 0 } as const;

const MESSAGE_PATHS = new Set(['/ccm_system/request', '/ccm_system_windowsauth/request', '/ccm_system_tokenauth/request']);

export function createMpEndpoints(options: MpEndpointsOptions): MpEndpoints {
  const { site, logs } = options;
  let threadSeed = 0;
  // Reply message IDs come from their own stream, so they do not shift the IDs the site hands out.
  const replyIds = site.random.fork('mp-reply-ids');

  const handle = async (mreq: MpRequest): Promise<HttpResponse> => {
    const scope = mreq.scope ?? { secrets: presentedTokenSecrets(mreq.http), threadSeed: threadSeed++ };
    const req = { ...mreq, scope };
    const path = req.path.toLowerCase();
    const method = req.http.method.toUpperCase();
    const isGet = method === 'GET' || method === 'HEAD';
    try {
      if (path === '/sms_mp/.sms_aut') return isGet ? smsAut(req.http.query) : methodNotAllowed(req.http.method, ['GET', 'HEAD']);
      if (path.startsWith('/ccm_client/')) return isGet ? clientContent(path) : methodNotAllowed(req.http.method, ['GET', 'HEAD']);
      if (path === '/ccmsim/site') return isGet ? json(siteDescription(site, options.addresses())) : methodNotAllowed(req.http.method, ['GET', 'HEAD']);
      if (MESSAGE_PATHS.has(path)) return method === 'CCM_POST' ? await ccmMessage(req, path) : methodNotAllowed(req.http.method, ['CCM_POST']);
      if (path === '/ccm_sts') {
        if (method !== 'CCM_POST') return methodNotAllowed(req.http.method, ['CCM_POST']);
        return await handleStsRequest({ site, logs, req: req.http, via: req.via, auth: req.auth, scope });
      }
      return notFound(req.path);
    } catch (err) {
      if (isCcmsimError(err)) return refusal(err);
      throw err;
    }
  };

  const smsAut = (query: string): HttpResponse => {
    const parts = query.split('&');
    const verb = (parts[0] ?? '').toUpperCase();
    if (/^MPLIST\d*$/.test(verb)) return xml(mpListXml(site));
    if (verb === 'MPKEYINFORMATION') return xml(mpKeyInformationXml(site));
    if (verb === 'SITESIGNCERT') return text(siteSignCertHex(site));
    return notFound(`/SMS_MP/.sms_aut?${query}`);
  };

  const clientContent = (path: string): HttpResponse => {
    if (path === MANIFEST_URL_PATH.toLowerCase() || path === '/ccm_client/manifest.xml') return xml(buildManifest(site));
    const file = contentFiles().find((f) => f.urlPath.toLowerCase() === path);
    if (!file) return notFound(path);
    return { status: 200, headers: { 'Content-Type': file.contentType }, body: file.bytes };
  };

  const ccmMessage = async (req: MpRequest & { scope: LogScope }, path: string): Promise<HttpResponse> => {
    const { scope } = req;
    const tokenAuthPath = path === '/ccm_system_tokenauth/request';
    let auth: RequestAuth = req.auth ?? { kind: 'none' };
    if (req.via === 'mp' && tokenAuthPath) {
      try {
        auth = await authenticateTokenRequest(site, req.http, { logs, scope, via: 'mp', purpose: 'message' });
      } catch (err) {
        logs.write('CcmIsapi', `Rejected ${req.http.method} ${req.path}: ${describeRefusal(err)}`, 2, scope);
        return refusal(err);
      }
      if (auth.kind !== 'bulk' && auth.kind !== 'client') {
        logs.write('CcmIsapi', `Rejected ${req.http.method} ${req.path}: no token presented.`, 2, scope);
        return refusal(new CcmsimError('CCMSIM_TOKEN_MALFORMED', `${req.path} needs a token (Authorization: Bearer)`, { httpStatus: 401 }));
      }
    }
    let header: string;
    let body: string;
    try {
      ({ header, body } = decodeCcmMessage(req.http.headers['content-type'] ?? '', req.http.body));
    } catch (err) {
      logs.write('CcmIsapi', `Failed to process CCM message from ${req.http.remoteAddress} on ${req.path}: ${describeRefusal(err)}`, 3, scope);
      return refusal(isCcmsimError(err) ? err : new CcmsimError('CCMSIM_PROTOCOL_MALFORMED', 'the CCM message could not be decoded', { httpStatus: 400 }));
    }
    let msg: ReturnType<typeof parseMsgHeader>;
    try {
      msg = parseMsgHeader(header);
    } catch (err) {
      logs.write('CcmIsapi', `Failed to parse the message header from ${req.http.remoteAddress}: ${describeRefusal(err)}`, 3, scope);
      return refusal(err);
    }
    if ((msg.targetEndpoint ?? '').toLowerCase() !== 'mp_clientregistration') {
      logs.write('CcmIsapi', `No endpoint '${msg.targetEndpoint ?? ''}' on this management point; message ${msg.id ?? ''} dropped.`, 2, scope);
      return refusal(new CcmsimError('CCMSIM_PROTOCOL_MALFORMED', `no endpoint ${JSON.stringify(msg.targetEndpoint ?? '')} on this management point`, { httpStatus: 404 }));
    }
    return registration(req, msg, body, auth);
  };

  const registration = async (
    req: MpRequest & { scope: LogScope },
    msg: ReturnType<typeof parseMsgHeader>,
    body: string,
    auth: RequestAuth,
  ): Promise<HttpResponse> => {
    const { scope } = req;
    const reg = (message: string, type: 1 | 2 | 3 = 1): void => logs.write('MP_RegistrationManager', message, type, scope);
    let request: RegistrationRequest;
    try {
      request = parseRegistrationRequest(body);
    } catch (err) {
      reg(`MP Reg: Registration request body is invalid. ${describeRefusal(err)}`, 3);
      reg('MP Reg: Processing completed. Completion state = 0');
      return refusal(err);
    }
    const tokenClient = (req.via === 'cmg' && req.cmgMode !== 'mutualauth') || auth.kind === 'bulk' || auth.kind === 'client';
    const fail = (err: CcmsimError, lines: string[]): HttpResponse => {
      for (const line of lines) reg(line, 3);
      reg('MP Reg: Registration failed.', 3);
      reg('MP Reg: Processing completed. Completion state = 0');
      return refusal(err);
    };

    if (request.requestType === 'Confirmation') {
      const smsId = safeSmsGuid(request.smsId);
      reg(`Processing Confirmation request from Client '${smsId ?? request.smsId}'`);
      if (!smsId) return fail(new CcmsimError('CCMSIM_PROTOCOL_MALFORMED', `Confirmation with a malformed SMSID ${JSON.stringify(request.smsId)}`, { httpStatus: 400 }), ['MP Reg: Registration request body is invalid.']);
      const known = getClient(site, smsId);
      if (!known) {
        reg(`MP Reg: Client '${smsId}' is not registered; it must send a registration request again.`, 2);
        reg('MP Reg: Processing completed. Completion state = 0');
        return reply(msg, { responseType: 'Confirmation', status: 2, smsId, approvalStatus: undefined });
      }
      if (!verifyRegistrationSignature(request, certificatePublicKey(known.signingCertDer))) {
        return fail(new CcmsimError('CCMSIM_SIGNATURE_INVALID', `the Confirmation signature does not verify with the certificate ${smsId} registered`, { httpStatus: 403 }), [
          `Signature verification failed for Confirmation request from Client '${smsId}' with certificate [Thumbprint ${known.signingThumbprint}].`,
        ]);
      }
      const mismatch = tokenClient ? tokenMismatch(auth, smsId, known) : undefined;
      if (mismatch) return fail(mismatch, [mismatch.message]);
      const confirmation = confirmRegistration(site, smsId);
      const approval = confirmation.approval === 'approved' ? APPROVAL_STATUS.approved : APPROVAL_STATUS.pending;
      reg(`MP Reg: Client '${smsId}' is registered. Approval status ${approval}`);
      reg('MP Reg: Processing completed. Completion state = 0');
      return reply(msg, { responseType: 'Confirmation', status: 0, smsId, approvalStatus: approval });
    }

    // A Registration.
    const requested = request.smsId ? safeSmsGuid(request.smsId) : undefined;
    if (request.smsId && !requested) {
      reg(`Processing Registration request from Client '${request.fqName || request.netbiosName}'`);
      return fail(new CcmsimError('CCMSIM_PROTOCOL_MALFORMED', `Registration with a malformed SMSID ${JSON.stringify(request.smsId)}`, { httpStatus: 400 }), [
        'MP Reg: Registration request body is invalid.',
      ]);
    }
    reg(`Processing Registration request from Client '${requested ?? (request.fqName || request.netbiosName)}'`);
    if (!request.signingCertDer) {
      return fail(new CcmsimError('CCMSIM_PROTOCOL_MALFORMED', 'the Registration carries no signing certificate', { httpStatus: 400 }), [
        'MP Reg: Registration request body is invalid.',
      ]);
    }
    let cert: ClientCertificate;
    try {
      cert = clientCertificate(request.signingCertDer);
    } catch {
      return fail(new CcmsimError('CCMSIM_PROTOCOL_MALFORMED', 'the signing certificate is not a valid X.509 certificate', { httpStatus: 400 }), [
        'MP Reg: Registration request body is invalid.',
      ]);
    }
    const tp = cert.thumbprint;
    const issuedTo = cert.commonName ?? request.netbiosName;
    reg(`Begin validation of Certificate [Thumbprint ${tp}] issued to '${issuedTo}'`);
    if (cert.notAfterMs < site.clock.now()) {
      reg(`Certificate [Thumbprint ${tp}] issued to '${issuedTo}' has expired.`, 3);
      reg(`Completed validation of Certificate [Thumbprint ${tp}] issued to '${issuedTo}'`);
      return fail(new CcmsimError('CCMSIM_REGISTRATION_REFUSED', `the signing certificate ${tp} expired at ${new Date(cert.notAfterMs).toISOString()}`, { httpStatus: 403 }), [
        'MP Reg: Registration request body is invalid.',
      ]);
    }
    if (!verifyRegistrationSignature(request, cert.publicKey)) {
      reg(`Completed validation of Certificate [Thumbprint ${tp}] issued to '${issuedTo}'`);
      return fail(new CcmsimError('CCMSIM_SIGNATURE_INVALID', `the Registration signature does not verify with the signing certificate ${tp}`, { httpStatus: 403 }), [
        `Signature verification failed for Registration request from Client '${requested ?? issuedTo}' with certificate [Thumbprint ${tp}].`,
        'MP Reg: Registration request body is invalid.',
      ]);
    }
    reg(`Completed validation of Certificate [Thumbprint ${tp}] issued to '${issuedTo}'`);

    const smsId = requested ?? unusedId(site.db, 'clients', 'sms_id', () => smsGuid(site.random.uuid()));
    let input: RegisterClientInput = {
      smsId,
      netbiosName: request.netbiosName,
      fqName: request.fqName,
      signingCertDer: request.signingCertDer,
      ...(request.encryptionCertDer ? { encryptionCertDer: request.encryptionCertDer } : {}),
      ...(request.hardwareId ? { hardwareId: request.hardwareId } : {}),
      method: 'intranet',
    };
    if (tokenClient) {
      if (auth.kind === 'bulk') {
        reg(`Registering device using bulk registration token: TokenId='${auth.bulk.guid}', TenantId='${auth.bulk.tenantId}'`);
        input = { ...input, method: 'bulk', bulkTokenGuid: auth.bulk.guid };
      } else if (auth.kind === 'client') {
        if (auth.client.smsId !== smsId) {
          const err = new CcmsimError('CCMSIM_TOKEN_CERT_MISMATCH', `the client token was issued to ${auth.client.smsId}, not to ${smsId}`, { httpStatus: 403 });
          return fail(err, [`MP Reg: ${err.message}`]);
        }
        const existing = getClient(site, smsId);
        reg(`Registering device using client token: TokenId='${auth.client.tokenId}'`);
        input = existing?.method === 'bulk' && existing.bulkTokenGuid ? { ...input, method: 'bulk', bulkTokenGuid: existing.bulkTokenGuid } : input;
      } else {
        const err = new CcmsimError('CCMSIM_TOKEN_MALFORMED', 'a registration through the cloud management gateway needs a token', { httpStatus: 401 });
        return fail(err, [`MP Reg: ${err.message}`]);
      }
    }
    let outcome: 'new' | 'unchanged' | 'updated';
    let client: ClientRecord;
    try {
      ({ outcome, client } = registerClient(site, input));
    } catch (err) {
      if (!isCcmsimError(err)) throw err;
      return fail(err, [`MP Reg: ${err.code}: ${err.message}`]);
    }
    if (outcome === 'updated') reg(`MP Reg: Client '${smsId}' registered again with a new certificate [Thumbprint ${tp}]; its tokens were revoked.`, 2);
    const confirmed = outcome === 'unchanged' && client.confirmedMs !== undefined;
    reg(`MP Reg: Successfully processed Registration request from Client '${smsId}' (${confirmed ? 'registered' : 'pending confirmation'}).`);
    reg('MP Reg: Processing completed. Completion state = 0');
    return confirmed
      ? reply(msg, { responseType: 'Registration', status: 0, smsId, approvalStatus: client.approval === 'approved' ? APPROVAL_STATUS.approved : APPROVAL_STATUS.pending })
      : reply(msg, { responseType: 'Registration', status: 1, smsId, approvalStatus: undefined });
  };

  const reply = (
    msg: ReturnType<typeof parseMsgHeader>,
    answer: { responseType: 'Registration' | 'Confirmation'; status: 0 | 1 | 2 | 3; smsId: SmsGuid; approvalStatus: number | undefined },
  ): HttpResponse => {
    const config = site.config();
    const now = site.clock.now();
    const body = buildRegistrationResponse({
      responseType: answer.responseType,
      timestamp: new Date(now),
      status: answer.status,
      smsId: answer.smsId,
      ...(answer.approvalStatus !== undefined ? { approvalStatus: answer.approvalStatus } : {}),
    });
    // The reply goes back to where the request said (ReplyTo), correlated with the request's ID.
    const replyTo = msg.replyTo ?? `direct:${msg.sourceHost ?? ''}:SccmMessaging`;
    const encoded = encodeCcmMessage({
      header: {
        id: replyIds.uuid().toUpperCase(),
        correlationId: msg.id ?? NULL_CORRELATION_ID,
        sourceHost: config.mpHost,
        targetHost: msg.sourceHost ?? '',
        targetAddress: replyTo,
        targetEndpoint: replyTo.split(':').pop() || 'SccmMessaging',
        replyTo: `direct:${config.mpHost}:MP_ClientRegistration`,
        sentTime: new Date(now),
        bodyLength: 0,
      },
      body,
    });
    return { status: 200, headers: { 'Content-Type': encoded.contentType }, body: encoded.bytes };
  };

  return { handle };
}

function safeSmsGuid(value: string): SmsGuid | undefined {
  try {
    return smsGuid(value);
  } catch {
    return undefined;
  }
}

/** A token client's Confirmation must come from the client the token (or bulk-registered record) belongs to. */
function tokenMismatch(auth: RequestAuth, smsId: SmsGuid, known: ClientRecord): CcmsimError | undefined {
  if (auth.kind === 'client' && auth.client.smsId !== smsId) {
    return new CcmsimError('CCMSIM_TOKEN_CERT_MISMATCH', `the client token was issued to ${auth.client.smsId}, not to ${smsId}`, { httpStatus: 403 });
  }
  if (auth.kind === 'bulk' && known.bulkTokenGuid !== auth.bulk.guid && known.method === 'bulk') {
    return new CcmsimError('CCMSIM_TOKEN_UNKNOWN', `${smsId} was not registered with bulk token ${auth.bulk.guid}`, { httpStatus: 401 });
  }
  return undefined;
}
