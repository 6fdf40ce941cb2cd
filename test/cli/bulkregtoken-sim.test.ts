import { describe, it, expect, afterEach } from 'vitest';
import { main } from '../../src/cli/bulkregtoken-sim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { VirtualClock } from '../../src/clock/clock.js';
import { Random } from '../../src/clock/random.js';
import { openSite } from '../../src/site/site.js';
import { getBulkToken, listBulkTokens, validateBulkToken } from '../../src/site/bulk-tokens.js';
import { tempDir, testKeys } from '../site-state/site-fixture.js';

const START = Date.parse('2026-03-01T09:00:00Z');
const JWT_LINE = /^[A-Za-z0-9-_=]+\.[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+$/;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup() {
  const { dir, cleanup } = tempDir('bulktool');
  cleanups.push(cleanup);
  const clock = new VirtualClock(START);
  const deps = { keys: testKeys(0), clock, random: new Random('bulktool') };
  const run = async (...argv: string[]) => {
    const io = captureIo({ env: { CCMSIM_SITE_DIR: dir } });
    const code = await main(argv, io, deps);
    return { code, out: io.stdoutText, err: io.stderrText };
  };
  const open = () => openSite({ siteDir: dir, clock, random: new Random('check') });
  return { dir, clock, run, open };
}

describe('bulkregtoken-sim', () => {
  it('/? prints the documented usage', async () => {
    const { run } = setup();
    const r = await run('/?');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Display this usage information.');
    expect(r.out).toContain('Create a new bulk registration token.');
    expect(r.out).toContain('Use with /new parameter to specify the token validity period of the token.');
    expect(r.out).toContain('The default value is 4,320 (three days).');
    expect(r.out).toContain('The maximum value is 10,080 (seven days).');
  });

  it('/new prints the GUID, the validity and the token alone on the 5th line, and records only the GUID', async () => {
    const { run, open } = setup();
    const r = await run('/new');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[5]).toBe('');
    const token = lines[4]!;
    expect(token).toMatch(JWT_LINE);
    expect(lines.filter((l) => JWT_LINE.test(l))).toEqual([token]);
    const guidLines = lines.filter((l) => /.{8}-.{4}-.{4}-.{4}-.{12}/.test(l) && l !== token);
    expect(guidLines).toHaveLength(1);
    const guid = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(guidLines[0]!)![1]!;
    expect(lines).toContain('Token is valid until 2026-03-04 09:00:00Z.');
    const site = await open();
    try {
      expect(getBulkToken(site, guid)).toMatchObject({ lifetimeMinutes: 4320, validUntilMs: START + 4320 * 60_000 });
      expect((await validateBulkToken(site, token)).guid).toBe(guid);
    } finally {
      site.close();
    }
  });

  it('--start creates the token as of a virtual time, for ccmsetup-sim runs with --start', async () => {
    const { dir } = setup();
    const io = captureIo({ env: { CCMSIM_SITE_DIR: dir } });
    const code = await main(['/new', '--start', '2028-01-31T10:00:00Z', '/lifetime', '60'], io, { keys: testKeys(0), random: new Random('bulktool') });
    expect(code).toBe(0);
    expect(io.stdoutText).toContain('Token is valid until 2028-01-31 11:00:00Z.');
    const bad = captureIo({ env: { CCMSIM_SITE_DIR: dir } });
    expect(await main(['/new', '--start', 'soon'], bad, { keys: testKeys(0) })).toBe(2);
    expect(bad.stderrText).toMatch(/--start soon: not an ISO date-time/);
    const rolled = captureIo({ env: { CCMSIM_SITE_DIR: dir } });
    expect(await main(['/new', '--start', '2028-02-30T00:00:00Z'], rolled, { keys: testKeys(0) })).toBe(2);
    expect(rolled.stderrText).toMatch(/--start 2028-02-30T00:00:00Z: not an ISO date-time/);
  });

  it('/lifetime goes with /new in any order, space-separated, case-insensitive', async () => {
    const { run, open } = setup();
    expect((await run('/lifetime', '10080', '/new')).code).toBe(0);
    expect((await run('/NEW', '/LIFETIME', '1')).code).toBe(0);
    const site = await open();
    try {
      expect(listBulkTokens(site).map((t) => t.lifetimeMinutes).sort((a, b) => a - b)).toEqual([1, 10080]);
    } finally {
      site.close();
    }
  });

  it.each([
    [['/new', '/lifetime', '10081'], /1 to 10080/],
    [['/new', '/lifetime', '0'], /1 to 10080/],
    [['/new', '/lifetime', '-5'], /1 to 10080/],
    [['/new', '/lifetime', 'abc'], /not an integer/],
    [['/new', '/lifetime'], /needs a value/],
    [['/new', '/lifetime:4320'], /space, not a colon/],
    [['/new', '/lifetime', '60', '/lifetime', '70'], /\/lifetime given twice \(60 and 70\): give it once/],
    [['/lifetime', '4320'], /goes with \/new/],
    [['/new', '/bogus'], /unknown parameter/],
  ])('refuses %j with one line and exit code 2', async (argv, message) => {
    const { run, open } = setup();
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(message);
    expect(r.err).toContain('(CCMSIM_USAGE)');
    // Nothing was made: the site was not even created.
    await expect(open()).rejects.toMatchObject({ code: 'CCMSIM_SITE_STATE' });
  });

  it('refuses on a passive site with the documented known issue and exit code 4', async () => {
    const { run, open } = setup();
    expect((await run('/new')).code).toBe(0);
    const site = await open();
    site.updateConfig({ serverMode: 'passive' });
    site.close();
    const r = await run('/new');
    expect(r.code).toBe(4);
    expect(r.out).toBe('');
    expect(r.err).toContain("You can't create a bulk registration token on a site that has a site server in passive mode.");
    expect(r.err).toContain('(CCMSIM_SITE_PASSIVE)');
  });

  it('takes the site from --site-dir before CCMSIM_SITE_DIR', async () => {
    const { run, open } = setup();
    const other = tempDir('bulktool-other');
    cleanups.push(other.cleanup);
    expect((await run('--site-dir', other.dir, '/new')).code).toBe(0);
    await expect(open()).rejects.toMatchObject({ code: 'CCMSIM_SITE_STATE' });
    const site = await openSite({ siteDir: other.dir, clock: new VirtualClock(START), random: new Random(1) });
    expect(listBulkTokens(site)).toHaveLength(1);
    site.close();
  });
});
