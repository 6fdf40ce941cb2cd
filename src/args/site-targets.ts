/**
 * Owns what a parsed command line says about where the client goes: the bootstrap management points (`/mp`), the
 * cloud management gateway (from a CMG `/mp` or `CCMHOSTNAME`), the initial MP (`SMSMP`) and the site code to assign.
 */
import { isCmgAddress } from './ccmsetup-parameters.js';
import type { CcmsetupCommandLine } from './parse-ccmsetup-args.js';

export interface CmgTarget {
  /** The CMG's host name, e.g. CONTOSO.CLOUDAPP.NET. */
  host: string;
  /** The number in /CCM_Proxy_MutualAuth/<id>. */
  id: string;
  /** `https://HOST/CCM_Proxy_MutualAuth/ID`: how clients name the CMG. */
  url: string;
  /** Where the address came from. */
  from: '/mp' | 'CCMHOSTNAME';
}

export interface SiteTargets {
  managementPoints: string[];
  cmg?: CmgTarget;
  initialManagementPoint?: string;
  siteCode: string;
  internetHost?: string;
}

const CMG_RE = /^(?:https:\/\/)?([^/\s]+)\/CCM_Proxy_(?:MutualAuth|ServerAuth)\/(\d+)\/?$/i;

function cmgOf(address: string, from: CmgTarget['from']): CmgTarget | undefined {
  const m = CMG_RE.exec(address);
  if (!m) return undefined;
  const host = m[1]!.toUpperCase();
  return { host, id: m[2]!, url: `https://${host}/CCM_Proxy_MutualAuth/${m[2]!}`, from };
}

export function siteTargets(cl: Pick<CcmsetupCommandLine, 'parameters' | 'properties'>): SiteTargets {
  const managementPoints = cl.parameters.mp ?? [];
  const hostName = cl.properties['CCMHOSTNAME'];
  const cmg =
    managementPoints.filter(isCmgAddress).map((mp) => cmgOf(mp, '/mp')).find((t) => t !== undefined) ??
    (hostName && isCmgAddress(hostName) ? cmgOf(hostName, 'CCMHOSTNAME') : undefined);
  return {
    managementPoints,
    ...(cmg ? { cmg } : {}),
    ...(cl.properties['SMSMP'] ? { initialManagementPoint: cl.properties['SMSMP'] } : {}),
    siteCode: cl.properties['SMSSITECODE'] ?? 'AUTO',
    ...(hostName && !isCmgAddress(hostName) ? { internetHost: hostName } : {}),
  };
}
