/**
 * Owns the requests the agent sends as messages: a registration or confirmation wrapped in a CCM message
 * (`<Msg>` header + zlib UTF-16 body, src/protocol) to `ccm_system/request` on the MP or
 * `ccm_system_tokenauth/request` through the CMG, and CCM_STS token requests; plus the headers that carry tokens and
 * the client's signature (docs/protocol.md, ours). Replies are parsed back; a malformed reply is CCMSIM_PROTOCOL_MALFORMED.
 */
import { decodeCcmMessage, encodeCcmMessage } from '../protocol/ccm-message.js';
import { buildConfirmationRequestAsync, buildRegistrationRequestAsync, parseRegistrationResponse } from '../protocol/registration.js';
import { buildClientAuthHeadersAsync } from '../protocol/client-auth.js';
import { buildStsRequest, parseStsResponse } from '../protocol/sts.js';
import { CcmsimError, isCcmsimError } from '../errors.js';
import type { HttpReply, HttpRequest } from './site-transport.js';
import type { IssuedToken, RegistrationReply, RegistrationRequestInput, RequestAuth, Route } from './site-client.js';
import { CLIENT_VERSION } from './log-catalog.js';

/** English (United States); what a default Windows install reports. */
const LOCALE_ID = 1033;

export interface CcmMessages {
  registration(route: Route, auth: RequestAuth, input: RegistrationRequestInput, type: 'Registration' | 'Confirmation'): Promise<{ url: string; request: HttpRequest }>;
  parseRegistrationReply(reply: HttpReply, url: string): RegistrationReply;
  sts(route: Route, auth: RequestAuth, smsId: string, purpose: 'Issue' | 'Renew'): Promise<{ url: string; request: HttpRequest }>;
  parseStsReply(reply: HttpReply, url: string): IssuedToken;
}

/**
 * Headers for a request: the Bearer token (bulk or client) and the signed ClientToken pair once the client is known.
 * The agent signs off the main thread (signCcmAsync): a fleet's agents share that thread.
 */
export async function authHeaders(auth: RequestAuth, now: Date): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  const token = auth.bulkToken ?? auth.clientToken;
  if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
  if (auth.client) Object.assign(headers, await buildClientAuthHeadersAsync({ smsId: auth.client.smsId, signingKey: auth.client.signingKey, now }));
  return headers;
}

function malformedReply(url: string, err: unknown): CcmsimError {
  const why = isCcmsimError(err) ? err.message : String(err);
  return new CcmsimError('CCMSIM_PROTOCOL_MALFORMED', `${url} answered a reply the client cannot read: ${why}`, { details: { url } });
}

/** `now` is the agent's clock; messages carry its time (the site checks the ClientToken timestamp against its own). */
export function ccmMessages(now: () => number): CcmMessages {
  return {
    async registration(route, auth, input, type) {
      const time = new Date(now());
      const tokenAuth = route.kind === 'cmg';
      const url = `${route.base}/${tokenAuth ? 'ccm_system_tokenauth' : 'ccm_system'}/request`;
      const body =
        type === 'Registration'
          ? await buildRegistrationRequestAsync({
              smsId: input.smsId,
              timeStamp: time,
              netbiosName: input.computerName,
              fqName: input.fqdn,
              localeId: LOCALE_ID,
              internetFlag: input.internet ? 1 : 0,
              signingCertDer: input.signingCertDer,
              encryptionCertDer: input.encryptionCertDer,
              signingKey: input.signingKey,
              hardwareId: input.hardwareId,
              agentVersion: CLIENT_VERSION,
            })
          : await buildConfirmationRequestAsync({ smsId: input.smsId, timeStamp: time, signingKey: input.signingKey, agentVersion: CLIENT_VERSION });
      const host = new URL(route.base).hostname.toUpperCase();
      const message = encodeCcmMessage({
        header: {
          id: `{${input.messageId ?? '00000000-0000-0000-0000-000000000000'}}`,
          sourceHost: input.computerName,
          targetHost: host,
          targetEndpoint: 'MP_ClientRegistration',
          sentTime: time,
          bodyLength: 0,
        },
        body,
      });
      return {
        url,
        request: {
          method: 'CCM_POST',
          headers: { 'Content-Type': message.contentType, ...(await authHeaders(auth, time)) },
          body: message.bytes,
        },
      };
    },

    parseRegistrationReply(reply, url) {
      try {
        const { body } = decodeCcmMessage(reply.headers['content-type'] ?? '', reply.body);
        const r = parseRegistrationResponse(body);
        return { status: r.status, smsId: r.smsId ?? '', approval: r.approvalStatus ?? 0 };
      } catch (err) {
        throw malformedReply(url, err);
      }
    },

    async sts(route, auth, smsId, purpose) {
      const time = new Date(now());
      return {
        url: `${route.base}/CCM_STS`,
        request: {
          method: 'CCM_POST',
          headers: { 'Content-Type': 'text/xml; charset=utf-8', ...(await authHeaders(auth, time)) },
          body: buildStsRequest({ smsId, purpose }),
        },
      };
    },

    parseStsReply(reply, url) {
      try {
        const r = parseStsResponse(reply.body.toString('utf8'));
        return { token: r.token, tokenId: r.tokenId, expiresAtMs: r.expiresAt.getTime() };
      } catch (err) {
        throw malformedReply(url, err);
      }
    },
  };
}
