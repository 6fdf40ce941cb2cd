/**
 * Owns the ccmsetup flow and the client's first start, as an event-driven state machine on the injected Clock:
 * each phase is a step that returns the next phase; every wait (retries, confirmation polling) is a Clock sleep, so
 * on a VirtualClock days pass in milliseconds and thousands of agents run in one process. Per-agent state is this
 * object's few fields; keys come from the injected KeyProvider, logs go through a (possibly shared) CmLogSet.
 *
 * The bulk registration token is taken out of the command line at the start, kept in one private field, and cleared
 * as soon as the first token request is done (or the run ends): it is never logged, written or returned.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { Clock } from '../clock/clock.js';
import type { Random } from '../clock/random.js';
import { CcmsimError, HRESULT, isCcmsimError } from '../errors.js';
import { smsGuid } from '../ids.js';
import { isJwtShaped, maskJwtsIn, maskSecret } from '../args/masking.js';
import { configFileName } from '../args/config-file.js';
import type { CmLogSet } from '../log/cm-log-set.js';
import type { CmLogLevel } from '../log/winston-format.js';
import { formatLocalStamp } from './local-stamp.js';
import { openClientLogs, type ClientLogs } from './client-logs.js';
import {
  loadCertificate,
  readCachedToken,
  readClientState,
  readMachineIdentity,
  removeClient,
  writeCachedToken,
  writeClientState,
  writeMachineIdentity,
  writeSmsCfg,
  type ClientState,
} from './client-state.js';
import { computeHardwareId, drawHardware, hardwareIdInputs, smbiosSerialIdentifier, type MachineHardware } from './hardware.js';
import { bootstrapCommandLine, CLIENT_VERSION, LAUNCH_FOLDER, LINES, type CatalogLine } from './log-catalog.js';
import { machinePaths, writeFileAtomic, type MachinePaths } from './machine-dir.js';
import { acquireMachineLock, type MachineLock } from './machine-lock.js';
import { describeError, returnCodeFor, RETURN_CODE, type CcmsetupOutcome, type CcmsetupResult } from './outcome.js';
import { isCmgAddress, serverAuthUrl, type ContentEntry, type ContentManifest, type RequestAuth, type Route, type SiteClient, type SiteInfo } from './site-client.js';
import { parseSmsCfg } from './smscfg.js';
import { hostAsGiven } from './site-transport.js';
import { readTextIfExists } from './machine-dir.js';
import { ensureClientCertificates, type ClientKeys, type KeySource } from './client-certificates.js';

/** The parts of the parsed ccmsetup command line (src/args) the flow reads. */
export interface AgentCommandLine {
  parameters: {
    mp?: string[] | undefined;
    regtoken?: string | undefined;
    retry: number;
    downloadtimeout: number;
    forceinstall?: boolean | undefined;
    forcereboot?: boolean | undefined;
    logon?: boolean | undefined;
    uninstall?: boolean | undefined;
    noservice?: boolean | undefined;
    /** The `/config` file as given (its properties are already in `properties`). */
    config?: string | undefined;
  };
  properties: Record<string, string>;
  maskedCommandLine: string;
}

export type SimulateOption = 'pending-reboot' | 'prereq-failure';

/** Progress the front door may show (never holds a secret). */
export type AgentEvent =
  | { kind: 'retry'; reason: string; nextAttemptAt: number; giveUpAt: number }
  | { kind: 'phase'; phase: Phase };

export interface RunCcmsetupOptions {
  commandLine: AgentCommandLine;
  machineDir: string;
  computerName: string;
  /** Forced network; by default derived from the command line (a CMG or CCMALWAYSINF=1 means internet). */
  network?: 'intranet' | 'internet' | undefined;
  timeZone: string;
  clock: Clock;
  random: Random;
  keys: KeySource;
  site: SiteClient;
  /** The site's own MP and CMG as clients name them (the MP an intranet client finds in AD, the CMG it roams to). */
  siteNames: { mpUrl: string; cmgUrl: string };
  simulate?: SimulateOption | undefined;
  /** A shared log sink whose root contains machineDir (a fleet); by default the run opens its own. */
  logs?: { set: CmLogSet; root: string } | undefined;
  onEvent?: ((event: AgentEvent) => void) | undefined;
  /** PID written in the machine lock (default: this process). */
  lockPid?: number | undefined;
}

export type Phase =
  | 'lock'
  | 'bootstrap'
  | 'detect'
  | 'uninstall'
  | 'service'
  | 'locate'
  | 'download'
  | 'prereqs'
  | 'msi'
  | 'identity'
  | 'assign'
  | 'register'
  | 'token'
  | 'done';

/** Real ccmsetup waits between confirmation polls; the first poll comes quickly so a real-clock install stays fast. */
const CONFIRMATION_WAITS_MS = [250, 5_000, 15_000, 30_000, 60_000];
const MINUTE = 60_000;

class Finish {
  constructor(
    readonly result: CcmsetupResult,
    readonly exitCode: number,
  ) {}
}

/** Runs ccmsetup on one simulated machine and resolves to its outcome; never throws for a ccmsetup failure. */
export async function runCcmsetup(options: RunCcmsetupOptions): Promise<CcmsetupOutcome> {
  return new CcmsetupAgent(options).run();
}

class CcmsetupAgent {
  private readonly o: RunCcmsetupOptions;
  private readonly paths: MachinePaths;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logs: ClientLogs;
  private phase: Phase = 'lock';
  private lock: MachineLock | undefined;
  /** The bulk token, only until the first token request is done. */
  private bulkToken: string | undefined;
  private readonly network: 'intranet' | 'internet';
  private readonly bootstrapThread: number;
  private readonly serviceThread: number;
  private readonly clientThread: number;
  private readonly startedAt: number;
  private existing: ClientState | undefined;
  private state: ClientState | undefined;
  private route: Route | undefined;
  private siteInfo: SiteInfo | undefined;
  private keys: ClientKeys | undefined;
  private hardware: MachineHardware | undefined;
  private tokenExpiresAt: number | undefined;
  private clientToken: string | undefined;
  private downloadGiveUpAt = 0;
  private content: ContentManifest | undefined;

  constructor(options: RunCcmsetupOptions) {
    this.o = options;
    this.clock = options.clock;
    this.random = options.random.fork('ccmsetup');
    this.paths = machinePaths(options.machineDir);
    this.startedAt = this.clock.now();
    this.bulkToken = options.commandLine.parameters.regtoken;
    // Take the token out of the command line object so no other holder keeps it alive.
    delete options.commandLine.parameters.regtoken;
    this.network = options.network ?? deriveNetwork(options.commandLine);
    this.bootstrapThread = this.random.int(300, 4000) * 4;
    this.serviceThread = this.random.int(300, 4000) * 4;
    this.clientThread = this.random.int(300, 4000) * 4;
    this.logs = openClientLogs({
      machineDir: options.machineDir,
      timeZone: options.timeZone,
      clock: this.clock,
      settings: logSettings(options.commandLine.properties),
      jitterMs: ((jitter) => () => jitter.int(0, 3))(options.random.fork('log-jitter')),
      ...(options.logs ? { shared: options.logs } : {}),
    });
  }

  async run(): Promise<CcmsetupOutcome> {
    let finish: Finish;
    let failure: unknown;
    try {
      try {
        for (;;) {
          this.o.onEvent?.({ kind: 'phase', phase: this.phase });
          const next = await this.step(this.phase);
          if (next instanceof Finish) {
            finish = next;
            break;
          }
          this.phase = next;
        }
      } catch (err) {
        failure = err;
        finish = new Finish('failed', returnCodeFor(err));
        // The failure may be the log itself (a file where its folder belongs): failing to log it must not replace it.
        failedTo(() => this.logFailure(err));
      } finally {
        this.bulkToken = undefined;
      }
      // A run that cannot write its last line (or close its logs) failed; a failure already there stays the one reported.
      const lastLine = failedTo(() => this.ccmsetup(LINES.exiting(finish.exitCode)));
      const closing = failedTo(() => this.logs.close());
      const ending = lastLine ?? closing;
      if (ending !== undefined && failure === undefined) {
        failure = ending;
        finish = new Finish('failed', returnCodeFor(ending));
      }
    } finally {
      // Whatever happened: in-process agents (a fleet, tests) share one PID, so a leaked lock blocks the machine for good.
      await this.lock?.release();
    }
    return this.outcome(finish, failure);
  }

  private outcome(finish: Finish, failure: unknown): CcmsetupOutcome {
    const s = this.state;
    const written = new Set(this.logs.written);
    return {
      exitCode: finish.exitCode,
      result: finish.result,
      computerName: this.o.computerName,
      machineDir: this.o.machineDir,
      network: this.network,
      via: this.route?.kind,
      smsId: s?.smsId,
      hardwareId: s?.hardwareId,
      requestedSiteCode: s?.requestedSiteCode ?? requestedSiteCode(this.o.commandLine),
      assignedSiteCode: s?.assignedSiteCode,
      registration: s?.registration ?? 'none',
      approval: s?.approval,
      registeredVia: s?.registeredVia,
      clientTokenExpiresAt: this.tokenExpiresAt !== undefined ? new Date(this.tokenExpiresAt).toISOString() : undefined,
      error: failure === undefined ? undefined : describeError(failure),
      logs: {
        ccmsetup: this.paths.ccmsetupLog,
        clientIdManagerStartup: written.has(this.paths.clientIdLog) ? this.paths.clientIdLog : undefined,
        clientLocation: written.has(this.paths.clientLocationLog) ? this.paths.clientLocationLog : undefined,
      },
      startedAt: new Date(this.startedAt).toISOString(),
      finishedAt: new Date(this.clock.now()).toISOString(),
    };
  }

  // ---------------------------------------------------------------- the steps

  private async step(phase: Phase): Promise<Phase | Finish> {
    switch (phase) {
      case 'lock':
        return this.takeLock();
      case 'bootstrap':
        return this.bootstrap();
      case 'detect':
        return this.detect();
      case 'uninstall':
        return this.uninstall();
      case 'service':
        return this.service();
      case 'locate':
        return this.locate();
      case 'download':
        return this.download();
      case 'prereqs':
        return this.prereqs();
      case 'msi':
        return this.msi();
      case 'identity':
        return this.identity();
      case 'assign':
        return this.assign();
      case 'register':
        return this.register();
      case 'token':
        return this.token();
      case 'done':
        return new Finish(this.state?.assignedSiteCode ? 'installed' : 'unassigned', RETURN_CODE.SUCCESS);
    }
  }

  private async takeLock(): Promise<Phase> {
    try {
      this.lock = await acquireMachineLock(this.paths.lockFile, this.o.lockPid ?? process.pid);
    } catch (err) {
      if (isCcmsimError(err, 'CCMSIM_SETUP_RUNNING')) {
        // Logged if the log can be written; either way the run ends as "setup already running" (code 8).
        failedTo(() => {
          this.ccmsetup(LINES.started(this.pid()));
          this.ccmsetup(LINES.setupRunning(Number(err.details?.['pid'] ?? 0)));
        });
      }
      throw err;
    }
    return 'bootstrap';
  }

  private pidValue: number | undefined;
  private pid(): number {
    this.pidValue ??= this.random.int(300, 9000) * 4;
    return this.pidValue;
  }

  private async bootstrap(): Promise<Phase> {
    const hw = await this.machineHardware();
    const line = bootstrapCommandLine(this.o.commandLine.maskedCommandLine);
    this.ccmsetup(LINES.started(this.pid()));
    this.ccmsetup(LINES.updatedSecurity('C:\\Windows\\ccmsetup\\cache\\'));
    this.ccmsetup(LINES.launchFrom(LAUNCH_FOLDER));
    this.ccmsetup(LINES.version());
    this.ccmsetup(LINES.taskMissing());
    this.ccmsetup(LINES.runningOn(this.o.computerName, hw.osName, hw.osVersion));
    this.ccmsetup(LINES.commandLine(line));
    this.ccmsetup(LINES.paramsSpecified());
    this.ccmsetup(LINES.commandLine2(line));
    this.ccmsetup(LINES.sslState());
    await this.pace(20);
    return 'detect';
  }

  private async detect(): Promise<Phase | Finish> {
    const p = this.o.commandLine.parameters;
    this.existing = await readClientState(this.paths);
    if (!this.existing) {
      this.ccmsetup(LINES.noClient());
      if (p.uninstall) {
        this.ccmsetup(LINES.uninstallNoClient());
        return new Finish('nothing-to-uninstall', RETURN_CODE.SUCCESS);
      }
      return 'service';
    }
    this.ccmsetup(LINES.clientDetected(this.existing.installedVersion));
    if (p.uninstall) return 'uninstall';
    if (p.logon) {
      this.ccmsetup(LINES.logonStop());
      this.state = this.existing;
      return new Finish('client-exists', RETURN_CODE.SUCCESS);
    }
    if (p.forceinstall) {
      this.ccmsetup(LINES.forceInstall());
      await this.removeExisting();
    }
    return 'service';
  }

  private async removeExisting(): Promise<void> {
    this.ccmsetup(LINES.uninstalling());
    await removeClient(this.paths);
    this.ccmsetup(LINES.uninstalled(this.existing?.installedVersion ?? CLIENT_VERSION));
    this.existing = undefined;
  }

  private async uninstall(): Promise<Finish> {
    await this.removeExisting();
    return new Finish('uninstalled', RETURN_CODE.SUCCESS);
  }

  private async service(): Promise<Phase> {
    const cl = this.o.commandLine;
    if (!cl.parameters.noservice) {
      this.ccmsetup(LINES.serviceCreated());
      this.ccmsetup(LINES.serviceStarted());
      this.ccmsetup(LINES.started(this.random.int(300, 9000) * 4), this.serviceThread);
      this.ccmsetup(LINES.inServiceMain(), this.serviceThread);
      const args = cl.maskedCommandLine.replace(/^ccmsetup\.exe\s*/i, '');
      this.ccmsetup(LINES.commandLine(`"C:\\Windows\\ccmsetup\\ccmsetup.exe" /runservice  ${args}`), this.serviceThread);
      this.ccmsetup(LINES.sslState(), this.serviceThread);
    }
    const props = msiProperties(cl.properties);
    for (const [name, value] of props) this.ccmsetup(LINES.property(name, value), this.serviceThread);
    this.ccmsetup(LINES.configFile(configFilePath(cl.parameters)), this.serviceThread);
    this.ccmsetup(LINES.retryTime(cl.parameters.retry), this.serviceThread);
    this.ccmsetup(LINES.msiLogFile(), this.serviceThread);
    this.ccmsetup(LINES.msiProperties(props.map(([n, v]) => `${n}="${v}"`).join(' ')), this.serviceThread);
    this.ccmsetup(LINES.sourceList(), this.serviceThread);
    this.ccmsetup(LINES.mpsHeader(), this.serviceThread);
    for (const mp of cl.parameters.mp ?? []) this.ccmsetup(LINES.mpEntry(mp), this.serviceThread);
    this.ccmsetup(LINES.freeDisk(this.random.int(40_000, 400_000)), this.serviceThread);
    this.ccmsetup(LINES.runningAsSystem(), this.serviceThread);
    this.downloadGiveUpAt = this.clock.now() + cl.parameters.downloadtimeout * MINUTE;
    await this.pace(30);
    return 'locate';
  }

  /**
   * Finds the MP (intranet) or the CMG (internet) and asks it for the site's information, retrying per /retry. An
   * `/mp` list is tried in order ("If the computer fails to connect to the first one, it tries the next in the
   * specified list"): a failure that a wait could fix moves on to the next MP at once, and only when the last one has
   * failed too does the client wait /retry minutes and start again from the first. The MP that answers serves the rest.
   */
  private async locate(): Promise<Phase> {
    const candidates = this.chooseRoutes();
    const first = candidates[0]!;
    if (first.kind === 'mp') {
      const mps = this.o.commandLine.parameters.mp?.filter((m) => !isCmgAddress(m)) ?? [];
      if (mps.length === 1) this.ccmsetup(LINES.onlyOneMp(mps[0]!), this.serviceThread);
      this.ccmsetup(LINES.bootstrapInternet(0), this.serviceThread);
    } else {
      this.ccmsetup(LINES.bootstrapInternet(1), this.serviceThread);
      this.ccmsetup(LINES.locationRequest(stripScheme(first.configured)), this.serviceThread);
    }
    this.siteInfo = await this.withRetry('locate', async () => {
      // Ends by returning or by throwing the last candidate's failure.
      for (let i = 0; ; i++) {
        const candidate = candidates[i]!;
        this.route = candidate;
        this.logHttp('GET', `${candidate.base}/SMS_MP/.sms_aut?MPLIST`);
        try {
          return await this.o.site.siteInfo(candidate, await this.requestAuth());
        } catch (err) {
          const next = candidates[i + 1];
          if (next === undefined || !this.isTransient(err)) throw err;
          this.logHttpFailure(err);
          this.ccmsetup(LINES.tryingNextMp(stripScheme(candidate.configured), stripScheme(next.configured)), this.serviceThread);
        }
      }
    });
    const route = this.route!;
    if (route.kind === 'cmg') this.ccmsetup(LINES.foundOnlineMp(route.configured), this.serviceThread);
    this.ccmsetup(LINES.siteVersion(this.siteInfo.siteVersion, stripScheme(route.configured)), this.serviceThread);
    this.ccmsetup(LINES.siteCodeLine(this.siteInfo.siteCode), this.serviceThread);
    this.ccmsetup(LINES.siteVersionLine(this.siteInfo.siteVersion), this.serviceThread);
    await this.pace(40);
    return 'download';
  }

  /** ccmsetup.cab and the signed manifest first (as the real ccmsetup: it reads the manifest from the cab). */
  private async download(): Promise<Phase> {
    const route = this.route!;
    const t = this.serviceThread;
    this.ccmsetup(LINES.searchingDps(), t);
    const manifest = await this.withRetry('download', async () => {
      if (route.kind === 'cmg') this.ccmsetup(LINES.checkingUrl(`${route.configured}/CCM_Client/ccmsetup.cab`), t);
      return this.o.site.contentManifest(route, await this.requestAuth(), (url) => this.logHttp('GET', url));
    });
    this.content = manifest;
    const cab = manifest.entries.find((e) => baseName(e.name).toLowerCase() === 'ccmsetup.cab');
    if (cab) await this.fetchFile(cab);
    this.ccmsetup(LINES.signingRoot(manifest.signerThumbprint), t);
    if (manifest.signatureProblem !== undefined) {
      this.ccmsetup(LINES.manifestSignatureBad(manifest.signatureProblem), t);
      throw new CcmsimError('CCMSIM_MANIFEST_HASH', `the ccmsetup manifest signature does not verify: ${manifest.signatureProblem}`, {
        hresult: HRESULT.TRUST_E_BAD_DIGEST,
      });
    }
    this.ccmsetup(LINES.cabTrusted('C:\\Windows\\ccmsetup\\ccmsetup.cab'), t);
    this.ccmsetup(LINES.manifestExtracted(), t);
    this.ccmsetup(LINES.loadingManifest(), t);
    this.ccmsetup(LINES.manifestLoaded(), t);
    await this.pace(200);
    return 'prereqs';
  }

  /** Downloads one manifest entry (a BITS job in the real log), saves it and checks it against the signed hash. */
  private async fetchFile(entry: ContentEntry): Promise<void> {
    const route = this.route!;
    const t = this.serviceThread;
    const file = baseName(entry.name);
    const path = `C:\\Windows\\ccmsetup\\${file}`;
    this.ccmsetup(LINES.addingFile(displayUrl(route, entry.url), path), t);
    this.ccmsetup(LINES.startingBits(), t);
    const bytes = await this.withRetry('download', async () => {
      this.logHttp('GET', entry.url);
      try {
        return await this.o.site.download(route, await this.requestAuth(), entry.url);
      } catch (err) {
        throw this.bitsFailure(err);
      }
    });
    this.ccmsetup(LINES.downloadProgress(bytes.length), t);
    this.ccmsetup(LINES.downloadComplete(), t);
    await writeFileAtomic(join(this.paths.ccmsetupDir, file), bytes);
    const actual = createHash('sha256').update(bytes).digest('hex').toUpperCase();
    if (entry.sha256.toUpperCase() !== actual) {
      this.ccmsetup(LINES.hashMismatch(path, actual, entry.sha256.toUpperCase()), t);
      throw new CcmsimError('CCMSIM_MANIFEST_HASH', `${file} does not match the hash in the signed manifest`, { hresult: HRESULT.TRUST_E_BAD_DIGEST });
    }
    this.ccmsetup(LINES.hashOk(path), t);
  }

  private async prereqs(): Promise<Phase> {
    const t = this.serviceThread;
    const items = ['x64/vcredist_x64.exe', 'x64/WindowsUpdateAgent30-x64.exe', 'x64/MicrosoftPolicyPlatformSetup.msi', 'x64/client.msi'];
    for (const item of items.slice(0, 3)) {
      this.ccmsetup(LINES.itemApplicable(item), t);
      if (this.o.simulate === 'prereq-failure' && item === 'x64/MicrosoftPolicyPlatformSetup.msi') {
        this.ccmsetup(LINES.prereqFailed(item), t);
        throw new CcmsimError('CCMSIM_PREREQ_FAILED', `prerequisite evaluation failed for ${item} (--simulate prereq-failure)`, {
          hresult: HRESULT.E_FAIL,
        });
      }
      this.ccmsetup(LINES.itemDetected(item), t);
    }
    const msi = this.content?.entries.find((e) => baseName(e.name).toLowerCase() === 'client.msi');
    this.ccmsetup(LINES.itemApplicable(msi?.name ?? 'x64/client.msi'), t);
    this.ccmsetup(LINES.itemPending(msi?.name ?? 'x64/client.msi'), t);
    if (this.o.simulate === 'pending-reboot') {
      if (!this.o.commandLine.parameters.forcereboot) {
        this.ccmsetup(LINES.rebootPending(), t);
        throw new CcmsimError('CCMSIM_REBOOT_REQUIRED', 'a restart is pending and /forcereboot was not given; ccmsetup continues after the next restart', {
          hresult: HRESULT.ERROR_SUCCESS_REBOOT_REQUIRED,
        });
      }
      this.ccmsetup(LINES.forceReboot(), t);
      await this.pace(60_000);
    }
    if (msi) await this.fetchFile(msi);
    return 'msi';
  }

  private async msi(): Promise<Phase> {
    const t = this.serviceThread;
    this.ccmsetup(LINES.installingVersion(), t);
    this.ccmsetup(LINES.runningPackage(), t);
    this.ccmsetup(LINES.packagePath(`C:\\WINDOWS\\ccmsetup\\{${this.random.uuid().toUpperCase()}}\\client.msi`), t);
    for (const action of ['CcmSetObjectSecurity. Set security on objects.', 'CcmRegisterComponents. Register components.', 'CcmStartService. Starting services.', 'CcmRestorePowerScheme. Restore original power scheme.']) {
      await this.pace(this.random.int(200, 2000));
      this.ccmsetup(LINES.msiAction(msiTime(this.clock.now(), this.o.timeZone), action), t);
    }
    this.ccmsetup(LINES.installSucceeded(), t);
    this.ccmsetup(LINES.serviceStartedCcmExec(), t);
    return 'identity';
  }

  /** The client's first start: ClientIDManagerStartup's identity, HardwareID and self-signed certificates. */
  private async identity(): Promise<Phase> {
    const t = this.clientThread;
    const hw = await this.machineHardware();
    const cfgText = await readTextIfExists(this.paths.smscfg);
    const previousId = cfgText ? parseSmsCfg(cfgText)['SMS Unique Identifier'] : undefined;
    this.cidm(LINES.startup(), t);
    this.cidm(LINES.machine(this.o.computerName), t);
    this.cidm(LINES.osVersion(`${hw.osVersion}.0`), t);
    this.cidm(LINES.clientVersion(), t);
    this.cidm(LINES.httpsState(), t);
    let smsId: string;
    if (previousId && /^GUID:/i.test(previousId)) {
      smsId = smsGuid(previousId);
      this.cidm(LINES.existingSmsUid(smsId), t);
    } else {
      smsId = smsGuid(this.random.uuid());
      this.cidm(LINES.newSmsUid(smsId), t);
    }
    const hardwareId = computeHardwareId(hw);
    this.cidm(LINES.hardwareId(hardwareId, hardwareIdInputs(hw)), t);
    this.keys = await ensureClientCertificates({
      paths: this.paths,
      computerName: this.o.computerName,
      keys: this.o.keys,
      clock: this.clock,
      random: this.random,
      reuse: this.existing ? { signing: this.existing.signingThumbprint, encryption: this.existing.encryptionThumbprint } : undefined,
      timeZone: this.o.timeZone,
      log: (line) => this.cidm(line, t),
    });
    this.cidm(LINES.certIdSaved(), t);
    const now = this.clock.now();
    await writeSmsCfg(this.paths, {
      smsUniqueIdentifier: smsId,
      lastSmsUidChangeDate: formatLocalStamp(now, this.o.timeZone),
      certificateIdentifier: `SMS;${this.keys.signing.thumbprint}`,
      hardwareIdentifier2: hardwareId,
      smbiosSerialIdentifier: smbiosSerialIdentifier(hw),
      lastVersion: CLIENT_VERSION,
    });
    const previous = this.existing;
    this.state = {
      schema: 1,
      installedVersion: CLIENT_VERSION,
      installedAt: new Date(now).toISOString(),
      computerName: this.o.computerName,
      smsId,
      hardwareId,
      hardware: hw,
      signingThumbprint: this.keys.signing.thumbprint,
      encryptionThumbprint: this.keys.encryption.thumbprint,
      network: this.network,
      requestedSiteCode: requestedSiteCode(this.o.commandLine),
      assignedSiteCode: previous?.smsId === smsId ? previous.assignedSiteCode : undefined,
      nextAssignmentAt: undefined,
      mpUrl: this.route?.kind === 'mp' ? this.route.configured : previous?.mpUrl,
      cmgUrl: this.route?.kind === 'cmg' ? this.route.configured : previous?.cmgUrl,
      registration: previous?.smsId === smsId && previous.signingThumbprint === this.keys.signing.thumbprint ? previous.registration : 'none',
      approval: previous?.approval,
      registeredVia: previous?.registeredVia,
      // Kept like the registry keeps them: the running client's later CCM log lines follow them too.
      logSettings: logSettings(this.o.commandLine.properties),
    };
    await writeClientState(this.paths, this.state);
    await this.pace(50);
    return 'assign';
  }

  private async assign(): Promise<Phase> {
    const state = this.state!;
    const info = this.siteInfo!;
    const code = state.requestedSiteCode ?? info.siteCode;
    this.location(LINES.assigning(code));
    if (code !== info.siteCode.toUpperCase()) {
      this.location(LINES.assignFailed(code, info.mpHost));
      this.location(LINES.assignRetry());
      state.assignedSiteCode = undefined;
      state.nextAssignmentAt = new Date(this.clock.now() + 10 * MINUTE).toISOString();
      await writeClientState(this.paths, state);
      this.cidm(LINES.unassignedNoReg(), this.clientThread);
      return 'done';
    }
    const from = state.assignedSiteCode ?? '<none>';
    state.assignedSiteCode = code;
    state.nextAssignmentAt = undefined;
    this.location(LINES.assigned(code));
    const route = this.route!;
    if (route.kind === 'cmg') this.location(LINES.rotatingInternet(route.configured));
    else this.location(LINES.rotatingAssigned(info.mpHost, info.siteVersion.split('.')[2] ?? '0'));
    await writeClientState(this.paths, state);
    if (from !== code) this.cidm(LINES.siteAssignment(from, code), this.clientThread);
    return 'register';
  }

  private registrationInput() {
    const state = this.state!;
    const keys = this.keys!;
    return {
      smsId: state.smsId,
      computerName: this.o.computerName,
      fqdn: this.o.computerName,
      hardwareId: state.hardwareId,
      internet: this.network === 'internet',
      signingCertDer: keys.signing.der,
      encryptionCertDer: keys.encryption.der,
      signingKey: keys.signing.privateKey,
      messageId: (this.messageId ??= this.random.uuid().toUpperCase()),
    };
  }

  private messageId: string | undefined;

  private async register(): Promise<Phase> {
    try {
      return await this.registerSteps();
    } catch (err) {
      this.cidm(LINES.regGivingUp(describeError(err).hresult ?? HRESULT.E_FAIL), this.clientThread);
      throw err;
    }
  }

  private async registerSteps(): Promise<Phase> {
    const t = this.clientThread;
    const state = this.state!;
    const route = this.route!;
    this.ccmsetup(LINES.waitingRegistration(), this.serviceThread);
    this.cidm(LINES.regSync(), t);
    if (state.registration === 'registered') {
      this.cidm(LINES.regAlready(), t);
      return 'token';
    }
    const input = this.registrationInput();
    let attempt = 0;
    let reply = await this.withRetry('register', async () => {
      attempt++;
      this.cidm(LINES.regStarting(attempt), t);
      this.cidm(LINES.regSending(state.smsId), t);
      if (this.bulkToken !== undefined && route.kind === 'cmg') this.cidm(LINES.regUsingToken(), t);
      try {
        return await this.o.site.register(route, await this.requestAuth(), input);
      } catch (err) {
        this.logRegFailure(err);
        throw err;
      }
    });
    for (let poll = 0; reply.status === 1; poll++) {
      state.registration = 'pending';
      await writeClientState(this.paths, state);
      this.cidm(LINES.regPending(reply.smsId), t);
      const wait = CONFIRMATION_WAITS_MS[Math.min(poll, CONFIRMATION_WAITS_MS.length - 1)]!;
      if (wait >= 1000) this.cidm(LINES.regSleeping(Math.round(wait / 1000)), t);
      await this.clock.sleep(wait);
      if (this.clock.now() > this.downloadGiveUpAt) {
        throw new CcmsimError('CCMSIM_REGISTRATION_REFUSED', 'the registration stayed pending until /downloadtimeout', {
          hresult: HRESULT.CCM_E_TRANSIENT,
        });
      }
      reply = await this.withRetry('register', async () => {
        try {
          return await this.o.site.confirm(route, await this.requestAuth(), input);
        } catch (err) {
          this.logRegFailure(err);
          throw err;
        }
      });
    }
    if (reply.status !== 0) {
      throw new CcmsimError('CCMSIM_REGISTRATION_REFUSED', `the site answered registration status ${reply.status}`, {
        hresult: HRESULT.CCM_E_BAD_HTTP_STATUS_CODE,
      });
    }
    this.cidm(LINES.regDone(reply.smsId, reply.approval), t);
    state.registration = 'registered';
    state.approval = reply.approval;
    state.registeredVia = route.kind === 'cmg' ? 'bulk' : 'intranet';
    await writeClientState(this.paths, state);
    return 'token';
  }

  private async token(): Promise<Phase> {
    const t = this.clientThread;
    const route = this.route!;
    const state = this.state!;
    const cached = await readCachedToken(this.paths, await this.encryptionKey());
    const now = this.clock.now();
    const renewAfter = 30 * 24 * 60 * MINUTE;
    if (cached && Date.parse(cached.expiresAt) > now && Date.parse(cached.cachedAt) + renewAfter > now && this.bulkToken === undefined) {
      this.clientToken = cached.token;
      this.tokenExpiresAt = Date.parse(cached.expiresAt);
      this.cidm(LINES.tokenCached(formatLocalStamp(this.tokenExpiresAt, this.o.timeZone)), t);
      return 'done';
    }
    const server = stripScheme(route.configured);
    this.cidm(LINES.stsServer(server), t);
    this.cidm(LINES.stsUrl(`${route.kind === 'cmg' ? route.configured : route.base}/CCM_STS`), t);
    let issued;
    try {
      issued = await this.withRetry('token', async () =>
        this.o.site.requestToken(route, await this.requestAuth(), state.smsId, cached ? 'Renew' : 'Issue'),
      );
    } catch (err) {
      const e = describeError(err);
      this.cidm(LINES.tokenFailed(e.hresult ?? HRESULT.CCM_E_BAD_HTTP_STATUS_CODE), t);
      this.cidm(LINES.tokenRefused(e.message, e.code), t);
      throw err;
    } finally {
      // The bulk token has done its job (or failed): forget it.
      if (this.bulkToken !== undefined) {
        this.bulkToken = undefined;
        this.cidm(LINES.bulkTokenForgotten(), t);
      }
    }
    this.clientToken = issued.token;
    this.tokenExpiresAt = issued.expiresAtMs;
    const enc = this.keys!.encryption;
    await writeCachedToken(
      this.paths,
      {
        tokenId: issued.tokenId,
        token: issued.token,
        expiresAt: new Date(issued.expiresAtMs).toISOString(),
        cachedAt: new Date(this.clock.now()).toISOString(),
      },
      { thumbprint: enc.thumbprint, key: enc.privateKey },
    );
    this.cidm(LINES.tokenCached(formatLocalStamp(issued.expiresAtMs, this.o.timeZone)), t);
    return 'done';
  }

  // ---------------------------------------------------------------- helpers

  /** The routes to try, in order: the CMG on the internet; on the intranet every `/mp` that is not a CMG, else SMSMP, else the site's MP. */
  private chooseRoutes(): Route[] {
    const cl = this.o.commandLine;
    const mps = cl.parameters.mp ?? [];
    if (this.network === 'internet') {
      const host = cl.properties['CCMHOSTNAME'];
      const configured =
        mps.find((m) => isCmgAddress(m) && /^https:\/\//i.test(m)) ??
        (host && isCmgAddress(host) ? `https://${host}` : undefined) ??
        this.o.siteNames.cmgUrl;
      return [{ kind: 'cmg', base: serverAuthUrl(configured), configured }];
    }
    const plain = mps.filter((m) => !isCmgAddress(m));
    const smsMp = cl.properties['SMSMP'];
    const listed = plain.length > 0 ? plain : smsMp ? [smsMp] : [this.o.siteNames.mpUrl];
    return listed.map((mp) => {
      const configured = (/^https?:\/\//i.test(mp) ? mp : `http://${mp}`).replace(/\/+$/, '');
      return { kind: 'mp', base: configured, configured };
    });
  }

  /**
   * The credentials the next request carries (docs/protocol.md, ours): through the CMG the bulk token until the first
   * token request is done, else the client's own token; ClientToken headers signed with the client's key once the
   * site knows the client (the site refuses them from an unregistered client).
   */
  private async requestAuth(): Promise<RequestAuth> {
    const auth: RequestAuth = {};
    const known = this.state ?? this.existing;
    if (known?.registration === 'registered') {
      const signing = this.keys?.signing.privateKey ?? (await this.existingSigningKey());
      if (signing) auth.client = { smsId: known.smsId, signingKey: signing };
    }
    if (this.route?.kind !== 'cmg') return auth;
    if (this.bulkToken !== undefined) {
      auth.bulkToken = this.bulkToken;
      return auth;
    }
    if (this.clientToken === undefined && this.existing) {
      const cached = await readCachedToken(this.paths, await this.encryptionKey());
      if (cached && Date.parse(cached.expiresAt) > this.clock.now()) this.clientToken = cached.token;
    }
    if (this.clientToken !== undefined) auth.clientToken = this.clientToken;
    return auth;
  }

  private existingKeys: { signing: KeyObject | undefined; encryption: KeyObject | undefined } | undefined;
  /** The installed client's keys from its SMS store, before this run's identity phase has loaded them. */
  private async existingKey(which: 'signing' | 'encryption'): Promise<KeyObject | undefined> {
    if (!this.existing) return undefined;
    if (!this.existingKeys) {
      const signing = await loadCertificate(this.paths, this.existing.signingThumbprint);
      const encryption = await loadCertificate(this.paths, this.existing.encryptionThumbprint);
      this.existingKeys = { signing: signing?.privateKey, encryption: encryption?.privateKey };
    }
    return this.existingKeys[which];
  }

  private async existingSigningKey(): Promise<KeyObject | undefined> {
    return this.existingKey('signing');
  }

  private async encryptionKey(): Promise<KeyObject | undefined> {
    return this.keys?.encryption.privateKey ?? (await this.existingKey('encryption'));
  }

  /**
   * Runs `fn`; a transient failure (site unreachable, TLS, a CMG refusing a client that has no token yet, 5xx) is
   * retried every /retry minutes until /downloadtimeout. Refusals that no wait can fix (a blocked, expired, foreign
   * or malformed token, a refused registration, the CMG not allowed) end the run at once.
   */
  private async withRetry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const retryMs = this.o.commandLine.parameters.retry * MINUTE;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        this.logHttpFailure(err);
        if (!this.isTransient(err)) throw err;
        const next = this.clock.now() + retryMs;
        if (next > this.downloadGiveUpAt) {
          const e = describeError(err);
          this.ccmsetup(LINES.downloadTimeout(this.o.commandLine.parameters.downloadtimeout, e.hresult ?? HRESULT.E_FAIL), this.serviceThread);
          throw new CcmsimError(
            isCcmsimError(err) ? err.code : 'CCMSIM_DOWNLOAD_TIMEOUT',
            `${e.message}; gave up after /downloadtimeout (${this.o.commandLine.parameters.downloadtimeout} minutes) while trying to ${what}`,
            { hresult: e.hresult ?? HRESULT.E_FAIL, ...(e.httpStatus !== undefined ? { httpStatus: e.httpStatus } : {}), cause: err },
          );
        }
        this.ccmsetup(LINES.nextRetry(this.o.commandLine.parameters.retry), this.serviceThread);
        this.o.onEvent?.({ kind: 'retry', reason: describeError(err).message, nextAttemptAt: next, giveUpAt: this.downloadGiveUpAt });
        await this.clock.sleep(retryMs);
      }
    }
  }

  private isTransient(err: unknown): boolean {
    if (!isCcmsimError(err)) return false;
    if (err.code === 'CCMSIM_SITE_UNREACHABLE' || err.code === 'CCMSIM_TLS_FAILURE') return true;
    if (err.httpStatus !== undefined && err.httpStatus >= 500) return true;
    // A CMG refusing a request that carried no token at all: the real client keeps retrying.
    return err.httpStatus === 401 && this.hasNoCredentials();
  }

  private hasNoCredentials(): boolean {
    return this.route?.kind === 'cmg' && this.bulkToken === undefined && this.clientToken === undefined;
  }

  private logHttp(method: 'GET' | 'CCM_POST', url: string): void {
    const route = this.route;
    if (!route) return;
    const u = new URL(url);
    const tokenAuth: 0 | 1 = route.kind === 'cmg' ? 1 : 0;
    const host = hostAsGiven(url);
    this.ccmsetup(
      LINES.ccmhttpLine(host, `${u.pathname}${u.search}`, Number(u.port || (u.protocol === 'https:' ? 443 : 80)), u.protocol.replace(':', ''), tokenAuth),
      this.serviceThread,
    );
    if (tokenAuth && (this.bulkToken !== undefined || this.clientToken !== undefined)) this.ccmsetup(LINES.appendingToken(), this.serviceThread);
    this.ccmsetup(method === 'GET' ? LINES.httpGet(url) : LINES.httpPost(url), this.serviceThread);
  }

  /**
   * Logs a failed download as BITS does and gives the error BITS' HRESULT (0x8019xxxx for an HTTP status, as the
   * genuine `CcmSetup failed with error code 0x80190194` shows), so the run ends with the code a tester looks up.
   */
  private bitsFailure(err: unknown): unknown {
    if (!isCcmsimError(err)) return err;
    const status = err.httpStatus;
    const hr = status !== undefined ? bitsHttpError(status) : (err.hresult ?? HRESULT.E_FAIL);
    const description = status !== undefined ? `HTTP status ${status}: ${httpStatusText(status)}` : err.message;
    this.ccmsetup(LINES.bitsFailed(hr, description), this.serviceThread);
    const again = new CcmsimError(err.code, err.message, {
      hresult: hr,
      ...(status !== undefined ? { httpStatus: status } : {}),
      ...(err.details !== undefined ? { details: err.details } : {}),
      cause: err,
    });
    this.loggedFailures.add(again);
    return again;
  }

  /** A failed GET (MPLIST and the other .sms_aut queries, content) is not logged as a failed Post. */
  private requestFailed(url: string, hr: string): CatalogLine {
    const path = url ? new URL(url).pathname : '';
    return /\.sms_aut$|\/CCM_Client\//i.test(path) ? LINES.getFailed(url, hr) : LINES.postFailed(url, hr);
  }

  private loggedFailures = new WeakSet<object>();
  private logHttpFailure(err: unknown): void {
    if (!isCcmsimError(err) || this.loggedFailures.has(err)) return;
    this.loggedFailures.add(err);
    if (err.code === 'CCMSIM_CMG_NOT_ALLOWED') this.location(LINES.cmgNotAllowed());
    const url = String(err.details?.['url'] ?? this.route?.base ?? '');
    const port = url ? Number(new URL(url).port || (url.startsWith('https') ? 443 : 80)) : 0;
    if (err.httpStatus !== undefined) {
      this.ccmsetup(LINES.ccmhttpError(url, port, 'CCM_E_BAD_HTTP_STATUS_CODE'), this.serviceThread);
      this.ccmsetup(LINES.refusedBecause(err.httpStatus, `${err.message} (${err.code})`), this.serviceThread);
      this.ccmsetup(this.requestFailed(url, err.hresult ?? HRESULT.CCM_E_BAD_HTTP_STATUS_CODE), this.serviceThread);
    } else {
      this.ccmsetup(this.requestFailed(url, err.hresult ?? HRESULT.E_FAIL), this.serviceThread);
      this.ccmsetup(LINES.failedBeforeAnswer(`${err.message} (${err.code})`), this.serviceThread);
    }
  }

  private logRegFailure(err: unknown): void {
    const e = describeError(err);
    this.cidm(LINES.regFailed(e.hresult ?? HRESULT.CCM_E_BAD_HTTP_STATUS_CODE), this.clientThread);
    if (e.httpStatus !== undefined) this.cidm(LINES.regRefused(e.message, e.code), this.clientThread);
  }

  private logFailure(err: unknown): void {
    const e = describeError(err);
    if (e.code === 'CCMSIM_INTERNAL') this.ccmsetup(LINES.failedBeforeAnswer(e.message), this.serviceThread);
    if (e.code !== 'CCMSIM_SETUP_RUNNING') this.ccmsetup(LINES.failedWith(e.hresult ?? HRESULT.E_FAIL));
  }

  private async machineHardware(): Promise<MachineHardware> {
    if (this.hardware) return this.hardware;
    const known = await readMachineIdentity(this.paths);
    if (known && known.computerName === this.o.computerName) {
      this.hardware = known.hardware;
    } else {
      this.hardware = drawHardware(this.o.random.fork(`hardware/${this.o.computerName}`));
      await writeMachineIdentity(this.paths, { schema: 1, computerName: this.o.computerName, hardware: this.hardware });
    }
    return this.hardware;
  }

  /** A few milliseconds (or the given time) of simulated work between steps; real clocks do not wait. */
  private async pace(ms: number): Promise<void> {
    if (this.clock.kind === 'virtual') await this.clock.sleep(ms);
  }

  private ccmsetup(line: CatalogLine, thread = this.bootstrapThread): void {
    this.logs.write(line, thread);
  }

  private cidm(line: CatalogLine, thread: number): void {
    this.logs.write(line, thread);
  }

  private location(line: CatalogLine): void {
    this.logs.write(line, this.clientThread);
  }
}

/** Runs `fn`; what it throws is returned instead (a log write on a failure path must not become the failure). */
function failedTo(fn: () => void): unknown {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err;
  }
}

/** intranet unless the command line names a CMG (and no plain MP) or says CCMALWAYSINF=1. */
export function deriveNetwork(cl: AgentCommandLine): 'intranet' | 'internet' {
  if (cl.properties['CCMALWAYSINF'] === '1') return 'internet';
  const mps = cl.parameters.mp ?? [];
  if (mps.some((m) => !isCmgAddress(m))) return 'intranet';
  if (mps.some((m) => isCmgAddress(m))) return 'internet';
  const host = cl.properties['CCMHOSTNAME'];
  if (host && isCmgAddress(host)) return 'internet';
  return 'intranet';
}

/**
 * Where ccmsetup reads the `/config` file (cli.md §2): in %Windir%\ccmsetup as a service (the bootstrap copies it
 * there), beside ccmsetup.exe with /noservice; empty without /config.
 */
function configFilePath(p: AgentCommandLine['parameters']): string {
  if (p.config === undefined) return '';
  return `${p.noservice ? LAUNCH_FOLDER : 'C:\\Windows\\ccmsetup\\'}${configFileName(p.config)}`;
}

function requestedSiteCode(cl: AgentCommandLine): string | undefined {
  const code = cl.properties['SMSSITECODE'];
  return code === undefined || code.toUpperCase() === 'AUTO' ? undefined : code.toUpperCase();
}

function logSettings(props: Record<string, string>): { maxSize?: number; maxHistory?: number; level?: CmLogLevel; enabled?: boolean } {
  const out: { maxSize?: number; maxHistory?: number; level?: CmLogLevel; enabled?: boolean } = {};
  if (props['CCMLOGMAXSIZE'] !== undefined) out.maxSize = Number(props['CCMLOGMAXSIZE']);
  if (props['CCMLOGMAXHISTORY'] !== undefined) out.maxHistory = Number(props['CCMLOGMAXHISTORY']);
  if (props['CCMLOGLEVEL'] !== undefined) out.level = Number(props['CCMLOGLEVEL']) as CmLogLevel;
  if (props['CCMENABLELOGGING'] !== undefined) out.enabled = props['CCMENABLELOGGING'].toUpperCase() !== 'FALSE';
  return out;
}

/** The MSI properties ccmsetup passes on: its defaults plus the command line's, sorted, JWT-shaped values masked. */
export function msiProperties(props: Record<string, string>): Array<[string, string]> {
  const all: Record<string, string> = {
    CCMFIRSTCERT: '1',
    CCMHTTPPORT: '80',
    CCMHTTPSCERTNAME: '',
    CCMHTTPSPORT: '443',
    CCMHTTPSSTATE: '224',
    ...props,
  };
  return Object.keys(all)
    .sort()
    .map((k) => {
      const v = all[k]!;
      return [k, isJwtShaped(v) ? maskSecret(v) : maskJwtsIn(v)];
    });
}

function stripScheme(url: string): string {
  return url.replace(/^https?:\/\//i, '');
}

/** Content URLs as the client logs them: through the CMG it names the MutualAuth path it was configured with. */
function displayUrl(route: Route, url: string): string {
  return route.kind === 'cmg' ? url.replace(route.base, route.configured) : url;
}

function baseName(name: string): string {
  return name.split('/').pop() ?? name;
}

function msiTime(ms: number, timeZone: string): string {
  return formatLocalStamp(ms, timeZone).slice(11);
}

/** BITS' HRESULT for an HTTP status: BG_E_HTTP_ERROR_<status> = 0x80190000 + status (404 gives the genuine 0x80190194). */
function bitsHttpError(status: number): string {
  return `0x${(0x80190000 + status).toString(16)}`;
}

/** The text Windows gives each HTTP status in a BITS error (404's is the genuine log's; the others are Windows' own). */
function httpStatusText(status: number): string {
  switch (status) {
    case 400:
      return 'The request could not be processed by the server due to invalid syntax.';
    case 401:
      return 'The requested resource requires user authentication.';
    case 403:
      return 'The client does not have sufficient access rights to the requested server object.';
    case 404:
      return 'The requested URL does not exist on the server.';
    case 500:
      return 'An unexpected condition prevented the server from fulfilling the request.';
    case 503:
      return 'The service is temporarily overloaded.';
    default:
      return `The server answered HTTP ${status}.`;
  }
}
