// `ccmsim site serve`: in-process (URLs printed, clean stop, config changes from another handle seen at once) and,
// when the build output exists, as a child process killed with SIGKILL during a burst of registrations.
import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { main } from '../../src/cli/ccmsim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { siteCliOverrides } from '../../src/cli/commands/site-common.js';
import { siteServeHooks } from '../../src/cli/commands/site-serve.js';
import { RealClock, VirtualClock } from '../../src/clock/clock.js';
import { Random } from '../../src/clock/random.js';
import { openSite } from '../../src/site/site.js';
import { getClient } from '../../src/site/registrations.js';
import { START_MS, tempDir, testKeys } from '../site-state/site-fixture.js';
import { ccmPost, registrationBody, registrationMessage, smsIdFor } from './client-messages.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  delete siteServeHooks.waitForStop;
  delete siteCliOverrides.keys;
  delete siteCliOverrides.clock;
  delete siteCliOverrides.random;
  while (cleanups.length > 0) cleanups.pop()!();
});

describe('ccmsim site serve (in-process)', () => {
  it('prints the MP and CMG URLs, serves, sees a config change made elsewhere at once, and stops cleanly', async () => {
    const { dir, cleanup } = tempDir('serve');
    cleanups.push(cleanup);
    siteCliOverrides.keys = testKeys(0);
    siteCliOverrides.clock = new VirtualClock(START_MS);
    siteCliOverrides.random = new Random('serve');
    const io = captureIo();
    const seen: number[] = [];
    siteServeHooks.waitForStop = async (servers) => {
      const mplist = await request(`${servers.mpUrl}/SMS_MP/.sms_aut?MPLIST`);
      seen.push(mplist.statusCode);
      await mplist.body.dump();
      // Another handle (as another process would) turns the CMG client setting off; the next request sees it.
      const other = await openSite({ siteDir: dir, clock: new VirtualClock(START_MS), random: new Random('other'), keys: testKeys(0) });
      other.updateConfig({ cmgEnabled: false });
      other.close();
      const info = await request(`${servers.mpUrl}/ccmsim/site`);
      seen.push(((await info.body.json()) as { cmgEnabled: boolean }).cmgEnabled ? 1 : 0);
    };
    const code = await main(['site', 'serve', '--site-dir', dir], io);
    expect(io.stderrText).toBe('');
    expect(code).toBe(0);
    expect(io.stdoutText).toMatch(/^Site ABC in .*\nMP: http:\/\/127\.0\.0\.1:\d+\nCMG: https:\/\/CONTOSO\.CLOUDAPP\.NET:\d+\/CCM_Proxy_MutualAuth\/72186325152220500\n/);
    expect(io.stdoutText).toContain('Stopping: closing the servers and the site database.');
    expect(seen).toEqual([200, 0]);
  });

  it('refuses a bad port or clock option with a usage error', async () => {
    const { dir, cleanup } = tempDir('serve');
    cleanups.push(cleanup);
    const io = captureIo();
    expect(await main(['site', 'serve', '--site-dir', dir, '--mp-port', '70000'], io)).toBe(2);
    expect(io.stderrText).toMatch(/--mp-port must be a port number/);
    const io2 = captureIo();
    expect(await main(['site', 'serve', '--site-dir', dir, '--clock', 'virtual'], io2)).toBe(2);
    expect(io2.stderrText).toMatch(/--clock virtual needs --start/);
    const io3 = captureIo();
    expect(await main(['site', 'serve', '--site-dir', dir, '--clock', 'virtual', '--start', '2027-02-29T12:00:00Z'], io3)).toBe(2);
    expect(io3.stderrText).toMatch(/--start 2027-02-29T12:00:00Z: not a valid ISO date-time/);
    // A date alone is its midnight UTC, as for every other --start (it was refused as "needs --start").
    const io4 = captureIo();
    expect(await main(['site', 'serve', '--site-dir', dir, '--clock', 'virtual', '--start', '2028-02-01', '--log-time-zone', 'Mars/Olympus'], io4)).toBe(2);
    expect(io4.stderrText).toMatch(/Mars\/Olympus/);
  });
});

const root = fileURLToPath(new URL('../../', import.meta.url));
const builtCli = `${root}dist/cli/ccmsim.js`;

// The child runs the built CLI (`npm ci` builds it through `prepare`; locally: npx tsc -p tsconfig.build.json).
describe.runIf(existsSync(builtCli))('ccmsim site serve (child process)', () => {
  it('keeps every acknowledged registration and an intact database when killed with SIGKILL mid-burst', async () => {
    const { dir, cleanup } = tempDir('sigkill');
    cleanups.push(cleanup);
    // Make the site here with the committed keys, so the child never generates RSA keys.
    const made = await openSite({ siteDir: dir, clock: new VirtualClock(START_MS), random: new Random('kill'), create: true, keys: testKeys(0) });
    made.close();

    const child = spawn(process.execPath, [builtCli, 'site', 'serve', '--site-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => child.kill('SIGKILL'));
    const mpUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^MP: (http:\/\/\S+)$/m.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`site serve exited early (${code}): ${out}`)));
      setTimeout(() => reject(new Error(`site serve did not start: ${out}`)), 15_000).unref();
    });

    // A config change made by the CLI in this (another) process is seen by the serving child at its next request.
    const describeSite = async () => (await (await request(`${mpUrl}/ccmsim/site`)).body.json()) as { cmgEnabled: boolean };
    expect((await describeSite()).cmgEnabled).toBe(true);
    expect(await main(['site', 'config', '--site-dir', dir, '--cmg-enabled', 'false'], captureIo())).toBe(0);
    expect((await describeSite()).cmgEnabled).toBe(false);

    const acknowledged: string[] = [];
    let killed = false;
    let sent = 0;
    const url = `${mpUrl}/ccm_system_windowsauth/request`;
    const now = new RealClock().now(); // the child serves on the real clock
    // Eight clients keep registering until the server dies under them; it is killed once 20 are acknowledged.
    const worker = async (): Promise<void> => {
      while (!killed && sent < 400) {
        const i = sent++;
        const client = { smsId: smsIdFor(1000 + i), name: `PC${1000 + i}`, keyIndex: 1 + (i % 15) };
        try {
          const reply = await ccmPost(url, registrationMessage(client, registrationBody(client, { nowMs: now }), now));
          if (reply.status === 200 && reply.response?.smsId === client.smsId) acknowledged.push(client.smsId);
        } catch {
          // Connection reset by the kill: not acknowledged.
          return;
        }
        if (acknowledged.length >= 20 && !killed) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    if (!killed) child.kill('SIGKILL');
    await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    expect(child.signalCode).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThanOrEqual(20);

    const db = new Database(`${dir}/site.db`);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const reopened = await openSite({ siteDir: dir, clock: new VirtualClock(START_MS), random: new Random('after'), keys: testKeys(0) });
    try {
      for (const smsId of acknowledged) expect(getClient(reopened, smsId), smsId).toBeDefined();
    } finally {
      reopened.close();
    }
  }, 30_000);
});
