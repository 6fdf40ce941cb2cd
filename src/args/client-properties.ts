/**
 * Owns the table of the client.msi properties ccmsetup passes on (cli.md §3): type, allowed values, range, default
 * and the `/?` description, with the documented rules as `check`. Unknown properties are not refused: ccmsetup
 * passes them to client.msi as they are.
 */
import { type ArgSpec, SCHEME, mustBeGuid, splitList } from './arg-spec.js';
import { siteCodeProblem } from '../ids.js';

const SMSCACHEFLAG_VALUES = ['PERCENTDISKSPACE', 'PERCENTFREEDISKSPACE', 'MAXDRIVE', 'MAXDRIVESPACE', 'NTFSONLY', 'COMPRESS', 'FAILIFNOSPACE'];

function checkMpUrls(value: string): string | undefined {
  for (const mp of splitList(value)) {
    if (SCHEME.test(mp) && !/^https?:\/\//i.test(mp)) return `${mp}: only http:// or https:// may prefix a management point`;
  }
  return undefined;
}

/** `SMSSITECODE`: three characters A–Z/0–9, not reserved, or AUTO. */
export function siteCodePropertyProblem(value: string): string | undefined {
  if (value.toUpperCase() === 'AUTO') return undefined;
  const problem = siteCodeProblem(value);
  return problem ? `${problem}, or AUTO` : undefined;
}

export const CLIENT_PROPERTIES: readonly ArgSpec[] = [
  { name: 'AADCLIENTAPPID', type: 'string', valueHint: '<GUID>', description: 'Microsoft Entra native client app ID.', check: mustBeGuid },
  { name: 'AADRESOURCEURI', type: 'url', valueHint: '<App ID URI>', description: 'App ID URI of the Microsoft Entra server app.' },
  { name: 'AADTENANTID', type: 'string', valueHint: '<GUID>', description: 'Microsoft Entra tenant ID.', check: mustBeGuid },
  { name: 'AADTENANTNAME', type: 'string', valueHint: '<name>', description: 'Microsoft Entra tenant name (hidden in the docs).' },
  { name: 'CCMADMINS', type: 'list', valueHint: '<account>[;<account>...]', description: 'Accounts or groups given access to client settings.' },
  { name: 'CCMALLOWSILENTREBOOT', type: 'flag', description: 'Restarts without warning even if a user is signed in (bare, no value).' },
  { name: 'CCMALWAYSINF', type: 'enum', values: ['1', '0'], valueHint: '1', description: 'Always internet-based (connection type Always Internet).' },
  { name: 'CCMCERTISSUERS', type: 'string', valueHint: '<issuer list>', description: 'Root CA subject attributes (, or ; between attributes, | between CAs); case-sensitive.' },
  { name: 'CCMCERTNAMECHECK', type: 'enum', values: ['0', '1'], valueHint: '0', description: '0 skips the certificate subject-name check (2207+).' },
  {
    name: 'CCMCERTSEL',
    type: 'string',
    valueHint: 'Subject:<x>|SubjectStr:<x>|SubjectAttr:<OID>=<v>',
    description: 'PKI client certificate selection criteria.',
    check: (v) => (/^(Subject|SubjectStr|SubjectAttr|SubjectAttribute)\s*:/i.test(v) ? undefined : 'must start with Subject:, SubjectStr: or SubjectAttr:'),
  },
  { name: 'CCMCERTSTORE', type: 'string', default: 'Personal', valueHint: '<store>', description: 'Certificate store to search for the client certificate.' },
  { name: 'CCMDEBUGLOGGING', type: 'enum', values: ['0', '1'], default: '0', valueHint: '0|1', description: 'Debug logging (also set CCMENABLELOGGING).' },
  { name: 'CCMENABLELOGGING', type: 'enum', values: ['TRUE', 'FALSE'], default: 'TRUE', valueHint: 'TRUE|FALSE', description: 'Client logging on or off.' },
  { name: 'CCMEVALINTERVAL', type: 'int', min: 1, max: 1440, default: '1440', valueHint: '<minutes>', description: 'How often client health evaluation runs.' },
  { name: 'CCMEVALHOUR', type: 'int', min: 0, max: 23, default: '0', valueHint: '<hour>', description: 'Hour client health evaluation runs.' },
  { name: 'CCMFIRSTCERT', type: 'enum', values: ['1', '0'], valueHint: '1', description: '1 picks the PKI certificate with the longest validity.' },
  {
    name: 'CCMHOSTNAME',
    type: 'string',
    valueHint: '<FQDN>|<host>/CCM_Proxy_MutualAuth/<id>',
    description: 'Internet-based MP or CMG address, without https://; not with SMSSITECODE=AUTO.',
    check: (v) => (SCHEME.test(v) ? 'must not start with a scheme such as https:// (only the /mp URL of a CMG has one)' : undefined),
  },
  { name: 'CCMHTTPPORT', type: 'int', min: 1, max: 65535, default: '80', valueHint: '<port>', description: 'HTTP port to the site systems.' },
  { name: 'CCMHTTPSPORT', type: 'int', min: 1, max: 65535, default: '443', valueHint: '<port>', description: 'HTTPS port to the site systems.' },
  { name: 'CCMINSTALLDIR', type: 'path', default: '%WinDir%\\CCM', valueHint: '<folder>', description: 'Client installation folder.' },
  { name: 'CCMLOGLEVEL', type: 'int', min: 0, max: 3, default: '1', valueHint: '0|1|2|3', description: 'Log level: 0 verbose, 1 default, 2 warnings and errors, 3 errors only.' },
  { name: 'CCMLOGMAXHISTORY', type: 'int', min: 0, default: '1', valueHint: '<count>', description: 'Log history files to keep (0 keeps none).' },
  { name: 'CCMLOGMAXSIZE', type: 'int', min: 10000, default: '250000', valueHint: '<bytes>', description: 'Log size before rollover (minimum 10000 bytes).' },
  { name: 'DISABLESITEOPT', type: 'enum', values: ['TRUE', 'FALSE'], valueHint: 'TRUE', description: 'Users cannot change the assigned site in Control Panel.' },
  { name: 'DISABLECACHEOPT', type: 'enum', values: ['TRUE', 'FALSE'], valueHint: 'TRUE', description: 'Users cannot change the cache settings in Control Panel.' },
  { name: 'DNSSUFFIX', type: 'string', valueHint: '<domain>', description: 'DNS domain to find management points in (default: the client\'s domain).' },
  { name: 'FSP', type: 'string', valueHint: '<server>', description: 'Fallback status point.' },
  { name: 'IGNOREAPPVVERSIONCHECK', type: 'enum', values: ['TRUE', 'FALSE'], valueHint: 'TRUE', description: 'Skips the App-V version check.' },
  { name: 'MANAGEDINSTALLER', type: 'enum', values: ['1', '0'], valueHint: '1', description: 'Makes ccmsetup and client.msi WDAC managed installers.' },
  { name: 'NOTIFYONLY', type: 'enum', values: ['TRUE', 'FALSE'], valueHint: 'TRUE', description: 'Client status reports problems but does not remediate.' },
  {
    name: 'PROVISIONTS',
    type: 'string',
    valueHint: '<deployment ID>',
    description: 'Task sequence deployment to run after registration (ccmsetup.msi only, v2002+).',
    check: (v) => (/^[A-Za-z0-9]{3}[0-9A-Fa-f]{5}$/.test(v) ? undefined : 'must be a task sequence deployment ID such as PRI20001'),
  },
  { name: 'RESETKEYINFORMATION', type: 'enum', values: ['TRUE', 'FALSE'], valueHint: 'TRUE', description: 'Removes the old trusted root key.' },
  { name: 'SITEREASSIGN', type: 'enum', values: ['TRUE', 'FALSE'], valueHint: 'TRUE', description: 'Automatic site reassignment on upgrade with SMSSITECODE=AUTO.' },
  { name: 'SMSCACHEDIR', type: 'path', default: '%WinDir%\\ccmcache', valueHint: '<folder>', description: 'Client cache folder.' },
  {
    name: 'SMSCACHEFLAGS',
    type: 'list',
    values: SMSCACHEFLAG_VALUES,
    valueHint: '<flag>[;<flag>...]',
    description: `Cache folder options: ${SMSCACHEFLAG_VALUES.join(', ')}.`,
    check: (v) => {
      const flags = splitList(v).map((f) => f.toUpperCase());
      return flags.includes('PERCENTDISKSPACE') && flags.includes('PERCENTFREEDISKSPACE')
        ? 'PERCENTFREEDISKSPACE cannot be combined with PERCENTDISKSPACE'
        : undefined;
    },
  },
  { name: 'SMSCACHESIZE', type: 'int', min: 1, valueHint: '<MB or %>', description: 'Cache size in MB (or percent with a PERCENT* flag).' },
  {
    name: 'SMSCONFIGSOURCE',
    type: 'string',
    default: 'PU',
    valueHint: 'R|P|M|U...',
    description: 'Where the client reads its settings, in order: R registry, P command line, M existing settings, U upgrade.',
    check: (v) => (/^[RPMU]+$/i.test(v) ? undefined : 'must be letters from R, P, M and U'),
  },
  { name: 'SMSDIRECTORYLOOKUP', type: 'enum', values: ['NOWINS', 'WINSSECURE'], default: 'WINSSECURE', valueHint: 'NOWINS|WINSSECURE', description: 'WINS lookup for MPs (older docs).' },
  { name: 'SMSMP', type: 'string', valueHint: '<MP>', description: 'Initial management point of the installed client (prefix https:// for HTTPS-only).', check: checkMpUrls },
  { name: 'SMSMPLIST', type: 'list', valueHint: '<MP>[;<MP>...]', description: 'Management points for the installed client, each optionally https://.', check: checkMpUrls },
  { name: 'SMSPUBLICROOTKEY', type: 'string', valueHint: '<key>', description: 'Trusted root key when it is not in Active Directory.' },
  { name: 'SMSROOTKEYPATH', type: 'path', valueHint: '<file>', description: 'Full path of a file holding the trusted root key.' },
  { name: 'SMSSIGNCERT', type: 'path', valueHint: '<file.cer>', description: 'Full path of the exported site server signing certificate.' },
  {
    name: 'SMSSITECODE',
    type: 'string',
    valueHint: '<XYZ>|AUTO',
    default: 'AUTO',
    description: 'Site to assign the client to: a three-character site code, or AUTO (from AD DS or a management point).',
    check: siteCodePropertyProblem,
  },
];

const BY_NAME = new Map(CLIENT_PROPERTIES.map((p) => [p.name, p]));

export function findProperty(name: string): ArgSpec | undefined {
  return BY_NAME.get(name.toUpperCase());
}
