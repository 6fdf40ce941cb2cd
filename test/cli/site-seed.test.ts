import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/ccmsim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { fixedKeys } from '../../src/crypto/key-provider.js';
import { siteCliOverrides } from '../../src/cli/commands/site-common.js';
import { testKeyPair } from '../helpers/test-keys.js';

describe('ccmsim site init --seed', () => {
  it('repeats the random choices (the hierarchy ID) for the same seed, and prints the seed', async () => {
    siteCliOverrides.keys = fixedKeys([testKeyPair(0), testKeyPair(1), testKeyPair(2)]);
    try {
      const tenants: string[] = [];
      for (const run of [1, 2]) {
        const dir = join(mkdtempSync(join(tmpdir(), 'ccmsim-seed-')), `site${run}`);
        const io = captureIo();
        expect(await main(['site', 'init', '--site-dir', dir, '--seed', '4242', '--json'], io)).toBe(0);
        tenants.push(JSON.parse(io.stdoutText).tenantId as string);
      }
      expect(tenants[0]).toBe(tenants[1]);
      const io = captureIo();
      const dir = join(mkdtempSync(join(tmpdir(), 'ccmsim-seed-')), 'site');
      expect(await main(['site', 'init', '--site-dir', dir], io)).toBe(0);
      expect(io.stdoutText).toMatch(/Seed: \d+ \(repeat with --seed \d+/);
      const bad = captureIo();
      expect(await main(['site', 'init', '--site-dir', dir, '--seed', 'x'], bad)).toBe(2);
    } finally {
      delete siteCliOverrides.keys;
    }
  });
});
