import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirectory } from '../src/make-directory.js';

describe('makeDirectory', () => {
  it('makes the missing ancestors, and takes a directory that is already there', () => {
    const root = mkdtempSync(join(tmpdir(), 'make-dir-'));
    makeDirectory(join(root, 'a', 'b', 'c'));
    expect(statSync(join(root, 'a', 'b', 'c')).isDirectory()).toBe(true);
    mkdirSync(join(root, 'd'));
    makeDirectory(join(root, 'd'));
    makeDirectory(root);
  });

  it('throws when a file stands in the way', () => {
    const root = mkdtempSync(join(tmpdir(), 'make-dir-'));
    writeFileSync(join(root, 'f'), '');
    expect(() => makeDirectory(join(root, 'f'))).toThrow(/EEXIST/);
    expect(() => makeDirectory(join(root, 'f', 'sub'))).toThrow(/EEXIST.*'.*f'/);
  });

  // Node 20's recursive mkdir spins forever here.
  it.runIf(process.platform === 'linux')('throws at once under /proc', () => {
    expect(() => makeDirectory('/proc/ccmsim-nope/x')).toThrow(/ENOENT/);
  });
});
