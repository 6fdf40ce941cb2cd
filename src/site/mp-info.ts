/**
 * Owns the management point's anonymous information answers: `/SMS_MP/.sms_aut?MPLIST` (and `MPLIST1&<SITE>`),
 * `?MPKEYINFORMATION`, `?SITESIGNCERT`, and the simulator's own `GET /ccmsim/site` (JSON: everything a remote agent
 * needs besides the MP's URL: site code, MP and CMG names, the CMG's loopback address and port, the site root PEM).
 */
import { X509Certificate } from 'node:crypto';
import type { Site } from './site.js';
import { activeCertificate } from './site-pki.js';

/** The MP's build number in MPLIST (`<Version>`), matching client 5.00.9128. */
export const MP_VERSION = '9128';

export interface SiteServerAddresses {
  mpUrl: string;
  cmgUrl: string | undefined;
  /** Where the CMG really listens (loopback), for agents that map the CMG host name to it. */
  cmgAddress: string | undefined;
  cmgPort: number | undefined;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `<MPList>` per protocol.md §1.9, with the site code always given. */
export function mpListXml(site: Site): string {
  const config = site.config();
  const name = escapeXml(config.mpHost.toUpperCase());
  const fqdn = escapeXml(config.mpHost.toLowerCase());
  return (
    `<MPList><MP Name="${name}" FQDN="${fqdn}" SiteCode="${config.siteCode}"><Version>${MP_VERSION}</Version>` +
    `<Capabilities SchemaVersion="1.0"><Property Name="SSLState" Value="0"/></Capabilities></MP></MPList>`
  );
}

function hexDer(pem: string): string {
  return new X509Certificate(pem).raw.toString('hex').toUpperCase();
}

/** `<MPKEYINFORMATION>` with FQDN, SITECODE and the site signing (root) certificate as upper-case hex DER. */
export function mpKeyInformationXml(site: Site): string {
  const config = site.config();
  const root = activeCertificate(site.db, 'issuing-root');
  return (
    `<MPKEYINFORMATION><FQDN>${escapeXml(config.mpHost.toLowerCase())}</FQDN><SITECODE>${config.siteCode}</SITECODE>` +
    `<SITESIGNCERT>${hexDer(root.pem)}</SITESIGNCERT></MPKEYINFORMATION>`
  );
}

/** The site signing certificate (our SMS Issuing root) as upper-case hex DER, as `SITESIGNCERT` answers. */
export function siteSignCertHex(site: Site): string {
  return hexDer(activeCertificate(site.db, 'issuing-root').pem);
}

export interface SiteDescription {
  siteCode: string;
  tenantId: string;
  mpHost: string;
  mpUrl: string;
  cmgHost: string;
  cmgId: string;
  /** `https://<CMG host>/CCM_Proxy_MutualAuth/<id>`, as documented command lines give it. */
  cmgMutualAuthUrl: string;
  /** `https://<CMG host>:<port>/CCM_Proxy_ServerAuth/<id>` on the CMG's real port, or null when no CMG runs. */
  cmgServerAuthUrl: string | null;
  cmgAddress: string | null;
  cmgPort: number | null;
  cmgEnabled: boolean;
  rootCertificatePem: string;
  rootThumbprint: string;
}

export function siteDescription(site: Site, addresses: SiteServerAddresses): SiteDescription {
  const config = site.config();
  const root = activeCertificate(site.db, 'issuing-root');
  return {
    siteCode: config.siteCode,
    tenantId: config.tenantId,
    mpHost: config.mpHost,
    mpUrl: addresses.mpUrl,
    cmgHost: config.cmgHost,
    cmgId: config.cmgId,
    cmgMutualAuthUrl: `https://${config.cmgHost}/CCM_Proxy_MutualAuth/${config.cmgId}`,
    cmgServerAuthUrl: addresses.cmgPort === undefined ? null : `https://${config.cmgHost}:${addresses.cmgPort}/CCM_Proxy_ServerAuth/${config.cmgId}`,
    cmgAddress: addresses.cmgAddress ?? null,
    cmgPort: addresses.cmgPort ?? null,
    cmgEnabled: config.cmgEnabled,
    rootCertificatePem: root.pem,
    rootThumbprint: root.thumbprint,
  };
}
