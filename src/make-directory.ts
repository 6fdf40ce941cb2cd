/**
 * Owns `makeDirectory`: a directory and its missing ancestors, made one level at a time. Node 20's
 * `mkdirSync(dir, { recursive: true })` never returns for a path under /proc (it retries the parent forever at 100 % CPU);
 * a plain mkdir per level fails at once instead.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Makes `path` and any missing ancestors. An existing directory is fine; any other failure is thrown (Node's error,
 * e.g. EEXIST naming a file that stands in the way).
 */
export function makeDirectory(path: string): void {
  const missing: string[] = [];
  for (let p = resolve(path); !isDirectory(p); p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (err) {
      // Made meanwhile by someone else: what we wanted.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && isDirectory(p)) continue;
      throw err;
    }
  }
}
