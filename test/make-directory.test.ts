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

  it('gives every level it makes the mode asked for, and leaves the levels already there alone', () => {
    const root = mkdtempSync(join(tmpdir(), 'make-dir-'));
    const before = statSync(root).mode & 0o777;
    makeDirectory(join(root, 'a', 'b'), 0o700);
    expect(statSync(join(root, 'a')).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, 'a', 'b')).mode & 0o777).toBe(0o700);
    expect(statSync(root).mode & 0o777).toBe(before);
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
