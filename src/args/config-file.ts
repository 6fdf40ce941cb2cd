/**
 * Owns ccmsetup's `/config:<file>` file (cli.md §2): reading it (the path as given, relative to the working directory),
 * and taking out the `[Client Install]` section's `Install=` value, the client.msi properties in the format of
 * mobileclienttemplate.tcf (`Install=INSTALL=ALL SMSSITECODE=ABC SMSCACHESIZE=100`). Every problem is one
 * `CCMSIM_BAD_ARGUMENT` line naming the file; the properties themselves are checked by the command-line parser.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CcmsimError } from '../errors.js';
import { maskJwtsIn } from './masking.js';

const SECTION = 'client install';
const EXAMPLE = '[Client Install] with Install=INSTALL=ALL SMSSITECODE=ABC';

function bad(shown: string, problem: string): CcmsimError {
  return new CcmsimError('CCMSIM_BAD_ARGUMENT', maskJwtsIn(`${shown}: ${problem}`));
}

/**
 * The file's text. `shown` is how the argument reads in messages (`/config:cfg.txt`). A missing file, a directory, a
 * file that cannot be read or holds no text is refused. UTF-16 (with its byte-order mark, as Notepad saves "Unicode")
 * and UTF-8 with or without a BOM are read.
 */
export function readConfigFile(given: string, cwd: string, shown: string): string {
  const path = resolve(cwd, given);
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) throw bad(shown, `that is a directory, not a file (${path})`);
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof CcmsimError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw bad(shown, `the file does not exist (looked for ${path})`);
    if (code === 'EACCES' || code === 'EPERM') throw bad(shown, `the file cannot be read: permission denied (${path})`);
    throw bad(shown, `the file cannot be read (${code ?? String(err)}: ${path})`);
  }
  const text = decode(bytes);
  if (text.trim() === '') throw bad(shown, `the file is empty (it needs ${EXAMPLE})`);
  if (text.includes('\u0000')) throw bad(shown, 'the file is not a text file');
  return text;
}

function decode(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  return bytes.toString('utf8');
}

/**
 * The `Install=` value of the `[Client Install]` section (INI rules: section and key names case-insensitive, `;` and
 * `#` lines are comments, other sections and keys are ignored). No such section, no `Install=` in it, or an empty
 * value is refused; a second `Install=` line wins, with a warning.
 */
export function installValue(text: string, shown: string): { value: string; warnings: string[] } {
  const warnings: string[] = [];
  let section: string | undefined;
  let sawSection = false;
  let value: string | undefined;
  for (const raw of text.split(/\r\n|\n|\r/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      section = header[1]!.trim().toLowerCase();
      if (section === SECTION) sawSection = true;
      continue;
    }
    if (section !== SECTION) continue;
    const eq = line.indexOf('=');
    if (eq < 0 || line.slice(0, eq).trim().toLowerCase() !== 'install') continue;
    if (value !== undefined) warnings.push(`${shown}: Install= is given more than once; the last one counts`);
    value = line.slice(eq + 1).trim();
  }
  if (!sawSection) throw bad(shown, `the file has no [Client Install] section (it needs ${EXAMPLE})`);
  if (value === undefined) throw bad(shown, 'the [Client Install] section has no Install= line (Install=INSTALL=ALL SMSSITECODE=ABC)');
  if (value === '') throw bad(shown, 'Install= is empty: give the client.msi properties (Install=INSTALL=ALL SMSSITECODE=ABC)');
  return { value, warnings };
}

/** The file's name without its folder (either separator), as ccmsetup names its copy. */
export function configFileName(given: string): string {
  return given.split(/[\\/]/).pop() || given;
}
