/**
 * Owns `makeDirectory`: a directory and its missing ancestors, made one level at a time. Node 20's
 * `mkdirSync(dir, { recursive: true })` never returns for a path under /proc (it retries the parent forever at 100 % CPU);
 * a plain mkdir per level fails at once instead. Also `fileSystemFailure` (such a failure, or a file write's, in words)
 * `whyCannotMake` (a directory that could not be made, found before making anything), `unwritable` (an existing
 * directory's) and `pathKindProblem` (a file or folder that is something else, or could not be made).
 */
import { accessSync, constants, existsSync, mkdirSync, statfsSync, statSync } from 'node:fs';
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
    case 'EISDIR':
      return 'a directory is in its place';
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

/**
 * File systems whose directories only the kernel makes (Linux magic numbers): mkdir fails there even for root, whom
 * access() lets write anywhere.
 */
const KERNEL_FILE_SYSTEMS = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
]);

/** Why files cannot be made in the existing directory `dir`, or undefined. */
export function unwritable(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    return `${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? 'denied'})`;
  }
  const kind = process.platform === 'linux' ? KERNEL_FILE_SYSTEMS.get(statfsSync(dir).type) : undefined;
  return kind === undefined ? undefined : `${dir} is on ${kind}, where only the kernel makes directories`;
}

/**
 * Why `dir` could not be made, found without making anything: its nearest existing ancestor is not a writable
 * directory (or is on a kernel file system). Undefined when it looks makeable (or already is a directory).
 */
export function whyCannotMake(dir: string): string | undefined {
  // existsSync is false below a file too (ENOTDIR), so the walk stops at the file and names it; / always exists.
  let at = dirname(resolve(dir));
  while (!existsSync(at)) at = dirname(at);
  return statSync(at).isDirectory() ? unwritable(at) : `${at} is not a directory`;
}

/**
 * Why `path` cannot be used as a `wanted` (a log file, a log folder), found without making anything: undefined when it
 * is one, or is missing and could be made. A file on the way to it is named (`/a/b is not a directory`).
 */
export function pathKindProblem(path: string, wanted: 'file' | 'directory'): string | undefined {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return whyCannotMake(wanted === 'directory' ? path : dirname(path));
  }
  return (wanted === 'file' ? stat.isFile() : stat.isDirectory()) ? undefined : `it is not a ${wanted}`;
}
