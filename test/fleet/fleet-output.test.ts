import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOutDir, prepareOutDir } from '../../src/fleet/fleet-output.js';
import { isCcmsimError } from '../../src/errors.js';

/** The CcmsimError `fn` throws (the test fails if it throws anything else, or nothing). */
function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isCcmsimError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('nothing was thrown');
}

describe('--out', () => {
  it('that cannot be made is one usage line naming it, and nothing is made', () => {
    const root = mkdtempSync(join(tmpdir(), 'fleet-out-'));
    writeFileSync(join(root, 'o_file'), '');
    const out = join(root, 'o_file', 'sub', 'x');
    const e = thrown(() => prepareOutDir(out));
    expect(e.code).toBe('CCMSIM_USAGE');
    expect(e.message).toMatch(new RegExp(`^--out ${out} cannot be created: .*o_file`));
    expect(e.message).not.toMatch(/\n/);
    expect(existsSync(join(root, 'o_file', 'sub'))).toBe(false);
  });

  it('is proved makeable before anything runs, without making it', () => {
    const root = mkdtempSync(join(tmpdir(), 'fleet-out-'));
    writeFileSync(join(root, 'o_file'), '');
    expect(thrown(() => checkOutDir(join(root, 'o_file', 'sub')))).toEqual({
      code: 'CCMSIM_USAGE',
      message: `--out ${join(root, 'o_file', 'sub')} cannot be created: ${join(root, 'o_file')} is not a directory`,
    });
    expect(thrown(() => checkOutDir(join(root, 'o_file'))).message).toBe(`--out ${join(root, 'o_file')} exists and is not a directory`);
    checkOutDir(join(root, 'new', 'deeper'));
    expect(existsSync(join(root, 'new'))).toBe(false);
  });

  // Root may write anywhere by access(); mkdir under /proc and /sys still fails (ENOENT, EPERM).
  it.runIf(process.platform === 'linux')('under /proc or /sys is refused by checkOutDir, naming the file system', () => {
    expect(thrown(() => checkOutDir('/proc/nope'))).toEqual({ code: 'CCMSIM_USAGE', message: '--out /proc/nope cannot be created: /proc is on proc, where only the kernel makes directories' });
    expect(thrown(() => checkOutDir('/sys/nope/x')).message).toBe('--out /sys/nope/x cannot be created: /sys is on sysfs, where only the kernel makes directories');
  });
});
