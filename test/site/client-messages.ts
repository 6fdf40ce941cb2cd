/**
 * What a test client sends the site: registration and confirmation CCM messages built with the protocol codecs,
 * signed with committed test keys, and the decoding of the MP's replies.
 */
import { request, type Dispatcher } from 'undici';
import { testKeyPair } from '../helpers/test-keys.js';
import { clientCertDer } from '../site-state/site-fixture.js';
import { decodeCcmMessage, encodeCcmMessage } from '../../src/protocol/ccm-message.js';
import { buildConfirmationRequest, buildRegistrationRequest, parseRegistrationResponse, type RegistrationResponse } from '../../src/protocol/registration.js';

export const MSG_ID = '5DD100CD-DF1D-45F5-BA17-A327F43465F8';

export function smsIdFor(n: number): string {
  return `GUID:3F2504E0-4F89-41D3-9A0C-${(0x0305e82c3300 + n).toString(16).toUpperCase().padStart(12, '0')}`;
}

export interface ClientIdentity {
  smsId: string;
  name: string;
  /** Test key index of the signing certificate. */
  keyIndex: number;
}

export function registrationBody(client: ClientIdentity, options: { signWith?: number; nowMs: number }): string {
  return buildRegistrationRequest({
    smsId: client.smsId,
    timeStamp: new Date(options.nowMs),
    netbiosName: client.name,
    fqName: `${client.name}.contoso.com`,
    localeId: 1033,
    internetFlag: 0,
    signingCertDer: clientCertDer(client.keyIndex, client.name),
    encryptionCertDer: clientCertDer(client.keyIndex, client.name),
    signingKey: testKeyPair(options.signWith ?? client.keyIndex).privateKey,
    hardwareId: '2:5B6E4F1A0C0D',
  });
}

export function confirmationBody(client: ClientIdentity, options: { signWith?: number; nowMs: number }): string {
  return buildConfirmationRequest({
    smsId: client.smsId,
    timeStamp: new Date(options.nowMs),
    signingKey: testKeyPair(options.signWith ?? client.keyIndex).privateKey,
  });
}

export function registrationMessage(client: ClientIdentity, body: string, nowMs: number): { contentType: string; bytes: Buffer } {
  return encodeCcmMessage({
    header: {
      id: MSG_ID,
      sourceHost: client.name,
      targetHost: 'MP01.CONTOSO.COM',
      targetEndpoint: 'MP_ClientRegistration',
      sentTime: new Date(nowMs),
      bodyLength: 0,
    },
    body,
  });
}

export interface CcmReply {
  status: number;
  error: string | undefined;
  response: RegistrationResponse | undefined;
  text: string;
}

/** CCM_POSTs a message and decodes a 200 reply's registration response. */
export async function ccmPost(
  url: string,
  message: { contentType: string; bytes: Buffer },
  options: { headers?: Record<string, string>; dispatcher?: Dispatcher } = {},
): Promise<CcmReply> {
  const res = await request(url, {
    method: 'CCM_POST',
    headers: { 'content-type': message.contentType, 'user-agent': 'ccmsim test', ...options.headers },
    body: message.bytes,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const error = res.headers['x-ccmsim-error'] as string | undefined;
  if (res.statusCode !== 200) return { status: res.statusCode, error, response: undefined, text: bytes.toString('utf8') };
  const decoded = decodeCcmMessage(String(res.headers['content-type']), bytes);
  return { status: res.statusCode, error, response: parseRegistrationResponse(decoded.body), text: decoded.body };
}
