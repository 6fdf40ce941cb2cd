/**
 * Owns the winston side of the CM log writer: the level names CM record types map to, the CCMLOGLEVEL filter and the
 * winston format that turns a record (carried as the winston `info`) into the CMTrace or server record text, stored
 * under winston's MESSAGE symbol for the transport.
 */
import winston from 'winston';
import type { Logform } from 'winston';
import { formatRecord, type CmLogFormat, type CmLogRecord } from './record.js';
import type { LocalTimeText } from './bias.js';

/** winston's MESSAGE symbol (triple-beam), where a format leaves the finished text for transports. */
export const MESSAGE: unique symbol = Symbol.for('message') as never;
/** winston's LEVEL symbol (triple-beam). */
export const LEVEL: unique symbol = Symbol.for('level') as never;

/** winston levels for CM records: type 3 → error, 2 → warning, 1 and 0 → info, `verbose: true` → verbose. */
export const CM_WINSTON_LEVELS = { error: 0, warning: 1, info: 2, verbose: 3 } as const;
export type CmWinstonLevel = keyof typeof CM_WINSTON_LEVELS;

/** CCMLOGLEVEL: 0 verbose, 1 default, 2 warnings and errors, 3 errors only. */
export type CmLogLevel = 0 | 1 | 2 | 3;

export function winstonLevelOf(rec: Pick<CmLogRecord, 'type' | 'verbose'>): CmWinstonLevel {
  if (rec.verbose === true) return 'verbose';
  return rec.type === 3 ? 'error' : rec.type === 2 ? 'warning' : 'info';
}

/** The winston logger level that lets through exactly what CCMLOGLEVEL `level` writes. */
export function winstonLevelForCcmLogLevel(level: CmLogLevel): CmWinstonLevel {
  return (['verbose', 'info', 'warning', 'error'] as const)[level];
}

/** Whether CCMLOGLEVEL `level` writes this record (0 everything; 1 all but verbose; 2 types 2–3; 3 type 3). */
export function passesLevel(rec: Pick<CmLogRecord, 'type' | 'verbose'>, level: CmLogLevel): boolean {
  if (level === 0) return true;
  if (rec.verbose === true) return false;
  return level === 1 ? true : level === 2 ? rec.type >= 2 : rec.type === 3;
}

/** A winston `info` carrying a CM record, after the format ran. */
export interface CmLogInfo extends CmLogRecord {
  level: string;
  [MESSAGE]?: string;
  /** The time pieces the format printed (for onWrite). */
  cmTime?: LocalTimeText;
  /** The caller's record, reported by onWrite as given (the info itself otherwise). */
  cmRecord?: CmLogRecord;
}

export interface CmRecordFormatOptions {
  format: CmLogFormat;
  timeZone: string;
  /** CCMLOGLEVEL; default 1. */
  level?: CmLogLevel;
}

/** Turns `info` (a CmLogRecord plus `level`) into the record text; drops it (returns false) when the level filters it out. */
export function cmTransform(info: CmLogInfo, opts: CmRecordFormatOptions): CmLogInfo | false {
  if (!passesLevel(info, opts.level ?? 1)) return false;
  const out = formatRecord(info, opts.format, opts.timeZone);
  info[MESSAGE] = out.text;
  info.cmTime = out;
  return info;
}

/** The winston format: `cmRecordFormat({ format: 'cmtrace', timeZone: 'Europe/Paris' })`. */
export function cmRecordFormat(opts: CmRecordFormatOptions): Logform.Format {
  const wrap = winston.format((info, o) => cmTransform(info as unknown as CmLogInfo, o as CmRecordFormatOptions) as never);
  return wrap(opts);
}
