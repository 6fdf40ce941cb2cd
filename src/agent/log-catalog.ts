/**
 * Owns the wording of every line the simulated client writes, with its log, component, type and `file=` value.
 * Lines marked [V] are Microsoft's wording (logs.md §3; `file=` values from the genuine ccmsetup.log, 5.0.8458.1007);
 * [I] lines are the simulator's own where no public text exists. docs/logs-catalog.md lists them all with sources.
 */
import type { LogType } from '../log/record.js';

export type ClientLogName = 'ccmsetup' | 'ClientIDManagerStartup' | 'ClientLocation';

export interface CatalogLine {
  log: ClientLogName;
  component: string;
  type: LogType;
  file: string;
  message: string;
}

type Spec<A extends unknown[]> = (...args: A) => CatalogLine;

function ccmsetup<A extends unknown[]>(type: LogType, file: string, text: (...args: A) => string): Spec<A> {
  return (...args) => ({ log: 'ccmsetup', component: 'ccmsetup', type, file, message: text(...args) });
}
function cidm<A extends unknown[]>(type: LogType, file: string, text: (...args: A) => string): Spec<A> {
  return (...args) => ({ log: 'ClientIDManagerStartup', component: 'ClientIDManagerStartup', type, file, message: text(...args) });
}
function location<A extends unknown[]>(type: LogType, file: string, text: (...args: A) => string): Spec<A> {
  return (...args) => ({ log: 'ClientLocation', component: 'ClientLocation', type, file, message: text(...args) });
}

/** Versions the simulated client reports (ConfigMgr 2403). */
export const CCMSETUP_VERSION = '5.0.9128.1000';
export const CLIENT_VERSION = '5.00.9128.1000';
export const CLIENT_PRODUCT_CODE = '{A1B2E5D4-1F3C-4C5B-9E0A-2D7F36C1E4B8}';
/** SslState / CCMHTTPSSTATE of an HTTP (enhanced HTTP) client, as in the genuine log. */
export const SSL_STATE = 224;
/** The folder ccmsetup.exe is launched from (the `Launch from folder` line; a /noservice `/config` file sits there). */
export const LAUNCH_FOLDER = 'C:\\Install\\ConfigMgr client\\';

/** The bootstrap's `Ccmsetup command line:` text: the masked line with two spaces after the program name (logs.md §3.1). */
export function bootstrapCommandLine(maskedCommandLine: string): string {
  return maskedCommandLine.replace(/^ccmsetup\.exe /i, 'ccmsetup.exe  ');
}

export const LINES = {
  // ---- ccmsetup.log: start-up [V] ----
  started: ccmsetup(1, 'ccmsetup.cpp:9498', (pid: number) => `==========[ ccmsetup started in process ${pid} ]==========`),
  updatedSecurity: ccmsetup(0, 'ccmsetup.cpp:9342', (path: string) => `Updated security on object ${path}.`),
  launchFrom: ccmsetup(1, 'ccmsetup.cpp:627', (folder: string) => `Launch from folder ${folder}`),
  version: ccmsetup(1, 'ccmsetup.cpp:633', () => `CcmSetup version: ${CCMSETUP_VERSION}`),
  taskMissing: ccmsetup(0, 'wintask.cpp:648', () => `Folder 'Microsoft\\Microsoft\\Configuration Manager' not found. Task does not exist.`),
  runningOn: ccmsetup(
    1,
    'util.cpp:2075',
    (computer: string, os: string, version: string) =>
      `[${computer}] Running on '${os}' (${version}). Service Pack (0.0). SuiteMask = 256. Product Type = 1`,
  ),
  commandLine: ccmsetup(1, 'ccmsetup.cpp:3813', (line: string) => `Ccmsetup command line: ${line}`),
  paramsSpecified: ccmsetup(
    1,
    'ccmsetup.cpp:3938',
    () => 'Command line parameters for ccmsetup have been specified.  No registry lookup for command line parameters is required.',
  ),
  commandLine2: ccmsetup(1, 'ccmsetup.cpp:3939', (line: string) => `Command line: ${line}`),
  sslState: ccmsetup(0, 'ccmsetup.cpp:4587', () => `SslState value: ${SSL_STATE}`),
  noClient: ccmsetup(1, 'ccmsetup.cpp:2962', () => 'No version of the client is currently detected.'),
  serviceCreated: ccmsetup(1, 'ccmsetup.cpp:3472', () => 'Successfully created the ccmsetup service'),
  serviceStarted: ccmsetup(1, 'ccmsetup.cpp:3483', () => 'Successfully started the ccmsetup service'),
  inServiceMain: ccmsetup(0, 'ccmsetup.cpp:3580', () => 'In ServiceMain'),
  // [I] existing-client detection and the three switches that act on it
  clientDetected: ccmsetup(1, 'ccmsetup.cpp:2957', (v: string) => `Detected client version ${v} installed on this computer.`),
  logonStop: ccmsetup(1, 'ccmsetup.cpp:2983', () => 'A client is already installed and /logon was specified. Stop proceeding.'),
  forceInstall: ccmsetup(1, 'ccmsetup.cpp:2990', () => '/forceinstall was specified. The existing client will be uninstalled first.'),
  uninstalling: ccmsetup(1, 'ccmsetup.cpp:3140', () => 'Uninstalling the existing client.'),
  uninstallNoClient: ccmsetup(2, 'ccmsetup.cpp:3134', () => 'No client is installed. Nothing to uninstall.'),
  uninstalled: ccmsetup(1, 'ccmsetup.cpp:3175', (v: string) => `Client version ${v} was uninstalled successfully.`),
  // [V] service-side property dump
  property: ccmsetup(1, 'ccmsetup.cpp:8730', (name: string, value: string) => `${name}:    ${value}`),
  // [I] the /config file's path after the label; empty when no /config is given
  configFile: ccmsetup(1, 'ccmsetup.cpp:4710', (path = '') => `Config file:      ${path}`),
  retryTime: ccmsetup(1, 'ccmsetup.cpp:4711', (minutes: number) => `Retry time:       ${minutes} minute(s)`),
  msiLogFile: ccmsetup(1, 'ccmsetup.cpp:4712', () => 'MSI log file:     C:\\Windows\\ccmsetup\\Logs\\client.msi.log'),
  msiProperties: ccmsetup(1, 'ccmsetup.cpp:4713', (props: string) => `MSI properties:    ${props}`),
  sourceList: ccmsetup(1, 'ccmsetup.cpp:4721', () => 'Source List:'),
  mpsHeader: ccmsetup(1, 'ccmsetup.cpp:4740', () => 'MPs:'),
  mpEntry: ccmsetup(1, 'ccmsetup.cpp:4755', (mp: string) => `                  ${mp}`),
  freeDisk: ccmsetup(1, 'util.cpp:714', (mb: number) => `Detected ${mb} MB free disk space on system drive.`),
  runningAsSystem: ccmsetup(1, 'ccmsetup.cpp:2074', () => 'Running as user "SYSTEM"'),
  // ---- locating the MP or CMG ----
  onlyOneMp: ccmsetup(1, 'ccmsetup.cpp:9942', (mp: string) => `Only one MP ${mp} is specified. Use it.`),
  tryingNextMp: ccmsetup(2, 'ccmsetup.cpp:9960', (failed: string, next: string) => `Failed to reach MP ${failed}. Trying the next MP in the list: ${next}.`),
  siteVersion: ccmsetup(1, 'siteinfo.cpp:673', (version: string, mp: string) => `Retrived site version '${version}' from MP '${mp}'.`),
  siteCodeLine: ccmsetup(1, 'ccmsetup.cpp:2132', (code: string) => `SiteCode:         ${code}`),
  siteVersionLine: ccmsetup(1, 'ccmsetup.cpp:2133', (version: string) => `SiteVersion:      ${version}`),
  bootstrapInternet: ccmsetup(1, 'ccmsetup.cpp:10795', (flag: 0 | 1) => `CCMSETUP bootstrap from Internet: ${flag}`),
  ccmhttpLine: ccmsetup(
    1,
    'ccmhttp.cpp:1075',
    (host: string, path: string, port: number, protocol: string, tokenAuth: 0 | 1) =>
      `ccmsetup: Host=${host}, Path=${path}, Port=${port}, Protocol=${protocol}, CcmTokenAuth=${tokenAuth}, Flags=0x4100, Options=0xe0`,
  ),
  appendingToken: ccmsetup(1, 'ccmhttp.cpp:1492', () => 'Appending CCM Token to the header.'),
  locationRequest: ccmsetup(1, 'siteinfo.cpp:193', (target: string) => `Sending location request to '${target}' with payload '<SiteInfoRequest SchemaVersion="1.00"/>'`),
  foundOnlineMp: ccmsetup(1, 'ccmsetup.cpp:11120', (url: string) => `Found a valid online MP '${url}'`),
  searchingDps: ccmsetup(1, 'ccmsetup.cpp:10872', () => 'Searching for DP locations from MP(s)...'),
  checkingUrl: ccmsetup(1, 'ccmsetup.cpp:11201', (url: string) => `Checking the URL '${url}'`),
  httpGet: ccmsetup(1, 'httphelper.cpp:807', (url: string) => `GET '${url}'`),
  httpPost: ccmsetup(1, 'httphelper.cpp:807', (url: string) => `CCM_POST '${url}'`),
  // ---- downloading and the signed manifest ----
  addingFile: ccmsetup(
    1,
    'ccmsetup.cpp:6478',
    (url: string, saveAs: string) => `Adding file '${url}' to BITS job, saving as '${saveAs}'.`,
  ),
  startingBits: ccmsetup(1, 'ccmsetup.cpp:6491', () => 'Starting BITS download for client deployment files.'),
  downloadProgress: ccmsetup(0, 'ccmsetup.cpp:9246', (n: number) => `File download 100% complete (${n} of ${n} bytes).`),
  downloadComplete: ccmsetup(1, 'ccmsetup.cpp:6022', () => 'Download complete.'),
  signingRoot: ccmsetup(0, 'util.cpp:1568', (thumb: string) => `Signing root cert's thumbprint: ${thumb}`),
  cabTrusted: ccmsetup(1, 'util.cpp:1598', (path: string) => `${path} is Microsoft trusted.`),
  manifestExtracted: ccmsetup(
    1,
    'ccmsetup.cpp:6673',
    () => 'Successfully extracted manifest file C:\\Windows\\ccmsetup\\ccmsetup.xml from file C:\\Windows\\ccmsetup\\ccmsetup.cab.',
  ),
  loadingManifest: ccmsetup(1, 'manifest.cpp:119', () => 'Loading manifest file: C:\\Windows\\ccmsetup\\ccmsetup.xml'),
  manifestLoaded: ccmsetup(1, 'manifest.cpp:137', () => 'Successfully loaded ccmsetup manifest file.'),
  // [I] the manifest hash check (ccmsetup's own wording is not public)
  hashOk: ccmsetup(0, 'manifest.cpp:1402', (file: string) => `File '${file}' matches the hash in the signed manifest.`),
  hashMismatch: ccmsetup(
    3,
    'manifest.cpp:1410',
    (file: string, actual: string, expected: string) =>
      `File '${file}' has hash ${actual} but the signed manifest expects ${expected}. Setup manifest hash validation failed. Error 0x80096010`,
  ),
  manifestSignatureBad: ccmsetup(3, 'util.cpp:1612', (why: string) => `The ccmsetup manifest signature is not valid: ${why}. Error 0x80096010`),
  // ---- prerequisites [V] / [I] ----
  itemApplicable: ccmsetup(1, 'manifest.cpp:305', (item: string) => `Item '${item}' is applicable. Detecting whether it exists.`),
  itemDetected: ccmsetup(1, 'manifest.cpp:332', (item: string) => `Detected item '${item}'`),
  itemPending: ccmsetup(1, 'manifest.cpp:324', (item: string) => `Item ${item} has not been installed yet. Put to pending install list.`),
  prereqFailed: ccmsetup(
    3,
    'manifest.cpp:1188',
    (item: string) => `Prerequisite evaluation failed for item '${item}'. Error 0x80004005`,
  ),
  rebootPending: ccmsetup(
    2,
    'ccmsetup.cpp:2210',
    () => 'A system restart is pending and /forcereboot was not specified. Setup will continue after the next restart.',
  ),
  forceReboot: ccmsetup(1, 'ccmsetup.cpp:2218', () => 'A system restart is pending. /forcereboot was specified; restarting the computer.'),
  // ---- the MSI and the service [V] ----
  installingVersion: ccmsetup(
    1,
    'ccmsetup.cpp:1212',
    () => `Installing version ${CLIENT_VERSION} of the client with product code ${CLIENT_PRODUCT_CODE}`,
  ),
  runningPackage: ccmsetup(1, 'msiutil.cpp:895', () => 'Running installation package'),
  packagePath: ccmsetup(1, 'msiutil.cpp:896', (path: string) => `  Package:     ${path}`),
  msiAction: ccmsetup(0, 'msiutil.cpp:316', (time: string, action: string) => `MSI: Action ${time}: ${action}`),
  installSucceeded: ccmsetup(1, 'ccmsetup.cpp:1351', () => 'Installation succeeded.'),
  serviceStartedCcmExec: ccmsetup(1, 'ccmsetup.cpp:1420', () => "Successfully started the 'SMS Agent Host' (CcmExec) service."),
  waitingRegistration: ccmsetup(1, 'ccmsetup.cpp:1466', () => 'Waiting for the client to register with the site.'),
  // ---- failures and the end [V] ----
  ccmhttpError: ccmsetup(
    3,
    'ccmhttp.cpp:2270',
    (url: string, port: number, text: string) => `[CCMHTTP] ERROR: URL=${url}, Port=${port}, Options=${SSL_STATE}, Code=0, Text=${text}`,
  ),
  postFailed: ccmsetup(3, 'httphelper.cpp:1641', (url: string, hr: string) => `Post to ${url} failed with ${hr}.`),
  // [I] the GET counterpart (MPLIST, the content manifest): no public record of the real wording.
  getFailed: ccmsetup(3, 'httphelper.cpp:1641', (url: string, hr: string) => `GET ${url} failed with ${hr}.`),
  // A download (client.msi, the cab) goes through BITS and fails with BITS' own record, CRLFs inside as in the genuine log.
  bitsFailed: ccmsetup(
    3,
    'ccmsetup.cpp:6565',
    (hr: string, description: string) =>
      `Failed to download files through BITS. Error: ${hr}, Description ${description}\r\n, Context: The error occurred while the remote file was being processed.\r\n.`,
  ),
  refusedBecause: ccmsetup(3, 'httphelper.cpp:1650', (status: number, reason: string) => `The server answered HTTP ${status}: ${reason}`),
  failedBeforeAnswer: ccmsetup(3, 'httphelper.cpp:1650', (reason: string) => `The request failed before any server answered: ${reason}`),
  nextRetry: ccmsetup(1, 'ccmsetup.cpp:10510', (minutes: number) => `Next retry in ${minutes} minute(s)...`),
  downloadTimeout: ccmsetup(
    3,
    'ccmsetup.cpp:10530',
    (minutes: number, hr: string) => `Failed to reach the site within /downloadtimeout (${minutes} minute(s)). Error ${hr}`,
  ),
  setupRunning: ccmsetup(3, 'ccmsetup.cpp:9620', (pid: number) => `Another instance of ccmsetup (process ${pid}) is already running. Exiting.`),
  // [I] no public record of how ccmsetup words a refused command line.
  invalidCommandLine: ccmsetup(3, 'ccmsetup.cpp:3820', (reason: string) => `Invalid command line: ${reason}`),
  failedWith: ccmsetup(1, 'ccmsetup.cpp:10711', (hr: string) => `CcmSetup failed with error code ${hr}`),
  exiting: ccmsetup(1, 'ccmsetup.cpp:10707', (code: number) => `CcmSetup is exiting with return code ${code}`),

  // ---- ClientIDManagerStartup.log ----
  startup: cidm(1, 'ccmidmanager.cpp:388', () => '[----- STARTUP -----]'),
  machine: cidm(1, 'ccmidmanager.cpp:389', (name: string) => `Machine: ${name}`),
  osVersion: cidm(1, 'ccmidmanager.cpp:390', (v: string) => `OS Version: ${v}`),
  clientVersion: cidm(1, 'ccmidmanager.cpp:391', () => `SCCM Client Version: ${CLIENT_VERSION}`),
  httpsState: cidm(1, 'ccmidmanager.cpp:412', () => `Client is set to use HTTPS when available. The current state is ${SSL_STATE}.`),
  newSmsUid: cidm(1, 'ccmidmanager.cpp:905', (guid: string) => `Generated new SMS Unique Identifier ${guid}`),
  existingSmsUid: cidm(1, 'ccmidmanager.cpp:880', (guid: string) => `Read SMS Unique Identifier ${guid} from SMSCFG.ini`),
  hardwareId: cidm(0, 'ccmidmanager.cpp:1322', (id: string, inputs: Array<[string, string]>) =>
    [`Computed HardwareID=${id}`, ...inputs.map(([k, v]) => `\t${k}=${v}`)].join('\r\n'),
  ),
  certCreated: cidm(
    1,
    'certmaintenance.cpp:606',
    (friendly: string, thumb: string, subject: string, until: string) =>
      `Created self-signed certificate '${friendly}' [Thumbprint ${thumb}] issued to '${subject}', valid until ${until}`,
  ),
  certReused: cidm(1, 'certmaintenance.cpp:540', (friendly: string, thumb: string) => `Found existing '${friendly}' [Thumbprint ${thumb}] in store SMS`),
  certIdSaved: cidm(1, 'certmaintenance.cpp:655', () => 'Saved Certificate ID to registry successfully'),
  siteAssignment: cidm(1, 'regendpoint.cpp:214', (from: string, to: string) => `RegEndPoint: Received notification for site assignment change from '${from}' to '${to}'.`),
  regSync: cidm(1, 'regtask.cpp:377', () => '[RegTask] - Executing registration task synchronously.'),
  regStarting: cidm(1, 'regtask.cpp:402', (attempt: number) => `[RegTask] - Starting registration, attempt ${attempt}.`),
  regSending: cidm(1, 'regtask.cpp:520', (guid: string) => `[RegTask] - Client is not registered. Sending registration request for ${guid} ...`),
  regUsingToken: cidm(1, 'regtask.cpp:533', () => 'Registering client using bulk registration token auth.'),
  regPending: cidm(1, 'regtask.cpp:611', (guid: string) => `[RegTask] - Client registration is pending. Server assigned ClientID is ${guid}`),
  regSleeping: cidm(1, 'regtask.cpp:640', (seconds: number) => `[RegTask] - Sleeping for ${seconds} seconds ...`),
  regDone: cidm(
    1,
    'regtask.cpp:598',
    (guid: string, approval: number) => `[RegTask] - Client is registered. Server assigned ClientID is ${guid}. Approval status ${approval}`,
  ),
  regAlready: cidm(1, 'regtask.cpp:455', () => '[RegTask] - Client is already registered. Exiting.'),
  regFailed: cidm(3, 'regtask.cpp:570', (hr: string) => `RegTask: Failed to send registration request message. Error: ${hr}`),
  regRefused: cidm(3, 'regtask.cpp:575', (reason: string, code: string) => `[RegTask] - Registration was refused by the site: ${reason} (${code})`),
  regGivingUp: cidm(3, 'regtask.cpp:590', (hr: string) => `[RegTask] - Client registration failed. Error ${hr}`),
  stsServer: cidm(1, 'ccmtoken.cpp:210', (server: string) => `Getting CCM Token from STS server '${server}'`),
  stsUrl: cidm(1, 'ccmtoken.cpp:245', (url: string) => `Getting CCM Token from ${url}`),
  tokenCached: cidm(1, 'ccmtoken.cpp:330', (until: string) => `Cached encrypted token for 'S-1-5-18'. Will expire at '${until}'`),
  tokenFailed: cidm(3, 'ccmtoken.cpp:268', (hr: string) => `RetrieveTokenFromStsServerImpl failed with error ${hr}`),
  tokenRefused: cidm(3, 'ccmtoken.cpp:272', (reason: string, code: string) => `The token service refused the request: ${reason} (${code})`),
  bulkTokenForgotten: cidm(1, 'ccmtoken.cpp:355', () => 'Bulk registration token was used for the initial registration and is discarded.'),
  unassignedNoReg: cidm(2, 'regtask.cpp:410', () => '[RegTask] - Client is not assigned to a site. Registration is deferred until site assignment succeeds.'),

  // ---- ClientLocation.log ----
  assigning: location(1, 'smsclientassignment.cpp:156', (code: string) => `Assigning client to site '${code}'`),
  assigned: location(1, 'smsclientassignment.cpp:310', (code: string) => `Client is assigned to site '${code}'`),
  assignFailed: location(
    3,
    'smsclientassignment.cpp:244',
    (code: string, mp: string) =>
      `Failed to verify site code '${code}'. Management point '${mp}' does not belong to site '${code}'. Site assignment failed. Error 0x80004005`,
  ),
  assignRetry: location(2, 'smsclientassignment.cpp:262', () => 'The client is not assigned to a site. It retries every 10 minutes until it assigns to a site.'),
  rotatingAssigned: location(
    1,
    'lsmpmanager.cpp:1020',
    (mp: string, version: string) =>
      `Rotating assigned management point, new management point [1] is: ${mp} (${version}) with capabilities: <Capabilities SchemaVersion ="1.0"><Property Name="SSLState" Value="0" /></Capabilities>`,
  ),
  rotatingInternet: location(
    1,
    'lsmpmanager.cpp:1088',
    (url: string) =>
      `Rotating internet management point, new management point [1] is: ${url} (0) with capabilities: <Capabilities SchemaVersion ="1.0"><Property Name="SSL" Version="1" /></Capabilities>`,
  ),
  cmgNotAllowed: location(
    3,
    'lsmpmanager.cpp:1102',
    () => 'Client settings do not allow this client to use a cloud management gateway. Error 0x87d0027e',
  ),
} as const;

export type LineId = keyof typeof LINES;
