/**
 * Owns the seam between the ccmsetup flow and the wire: the operations the agent performs against an MP or a CMG
 * (site information, client content with its signed manifest, registration, confirmation, the client token).
 * `ccm-site-client.ts` implements them with the CCM message protocol over `SiteTransport`.
 */
import type { KeyObject } from 'node:crypto';

/** Where a request goes: the MP directly (intranet) or the CMG's ServerAuth path (internet, token clients). */
export interface Route {
  kind: 'mp' | 'cmg';
  /** Base URL requests are made under, e.g. `http://MP01.CONTOSO.COM` or `https://CONTOSO.CLOUDAPP.NET/CCM_Proxy_ServerAuth/7218…`. */
  base: string;
  /** How the client was configured with it (the CMG's MutualAuth URL), as the logs show it. */
  configured: string;
}

/**
 * How a request proves who sends it. A bulk token is presented only during the first registration and the first
 * token request; afterwards the client's own token (paired with its signing key) is used.
 */
export interface RequestAuth {
  bulkToken?: string;
  clientToken?: string;
  client?: { smsId: string; signingKey: KeyObject };
}

export interface SiteInfo {
  siteCode: string;
  siteVersion: string;
  mpHost: string;
}

export interface ContentEntry {
  /** As the manifest names it, with its platform folder: `ccmsetup.cab`, `x64/client.msi`. */
  name: string;
  /** Where to download it (under the route's base). */
  url: string;
  /** SHA-256 (hex) the signed manifest gives. */
  sha256: string;
}

export interface ContentManifest {
  entries: ContentEntry[];
  /** Thumbprint of the certificate that signed the manifest. */
  signerThumbprint: string;
  /** Undefined when the manifest's signature verifies with the trusted root; otherwise why not. */
  signatureProblem: string | undefined;
}

export interface RegistrationRequestInput {
  smsId: string;
  computerName: string;
  fqdn: string;
  hardwareId: string;
  internet: boolean;
  signingCertDer: Buffer;
  encryptionCertDer: Buffer;
  signingKey: KeyObject;
  /** The `<Msg>` ID, upper-case GUID without braces: the same for the registration and its confirmation polls. */
  messageId?: string;
}

export interface RegistrationReply {
  /** 0 registered, 1 pending, 2 reset, 3 error. */
  status: number;
  smsId: string;
  approval: number;
}

export interface IssuedToken {
  token: string;
  tokenId: string;
  expiresAtMs: number;
}

export interface SiteClient {
  siteInfo(route: Route, auth: RequestAuth): Promise<SiteInfo>;
  /** The signed manifest of `/CCM_Client/` (`onRequest` sees each URL fetched, for the log). */
  contentManifest(route: Route, auth: RequestAuth, onRequest: (url: string) => void): Promise<ContentManifest>;
  download(route: Route, auth: RequestAuth, url: string): Promise<Buffer>;
  register(route: Route, auth: RequestAuth, input: RegistrationRequestInput): Promise<RegistrationReply>;
  confirm(route: Route, auth: RequestAuth, input: RegistrationRequestInput): Promise<RegistrationReply>;
  requestToken(route: Route, auth: RequestAuth, smsId: string, purpose: 'Issue' | 'Renew'): Promise<IssuedToken>;
}

/** The ServerAuth form of a CMG MutualAuth URL (same id): token clients have no PKI certificate for mutual TLS. */
export function serverAuthUrl(cmgUrl: string): string {
  return cmgUrl.replace(/\/CCM_Proxy_MutualAuth\//i, '/CCM_Proxy_ServerAuth/');
}

/** True when a URL or CCMHOSTNAME value names a CMG (`…/CCM_Proxy_MutualAuth/<id>`). */
export function isCmgAddress(value: string): boolean {
  return /\/CCM_Proxy_(MutualAuth|ServerAuth)\/\d+/i.test(value);
}
