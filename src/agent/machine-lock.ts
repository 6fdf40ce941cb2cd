/**
 * Owns the machine lock that makes a second ccmsetup-sim on the same machine directory exit with return code 8
 * ("setup already running"): a lock file created exclusively, holding the owner's PID. A lock whose PID is no longer
 * alive is stale (the owner crashed) and is taken over. Synchronous file calls, as in machine-dir.ts.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { unlinkQuietly } from './machine-dir.js';
import { dirname } from 'node:path';
import { CcmsimError } from '../errors.js';
import { fileSystemFailure, isDirectory, makeDirectory } from '../make-directory.js';

export interface MachineLock {
  readonly path: string;
  readonly pid: number;
  /** Set when a stale lock of a dead process was taken over. */
  readonly tookOverFrom: number | undefined;
  release(): Promise<void>;
}

/** True when a process with this PID exists (signal 0 probes without touching it). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): number | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown };
    return typeof parsed.pid === 'number' ? parsed.pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock or throws `CCMSIM_SETUP_RUNNING` naming the holder. `pid` defaults to this process; in-process
 * agents (tests, the fleet) share a PID, so the lock is held per file, not per process.
 */
export async function acquireMachineLock(path: string, pid: number = process.pid, alive = isProcessAlive): Promise<MachineLock> {
  try {
    makeDirectory(dirname(path));
  } catch (err) {
    throw new CcmsimError('CCMSIM_FILE_UNWRITABLE', `cannot make ${dirname(path)}, the folder of the machine lock: ${fileSystemFailure(err, dirname(path))}`, { cause: err });
  }
  let tookOverFrom: number | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, JSON.stringify({ pid }));
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        path,
        pid,
        tookOverFrom,
        async release() {
          if (released) return;
          released = true;
          unlinkQuietly(path);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A directory in the lock's place is no other ccmsetup: say what it is rather than "setup already running".
      if (isDirectory(path)) throw new CcmsimError('CCMSIM_FILE_UNWRITABLE', `cannot write the machine lock ${path}: a directory is in its place`);
      const owner = readOwner(path);
      // An unreadable lock may be one being written right now; treat it as held unless it stays unreadable.
      if (owner !== undefined && alive(owner)) {
        throw new CcmsimError('CCMSIM_SETUP_RUNNING', `another ccmsetup (process ${owner}) is running on this machine`, {
          details: { pid: owner, lockFile: path },
        });
      }
      if (owner === undefined && attempt === 0) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      tookOverFrom = owner;
      unlinkQuietly(path);
    }
  }
  throw new CcmsimError('CCMSIM_SETUP_RUNNING', `could not take the machine lock ${path}`, { details: { lockFile: path } });
}
