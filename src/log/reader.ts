/**
 * Owns reading CM logs: CMTrace and server ("SMS trace") records, detected per record, multi-line messages (records
 * are found by `<![LOG[` at a line start and by their terminators, never by splitting lines), a leading BOM, `.lo_`
 * files (same format). Times become UTC by Microsoft's rule UTC = local + bias. Anything that is not a record is
 * reported with its 1-based line number instead of throwing.
 */
import type { CmLogFormat, LogType } from './record.js';

export interface ParsedRecord {
  format: CmLogFormat;
  /** The message as in the file (line breaks inside it are CRLF in genuine logs). */
  message: string;
  component: string;
  /** null for server records (the format has no type). */
  type: LogType | null;
  thread: number;
  /** null for server records. */
  file: string | null;
  /** null for server records. */
  context: string | null;
  /** `HH:MM:SS.mmm` as printed, without the bias. */
  localTime: string;
  /** `MM-DD-YYYY` as printed. */
  date: string;
  /** The bias as printed (`+00`, `+480`, `-60`), '' when the record has none. */
  bias: string;
  /** null when the record carries no bias. */
  biasMinutes: number | null;
  /** UTC = local + bias; null when the record carries no bias. */
  utcTimeMs: number | null;
  /** 1-based physical lines the record spans. */
  firstLine: number;
  lastLine: number;
}

export interface MalformedRecord {
  line: number;
  reason: string;
}

export interface ParsedCmLog {
  records: ParsedRecord[];
  malformed: MalformedRecord[];
  /** Whether the text started with a UTF-8 BOM. */
  bom: boolean;
}

const CM_START = '<![LOG[';
const CM_END = ']LOG]!>';
const CM_ATTRS =
  /<time="([^"]*)"\s+date="([^"]*)"\s+component="([^"]*)"\s+context="([^"]*)"\s+type="([^"]*)"\s+thread="([^"]*)"\s+file="([^"]*)">/y;
const SERVER_TAIL = /\$\$<([^<>\r\n]*)><([^<>\r\n]*)><thread=([^<>\r\n]*)>/y;
const TIME = /^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?([+-]\d{1,4})?$/;
const DATE = /^(\d{1,2})-(\d{1,2})-(\d{4})$/;
const SERVER_STAMP = /^(\d{1,2}-\d{1,2}-\d{4}) (\S+)$/;
const SERVER_THREAD = /^(\d+) \(0x([0-9A-Fa-f]+)\)$/;

interface TimeFields {
  localTime: string;
  date: string;
  bias: string;
  biasMinutes: number | null;
  utcTimeMs: number | null;
}

/** Parses a time and date as printed; returns the reason when they are not valid. */
function parseTime(time: string, date: string): TimeFields | string {
  const t = TIME.exec(time);
  if (!t) return `time "${time}" is not HH:MM:SS.mmm followed by a bias`;
  const d = DATE.exec(date);
  if (!d) return `date "${date}" is not MM-DD-YYYY`;
  const [h, mi, s] = [Number(t[1]), Number(t[2]), Number(t[3])];
  if (h > 23 || mi > 59 || s > 59) return `time "${time}" is out of range`;
  const [mo, day, y] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const dayStart = new Date(0);
  dayStart.setUTCFullYear(y, mo - 1, day);
  if (mo < 1 || mo > 12 || day < 1 || dayStart.getUTCDate() !== day) return `date "${date}" is not a calendar date`;
  const fraction = t[4] ?? '';
  const ms = fraction === '' ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
  const biasText = t[5] ?? '';
  const localTime = biasText === '' ? time : time.slice(0, -biasText.length);
  const localMs = dayStart.getTime() + ((h * 60 + mi) * 60 + s) * 1000 + ms;
  const biasMinutes = biasText === '' ? null : Number(biasText);
  return {
    localTime,
    date,
    bias: biasText,
    biasMinutes,
    utcTimeMs: biasMinutes === null ? null : localMs + biasMinutes * 60_000,
  };
}

function stripServerMessageEnd(raw: string): string {
  if (raw.endsWith('~~  ')) return raw.slice(0, -4);
  if (raw.endsWith('  ')) return raw.slice(0, -2);
  if (raw.endsWith(' ')) return raw.slice(0, -1);
  return raw;
}

/** Parses a CMTrace or server log (or a mix, record by record). Never throws on bad content. */
export function parseCmLog(input: string | Buffer): ParsedCmLog {
  let text = typeof input === 'string' ? input : input.toString('utf8');
  const bom = text.charCodeAt(0) === 0xfeff;
  if (bom) text = text.slice(1);
  const records: ParsedRecord[] = [];
  const malformed: MalformedRecord[] = [];
  const n = text.length;
  let p = 0;
  let line = 1;

  const newlinesBetween = (from: number, to: number): number => {
    let count = 0;
    for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) count++;
    return count;
  };
  const advance = (to: number): void => {
    line += newlinesBetween(p, to);
    p = to;
  };
  /**
   * Whether `<![LOG[` at `i` starts a record: at a line start, or after NUL padding (a log cut short by a crash or a
   * power loss is padded with NULs up to its allocated size, and the next writes follow on the same line; CMTrace
   * resynchronises there too).
   */
  const startsRecord = (i: number): boolean => i === 0 || text[i - 1] === '\n' || text[i - 1] === '\u0000';
  /** Index of the next `<![LOG[` that starts a record, at or after `from`; n when none. */
  const nextCmStart = (from: number): number => {
    for (let i = text.indexOf(CM_START, from); i >= 0; i = text.indexOf(CM_START, i + 1)) if (startsRecord(i)) return i;
    return n;
  };
  /** Index just past the line break ending the line that holds `at` (or n). */
  const endOfLine = (at: number): number => {
    const i = text.indexOf('\n', at);
    return i < 0 ? n : i + 1;
  };
  /** After a record's closing `>`: a line break (CRLF or LF), the end, the next CMTrace record or NUL padding. */
  const recordEnd = (at: number): { end: number; ok: boolean } => {
    if (at >= n) return { end: n, ok: true };
    if (text.startsWith('\r\n', at)) return { end: at + 2, ok: true };
    if (text[at] === '\n') return { end: at + 1, ok: true };
    if (text.startsWith(CM_START, at)) return { end: at, ok: true };
    if (text[at] === '\u0000') return { end: at, ok: true };
    return { end: at, ok: false };
  };

  while (p < n) {
    // NUL padding between records (a crash left the file's allocation unwritten) is no record: skip the run. A record
    // cut short by it stays malformed, as its start is before the run.
    if (text.charCodeAt(p) === 0) {
      let q = p + 1;
      while (q < n && text.charCodeAt(q) === 0) q++;
      p = q;
      continue;
    }
    // Blank lines before a CMTrace record, NUL padding or the end are no record; before a server record they begin
    // its message.
    let q = p;
    while (q < n && (text[q] === '\n' || (text[q] === '\r' && text[q + 1] === '\n'))) q = endOfLine(q);
    if (q > p && (q === n || text.startsWith(CM_START, q) || text.charCodeAt(q) === 0)) {
      advance(q);
      continue;
    }
    const startLine = line;
    if (text.startsWith(CM_START, p)) {
      const next = nextCmStart(p + CM_START.length);
      const close = text.indexOf(CM_END, p + CM_START.length);
      if (close < 0 || close > next) {
        malformed.push({ line: startLine, reason: `CMTrace record has no ${CM_END} before the next record` });
        advance(next);
        continue;
      }
      CM_ATTRS.lastIndex = close + CM_END.length;
      const m = CM_ATTRS.exec(text);
      if (!m || CM_ATTRS.lastIndex > next) {
        malformed.push({
          line: startLine,
          reason: 'CMTrace attributes are not <time="…" date="…" component="…" context="…" type="…" thread="…" file="…">',
        });
        advance(next);
        continue;
      }
      const [, time, date, component, context, type, thread, file] = m as unknown as string[];
      const times = parseTime(time!, date!);
      const tail = recordEnd(CM_ATTRS.lastIndex);
      let reason: string | undefined;
      if (typeof times === 'string') reason = times;
      else if (!/^[0-3]$/.test(type!)) reason = `type "${type}" is not 0, 1, 2 or 3`;
      else if (!/^\d+$/.test(thread!)) reason = `thread "${thread}" is not a decimal number`;
      else if (!tail.ok) reason = 'text follows the record on its last line';
      if (reason !== undefined || typeof times === 'string') {
        malformed.push({ line: startLine, reason: reason! });
        advance(tail.ok ? tail.end : endOfLine(CM_ATTRS.lastIndex));
        continue;
      }
      const lastLine = startLine + newlinesBetween(p, CM_ATTRS.lastIndex);
      records.push({
        format: 'cmtrace',
        message: text.slice(p + CM_START.length, close),
        component: component!,
        type: Number(type) as LogType,
        thread: Number(thread),
        file: file!,
        context: context!,
        ...times,
        firstLine: startLine,
        lastLine,
      });
      advance(tail.end);
      continue;
    }
    // Not a CMTrace record: a server record runs to its `$$<component><date time><thread=…>` tail.
    const next = nextCmStart(p);
    const tailAt = text.indexOf('$$<', p);
    if (tailAt < 0 || tailAt >= next) {
      malformed.push({ line: startLine, reason: 'text is neither a CMTrace record (<![LOG[…) nor a server record (…$$<component><date time><thread=…>)' });
      advance(next);
      continue;
    }
    SERVER_TAIL.lastIndex = tailAt;
    const m = SERVER_TAIL.exec(text);
    if (!m) {
      malformed.push({ line: startLine, reason: 'server record tail is not $$<component><MM-DD-YYYY HH:MM:SS.mmm±bias><thread=N (0xN)>' });
      advance(endOfLine(tailAt));
      continue;
    }
    const [, component, stamp, threadText] = m as unknown as string[];
    const tail = recordEnd(SERVER_TAIL.lastIndex);
    const st = SERVER_STAMP.exec(stamp!);
    const th = SERVER_THREAD.exec(threadText!);
    const times = st ? parseTime(st[2]!, st[1]!) : `date and time "${stamp}" are not MM-DD-YYYY HH:MM:SS.mmm±bias`;
    let reason: string | undefined;
    if (typeof times === 'string') reason = times;
    else if (!th) reason = `thread "${threadText}" is not N (0xN)`;
    else if (Number(th[1]) !== parseInt(th[2]!, 16)) reason = `thread ${th[1]} does not match its hex form 0x${th[2]}`;
    else if (!tail.ok) reason = 'text follows the record on its last line';
    if (reason !== undefined || typeof times === 'string') {
      malformed.push({ line: startLine, reason: reason! });
      advance(tail.ok ? tail.end : endOfLine(SERVER_TAIL.lastIndex));
      continue;
    }
    records.push({
      format: 'server',
      message: stripServerMessageEnd(text.slice(p, tailAt)),
      component: component!,
      type: null,
      thread: Number(th![1]),
      file: null,
      context: null,
      ...times,
      firstLine: startLine,
      lastLine: startLine + newlinesBetween(p, SERVER_TAIL.lastIndex),
    });
    advance(tail.end);
  }
  return { records, malformed, bom };
}

/** Counts per type: keys '0'..'3' and 'none' (server records). */
export function countByType(records: readonly ParsedRecord[]): Record<'0' | '1' | '2' | '3' | 'none', number> {
  const counts = { '0': 0, '1': 0, '2': 0, '3': 0, none: 0 };
  for (const r of records) counts[r.type === null ? 'none' : (String(r.type) as '0' | '1' | '2' | '3')]++;
  return counts;
}
