import { describe, it, expect, afterEach, beforeEach } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/ccmsim-main.js';
import { main as bulkTool } from '../../src/cli/bulkregtoken-sim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { siteCliOverrides } from '../../src/cli/commands/site-common.js';
import { fleetOverrides } from '../../src/cli/commands/fleet.js';
import { VirtualClock } from '../../src/clock/clock.js';
import { Random } from '../../src/clock/random.js';
import { fixedKeys } from '../../src/crypto/key-provider.js';
import { openSite } from '../../src/site/site.js';
import { listBulkTokens } from '../../src/site/bulk-tokens.js';
import { tempDir, testKeys } from '../site-state/site-fixture.js';
import { testKeyPair, TEST_KEY_COUNT } from '../helpers/test-keys.js';

// Bad arguments are refused with one line and exit code 2 BEFORE any command acts: nothing is created or changed.

const pairs = Array.from({ length: TEST_KEY_COUNT }, (_, i) => testKeyPair(i));
const START = Date.parse('2026-03-01T09:00:00Z');
let dir = '';
let work = '';
const cleanups: Array<() => void> = [];

beforeEach(() => {
  const site = tempDir('args-site');
  const cwd = tempDir('args-cwd');
  cleanups.push(site.cleanup, cwd.cleanup);
  dir = site.dir;
  work = cwd.dir;
  siteCliOverrides.keys = testKeys(0);
  siteCliOverrides.clock = new VirtualClock(START);
  siteCliOverrides.random = new Random('args');
  // Were a bad fleet line ever run, it would run small and on committed keys.
  fleetOverrides.poolKeys = pairs.slice(8);
  fleetOverrides.siteKeys = fixedKeys(pairs.slice(0, 8));
});
afterEach(() => {
  delete siteCliOverrides.keys;
  delete siteCliOverrides.clock;
  delete siteCliOverrides.random;
  delete fleetOverrides.poolKeys;
  delete fleetOverrides.siteKeys;
  for (const c of cleanups.splice(0)) c();
});

async function ccmsim(...argv: string[]) {
  const io = captureIo({ env: { CCMSIM_SITE_DIR: dir }, cwd: work });
  const code = await main(argv, io);
  return { code, out: io.stdoutText, err: io.stderrText };
}

function expectUsageError(r: { code: number; err: string }, message: RegExp): void {
  expect(r.err).toMatch(message);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/CCMSIM_USAGE/);
  expect(r.err.trimEnd().split('\n')).toHaveLength(1);
}

describe('ccmsim refuses unknown options and subcommands before acting', () => {
  it('site tokens block <guid> --bogus leaves the token unblocked', async () => {
    const io = captureIo({ env: { CCMSIM_SITE_DIR: dir } });
    expect(await bulkTool(['/new'], io, siteCliOverrides)).toBe(0);
    const guid = /Token GUID: (\S+)/.exec(io.stdoutText)![1]!;
    const r = await ccmsim('site', 'tokens', 'block', guid, '--bogus');
    expectUsageError(r, /Unknown argument: bogus/);
    expect(r.out).toBe('');
    const site = await openSite({ siteDir: dir, clock: new VirtualClock(START), random: new Random('check') });
    try {
      expect(listBulkTokens(site).find((t) => t.guid === guid)?.blocked).toBe(false);
    } finally {
      site.close();
    }
  });

  it('site config --cmg-enabled false --sitedir X does not create or change the default site', async () => {
    expectUsageError(await ccmsim('site', 'config', '--cmg-enabled', 'false', '--sitedir', join(work, 'x')), /Unknown argument: sitedir/);
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(work)).toEqual([]);
  });

  it('fleet … --bogus 1 and a misspelt fleet merge write no output directory', async () => {
    const out = join(work, 'run');
    expectUsageError(await ccmsim('fleet', '--agents', '2', '--bogus', '1', '--seed', '1', '--run-for', '1d', '--install-window', '0s', '--key-pool', '8', '--out', out), /Unknown argument: bogus/);
    expect(existsSync(out)).toBe(false);
    const r = await ccmsim('fleet', 'mrege', 'a', 'b', '--seed', '1', '--agents', '2', '--run-for', '1d', '--install-window', '0s', '--key-pool', '8', '--out', out);
    expectUsageError(r, /mrege/);
    expect(existsSync(out)).toBe(false);
    // An unknown option before the only positional takes it as its value: still the option is named.
    expectUsageError(await ccmsim('fleet', 'merge', '--bogus', 'a', '--out', out), /^ccmsim: Unknown argument: bogus \(CCMSIM_USAGE\)$/m);
    expect(existsSync(out)).toBe(false);
  });

  it('demo --bogus and an unknown tokens subcommand do nothing', async () => {
    expectUsageError(await ccmsim('demo', '--bogus', '--seed', '5'), /Unknown argument: bogus/);
    expect(readdirSync(work)).toEqual([]);
    expectUsageError(await ccmsim('site', 'tokens', 'blok', '00000000-0000-0000-0000-000000000000'), /blok/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('ccmsim options that take a value require one', () => {
  it.each([
    [['fleet', '--agents', '--seed', '1', '--run-for', '1d', '--install-window', '0s', '--key-pool', '8', '--out', 'run'], /--agents needs a value/],
    [['fleet', '--agents', '2', '--faults', '--seed', '1', '--run-for', '1d', '--install-window', '0s', '--key-pool', '8', '--out', 'run'], /--faults needs a value/],
    [['fleet', '--agents', '2', '--seed', '1', '--run-for', '1d', '--install-window', '0s', '--key-pool', '8', '--out'], /--out needs a value/],
    [['fleet', '--agents', '2', '--seed', '1', '--run-for', '1d', '--install-window', '0s', '--key-pool', '8', '--out', 'run', '--site-event'], /--site-event needs a value/],
    [['fixtures', '--scenario', '--out', 'fx'], /--scenario needs a value/],
    [['demo', '--seed'], /--seed needs a value/],
    [['site', 'config', '--passive'], /--passive needs a value/],
    [['site', 'clients', 'list', '--site-dir'], /--site-dir needs a value/],
  ])('%j is a usage error naming the option, and nothing is written', async (args, message) => {
    expectUsageError(await ccmsim(...args), message);
    expect(readdirSync(work)).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('a command without its argument', () => {
  it.each([
    [['logs', 'parse'], /: logs parse needs an argument \(ccmsim logs parse --help names it\)/],
    [['fleet', 'merge', '--out', 'm'], /: fleet merge needs an argument \(ccmsim fleet merge --help names it\)/],
  ])('%j names the command (yargs said "got 0, need at least 1")', async (args, message) => {
    expectUsageError(await ccmsim(...args), message);
    expect(readdirSync(work)).toEqual([]);
  });
});

describe('ccmsim fleet merge', () => {
  it('shows and accepts only its own options', async () => {
    const help = await ccmsim('fleet', 'merge', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--out/);
    expect(help.out).not.toMatch(/--agents|--faults|--seed/);
    const r = await ccmsim('fleet', 'merge', 'a', 'b', '--out', 'm', '--faults', 'nonsense=1');
    expectUsageError(r, /Unknown argument: faults/);
    expect(readdirSync(work)).toEqual([]);
  });

  it('fleet --help still lists the run options and merge', async () => {
    const help = await ccmsim('fleet', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--agents/);
    expect(help.out).toMatch(/merge <dirs\.\.>/);
  });
});

describe('ccmsim quotes what the user typed in bad values', () => {
  it.each([
    [['demo', '--seed', 'abc'], /--seed abc: not a number/],
    [['demo', '--seed', '0'], /--seed 0: must be an integer from 1 to 2147483647/],
    [['site', 'serve', '--mp-port', 'abc'], /--mp-port must be a port number from 0 to 65535, not abc \(CCMSIM_USAGE\)/],
    [['site', 'serve', '--cmg-port', '8o'], /--cmg-port must be a port number from 0 to 65535, not 8o \(CCMSIM_USAGE\)/],
    [['site', 'init', '--seed', 'x1'], /--seed takes a whole number, not x1 \(CCMSIM_USAGE\)/],
    [['site', 'serve', '--seed', '0x10'], /--seed takes a whole number, not 0x10 \(CCMSIM_USAGE\)/],
  ])('%j', async (args, message) => {
    const r = await ccmsim(...args);
    expectUsageError(r, message);
    expect(r.err).not.toMatch(/NaN/);
    expect(readdirSync(work)).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('ccmsim --version', () => {
  it("prints the package's version and exits 0, as a tool's --version does", async () => {
    const io = captureIo();
    expect(await main(['--version'], io)).toBe(0);
    const { version } = JSON.parse((await import('node:fs')).readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(io.stdoutText).toBe(`${version}\n`);
    expect(io.stderrText).toBe('');
  });
});
