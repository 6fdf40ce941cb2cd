// `ccmsim fleet --site-url` against a running `ccmsim site serve` (in-process, on loopback): the fleet reads the
// site's code and clock from /ccmsim/site, starts its virtual clock at the site's time, and its agents register
// (half through the CMG with a bulk token from that site, half with the MP) and get their first tokens. A run that
// could not stay within the site's 15-minute clock check is refused up front.
import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/ccmsim-main.js';
import { main as bulkTool } from '../../src/cli/bulkregtoken-sim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { fleetOverrides } from '../../src/cli/commands/fleet.js';
import { siteCliOverrides } from '../../src/cli/commands/site-common.js';
import { siteServeHooks } from '../../src/cli/commands/site-serve.js';
import { RealClock } from '../../src/clock/clock.js';
import { Random } from '../../src/clock/random.js';
import { openSite } from '../../src/site/site.js';
import { createBulkToken } from '../../src/site/bulk-tokens.js';
import { listClients } from '../../src/site/registrations.js';
import type { SiteServers } from '../../src/site/site-servers.js';
import { tempDir, testKeys } from '../site-state/site-fixture.js';
import { testKeyPair, TEST_KEY_COUNT } from '../helpers/test-keys.js';

const pairs = Array.from({ length: TEST_KEY_COUNT }, (_, i) => testKeyPair(i));
const cleanups: Array<() => void> = [];

afterEach(() => {
  delete siteServeHooks.waitForStop;
  delete siteCliOverrides.keys;
  delete fleetOverrides.poolKeys;
  while (cleanups.length > 0) cleanups.pop()!();
});

interface Summary {
  options: { start: string; site: string; internetShare: number };
  counts: {
    agents: number;
    internet: number;
    intranet: number;
    registrations: number;
    registrationsViaCmg: number;
    registrationsViaMp: number;
    firstTokens: number;
    installFailures: number;
    failuresByReason: Record<string, number>;
  };
}

/** Runs `ccmsim site serve` on the site directory (test keys) and calls `during` while it serves. */
async function withSiteServe(args: string[], during: (servers: SiteServers, siteDir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir('remote-fleet');
  cleanups.push(cleanup);
  siteCliOverrides.keys = testKeys(0);
  let failure: unknown;
  siteServeHooks.waitForStop = async (servers) => {
    try {
      await during(servers, dir);
    } catch (err) {
      failure = err;
    }
  };
  const io = captureIo();
  const code = await main(['site', 'serve', '--site-dir', dir, '--seed', '5', ...args], io);
  if (failure !== undefined) throw failure;
  expect(io.stderrText).toBe('');
  expect(code).toBe(0);
}

/** `ccmsim fleet … --site-url <MP>` with the committed keys for the agents. */
async function fleet(args: string[]): Promise<{ code: number; stdout: string; stderr: string; out: string }> {
  const { dir, cleanup } = tempDir('remote-fleet-out');
  cleanups.push(cleanup);
  const out = join(dir, 'run');
  fleetOverrides.poolKeys = pairs.slice(8);
  const io = captureIo();
  const code = await main(['fleet', '--key-pool', '8', '--out', out, ...args], io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText, out };
}

const summaryOf = (out: string): Summary => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;

describe('ccmsim fleet --site-url (a running ccmsim site serve)', () => {
  it('registers 20 agents (half internet with a bulk token, half intranet) and gets each its first token, on the site clock', async () => {
    await withSiteServe([], async (servers, siteDir) => {
      // The admin's side: a bulk token from the running site (another handle on its directory, as `ccmsim site tokens create`).
      const admin = await openSite({ siteDir, clock: new RealClock(), random: new Random('admin'), keys: testKeys(0) });
      let bulk;
      try {
        bulk = await createBulkToken(admin);
      } finally {
        admin.close();
      }
      const before = new RealClock().now();
      const run = await fleet([
        '--site-url', servers.mpUrl, '--regtoken', bulk.token,
        '--agents', '20', '--seed', '3', '--internet-share', '0.5', '--install-window', '5m', '--run-for', '15m', '--no-site-thread',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const s = summaryOf(run.out);
      expect(s.options.site).toBe(servers.mpUrl);
      // The virtual clock started at the site's clock (its Date header: whole seconds), not at the fixed default.
      expect(Date.parse(s.options.start)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
      expect(Date.parse(s.options.start)).toBeLessThanOrEqual(new RealClock().now());
      expect(s.counts.failuresByReason).toEqual({});
      expect(s.counts.installFailures).toBe(0);
      expect(s.counts.agents).toBe(20);
      expect(s.counts.internet).toBeGreaterThan(0);
      expect(s.counts.intranet).toBeGreaterThan(0);
      expect(s.counts.registrations).toBe(20);
      expect(s.counts.registrationsViaCmg).toBe(s.counts.internet);
      expect(s.counts.registrationsViaMp).toBe(s.counts.intranet);
      expect(s.counts.firstTokens).toBe(20);
      for (const line of readFileSync(join(run.out, 'agents.ndjson'), 'utf8').trim().split('\n')) {
        const a = JSON.parse(line) as { installed: boolean; tokenExpires: string | null };
        expect(a.installed).toBe(true);
        expect(a.tokenExpires).not.toBeNull();
      }
      // The site's own database agrees: 20 clients, the internet ones registered with that bulk token.
      const check = await openSite({ siteDir, clock: new RealClock(), random: new Random('check'), keys: testKeys(0) });
      try {
        const clients = listClients(check).filter((c) => c.netbiosName.startsWith('FLT-'));
        expect(clients).toHaveLength(20);
        expect(clients.filter((c) => c.bulkTokenGuid === bulk.guid)).toHaveLength(s.counts.internet);
      } finally {
        check.close();
      }
    });
  });

  it('lines up with a site served on a virtual clock (--clock virtual --start) and refuses a --start far from it', async () => {
    await withSiteServe(['--clock', 'virtual', '--start', '2026-02-02T10:00:00Z'], async (servers, siteDir) => {
      // The bulk token is made at the site's virtual time too (made "now", its nbf would be months after the site's clock).
      const tool = captureIo();
      expect(await bulkTool(['/new', '--site-dir', siteDir, '--start', '2026-02-02T10:00:00Z'], tool)).toBe(0);
      const token = tool.stdoutText.trim().split('\n').at(-1)!;
      const run = await fleet([
        '--site-url', servers.mpUrl, '--regtoken', token,
        '--agents', '6', '--seed', '4', '--internet-share', '0.5', '--install-window', '1m', '--run-for', '10m', '--no-site-thread',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const s = summaryOf(run.out);
      expect(s.options.start).toBe('2026-02-02T10:00:00.000Z');
      expect(s.counts.installFailures).toBe(0);
      expect(s.counts.registrations).toBe(6);
      expect(s.counts.internet).toBeGreaterThan(0);
      expect(s.counts.registrationsViaCmg).toBe(s.counts.internet);
      expect(s.counts.firstTokens).toBe(6);

      const far = await fleet(['--site-url', servers.mpUrl, '--agents', '4', '--seed', '4', '--internet-share', '0', '--install-window', '1m', '--run-for', '10m', '--start', '2026-01-05T08:00:00Z']);
      expect(far.code).toBe(2);
      expect(far.stderr).toMatch(/CCMSIM_USAGE/);
      expect(far.stderr).toMatch(/--start 2026-01-05T08:00:00\.000Z.*2026-02-02T10:00:00\.000Z.*15 minutes/);
      expect(far.stderr.trim().split('\n')).toHaveLength(1);
      // Refused before the run's first line and before --out is made.
      expect(far.stdout).toBe('');
      expect(existsSync(far.out)).toBe(false);
    });
  });

  it('refuses up front a run longer than the site clock check allows (15 minutes), saying what to do', async () => {
    const run = await fleet(['--site-url', 'http://127.0.0.1:9', '--agents', '4', '--seed', '1', '--internet-share', '0', '--run-for', '30d']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/CCMSIM_USAGE/);
    expect(run.stderr).toMatch(/--site-url.*--run-for 30d.*15m/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
