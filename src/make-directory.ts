/**
 * Owns `makeDirectory`: a directory and its missing ancestors, made one level at a time. Node 20's
 * `mkdirSync(dir, { recursive: true })` never returns for a path under /proc (it retries the parent forever at 100 % CPU);
 * a plain mkdir per level fails at once instead. Also `fileSystemFailure`: such a failure (or a file write's) in words.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Whether `path` is a directory now (false when it is missing or anything else). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Makes `path` and any missing ancestors. An existing directory is fine; any other failure is thrown (Node's error,
 * e.g. EEXIST naming a file that stands in the way). `mode` applies to every level made here (as with a recursive
 * mkdir), not to those already there.
 */
export function makeDirectory(path: string, mode?: number): void {
  const missing: string[] = [];
  for (let p = resolve(path); !isDirectory(p); p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p, mode === undefined ? undefined : { mode });
    } catch (err) {
      // Made meanwhile by someone else: what we wanted.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && isDirectory(p)) continue;
      throw err;
    }
  }
}

/** A file-system failure in words, naming the path it happened on unless it is `named` (Node's is `EEXIST: file already exists, mkdir '…'`). */
export function fileSystemFailure(err: unknown, named: string): string {
  const e = err as NodeJS.ErrnoException;
  const at = e.path === undefined || e.path === named ? '' : ` (${e.path})`;
  switch (e.code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return e.path === undefined || e.path === named ? 'it is a file, not a directory' : `a file is in the way: ${e.path} is not a directory`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied${at}`;
    case 'EROFS':
      return `read-only file system${at}`;
    case 'ENOSPC':
      return `no space left on the device${at}`;
    default:
      return e.message ?? String(err);
  }
}
