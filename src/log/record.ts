/**
 * Owns the text of one CM log record in the two formats Configuration Manager writes: the client's CMTrace form
 * (`<![LOG[msg]LOG]!><time=… >`) and the server's "SMS trace" form (`msg~~  $$<Component><date time><thread=N (0xN)>`).
 * Both end with CRLF, and every line break inside a message is written as CRLF. A message or field that would end the
 * record early is refused with CCMSIM_LOG_UNSAFE_MESSAGE (see docs/logs.md): CM itself does not escape, and an escape
 * scheme would make the reader change genuine messages that happen to hold the escape text.
 */
import { CcmsimError } from '../errors.js';
import { localTimeText, type LocalTimeText } from './bias.js';

/** 0 = none/verbose-ish, 1 = informational, 2 = warning, 3 = error (CMTrace `type`). */
export type LogType = 0 | 1 | 2 | 3;

export type CmLogFormat = 'cmtrace' | 'server';

export interface CmLogRecord {
  message: string;
  component: string;
  type: LogType;
  /** Decimal OS thread id. */
  thread: number;
  /** `source.cpp:line`, may be empty. */
  file: string;
  /** Epoch milliseconds (UTC). */
  time: number;
  /** Always empty in genuine client logs. */
  context?: string;
  /** Only written at CCMLOGLEVEL 0 (verbose). */
  verbose?: boolean;
}

/** The record text plus the time pieces it printed. */
export interface FormattedRecord extends LocalTimeText {
  text: string;
}

const CMTRACE_START = '<![LOG[';
const CMTRACE_END = ']LOG]!>';
const SERVER_END = '$$<';

function unsafe(what: string, value: string, rule: string): never {
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  throw new CcmsimError('CCMSIM_LOG_UNSAFE_MESSAGE', `log record ${what} ${JSON.stringify(shown)} ${rule}`);
}

/** Every line break (CRLF, lone LF, lone CR) becomes CRLF, as in genuine CM logs. */
export function normalizeLineBreaks(text: string): string {
  if (text.indexOf('\n') < 0 && text.indexOf('\r') < 0) return text;
  return text.replace(/\r\n|\r|\n/g, '\r\n');
}

function checkType(type: number): void {
  if (type !== 0 && type !== 1 && type !== 2 && type !== 3) {
    throw new CcmsimError('CCMSIM_INTERNAL', `log record type ${String(type)} is not 0, 1, 2 or 3`);
  }
}

function checkThread(thread: number): void {
  if (!Number.isSafeInteger(thread) || thread < 0) {
    throw new CcmsimError('CCMSIM_INTERNAL', `log record thread ${String(thread)} is not a non-negative integer`);
  }
}

const ATTRIBUTE_UNSAFE = /["\r\n]/;

function checkAttribute(name: string, value: string): void {
  if (ATTRIBUTE_UNSAFE.test(value)) unsafe(name, value, 'holds a double quote or a line break, which a CMTrace attribute cannot carry');
}

/** The CMTrace record (with its CRLF) and the time pieces, for `timeZone`. */
export function formatCmtrace(rec: CmLogRecord, timeZone: string): FormattedRecord {
  checkType(rec.type);
  checkThread(rec.thread);
  const message = normalizeLineBreaks(rec.message);
  if (message.includes(CMTRACE_END)) unsafe('message', rec.message, `holds the record terminator ${CMTRACE_END}`);
  if (message.includes(CMTRACE_START)) unsafe('message', rec.message, `holds the record start ${CMTRACE_START}`);
  const context = rec.context ?? '';
  checkAttribute('component', rec.component);
  checkAttribute('context', context);
  checkAttribute('file', rec.file);
  const t = localTimeText(rec.time, timeZone);
  const text =
    `${CMTRACE_START}${message}${CMTRACE_END}<time="${t.localTime}${t.bias}" date="${t.date}" component="${rec.component}" ` +
    `context="${context}" type="${rec.type}" thread="${rec.thread}" file="${rec.file}">\r\n`;
  return { ...t, text };
}

/** The server ("SMS trace") record (with its CRLF) and the time pieces, for `timeZone`. Type, file and context are not carried. */
export function formatServer(rec: CmLogRecord, timeZone: string): FormattedRecord {
  checkType(rec.type);
  checkThread(rec.thread);
  const message = normalizeLineBreaks(rec.message);
  if (message.includes(SERVER_END)) unsafe('message', rec.message, `holds the record terminator ${SERVER_END}`);
  // A line starting with <![LOG[ would read back as a CMTrace record (the reader detects the format per record).
  if (message.includes(CMTRACE_START)) unsafe('message', rec.message, `holds the CMTrace record start ${CMTRACE_START}`);
  if (/[<>\r\n]/.test(rec.component)) unsafe('component', rec.component, 'holds <, > or a line break, which a server record cannot carry');
  const t = localTimeText(rec.time, timeZone);
  const text =
    `${message}~~  ${SERVER_END}${rec.component}><${t.date} ${t.localTime}${t.bias}>` +
    `<thread=${rec.thread} (0x${rec.thread.toString(16).toUpperCase()})>\r\n`;
  return { ...t, text };
}

/** The CMTrace record text (ending with CRLF). */
export function formatCmtraceRecord(rec: CmLogRecord, timeZone: string): string {
  return formatCmtrace(rec, timeZone).text;
}

/** The server ("SMS trace") record text (ending with CRLF). */
export function formatServerRecord(rec: CmLogRecord, timeZone: string): string {
  return formatServer(rec, timeZone).text;
}

export function formatRecord(rec: CmLogRecord, format: CmLogFormat, timeZone: string): FormattedRecord {
  return format === 'server' ? formatServer(rec, timeZone) : formatCmtrace(rec, timeZone);
}
