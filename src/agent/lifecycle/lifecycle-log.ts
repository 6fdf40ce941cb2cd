/**
 * Owns what the client writes about its token after the install: ClientIDManagerStartup.log (service start, renewal
 * decision, outcome) and CcmMessaging.log (the CCM_STS exchange). Lines tagged [V] reuse the public wording of the
 * 8-hour Entra CCM token path (reference protocol.md §4.1, logs.md §3) applied to the site token; [sim] lines are
 * the simulator's own wording (docs/lifecycle.md lists both). Times are written in the client's zone with its bias.
 */
import { join, relative } from 'node:path';
import type { Clock } from '../../clock/clock.js';
import { openCmLogSet, type CmLogSet } from '../../log/cm-log-set.js';
import type { LogType } from '../../log/record.js';
import { ccmLogOverrides, type ClientLogSettings } from '../client-logs.js';
import { readClientLogSettings } from '../client-state.js';
import { machinePaths } from '../machine-dir.js';
import { formatTokenTime } from './local-time.js';
import type { HeldToken, Refusal, RenewReason, Via } from './renewal-rule.js';

export const MACHINE_SID = 'S-1-5-18';

type LogName = 'ClientIDManagerStartup' | 'CcmMessaging';

export interface LifecycleLogLine {
  log: LogName;
  type: LogType;
  file: string;
  message: string;
}

const cidm = (type: LogType, file: string, message: string): LifecycleLogLine => ({ log: 'ClientIDManagerStartup', type, file, message });
const msg = (type: LogType, file: string, message: string): LifecycleLogLine => ({ log: 'CcmMessaging', type, file, message });

/** The catalog of lifecycle lines (tz = the client's zone, for the `MM/DD/YYYY HH:MM:SS` times). */
export const LIFECYCLE_LINES = {
  /** [V] ClientIDManagerStartup's start-of-service marker. */
  startup: () => cidm(1, 'ccmidentitystartup.cpp:118', '[----- STARTUP -----]'),
  /** [sim] */
  offline: () => cidm(1, 'ccmidentitystartup.cpp:240', 'No network connection; the client token is not checked at this start.'),
  /** [sim] */
  renewalDue: (token: HeldToken | undefined, why: RenewReason, tz: string) =>
    cidm(
      1,
      'ccmtoken.cpp:188',
      token === undefined
        ? `No client token for '${MACHINE_SID}'; requesting one.`
        : why === 'due'
        ? `Client token for '${MACHINE_SID}' was issued at '${formatTokenTime(token.issuedMs, tz)}' (30 days or more ago); renewing it at client startup.`
        : why === 'expired'
          ? `Client token for '${MACHINE_SID}' expired at '${formatTokenTime(token.expiresMs, tz)}'; requesting a new token.`
          : `Client token for '${MACHINE_SID}' is signed by a retired SMS Token Signing certificate; requesting a new token.`,
    ),
  /** [V] Entra-path wording; the time is the held token's expiry. */
  closeToExpire: (token: HeldToken, tz: string) =>
    msg(1, 'ccmtoken.cpp:412', `CCM Token for '${MACHINE_SID}' (${formatTokenTime(token.expiresMs, tz)}) is already expired or close to expire`),
  /** [V] */
  gettingToken: (url: string) => msg(1, 'ccmtoken.cpp:245', `Getting CCM Token from ${url}`),
  /** [V] */
  cached: (log: LogName, token: HeldToken, tz: string) => ({
    log,
    type: 1 as const,
    file: 'ccmtoken.cpp:330',
    message: `Cached encrypted token for '${MACHINE_SID}'. Will expire at '${formatTokenTime(token.expiresMs, tz)}'`,
  }),
  /** [V] form of CcmMessaging's HTTP failure line. */
  httpError: (url: string, port: number) =>
    msg(3, 'ccmhttp.cpp:1864', `[CCMHTTP] ERROR: URL=${url}, Port=${port}, Options=224, Code=0, Text=CCM_E_BAD_HTTP_STATUS_CODE`),
  /** [V] */
  stsFailed: (log: LogName, hresult: string) => ({
    log,
    type: 3 as const,
    file: 'ccmtoken.cpp:268',
    message: `RetrieveTokenFromStsServerImpl failed with error ${hresult}`,
  }),
  /** [V] form (`Post to … failed with 0x…`). */
  postFailed: (url: string, hresult: string) => msg(3, 'ccmmessaging.cpp:2241', `Post to ${url} failed with ${hresult}.`),
  /** [sim] the precise reason, from the simulated site's X-CCMSim-Error header. */
  refusedBecause: (via: Via, refusal: Refusal) =>
    msg(2, 'ccmmessaging.cpp:2260', `The ${via === 'CMG' ? 'cloud management gateway' : 'management point'} refused the request: HTTP ${refusal.httpStatus}, ${refusal.code} (${refusal.message})`),
  /**
   * [sim] after an expired or retired-signer refusal: what the client does next. An expired token takes the documented
   * way out (the internal MP); a retired signer's token, still valid, is renewed through the CMG in the same startup
   * (docs/lifecycle.md), so that line must not send the client to the intranet.
   */
  tokenUnusable: (why: 'expired' | 'signer-retired') =>
    cidm(
      2,
      'ccmtoken.cpp:290',
      why === 'expired'
        ? `The client token has expired. The client must connect to a management point on the internal network to receive a new token.`
        : `The client token is signed by a retired SMS Token Signing certificate. The client requests a new token, signed with the new certificate.`,
    ),
  /** [sim] CMG not allowed by client settings. */
  cmgNotAllowed: () =>
    cidm(2, 'ccmtoken.cpp:301', 'Client settings do not allow clients to use a cloud management gateway; the client cannot communicate with the site from the internet.'),
} as const;

export interface LifecycleLog {
  write(line: LifecycleLogLine): void;
  close(): void;
}

/**
 * Opens the client's CCM logs under `machineDir` (or through a shared sink whose root contains it). They follow the
 * installed client's CCMLOGMAXSIZE / CCMLOGMAXHISTORY / CCMLOGLEVEL / CCMENABLELOGGING: `settings`, else those the
 * install kept in the client state (read here, at each open, as a restarted client reads its registry).
 */
export function openLifecycleLog(options: {
  machineDir: string;
  timeZone: string;
  clock: Clock;
  thread: number;
  settings?: ClientLogSettings;
  shared?: { set: CmLogSet; root: string };
}): LifecycleLog {
  const own = options.shared === undefined;
  const set = options.shared?.set ?? openCmLogSet({ root: options.machineDir, format: 'cmtrace', timeZone: options.timeZone });
  const root = options.shared?.root ?? options.machineDir;
  const paths = machinePaths(options.machineDir);
  const overrides = { format: 'cmtrace' as const, timeZone: options.timeZone, ...ccmLogOverrides(options.settings ?? readClientLogSettings(paths)) };
  return {
    write(line) {
      const rel = relative(root, join(paths.ccmLogs, `${line.log}.log`));
      set.get(rel, overrides).write({
        message: line.message,
        component: line.log,
        type: line.type,
        thread: options.thread,
        file: line.file,
        time: options.clock.now(),
        context: '',
      });
    },
    close() {
      if (own) set.closeAll();
    },
  };
}

/** Writes the lines of one client start (shared by the fake and the real runtime so both leave the same logs). */
export function logStart(
  log: LifecycleLog | undefined,
  tz: string,
  event:
    | { kind: 'offline' }
    | { kind: 'quiet' }
    | { kind: 'renewing'; token: HeldToken | undefined; why: RenewReason; url: string }
    | { kind: 'renewed'; token: HeldToken }
    | { kind: 'refused'; via: Via; url: string; port: number; attempted: 'renew' | 'use-cmg'; refusal: Refusal },
): void {
  if (log === undefined) return;
  switch (event.kind) {
    case 'offline':
      log.write(LIFECYCLE_LINES.offline());
      return;
    case 'quiet':
      return;
    case 'renewing':
      log.write(LIFECYCLE_LINES.renewalDue(event.token, event.why, tz));
      // Not for a retired signer's token: it may have 80 days left, and the line says "expired or close to expire".
      if (event.token !== undefined && event.why !== 'signer-retired') log.write(LIFECYCLE_LINES.closeToExpire(event.token, tz));
      log.write(LIFECYCLE_LINES.gettingToken(event.url));
      return;
    case 'renewed':
      log.write(LIFECYCLE_LINES.cached('CcmMessaging', event.token, tz));
      log.write(LIFECYCLE_LINES.cached('ClientIDManagerStartup', event.token, tz));
      return;
    case 'refused': {
      const r = event.refusal;
      log.write(LIFECYCLE_LINES.httpError(event.url, event.port));
      if (event.attempted === 'renew') {
        log.write(LIFECYCLE_LINES.stsFailed('CcmMessaging', r.hresult));
        log.write(LIFECYCLE_LINES.stsFailed('ClientIDManagerStartup', r.hresult));
      } else log.write(LIFECYCLE_LINES.postFailed(event.url, r.hresult));
      log.write(LIFECYCLE_LINES.refusedBecause(event.via, r));
      if (r.code === 'CCMSIM_TOKEN_EXPIRED') log.write(LIFECYCLE_LINES.tokenUnusable('expired'));
      else if (r.code === 'CCMSIM_TOKEN_SIGNER_RETIRED' || r.code === 'CCMSIM_TOKEN_UNKNOWN_KEY') log.write(LIFECYCLE_LINES.tokenUnusable('signer-retired'));
      else if (r.code === 'CCMSIM_CMG_NOT_ALLOWED') log.write(LIFECYCLE_LINES.cmgNotAllowed());
      return;
    }
  }
}
