import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/ccmsim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { fleetOverrides } from '../../src/cli/commands/fleet.js';
import { fixedKeys } from '../../src/crypto/key-provider.js';
import { resolveFleetOptions } from '../../src/fleet/fleet-options.js';
import { decideFault, parseFaults, formatFaults, createFaultHook, FAULT_KEY_HEADER } from '../../src/fleet/fleet-faults.js';
import { testKeyPair, TEST_KEY_COUNT } from '../helpers/test-keys.js';
import { spawnSync } from 'node:child_process';

const hasChrt = process.platform === 'linux' && spawnSync('chrt', ['--version'], { stdio: 'ignore' }).status === 0;

const pairs = Array.from({ length: TEST_KEY_COUNT }, (_, i) => testKeyPair(i));

describe('ccmsim fleet (command line)', () => {
  afterEach(() => {
    delete fleetOverrides.poolKeys;
    delete fleetOverrides.siteKeys;
  });

  it('runs a small fleet, prints the summary table and writes the four files', async () => {
    fleetOverrides.poolKeys = pairs.slice(8);
    fleetOverrides.siteKeys = fixedKeys(pairs.slice(0, 8));
    const out = join(mkdtempSync(join(tmpdir(), 'fleet-cli-')), 'run');
    const io = captureIo();
    const code = await main(['fleet', '--agents', '6', '--seed', '2', '--run-for', '40d', '--key-pool', '8', '--agent-logs', 'sample:2', '--out', out], io);
    expect(io.stderrText).toBe('');
    expect(code).toBe(0);
    expect(io.stdoutText).toMatch(/installed and registered\s+6 \(CMG \d+, MP \d+\)/);
    // On Linux the run's threads are batch-scheduled, and the first line says so.
    expect(io.stdoutText.split('\n')[0]).toBe(`ccmsim fleet: 6 agents, seed 2, key pool 8${hasChrt ? ', threads SCHED_BATCH' : ''}, output ${out}`);
    expect(io.stdoutText).toMatch(/site database\s+6 clients \(0 duplicates\)/);
    for (const f of ['summary.json', 'agents.ndjson', 'events.ndjson', 'report.html']) expect(existsSync(join(out, f))).toBe(true);
    // sample:2 of 6 agents: agents 0 and 3 write their client logs, the others write none.
    expect(existsSync(join(out, 'machines', 'FLT-0000000', 'Windows', 'ccmsetup', 'Logs', 'ccmsetup.log'))).toBe(true);
    expect(existsSync(join(out, 'machines', 'FLT-0000001', 'Windows', 'ccmsetup', 'Logs', 'ccmsetup.log'))).toBe(false);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { counts: { registrations: number } };
    expect(summary.counts.registrations).toBe(6);
  });

  it('keeps the default scheduling policy with --no-batch-scheduling', async () => {
    fleetOverrides.poolKeys = pairs.slice(8);
    fleetOverrides.siteKeys = fixedKeys(pairs.slice(0, 8));
    const out = join(mkdtempSync(join(tmpdir(), 'fleet-cli-')), 'run');
    const io = captureIo();
    const code = await main(['fleet', '--agents', '2', '--seed', '2', '--run-for', '2d', '--install-window', '1h', '--key-pool', '8', '--no-batch-scheduling', '--out', out], io);
    expect(code).toBe(0);
    expect(io.stdoutText.split('\n')[0]).toBe(`ccmsim fleet: 2 agents, seed 2, key pool 8, output ${out}`);
  });

  it.each([
    [['--shard', '3/3'], /--shard: '3\/3': i must be less than n/],
    [['--faults', 'bogus=1'], /unknown fault 'bogus'/],
    [['--faults', 'mp-503=1.5'], /mp-503=1.5: the share must be a number from 0 to 1/],
    [['--key-pool', '4', '--unique-keys'], /--key-pool and --unique-keys exclude each other/],
    [['--run-for', '5x'], /--run-for: '5x' is not a duration/],
    [['--install-window', '10d', '--run-for', '5d'], /--install-window 10d must be shorter than --run-for 5d/],
    [['--agent-logs', 'some'], /--agent-logs: 'some' must be none, all or sample:N/],
    [['--internet-share', '2'], /--internet-share: '2' must be a number from 0 to 1/],
    [['--start', '2026-02-30T00:00:00Z'], /--start: '2026-02-30T00:00:00Z' is not a valid ISO 8601 date-time/],
    [['--regtoken', 'aaa.bbb.ccc'], /--regtoken goes with --site-url: the embedded site makes its own bulk token/],
    [['--site-url', 'http://127.0.0.1:9', '--regtoken', 'not-a-token'], /--regtoken: must be a bulk registration token \(three base64url parts joined by dots; got 11 characters\)/],
    [['--site-url', 'http://127.0.0.1:9'], /--site-url with internet agents needs --regtoken/],
  ])('refuses %j with a usage error', async (args, message) => {
    const io = captureIo();
    const out = join(mkdtempSync(join(tmpdir(), 'fleet-cli-bad-')), 'x');
    const code = await main(['fleet', '--seed', '1', '--out', out, ...args], io);
    expect(code).toBe(2);
    expect(io.stderrText).toMatch(message);
    expect(io.stderrText).toMatch(/CCMSIM_USAGE/);
    expect(io.stderrText).not.toMatch(/\n\s+at /);
    expect(io.stderrText.trim().split('\n')).toHaveLength(1);
    expect(io.stdoutText).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an --out that is not empty before printing anything else, and leaves it as it was', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fleet-cli-used-'));
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    const io = captureIo();
    const code = await main(['fleet', '--agents', '2', '--seed', '1', '--out', out], io);
    expect(code).toBe(2);
    expect(io.stdoutText).toBe('');
    expect(io.stderrText).toBe(`ccmsim: --out ${out} is not empty (give a new directory for each run) (CCMSIM_USAGE)\n`);
    expect(readdirSync(out)).toEqual(['notes.txt']);
  });

  it('refuses an --out that cannot be made, for a run and for a merge, with one line and nothing made', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fleet-cli-file-'));
    writeFileSync(join(root, 'o_file'), '');
    const out = join(root, 'o_file', 'sub');
    const line = `ccmsim: --out ${out} cannot be created: ${join(root, 'o_file')} is not a directory (CCMSIM_USAGE)\n`;
    const run = captureIo();
    expect(await main(['fleet', '--agents', '2', '--seed', '1', '--out', out], run)).toBe(2);
    expect([run.stdoutText, run.stderrText]).toEqual(['', line]);
    // Checked before the shards are read: these do not even exist.
    const merge = captureIo();
    expect(await main(['fleet', 'merge', join(root, 's0'), join(root, 's1'), '--out', out], merge)).toBe(2);
    expect([merge.stdoutText, merge.stderrText]).toEqual(['', line]);
    expect(readdirSync(root)).toEqual(['o_file']);
  });

  it('requires --seed and --out', () => {
    expect(() => resolveFleetOptions({ out: '/tmp/x' })).toThrow(/--seed is required/);
    expect(() => resolveFleetOptions({ seed: 1 })).toThrow(/--out DIR is required/);
  });

  it('names every site event a fleet knows when one is unknown, and still takes each of them', () => {
    const base = { seed: 1, out: '/tmp/x', runFor: '100d' };
    expect(() => resolveFleetOptions({ ...base, siteEvent: ['3d:reboot-site'] })).toThrow(
      "--site-event: unknown event 'reboot-site' (known: rotate-token-signing, cmg-enabled=true|false, block-bulk-token)",
    );
    const o = resolveFleetOptions({ ...base, siteEvent: ['60d:rotate-token-signing', '90d:cmg-enabled=false', '3d:block-bulk-token'] });
    expect(o.siteEvents.map((e) => e.action.kind)).toEqual(['block-bulk-token', 'rotate-token-signing', 'cmg-enabled']);
  });

  it('against a running site, defaults to a run its clock allows: 15 minutes, arrivals in the first 5', () => {
    const o = resolveFleetOptions({ seed: 1, out: '/tmp/x', siteUrl: 'http://127.0.0.1:8080', internetShare: '0' });
    expect([o.runForMs, o.installWindowMs]).toEqual([15 * 60_000, 5 * 60_000]);
    expect(resolveFleetOptions({ seed: 1, out: '/tmp/x' }).runForMs).toBe(30 * 86_400_000);
    expect(() => resolveFleetOptions({ seed: 1, out: '/tmp/x', siteUrl: 'http://127.0.0.1:8080', internetShare: '0', runFor: '1d' })).toThrow(/longer than 15m/);
  });
});

describe('fault decisions', () => {
  it('parse and print back', () => {
    expect(formatFaults(parseFaults('mp-503=0.2,reset=0.05,latency=50ms,mp-down=10d-11d'))).toBe('mp-503=0.2,reset=0.05,latency=50ms,mp-down=10d-11d');
    expect(parseFaults('').active).toBe(false);
  });

  it('depend on (seed, agent, attempt) only, at the configured shares', () => {
    const spec = parseFaults('mp-503=0.2,reset=0.05');
    const kinds = Array.from({ length: 4000 }, (_, i) => decideFault(spec, 7, i % 50, Math.floor(i / 50), 'mp', 0));
    const share = (k: string): number => kinds.filter((x) => x === k).length / kinds.length;
    expect(share('503')).toBeGreaterThan(0.17);
    expect(share('503')).toBeLessThan(0.23);
    expect(share('reset')).toBeGreaterThan(0.03);
    expect(share('reset')).toBeLessThan(0.07);
    expect(decideFault(spec, 7, 12, 3, 'mp', 0)).toBe(decideFault(spec, 7, 12, 3, 'mp', 999));
  });

  it('answer requests without our header normally, and follow the MP-down window', async () => {
    const spec = parseFaults('mp-down=1d-2d');
    let now = 0;
    const hook = createFaultHook(spec, 1, { now: () => now }, 0);
    expect(await hook({ server: 'mp', method: 'GET', path: '/', headers: {} })).toBe('ok');
    now = 36 * 3_600_000;
    expect(await hook({ server: 'mp', method: 'GET', path: '/', headers: { [FAULT_KEY_HEADER]: '3.1' } })).toBe('reset');
    expect(await hook({ server: 'cmg', method: 'GET', path: '/', headers: { [FAULT_KEY_HEADER]: '3.1' } })).toBe('503');
    now = 50 * 3_600_000;
    expect(await hook({ server: 'mp', method: 'GET', path: '/', headers: { [FAULT_KEY_HEADER]: '3.1' } })).toBe('ok');
  });
});
