/**
 * Owns the agent's side of the wire: MPLIST, the `/CCM_Client/` content and its signed manifest, registration and
 * confirmation as CCM messages, and CCM_STS token requests, over a `SiteTransport`. Message bodies come from
 * src/protocol; the token transport (Bearer header, ClientToken headers, STS bodies) is ours (docs/protocol.md).
 * A refusal becomes a CcmsimError carrying the site's `X-CCMSim-Error` code, the HTTP status and an HRESULT.
 */
import { X509Certificate, verify, type KeyObject } from 'node:crypto';
import { CcmsimError, HRESULT, type ErrorCode } from '../errors.js';
import type { HttpReply, SiteTransport } from './site-transport.js';
import type {
  ContentEntry,
  ContentManifest,
  IssuedToken,
  RegistrationReply,
  RequestAuth,
  Route,
  SiteClient,
  SiteInfo,
} from './site-client.js';
import { ccmMessages } from './ccm-messages.js';
import type { Clock } from '../clock/clock.js';
import { unescapeXml } from '../protocol/xml-util.js';

/** The MP build in MPLIST's `<Version>` becomes the site version ccmsetup logs (`5.00.<build>.1000`). */
function siteVersionOf(build: string): string {
  return `5.00.${build}.1000`;
}

/** A refusal's reason: the `<Error>` text of an XML reply (the token service answers in XML), else its first line. */
function reasonOf(body: string): string {
  const inXml = body.startsWith('<') ? /<Error>([^<]*)<\/Error>/.exec(body)?.[1] : undefined;
  if (inXml !== undefined) return unescapeXml(inXml).trim();
  return body.split(/\r?\n/)[0] ?? '';
}

/** Turns a non-2xx answer into the error the agent logs, keeping the site's own code and message. */
export function refusalError(reply: HttpReply, url: string, auth: RequestAuth): CcmsimError {
  const code = (reply.headers['x-ccmsim-error'] ?? '') as ErrorCode;
  const text = reasonOf(reply.body.toString('utf8').trim());
  const sentNoToken = auth.bulkToken === undefined && auth.clientToken === undefined;
  const tokenPath = /\/(ccm_system_tokenauth\/request|ccm_sts)$/i.test(new URL(url).pathname);
  const hresult =
    reply.status === 401 && sentNoToken && tokenPath ? HRESULT.CCM_E_NO_TOKEN_AUTH : (reply.headers['x-ccmsim-hresult'] ?? HRESULT.CCM_E_BAD_HTTP_STATUS_CODE);
  const known = /^CCMSIM_[A-Z_]+$/.test(code);
  const message = known && text ? text : `${url} answered HTTP ${reply.status}${text ? `: ${text}` : ''}`;
  return new CcmsimError(known ? code : 'CCMSIM_HTTP_STATUS', message, {
    httpStatus: reply.status,
    hresult,
    details: { url },
  });
}

async function send(
  transport: SiteTransport,
  url: string,
  auth: RequestAuth,
  init: { method: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<HttpReply> {
  let reply: HttpReply;
  try {
    reply = await transport.request(url, init);
  } catch (err) {
    if (err instanceof CcmsimError && !err.details?.['url']) {
      throw new CcmsimError(err.code, err.message, {
        ...(err.hresult ? { hresult: err.hresult } : {}),
        details: { url },
        cause: err.cause,
      });
    }
    throw err;
  }
  if (reply.status < 200 || reply.status > 299) throw refusalError(reply, url, auth);
  return reply;
}

function attr(xml: string, element: string, name: string): string | undefined {
  const m = new RegExp(`<${element}\\b[^>]*\\b${name}="([^"]*)"`).exec(xml);
  return m?.[1];
}

/** The site root's public key, parsed once per root (every install of a fleet checks a manifest against it). */
let lastRoot: { pem: string; key: KeyObject } | undefined;
function rootPublicKey(rootPem: string): KeyObject {
  if (lastRoot?.pem !== rootPem) lastRoot = { pem: rootPem, key: new X509Certificate(rootPem).publicKey };
  return lastRoot.key;
}

/** Checks the manifest as docs/site.md defines it: RSA-SHA256 over the exact `<Files …>…</Files>` text, signed by the site root. */
function readManifest(xml: string, rootPem: string): { expected: Record<string, string>; urls: Record<string, string>; signer: string; problem: string | undefined } {
  const files = /<Files\b[^>]*>[\s\S]*?<\/Files>/.exec(xml)?.[0];
  const sig = /<Signature Algorithm="RSA-SHA256" Signer="([0-9A-F]{40})">([A-Za-z0-9+/=]+)<\/Signature>/.exec(xml);
  const expected: Record<string, string> = {};
  const urls: Record<string, string> = {};
  if (!files || !sig) return { expected, urls, signer: '', problem: 'the manifest has no <Files> element or no signature' };
  for (const m of files.matchAll(/<File Name="([^"]+)"(?: Platform="([^"]*)")? Url="([^"]+)"[^>]*? SHA256="([0-9A-Fa-f]{64})"/g)) {
    const name = m[2] ? `${m[2]}/${m[1]}` : m[1]!;
    expected[name] = m[4]!.toUpperCase();
    urls[name] = m[3]!;
  }
  const ok = verify('sha256', Buffer.from(files, 'utf8'), rootPublicKey(rootPem), Buffer.from(sig[2]!, 'base64'));
  return { expected, urls, signer: sig[1]!, problem: ok ? undefined : 'the signature does not verify with the site root certificate' };
}

/** `clock` stamps the messages (SentTime, registration TimeStamp, the ClientToken header). */
export function createCcmSiteClient(transport: SiteTransport, clock: Clock): SiteClient {
  const messages = ccmMessages(() => clock.now());
  return {
    async siteInfo(route: Route, auth: RequestAuth): Promise<SiteInfo> {
      const url = `${route.base}/SMS_MP/.sms_aut?MPLIST`;
      const reply = await send(transport, url, auth, { method: 'GET' });
      const xml = reply.body.toString('utf8');
      const siteCode = attr(xml, 'MP', 'SiteCode');
      const name = attr(xml, 'MP', 'FQDN') ?? attr(xml, 'MP', 'Name');
      const build = /<Version>(\d+)<\/Version>/.exec(xml)?.[1];
      if (!siteCode || !name || !build) {
        throw new CcmsimError('CCMSIM_PROTOCOL_MALFORMED', `${url} answered an MPLIST without a site code, name or version`, { details: { url } });
      }
      return { siteCode: siteCode.toUpperCase(), siteVersion: siteVersionOf(build), mpHost: name.toUpperCase() };
    },

    async contentManifest(route, auth, onRequest): Promise<ContentManifest> {
      const manifestUrl = `${route.base}/CCM_Client/ccmsetup.xml`;
      onRequest(manifestUrl);
      const manifestXml = (await send(transport, manifestUrl, auth, { method: 'GET' })).body.toString('utf8');
      const manifest = readManifest(manifestXml, transport.endpoints.trustedRootPem);
      const entries: ContentEntry[] = Object.keys(manifest.urls).map((name) => ({
        name,
        url: `${route.base}${manifest.urls[name]}`,
        sha256: manifest.expected[name]!,
      }));
      return { entries, signerThumbprint: manifest.signer, signatureProblem: manifest.problem };
    },

    async download(_route, auth, url): Promise<Buffer> {
      return (await send(transport, url, auth, { method: 'GET' })).body;
    },

    async register(route, auth, input): Promise<RegistrationReply> {
      const { url, request } = await messages.registration(route, auth, input, 'Registration');
      const reply = await send(transport, url, auth, request);
      return messages.parseRegistrationReply(reply, url);
    },

    async confirm(route, auth, input): Promise<RegistrationReply> {
      const { url, request } = await messages.registration(route, auth, input, 'Confirmation');
      const reply = await send(transport, url, auth, request);
      return messages.parseRegistrationReply(reply, url);
    },

    async requestToken(route, auth, smsId, purpose): Promise<IssuedToken> {
      const { url, request } = await messages.sts(route, auth, smsId, purpose);
      const reply = await send(transport, url, auth, request);
      return messages.parseStsReply(reply, url);
    },
  };
}
