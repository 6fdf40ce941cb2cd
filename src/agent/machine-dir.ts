/**
 * Owns the simulated machine's directory: where each file of a Windows client lives (logs, SMSCFG.ini, the SMS
 * certificate store, the cached client token, the install state) and atomic writes (temporary file + rename), so a
 * crashed process never leaves a half-written file behind. The calls are synchronous behind async signatures: these
 * files are small and local, and a fleet makes hundreds of thousands of them, where a thread-pool round trip per call
 * cost more (locks, wake-ups, context switches) than the write itself.
 */
import { closeSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CcmsimError } from '../errors.js';
import { fileSystemFailure, makeDirectory } from '../make-directory.js';

export interface MachinePaths {
  readonly root: string;
  readonly windows: string;
  readonly ccmsetupDir: string;
  readonly ccmsetupLog: string;
  readonly clientMsiLog: string;
  readonly ccmDir: string;
  readonly ccmLogs: string;
  readonly clientIdLog: string;
  readonly clientLocationLog: string;
  readonly smscfg: string;
  /** LocalMachine\SMS: one `<thumbprint>.cer` (PEM) and one `<thumbprint>.key` (PEM, mode 0600) per certificate. */
  readonly certStore: string;
  /** The client token cached for the machine account (`S-1-5-18`), mode 0600. */
  readonly clientToken: string;
  /** What the installed client knows about itself (the registry's part), JSON. */
  readonly clientState: string;
  /** Held while a ccmsetup-sim runs on this machine: `{ "pid": N }`. */
  readonly lockFile: string;
}

export function machinePaths(root: string): MachinePaths {
  const windows = join(root, 'Windows');
  const ccmsetupDir = join(windows, 'ccmsetup');
  const ccmDir = join(windows, 'CCM');
  const ccmLogs = join(ccmDir, 'Logs');
  return {
    root,
    windows,
    ccmsetupDir,
    ccmsetupLog: join(ccmsetupDir, 'Logs', 'ccmsetup.log'),
    clientMsiLog: join(ccmsetupDir, 'Logs', 'client.msi.log'),
    ccmDir,
    ccmLogs,
    clientIdLog: join(ccmLogs, 'ClientIDManagerStartup.log'),
    clientLocationLog: join(ccmLogs, 'ClientLocation.log'),
    smscfg: join(windows, 'SMSCFG.ini'),
    certStore: join(ccmDir, 'CertStore', 'LocalMachine', 'SMS'),
    clientToken: join(ccmDir, 'Tokens', 'S-1-5-18.json'),
    clientState: join(ccmDir, 'ccmsim-client.json'),
    lockFile: join(ccmsetupDir, 'ccmsetup.lock'),
  };
}

let tempCounter = 0;

/**
 * Writes `data` to `path` through a temporary file in the same directory and a rename, so readers see either the
 * old or the new content. `mode` applies from creation (0600 keeps keys and tokens owner-only from the first byte).
 * No fsync: rename after a complete write already means a crashed process leaves no half-written file, which is what
 * the client needs; only a power loss could lose the write, and fsync cost a dozen disk flushes per install
 * (docs/agent.md, "Machine directory").
 */
export async function writeFileAtomic(path: string, data: string | Buffer, options: { mode?: number } = {}): Promise<void> {
  try {
    writeThroughTemp(path, data, options.mode ?? 0o644);
  } catch (err) {
    // A directory where the file belongs, a full disk: one line naming the file rather than an internal error.
    throw new CcmsimError('CCMSIM_FILE_UNWRITABLE', `cannot write ${path}: ${writeFailure(err)}`, { cause: err });
  }
}

/** Why a write failed, in words; the line names the file already (Node's error names the temporary one). */
function writeFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOTDIR') return 'a file stands where a folder on the way to it should be';
  return fileSystemFailure(err, e.path ?? '');
}

function writeThroughTemp(path: string, data: string | Buffer, mode: number): void {
  const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  let fd: number;
  try {
    fd = openSync(temp, 'w', mode);
  } catch (err) {
    // The directory is made on the first write into it, not probed before every write.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    makeDirectory(dirname(path));
    fd = openSync(temp, 'w', mode);
  }
  try {
    writeFileSync(fd, data);
  } catch (err) {
    closeSync(fd);
    unlinkQuietly(temp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (err) {
    unlinkQuietly(temp);
    throw err;
  }
}

/** Removes a file if it is there; a file already gone is not an error. */
export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * The file's text, or undefined when it does not exist. Anything else that stops the read (a directory where the file
 * belongs, a file where a folder on its path belongs, no permission) is CCMSIM_FILE_UNREADABLE naming the file, so the
 * run stops with one clear line and writes nothing over it.
 */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `${path} ${unreadableReason(code, err)}`, { cause: err });
  }
}

function unreadableReason(code: string | undefined, err: unknown): string {
  if (code === 'EISDIR') return 'is a directory, not a file';
  if (code === 'ENOTDIR') return 'cannot be read: a folder on its path is a file';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read: permission denied';
  return `cannot be read: ${err instanceof Error ? err.message : String(err)}`;
}

export async function removeIfExists(path: string): Promise<void> {
  rmSync(path, { recursive: true, force: true });
}
