import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareOutDir } from '../../src/fleet/fleet-output.js';
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
});
