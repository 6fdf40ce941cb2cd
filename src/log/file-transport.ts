/**
 * Owns the file side of the CM log writer: a winston transport that appends finished record text to one log file
 * synchronously (an fd and fs.writeSync, size and line count kept in memory) and applies CM rollover:
 * at maxSize the `.log` becomes `.lo_` (history 1), is dropped (history 0) or becomes `Name-YYYYMMDD-HHMMSS.log`
 * (history > 1, oldest pruned; our reading of the docs, see docs/logs.md). Every new file starts with a UTF-8 BOM.
 * With `batchWrites` (a fleet's busy site) the records of one event-loop turn go to the file in one write at the end
 * of the turn instead of one write each.
 */
import { closeSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import TransportStream from 'winston-transport';
import { CcmsimError } from '../errors.js';
import { fileSystemFailure, makeDirectory } from '../make-directory.js';
import { historyStamp } from './bias.js';
import { TurnBatch, writeAll } from './turn-batch.js';
import { MESSAGE, type CmLogInfo } from './winston-format.js';
import type { CmLogRecord } from './record.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** What `onWrite` reports for each record written: the fixtures' ground truth. */
export interface CmLogWriteInfo {
  /** The file the record went to (the live `.log`; after a later rollover it lives on in the history file). */
  path: string;
  /** 1-based physical line numbers of the record in that file. */
  firstLine: number;
  lastLine: number;
  localTime: string;
  date: string;
  bias: string;
  utcTimeMs: number;
  record: CmLogRecord;
}

export interface CmFileTransportOptions {
  path: string;
  /** Time zone for history file names (local time of the rollover). */
  timeZone: string;
  /** Bytes; default 250000. */
  maxSize?: number;
  /** 0 none, 1 `.lo_`, more: timestamped files; default 1. */
  maxHistory?: number;
  onWrite?: (info: CmLogWriteInfo) => void;
  /** Write the records of one event-loop turn together, at the end of the turn (default false: each at once). */
  batchWrites?: boolean;
}

export const DEFAULT_MAX_SIZE = 250_000;
export const DEFAULT_MAX_HISTORY = 1;

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** `ccmsetup.log` → `ccmsetup.lo_` (other names get `.lo_` appended). */
export function loPathOf(path: string): string {
  return /\.log$/i.test(path) ? `${path.slice(0, -1)}_` : `${path}.lo_`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Opens `path` truncated, making its folder only when the open finds it missing (no mkdir or stat per file opened:
 * a fleet opens thousands of logs). A file where a folder belongs (ENOTDIR) also goes through makeDirectory, whose
 * error names that file.
 */
function openWriting(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    makeDirectory(dirname(path));
    return openSync(path, 'w');
  }
}

export class CmFileTransport extends TransportStream {
  readonly path: string;
  private readonly timeZone: string;
  private readonly maxSize: number;
  private readonly maxHistory: number;
  private readonly onWrite: ((info: CmLogWriteInfo) => void) | undefined;
  /** Records not yet in the file (batchWrites): they go at the end of the turn. */
  private readonly batch: TurnBatch | undefined;
  private fd: number | null = null;
  private size = 0;
  private lines = 0;
  /** Bytes of the file that are not records (the BOM of a file we started). */
  private emptySize = 0;
  private finished = false;
  /** The file was opened once; size and line count are tracked from then on. */
  private started = false;

  constructor(options: CmFileTransportOptions) {
    super({});
    this.path = options.path;
    this.timeZone = options.timeZone;
    this.maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
    this.maxHistory = options.maxHistory ?? DEFAULT_MAX_HISTORY;
    this.onWrite = options.onWrite;
    this.batch =
      options.batchWrites === true
        ? new TurnBatch(() => {
            if (this.fd === null) this.fd = openSync(this.path, 'a'); // suspended meanwhile
            return this.fd;
          })
        : undefined;
    if (!Number.isSafeInteger(this.maxSize) || this.maxSize < 1) {
      throw new CcmsimError('CCMSIM_USAGE', `log maxSize must be a positive integer number of bytes, got ${this.maxSize}`);
    }
    if (!Number.isSafeInteger(this.maxHistory) || this.maxHistory < 0) {
      throw new CcmsimError('CCMSIM_USAGE', `log maxHistory must be an integer >= 0, got ${this.maxHistory}`);
    }
  }

  /** winston's entry point; synchronous: the bytes are in the file before `next` is called. */
  override log(info: CmLogInfo, next: () => void): void {
    this.append(info);
    next();
  }

  /** Appends one formatted record (info[MESSAGE]) and reports it. */
  append(info: CmLogInfo): void {
    const text = info[MESSAGE];
    if (typeof text !== 'string') throw new CcmsimError('CCMSIM_INTERNAL', 'CM log transport got a record the CM format did not format');
    if (this.finished) throw new CcmsimError('CCMSIM_INTERNAL', `log ${this.path} is closed`);
    const bytes = Buffer.from(text, 'utf8');
    try {
      if (this.fd === null) {
        if (this.started) this.fd = openSync(this.path, 'a'); // resumed after suspend(): size and lines are known
        else this.open();
      }
      // A record that would push the file past maxSize rolls the log over first (unless the file holds no record yet).
      if (this.size > this.emptySize && this.size + bytes.length > this.maxSize) this.rollover(info.time);
      if (this.batch !== undefined) this.batch.add(bytes);
      else writeAll(this.fd!, bytes);
    } catch (err) {
      throw this.unwritable(err);
    }
    const firstLine = this.lines + 1;
    const breaks = countNewlines(text);
    this.lines += breaks;
    this.size += bytes.length;
    if (this.onWrite !== undefined && info.cmTime !== undefined) {
      this.onWrite({
        path: this.path,
        firstLine,
        lastLine: firstLine + Math.max(breaks, 1) - 1,
        localTime: info.cmTime.localTime,
        date: info.cmTime.date,
        bias: info.cmTime.bias,
        utcTimeMs: info.time,
        record: info.cmRecord ?? info,
      });
    }
  }

  /** Bytes in the live file (as tracked in memory). */
  get currentSize(): number {
    return this.size;
  }

  /**
   * A failure to make, open or write the file (a file where its folder belongs, a directory in its place, a full
   * disk) as one line naming the log, rather than Node's error surfacing as an internal one.
   */
  private unwritable(err: unknown): CcmsimError {
    if (err instanceof CcmsimError) return err;
    return new CcmsimError('CCMSIM_FILE_UNWRITABLE', `cannot write the log ${this.path}: ${fileSystemFailure(err, this.path)}`, { cause: err });
  }

  private open(): void {
    let existing = 0;
    try {
      const st = statSync(this.path);
      if (!st.isFile()) throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `log path ${this.path} is not a file`);
      existing = st.size;
    } catch (err) {
      if (err instanceof CcmsimError) throw err;
    }
    if (existing > 0) {
      // CM appends to a log that is already there (ccmsetup.log grows across runs).
      this.fd = openSync(this.path, 'a');
      this.size = existing;
      this.lines = countNewlines(readFileSync(this.path, 'utf8'));
      this.emptySize = 0;
    } else {
      this.startNewFile();
    }
    // Only once the file is open: a failed open is tried again as a first open, with the same error.
    this.started = true;
  }

  private startNewFile(): void {
    this.fd = openWriting(this.path);
    writeAll(this.fd, BOM);
    this.size = BOM.length;
    this.emptySize = BOM.length;
    this.lines = 0;
  }

  /** Writes the records still pending (batchWrites); a no-op otherwise. */
  flush(): void {
    try {
      this.batch?.flush();
    } catch (err) {
      throw this.unwritable(err);
    }
  }

  private rollover(timeMs: number): void {
    this.flush();
    closeSync(this.fd!);
    this.fd = null;
    if (this.maxHistory === 1) {
      renameSync(this.path, loPathOf(this.path));
    } else if (this.maxHistory > 1) {
      renameSync(this.path, this.historyTarget(timeMs));
      this.pruneHistory();
    }
    // maxHistory 0: the old content is simply dropped by truncating.
    this.startNewFile();
  }

  private historyBase(): string {
    return basename(this.path).replace(/\.log$/i, '');
  }

  private historyTarget(timeMs: number): string {
    const stamp = historyStamp(timeMs, this.timeZone);
    const stem = join(dirname(this.path), `${this.historyBase()}-${stamp}`);
    // Two rollovers in the same second (fast virtual time): keep both, numbered after the highest number in use, so
    // the order survives pruning.
    let highest = 0;
    for (const f of this.historyEntries()) if (f.stamp === stamp) highest = Math.max(highest, f.n);
    return highest === 0 ? `${stem}.log` : `${stem}-${highest + 1}.log`;
  }

  private historyEntries(): { name: string; stamp: string; n: number }[] {
    const re = new RegExp(`^${escapeRegExp(this.historyBase())}-(\\d{8}-\\d{6})(?:-(\\d+))?\\.log$`, 'i');
    const found: { name: string; stamp: string; n: number }[] = [];
    for (const name of readdirSync(dirname(this.path))) {
      const m = re.exec(name);
      if (m) found.push({ name, stamp: m[1]!, n: m[2] === undefined ? 1 : Number(m[2]) });
    }
    found.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.n - b.n));
    return found;
  }

  /** Timestamped history files of this log, oldest first. */
  historyFiles(): string[] {
    return this.historyEntries().map((f) => join(dirname(this.path), f.name));
  }

  private pruneHistory(): void {
    const files = this.historyFiles();
    for (let i = 0; i < files.length - this.maxHistory; i++) unlinkSync(files[i]!);
  }

  /** Whether the file is open now. */
  get isOpen(): boolean {
    return this.fd !== null;
  }

  /** Closes the fd but keeps the state: the next record reopens the file for appending (CmLogSet's fd cap). */
  suspend(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  override close(): void {
    try {
      if (!this.finished) this.flush();
    } finally {
      if (this.fd !== null) closeSync(this.fd);
      this.fd = null;
      this.finished = true;
    }
  }
}
