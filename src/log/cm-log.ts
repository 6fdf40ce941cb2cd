/**
 * Owns `openCmLog`: one CM log file written through the winston format and transport of this folder. `write` runs the
 * format and the transport synchronously (winston's own Logger pipeline is a stream, so we call its parts directly):
 * when `write` returns, the bytes are in the file. CCMENABLELOGGING=FALSE (`enabled: false`) writes and creates nothing.
 */
import { CcmsimError } from '../errors.js';
import { CmFileTransport, type CmLogWriteInfo } from './file-transport.js';
import type { CmLogFormat, CmLogRecord } from './record.js';
import { cmTransform, MESSAGE, winstonLevelOf, type CmLogInfo, type CmLogLevel, type CmRecordFormatOptions } from './winston-format.js';

export interface CmLogOptions {
  path: string;
  format: CmLogFormat;
  /** IANA zone of the simulated machine. */
  timeZone: string;
  /** CCMLOGMAXSIZE, bytes; default 250000. */
  maxSize?: number;
  /** CCMLOGMAXHISTORY; default 1. */
  maxHistory?: number;
  /** CCMLOGLEVEL; default 1. */
  level?: CmLogLevel;
  /** CCMENABLELOGGING; default true. */
  enabled?: boolean;
  onWrite?: (info: CmLogWriteInfo) => void;
  /** Write a turn's records together at the end of the turn (file-transport.ts); `write` then returns before the bytes are in the file. */
  batchWrites?: boolean;
}

export interface CmLog {
  /** Writes one record (or drops it by level); the bytes are in the file when this returns. */
  write(rec: CmLogRecord): void;
  close(): void;
  /** Closes the file descriptor only; the next write reopens the file and appends (used to cap open files). */
  suspend(): void;
  /** Whether the log holds an open file descriptor now. */
  readonly isOpen: boolean;
  /** False for a log opened with `enabled: false` (CCMENABLELOGGING=FALSE, a fleet agent without logs): writes are dropped. */
  readonly enabled: boolean;
  readonly path: string;
}

function checkLevel(level: number): CmLogLevel {
  if (level !== 0 && level !== 1 && level !== 2 && level !== 3) {
    throw new CcmsimError('CCMSIM_USAGE', `log level must be 0, 1, 2 or 3, got ${level}`);
  }
  return level;
}

class WinstonCmLog implements CmLog {
  readonly enabled = true;
  readonly path: string;
  private readonly formatOptions: CmRecordFormatOptions;
  private readonly transport: CmFileTransport;

  constructor(options: CmLogOptions) {
    this.path = options.path;
    this.formatOptions = { format: options.format, timeZone: options.timeZone, level: checkLevel(options.level ?? 1) };
    this.transport = new CmFileTransport({
      path: options.path,
      timeZone: options.timeZone,
      ...(options.maxSize !== undefined ? { maxSize: options.maxSize } : {}),
      ...(options.maxHistory !== undefined ? { maxHistory: options.maxHistory } : {}),
      ...(options.onWrite !== undefined ? { onWrite: options.onWrite } : {}),
      ...(options.batchWrites === true ? { batchWrites: true } : {}),
    });
  }

  write(rec: CmLogRecord): void {
    // The winston info is a copy of the record plus its level; the format attaches the text and time pieces. Every
    // info has the same properties in the same order (the format's two included), so V8 keeps one object shape for
    // them all: spreading records of varying shapes and adding properties afterwards made every write take V8's slow
    // property paths, a fleet site's largest logging cost.
    const info: CmLogInfo = {
      message: rec.message,
      component: rec.component,
      type: rec.type,
      thread: rec.thread,
      file: rec.file,
      time: rec.time,
      context: rec.context,
      verbose: rec.verbose,
      level: winstonLevelOf(rec),
      cmRecord: rec,
      cmTime: undefined,
      [MESSAGE]: undefined,
    };
    const out = cmTransform(info, this.formatOptions);
    if (out !== false) this.transport.append(out);
  }

  close(): void {
    this.transport.close();
  }

  suspend(): void {
    this.transport.suspend();
  }

  get isOpen(): boolean {
    return this.transport.isOpen;
  }
}

class DisabledCmLog implements CmLog {
  constructor(readonly path: string) {}
  readonly isOpen = false;
  readonly enabled = false;
  write(): void {}
  close(): void {}
  suspend(): void {}
}

export function openCmLog(options: CmLogOptions): CmLog {
  if (options.enabled === false) return new DisabledCmLog(options.path);
  return new WinstonCmLog(options);
}
