/**
 * Owns the site directory: where it is (`--site-dir`, else `CCMSIM_SITE_DIR`, else `.ccmsim/site` under the working
 * directory), its layout (laid out like the real servers for logs), making it (one-line errors when it cannot be),
 * what in `pki/` shows a site was made there before, and atomic private-file writes for `pki/`.
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CcmsimError } from '../errors.js';
import { fileSystemFailure, makeDirectory } from '../make-directory.js';

export const SITE_DIR_ENV = 'CCMSIM_SITE_DIR';
export const DEFAULT_SITE_DIR = join('.ccmsim', 'site');

export interface SitePaths {
  readonly root: string;
  /** The SQLite store (`site.db`, with `-wal` and `-shm` next to it). */
  readonly db: string;
  /** The site's certificates and private keys (keys mode 0600). */
  readonly pki: string;
  /** The management point's logs, as on a real MP: `SMS_CCM\Logs`. */
  readonly mpLogs: string;
  /** The CMG service's logs. */
  readonly cmgLogs: string;
  /** The SMS Issuing root certificate (PEM) an agent trusts. */
  readonly rootCertificate: string;
}

/** The site directory chosen by an explicit option, the environment, or the default under `cwd`. */
export function resolveSiteDir(options: { siteDir?: string | undefined; env?: Readonly<Record<string, string | undefined>>; cwd: string }): string {
  const explicit = options.siteDir?.trim();
  // An empty --site-dir is a slip (an unset shell variable), not a request for the default site.
  if (explicit === '') throw new CcmsimError('CCMSIM_USAGE', '--site-dir is empty: give a directory, or leave the option out for $CCMSIM_SITE_DIR, else .ccmsim/site');
  if (explicit) return resolve(options.cwd, explicit);
  const fromEnv = options.env?.[SITE_DIR_ENV]?.trim();
  if (fromEnv) return resolve(options.cwd, fromEnv);
  return resolve(options.cwd, DEFAULT_SITE_DIR);
}

export function sitePaths(siteDir: string): SitePaths {
  const root = resolve(siteDir);
  const pki = join(root, 'pki');
  return {
    root,
    db: join(root, 'site.db'),
    pki,
    mpLogs: join(root, 'SMS_CCM', 'Logs'),
    cmgLogs: join(root, 'CMG', 'Logs'),
    rootCertificate: join(pki, 'sms-issuing-root.cer.pem'),
  };
}

/** Makes the site directory's folders; a path that cannot be one (a file, no permission) is a CCMSIM_SITE_STATE line. */
export function ensureSiteDirs(paths: SitePaths): void {
  try {
    makeDirectory(paths.root);
    mkdirSync(paths.pki, { recursive: true, mode: 0o700 });
    mkdirSync(paths.mpLogs, { recursive: true });
    mkdirSync(paths.cmgLogs, { recursive: true });
  } catch (err) {
    throw new CcmsimError('CCMSIM_SITE_STATE', `cannot create the site directory ${paths.root}: ${fileSystemFailure(err, paths.root)}`, { cause: err });
  }
}

/**
 * The files in `pki/` that only a site's init (or a rotation) writes: private keys and the root certificate. Any of
 * them means a site was made in this directory, so a missing or empty database is a lost site, not a new one.
 */
export function earlierSiteFiles(paths: SitePaths): string[] {
  let names: string[];
  try {
    names = readdirSync(paths.pki);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new CcmsimError('CCMSIM_SITE_STATE', `cannot read the site's key folder ${paths.pki}: ${fileSystemFailure(err, paths.pki)}`, { cause: err });
  }
  const rootName = paths.rootCertificate.slice(paths.pki.length + 1);
  return names.filter((n) => n.endsWith('.key') || n === rootName).sort();
}

let tempCounter = 0;

/**
 * Writes `data` to `path` through a temporary file in the same directory and a rename, so a reader never sees a
 * half-written key or certificate, even if the process dies mid-write.
 */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  const fd = openSync(temp, 'w', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  // The umask may have narrowed or (on some systems) widened the mode given to open().
  chmodSync(temp, mode);
  renameSync(temp, path);
}
