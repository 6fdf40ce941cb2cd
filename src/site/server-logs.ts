/**
 * Owns the site's server logs, laid out like the real servers: the management point's `SMS_CCM/Logs/`
 * (MP_RegistrationManager.log, CCM_STS.log, ClientAuth.log, CcmIsapi.log; CMTrace format, our reading) and the
 * CMG's `CMG/Logs/` (CMGService.log and SMS_Cloud_ProxyConnector.log; server "SMS trace" format). Times come from the
 * site's clock, printed in a fixed time zone (UTC unless configured).
 *
 * Tokens never reach a file: callers log token GUIDs only, and every message is also scrubbed of the parts of any
 * token the current request presented and of anything JWT-shaped (defence in depth). Text from the wire that the
 * record format cannot carry is neutralised rather than refused, so a hostile request cannot stop logging.
 */
import { pathKindProblem } from '../make-directory.js';
import { join } from 'node:path';
import { CcmsimError } from '../errors.js';
import type { Clock } from '../clock/clock.js';
import { openCmLog, type CmLog } from '../log/cm-log.js';
import type { LogType } from '../log/record.js';
import type { SitePaths } from './site-dir.js';

export type ServerLogName = 'MP_RegistrationManager' | 'CCM_STS' | 'ClientAuth' | 'CcmIsapi' | 'CMGService' | 'SMS_CLOUD_PROXYCONNECTOR';

interface LogPlace {
  dir: 'mp' | 'cmg';
  file: string;
  format: 'cmtrace' | 'server';
  component: string;
  /** Worker thread ids the component's lines rotate through (IIS worker threads on a real MP). */
  threads: readonly number[];
}

const PLACES: Record<ServerLogName, LogPlace> = {
  MP_RegistrationManager: { dir: 'mp', file: 'MP_RegistrationManager.log', format: 'cmtrace', component: 'MP_RegistrationManager', threads: [5780, 5912, 6020, 4472] },
  CCM_STS: { dir: 'mp', file: 'CCM_STS.log', format: 'cmtrace', component: 'CCM_STS', threads: [4424, 4508, 3868, 5236] },
  ClientAuth: { dir: 'mp', file: 'ClientAuth.log', format: 'cmtrace', component: 'ClientAuth', threads: [3312, 3460, 2896, 5104] },
  CcmIsapi: { dir: 'mp', file: 'CcmIsapi.log', format: 'cmtrace', component: 'CcmIsapi', threads: [2960, 3044, 4120, 5548] },
  CMGService: { dir: 'cmg', file: 'CMGService.log', format: 'server', component: 'CMGService', threads: [4992, 5132, 3720, 4316] },
  SMS_CLOUD_PROXYCONNECTOR: { dir: 'cmg', file: 'SMS_Cloud_ProxyConnector.log', format: 'server', component: 'SMS_CLOUD_PROXYCONNECTOR', threads: [7164, 7212, 6880, 7388] },
};

export interface ServerLogsOptions {
  paths: SitePaths;
  clock: Clock;
  /** IANA zone the server logs are printed in (default UTC). */
  timeZone?: string;
  maxSize?: number;
  maxHistory?: number;
  /** Write each log's lines of one event-loop turn together (a fleet's site); closing writes what is left. */
  batchWrites?: boolean;
}

/** Secrets of the request being served: the parts of any token it presented, never to be written. */
export interface LogScope {
  secrets: string[];
  /** Picks the worker thread for this request's lines. */
  threadSeed: number;
}

// A compact JWS whose header is a JSON object (base64url of `{"` is `eyJ`); host names like a.b.c never match.
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

export class ServerLogs {
  private readonly logs = new Map<ServerLogName, CmLog>();
  private readonly timeZone: string;

  constructor(private readonly options: ServerLogsOptions) {
    this.timeZone = options.timeZone ?? 'UTC';
  }

  /** Path of one log file. */
  pathOf(name: ServerLogName): string {
    const place = PLACES[name];
    return join(place.dir === 'mp' ? this.options.paths.mpLogs : this.options.paths.cmgLogs, place.file);
  }

  /**
   * Refuses a log path that holds something other than a file (a directory, say): the first line written there would
   * fail mid-request, a 500 that clients take for a busy server and retry for a day.
   */
  checkWritable(): void {
    for (const name of Object.keys(PLACES) as ServerLogName[]) {
      const path = this.pathOf(name);
      const problem = pathKindProblem(path, 'file');
      if (problem !== undefined) throw new CcmsimError('CCMSIM_SITE_STATE', `the server log ${path} cannot be written: ${problem}`);
    }
  }

  private log(name: ServerLogName): CmLog {
    let log = this.logs.get(name);
    if (!log) {
      const place = PLACES[name];
      log = openCmLog({
        path: this.pathOf(name),
        format: place.format,
        timeZone: this.timeZone,
        ...(this.options.maxSize !== undefined ? { maxSize: this.options.maxSize } : {}),
        ...(this.options.maxHistory !== undefined ? { maxHistory: this.options.maxHistory } : {}),
        ...(this.options.batchWrites === true ? { batchWrites: true } : {}),
      });
      this.logs.set(name, log);
    }
    return log;
  }

  /** Writes one line; `type` 1 info, 2 warning, 3 error. */
  write(name: ServerLogName, message: string, type: LogType = 1, scope?: LogScope): void {
    const place = PLACES[name];
    const thread = place.threads[(scope?.threadSeed ?? 0) % place.threads.length]!;
    const text = neutralise(scrub(message, scope?.secrets ?? []), place.format);
    this.log(name).write({ message: text, component: place.component, type, thread, file: '', time: this.options.clock.now() });
  }

  close(): void {
    for (const log of this.logs.values()) log.close();
    this.logs.clear();
  }
}

/** Removes the given secrets (token parts) and anything JWT-shaped from `text`. */
export function scrub(text: string, secrets: readonly string[]): string {
  // Most lines hold neither: the includes() tests spare them a split and a regex pass each.
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join('[removed]');
  }
  return out.includes('eyJ') ? out.replace(JWT_SHAPE, '[token removed]') : out;
}

/** Keeps wire text from ending or faking a record: record delimiters are broken up, line breaks become spaces. */
function neutralise(text: string, format: 'cmtrace' | 'server'): string {
  let out = text;
  if (out.includes('LOG')) out = out.replace(/<!\[LOG\[/g, '<![LOG [').replace(/\]LOG\]!>/g, ']LOG ]!>');
  if (format === 'server') {
    if (out.includes('$$<')) out = out.replace(/\$\$</g, '$ $<');
    if (out.includes('\n') || out.includes('\r')) out = out.replace(/[\r\n]+/g, ' ');
  }
  return out;
}

/** The parts of a presented token (header, payload, signature) for a LogScope. */
export function tokenSecrets(token: string | undefined): string[] {
  if (!token) return [];
  return [token, ...token.split('.')].filter((p) => p.length >= 4);
}
