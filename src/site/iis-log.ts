/**
 * Owns the MP's IIS access log: one W3C line per request, as IIS writes it (`inetpub/logs/LogFiles/W3SVC1/
 * u_exYYMMDD.log`, UTC, one file per day, fields as in the public approval sample:
 * `CCM_POST /ccm_system_windowsauth/request - 80 - 192.168.20.102 ccmhttp 401 2 2148074254`). It records what the
 * CMTrace logs do not: every GET (MPLIST, content) and every HTTP-level refusal. URLs and user agents only; no headers.
 * Every field is scrubbed like the other server logs (`scrub`): a token in a query, a path or a user agent is not written.
 * The day's file stays open (a line per request was three file calls); with `batchWrites` (a fleet's busy site) the
 * lines of one event-loop turn go out in one write at its end, and `close` writes what is left.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { fileSystemFailure, makeDirectory, pathKindProblem } from '../make-directory.js';
import { CcmsimError } from '../errors.js';
import { join } from 'node:path';
import { TurnBatch, writeAll } from '../log/turn-batch.js';
import { scrub } from './server-logs.js';
import type { SitePaths } from './site-dir.js';

export interface IisLogEntry {
  timeMs: number;
  serverIp: string;
  method: string;
  path: string;
  query: string;
  serverPort: number;
  clientIp: string;
  userAgent: string | undefined;
  status: number;
  timeTakenMs: number;
  /** Parts of a token the request presented (`tokenSecrets`), removed from every field as from the server logs. */
  secrets?: readonly string[];
}

const FIELDS =
  'date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';

function field(value: string | undefined, secrets: readonly string[]): string {
  if (value === undefined || value === '') return '-';
  // Scrubbed before the cut, so a token cut short cannot slip past the JWT shape.
  const out = scrub(value, secrets).slice(0, 500);
  // W3C fields cannot hold spaces (IIS writes '+'); other bytes outside visible ASCII (a refused request line's
  // control characters, a user agent's non-ASCII) are written %XX, never raw. Wire text is latin1: a char is a byte.
  return NOT_VISIBLE.test(out) ? out.replace(/[ \t\r\n\v\f]+/g, '+').replace(/[^!-~]/gu, percentEncode) : out;
}

const NOT_VISIBLE = /[^!-~]/;

function percentEncode(c: string): string {
  const code = c.charCodeAt(0);
  if (code <= 0xff) return `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
  return [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
}

export class IisLog {
  private readonly dir: string;
  private readonly batch: TurnBatch | undefined;
  private fd: number | undefined;
  private fdPath: string | undefined;

  constructor(paths: SitePaths, options: { batchWrites?: boolean } = {}) {
    this.dir = join(paths.root, 'inetpub', 'logs', 'LogFiles', 'W3SVC1');
    // The day's file is open whenever lines are pending: a day change or a close flushes first.
    this.batch = options.batchWrites === true ? new TurnBatch(() => this.fd!) : undefined;
  }

  /** The day's file for `timeMs` (UTC): `u_exYYMMDD.log`. */
  pathFor(timeMs: number): string {
    const iso = new Date(timeMs).toISOString();
    return join(this.dir, `u_ex${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}.log`);
  }

  /**
   * Refuses a log folder or a day's file (the day of `nowMs`) that is something else (a directory in a file's place):
   * each request would fail writing its line, a 500 that clients take for a busy server and retry for a day.
   */
  checkWritable(nowMs: number): void {
    for (const [path, wanted] of [[this.dir, 'directory'], [this.pathFor(nowMs), 'file']] as const) {
      const problem = pathKindProblem(path, wanted);
      if (problem !== undefined) throw new CcmsimError('CCMSIM_SITE_STATE', `the IIS log ${wanted} ${path} cannot be written: ${problem}`);
    }
  }

  write(entry: IisLogEntry): void {
    const iso = new Date(entry.timeMs).toISOString();
    const date = iso.slice(0, 10);
    const time = iso.slice(11, 19);
    const path = this.pathFor(entry.timeMs);
    const secrets = entry.secrets ?? [];
    if (path !== this.fdPath) this.openDay(path, `${date} ${time}`);
    this.emit(
      [
        date,
        time,
        entry.serverIp,
        field(entry.method, secrets),
        field(entry.path, secrets),
        field(entry.query, secrets),
        String(entry.serverPort),
        '-',
        entry.clientIp,
        field(entry.userAgent, secrets),
        '-',
        String(entry.status),
        '0',
        '0',
        String(Math.max(0, Math.round(entry.timeTakenMs))),
      ].join(' ') + '\r\n',
    );
  }

  close(): void {
    try {
      this.batch?.flush();
    } catch (err) {
      // A failed end-of-turn write (a full disk) surfaces here at the latest: one line naming the file.
      throw new CcmsimError('CCMSIM_FILE_UNWRITABLE', `cannot write the IIS log ${this.fdPath ?? this.dir}: ${fileSystemFailure(err, this.fdPath ?? '')}`, { cause: err });
    } finally {
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = undefined;
      this.fdPath = undefined;
    }
  }

  /** Switches to the day's file, appending; a new (empty) file starts with IIS's header, dated by its first line. */
  private openDay(path: string, firstLineTime: string): void {
    this.close();
    makeDirectory(this.dir);
    this.fd = openSync(path, 'a');
    this.fdPath = path;
    if (fstatSync(this.fd).size === 0) {
      this.emit(`#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: ${firstLineTime}\r\n#Fields: ${FIELDS}\r\n`);
    }
  }

  private emit(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    if (this.batch !== undefined) this.batch.add(bytes);
    else writeAll(this.fd!, bytes);
  }
}
