/**
 * Owns the table of the 22 documented ccmsetup.exe parameters (cli.md §2): type, allowed values, range, default and
 * the `/?` description. Names are matched case-insensitively; the spelling here is the docs'.
 */
import { type ArgSpec, SCHEME, splitList } from './arg-spec.js';
import { isJwtShaped } from './masking.js';

/** A CMG address: a path holding `/CCM_Proxy_` (MutualAuth or ServerAuth). */
export function isCmgAddress(value: string): boolean {
  return /\/CCM_Proxy_/i.test(value);
}

/** A DNS or NetBIOS host name, optionally with a port: what a management point address must start with. */
const HOST = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?$/;

function checkMpList(value: string): string | undefined {
  for (const mp of splitList(value)) {
    if (isCmgAddress(mp) && !/^https:\/\//i.test(mp)) return `the CMG address ${mp} must start with https://`;
    if (SCHEME.test(mp) && !/^https?:\/\//i.test(mp)) return `${mp}: only http:// or https:// may prefix a management point`;
    if (/\s/.test(mp)) return `${JSON.stringify(mp)} holds a space`;
    const host = mp.replace(/^https?:\/\//i, '').split('/')[0]!;
    if (!HOST.test(host)) return host === '' ? `${mp} names no server` : `${host} is not a server name`;
    if (isCmgAddress(mp) && !/^https:\/\/[^/]+\/CCM_Proxy_(MutualAuth|ServerAuth)\/\d+\/?$/i.test(mp)) {
      return `the CMG address ${mp} must be https://<host>/CCM_Proxy_MutualAuth/<id>, the id being digits`;
    }
  }
  return undefined;
}

export const CCMSETUP_PARAMETERS: readonly ArgSpec[] = [
  { name: '?', type: 'flag', description: 'Shows available command-line parameters for ccmsetup.exe.' },
  {
    name: 'AllowMetered',
    type: 'flag',
    description: 'Lets ccmsetup download content, register and get initial policy on a metered network (v2006+).',
  },
  {
    name: 'AlwaysExcludeUpgrade',
    type: 'enum',
    values: ['TRUE', 'FALSE'],
    default: 'FALSE',
    valueHint: 'TRUE|FALSE',
    description: 'TRUE: the client is never upgraded automatically.',
  },
  {
    name: 'BITSPriority',
    type: 'enum',
    values: ['FOREGROUND', 'HIGH', 'NORMAL', 'LOW'],
    default: 'NORMAL',
    valueHint: 'FOREGROUND|HIGH|NORMAL|LOW',
    description: 'Download priority for HTTP downloads.',
  },
  {
    name: 'config',
    type: 'path',
    valueHint: '<file>',
    description: 'A text file of client installation properties ([Client Install] section, like mobileclienttemplate.tcf).',
  },
  {
    name: 'downloadtimeout',
    type: 'int',
    min: 1,
    default: '1440',
    valueHint: '<minutes>',
    description: 'How long ccmsetup keeps trying to download before it stops.',
  },
  {
    name: 'ExcludeFeatures',
    type: 'enum',
    values: ['ClientUI'],
    valueHint: 'ClientUI',
    description: 'Leaves a feature out; ClientUI (Software Center) is the only supported value.',
  },
  { name: 'forceinstall', type: 'flag', description: 'Uninstalls any existing client, then installs the new one.' },
  {
    name: 'forcereboot',
    type: 'flag',
    description: 'Restarts the computer if needed; without it ccmsetup exits (7) and continues after a manual restart.',
  },
  { name: 'logon', type: 'flag', description: 'Stops if any version of the client is already installed.' },
  {
    name: 'mp',
    type: 'list',
    valueHint: '<server>[;<server>...]',
    description:
      'Download-source management points (FQDN, NetBIOS name or CMG URL https://HOST/CCM_Proxy_MutualAuth/<id>), tried in order; does not assign the client.',
    check: checkMpList,
  },
  { name: 'NoCRLCheck', type: 'flag', description: 'Does not check the certificate revocation list on HTTPS.' },
  { name: 'noservice', type: 'flag', description: "Runs in the caller's user context instead of as the ccmsetup service." },
  {
    name: 'regtoken',
    type: 'string',
    valueHint: '<token>',
    description: 'Bulk registration token (v2002+); use with /mp, CCMHOSTNAME and SMSSITECODE. Masked in every log.',
    check: (v) => (isJwtShaped(v) ? undefined : `must be a bulk registration token (three base64url parts joined by dots; got ${v.length} characters)`),
  },
  {
    name: 'retry',
    type: 'int',
    min: 1,
    default: '10',
    valueHint: '<minutes>',
    description: 'Minutes between download retries, until /downloadtimeout.',
  },
  { name: 'service', type: 'flag', description: 'Runs as the ccmsetup service under Local System (the default behaviour).' },
  {
    name: 'skipprereq',
    type: 'list',
    valueHint: '<file>[;<file>...]',
    description: 'Prerequisites not to install.',
  },
  {
    name: 'source',
    type: 'path',
    repeatable: true,
    valueHint: '<path>',
    description: 'Local or UNC download location; repeat for alternative locations.',
  },
  { name: 'uninstall', type: 'flag', description: 'Uninstalls the client (and, since 2111, the ccmsetup.msi bootstrap).' },
  {
    name: 'UsePKICert',
    type: 'flag',
    description: 'Uses a PKI client-authentication certificate; without it HTTPS management points and CMGs are filtered out.',
  },
  { name: 'IgnoreSkipUpgrade', type: 'flag', description: 'Upgrades a client that is excluded from automatic upgrade.' },
  {
    name: 'UpgradeToLatest',
    type: 'flag',
    description: 'Asks for the latest client source (pre-production client); documented in 2022-era docs only.',
  },
];

const BY_NAME = new Map(CCMSETUP_PARAMETERS.map((p) => [p.name.toUpperCase(), p]));

export function findParameter(name: string): ArgSpec | undefined {
  return BY_NAME.get(name.toUpperCase());
}

/** The key a parameter has in `ParsedParameters`: lower case, `/?` is `help`. */
export function parameterKey(spec: ArgSpec): string {
  return spec.name === '?' ? 'help' : spec.name.toLowerCase();
}
