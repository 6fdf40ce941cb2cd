/**
 * Owns `CmLogSet`: one light shared sink for many agents. Logs are named by a path relative to a root, opened on
 * first use (a file appears only when its first record is written), reused afterwards and all closed together.
 * At most `maxOpenFiles` descriptors stay open (least recently written ones are suspended and reopened on demand),
 * so a fleet of thousands of machines does not run out of file descriptors.
 */
import { isAbsolute, join, normalize, sep } from 'node:path';
import { CcmsimError } from '../errors.js';
import { openCmLog, type CmLog, type CmLogOptions } from './cm-log.js';
import type { CmLogRecord } from './record.js';

export type CmLogSetOptions = Omit<CmLogOptions, 'path'> & {
  root: string;
  /** Cap on open file descriptors; default 256. */
  maxOpenFiles?: number;
};

/** Per-log overrides, e.g. the time zone of the machine an agent simulates or the server format for a site log. */
export type CmLogOverrides = Partial<Omit<CmLogOptions, 'path'>>;

export const DEFAULT_MAX_OPEN_FILES = 256;

export class CmLogSet {
  private readonly logs = new Map<string, CmLog>();
  /** Logs with an open fd, least recently written first (Map keeps insertion order). */
  private readonly open = new Map<string, CmLog>();
  private readonly maxOpenFiles: number;

  constructor(private readonly options: CmLogSetOptions) {
    this.maxOpenFiles = options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES;
    if (!Number.isSafeInteger(this.maxOpenFiles) || this.maxOpenFiles < 1) {
      throw new CcmsimError('CCMSIM_USAGE', `maxOpenFiles must be a positive integer, got ${this.maxOpenFiles}`);
    }
  }

  /** The log at `relPath` under the root (opened once; later overrides are ignored). */
  get(relPath: string, overrides: CmLogOverrides = {}): CmLog {
    let log = this.logs.get(relPath);
    if (log === undefined) {
      const rel = normalize(relPath);
      if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) {
        throw new CcmsimError('CCMSIM_USAGE', `log path ${relPath} must stay under the log root`);
      }
      const { root, maxOpenFiles: _cap, ...common } = this.options;
      const inner = openCmLog({ ...common, ...overrides, path: join(root, rel) });
      const set = this;
      // Writes through the set's handle keep the open-file bookkeeping right.
      log = {
        path: inner.path,
        enabled: inner.enabled,
        get isOpen() {
          return inner.isOpen;
        },
        write(rec: CmLogRecord) {
          inner.write(rec);
          set.touched(relPath, inner);
        },
        close() {
          inner.close();
          set.open.delete(relPath);
        },
        suspend() {
          inner.suspend();
          set.open.delete(relPath);
        },
      };
      this.logs.set(relPath, log);
    }
    return log;
  }

  write(relPath: string, rec: CmLogRecord): void {
    this.get(relPath).write(rec);
  }

  private touched(relPath: string, log: CmLog): void {
    if (!log.isOpen) return;
    this.open.delete(relPath);
    this.open.set(relPath, log);
    if (this.open.size > this.maxOpenFiles) {
      const [oldestPath, oldest] = this.open.entries().next().value as [string, CmLog];
      oldest.suspend();
      this.open.delete(oldestPath);
    }
  }

  /** Relative paths of the logs opened so far. */
  get paths(): string[] {
    return [...this.logs.keys()];
  }

  /** How many file descriptors the set holds now. */
  get openFiles(): number {
    return this.open.size;
  }

  closeAll(): void {
    for (const log of this.logs.values()) log.close();
    this.logs.clear();
    this.open.clear();
  }
}

export function openCmLogSet(options: CmLogSetOptions): CmLogSet {
  return new CmLogSet(options);
}
