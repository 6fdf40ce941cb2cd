// The front doors as a tester uses them: `bulkregtoken-sim /new`, then `ccmsetup-sim` with Microsoft's command line
// and the new token, `ccmsim site clients list`, `--json`, and `ccmsim demo`. Afterwards every file under the machine
// and site directories, and everything printed, is searched for each of the three parts of every bulk token.
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock, type Clock } from '../../src/clock/clock.js';
import { Random } from '../../src/clock/random.js';
import { fixedKeys } from '../../src/crypto/key-provider.js';
import { captureIo } from '../../src/cli/io.js';
import { main as ccmsetupMain } from '../../src/cli/ccmsetup-sim-main.js';
import { main as bulkMain } from '../../src/cli/bulkregtoken-sim-main.js';
import { main as ccmsimMain } from '../../src/cli/ccmsim-main.js';
import { installCliOverrides } from '../../src/cli/ccmsetup-install.js';
import { demoOverrides } from '../../src/cli/commands/demo.js';
import { siteCliOverrides } from '../../src/cli/commands/site-common.js';
import { testKeyPair } from '../helpers/test-keys.js';
import { allFiles, CMG, inOrder, messages, readLog, START } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'ccmsim-cli-'));
const siteDir = join(dir, 'site');
const printed: string[] = [];
const tokens: string[] = [];

function run(fn: typeof ccmsetupMain, argv: string[]) {
  const io = captureIo({ cwd: dir, env: {} });
  return fn(argv, io).then((code) => {
    printed.push(io.stdoutText, io.stderrText);
    return { code, out: io.stdoutText, err: io.stderrText };
  });
}

beforeAll(() => {
  const siteKeys = fixedKeys([testKeyPair(0), testKeyPair(1), testKeyPair(2)]);
  Object.assign(siteCliOverrides, { keys: siteKeys, random: new Random('cli-site'), clock: new VirtualClock(START) });
  Object.assign(installCliOverrides, { keys: fixedKeys([testKeyPair(5), testKeyPair(6)]), siteKeys, clock: new VirtualClock(START) });
  Object.assign(demoOverrides, { keys: fixedKeys([testKeyPair(7), testKeyPair(8)]), siteKeys: fixedKeys([testKeyPair(9), testKeyPair(10), testKeyPair(11)]), clock: new VirtualClock(START) });
});
afterAll(() => {
  for (const o of [siteCliOverrides, installCliOverrides, demoOverrides] as Array<Record<string, unknown>>) for (const k of Object.keys(o)) delete o[k];
});

async function newToken(): Promise<{ guid: string; token: string }> {
  const r = await run(bulkMain, ['/new', '--site-dir', siteDir]);
  expect(r.code).toBe(0);
  const token = r.out.split(/\r?\n/).find((l) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(l))!;
  const guid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(r.out)![0];
  tokens.push(token);
  return { guid, token };
}

describe('ccmsetup-sim from the command line', () => {
  it("bulkregtoken-sim /new, then Microsoft's command line: exit 0, and ccmsim site clients list shows the token GUID", async () => {
    const { guid, token } = await newToken();
    const r = await run(ccmsetupMain, [
      `/mp:https://${CMG}`,
      `CCMHOSTNAME=${CMG}`,
      'SMSSiteCode=ABC',
      `/regtoken:${token}`,
      '--site-dir',
      siteDir,
      '--seed',
      '7',
      '--computer-name',
      'LAPTOP-CLI01',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/LAPTOP-CLI01 installed the client and registered through the CMG/);
    expect(r.out).toMatch(/seed: +7 \(repeat this run with --seed 7\)/);
    const machine = join(dir, 'logs', 'LAPTOP-CLI01');
    inOrder(messages(join(machine, 'Windows', 'ccmsetup', 'Logs', 'ccmsetup.log')), ['ccmsetup started', 'CcmSetup is exiting with return code 0']);

    const list = await run(ccmsimMain, ['site', 'clients', 'list', '--site-dir', siteDir, '--json']);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.out) as Array<{ netbiosName: string; registeredVia: string }>;
    expect(rows.find((c) => c.netbiosName === 'LAPTOP-CLI01')?.registeredVia).toBe(`bulk token ${guid}`);
  });

  it('with the token blocked: non-zero, one line on stderr, and --json names the reason; unblocked it works', async () => {
    const { guid, token } = await newToken();
    expect((await run(ccmsimMain, ['site', 'tokens', 'block', guid, '--site-dir', siteDir])).code).toBe(0);
    const args = [`/mp:https://${CMG}`, `CCMHOSTNAME=${CMG}`, 'SMSSiteCode=ABC', `/regtoken:${token}`, '--site-dir', siteDir, '--computer-name', 'PC-CLI-BLOCK'];
    const refused = await run(ccmsetupMain, [...args, '--json']);
    expect(refused.code).toBe(6);
    expect(refused.err.trim().split('\n')).toHaveLength(1);
    expect(refused.err).toMatch(/^ccmsetup-sim: .*\[0x87d0027e\] \(CCMSIM_TOKEN_BLOCKED\)/);
    const json = JSON.parse(refused.out) as { exitCode: number; error: { code: string; hresult: string } };
    expect(json).toMatchObject({ exitCode: 6, error: { code: 'CCMSIM_TOKEN_BLOCKED', hresult: '0x87d0027e' } });

    expect((await run(ccmsimMain, ['site', 'tokens', 'unblock', guid, '--site-dir', siteDir])).code).toBe(0);
    const ok = await run(ccmsetupMain, args);
    expect(ok.code).toBe(0);
  });

  it('a wrong site code: return code 0, and one line on stderr says the client stays unassigned', async () => {
    const r = await run(ccmsetupMain, ['/mp:MP01.CONTOSO.COM', 'SMSSITECODE=XYZ', '--site-dir', siteDir, '--computer-name', 'PC-CLI-XYZ', '--timezone', 'America/Los_Angeles']);
    expect(r.code).toBe(0);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/site assignment to XYZ failed; it stays unmanaged and retries every 10 minutes/);
    // The machine's zone is in the log bias: Los Angeles in March (standard time until the 8th) is +480.
    const rec = readLog(join(dir, 'logs', 'PC-CLI-XYZ', 'Windows', 'ccmsetup', 'Logs', 'ccmsetup.log'))[0]!;
    expect(rec.bias).toBe('+480');
  });

  it('bad simulator options: one line on stderr, no stack trace', async () => {
    const r = await run(ccmsetupMain, ['/mp:MP01.CONTOSO.COM', '--network', 'moon', '--site-dir', siteDir]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--network takes intranet or internet/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});

describe('a machine directory is one computer', () => {
  it('run again without --computer-name, it keeps the name and hardware it was installed with, whatever the seed', async () => {
    const machine = join(dir, 'machines', 'kept');
    const line = ['/mp:MP01.CONTOSO.COM', 'SMSSITECODE=ABC', '--site-dir', siteDir, '--machine-dir', machine];
    const first = await run(ccmsetupMain, [...line, '--seed', '11']);
    const second = await run(ccmsetupMain, [...line, '--seed', '12']);
    expect([first.code, second.code]).toEqual([0, 0]);
    const name = (out: string): string => /^ccmsetup-sim: (\S+) /.exec(out)![1]!;
    expect(name(second.out)).toBe(name(first.out));
    const identity = JSON.parse(readFileSync(join(machine, 'Windows', 'ccmsim-machine.json'), 'utf8')) as { computerName: string };
    expect(identity.computerName).toBe(name(first.out));
  });
});

describe('one seed, two computers', () => {
  it('gives each computer its own SMS GUID, and the site keeps both', async () => {
    const install = (name: string) => run(ccmsetupMain, ['/mp:MP01.CONTOSO.COM', 'SMSSITECODE=ABC', '--site-dir', siteDir, '--computer-name', name, '--seed', '9', '--json']);
    const a = JSON.parse((await install('PC-SEED-A')).out) as { smsId: string };
    const b = JSON.parse((await install('PC-SEED-B')).out) as { smsId: string };
    expect(a.smsId).toMatch(/^GUID:/);
    expect(b.smsId).not.toBe(a.smsId);
    const list = JSON.parse((await run(ccmsimMain, ['site', 'clients', 'list', '--json', '--site-dir', siteDir])).out) as Array<{ smsId: string }>;
    expect(list.map((c) => c.smsId)).toEqual(expect.arrayContaining([a.smsId, b.smsId]));
  });
});

describe('a refused command line', () => {
  it('still leaves its ccmsetup.log, ending with the exit line, the token masked', async () => {
    const machine = join(dir, 'machines', 'refused');
    const r = await run(ccmsetupMain, ['/mp:MP01', 'SMSSITECODE=ABCD', '/regtoken:aaaa.bbbbbbbb.cccccccc', '--machine-dir', machine, '--site-dir', siteDir]);
    expect(r.code).toBe(6);
    const log = readFileSync(join(machine, 'Windows', 'ccmsetup', 'Logs', 'ccmsetup.log'), 'utf8');
    const messages = [...log.matchAll(/<!\[LOG\[([^\]]*)\]LOG\]!>/g)].map((m) => m[1]);
    expect(messages.slice(-3)).toEqual([
      'Invalid command line: SMSSITECODE=ABCD: must be three characters A-Z or 0-9, or AUTO',
      'CcmSetup failed with error code 0x80070057',
      'CcmSetup is exiting with return code 6',
    ]);
    expect(log).not.toContain('bbbbbbbb');
    expect(existsSync(join(machine, 'Windows', 'CCM'))).toBe(false);
  });
});

describe('a token pasted where a server belongs', () => {
  it('is masked in every client log line too', async () => {
    const pasted = `eyJhbGciOiJSUzI1NiJ9.eyJwYXN0ZWQiOiJ5ZXMifQ.${'c'.repeat(40)}`;
    const machine = join(dir, 'machines', 'pasted');
    const r = await run(ccmsetupMain, [`/mp:${pasted}`, 'SMSSITECODE=ABC', '/retry:1', '/downloadtimeout:2', '--machine-dir', machine, '--site-dir', siteDir]);
    expect(r.code).toBe(6);
    const logs = allFiles(machine).map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(logs).toMatch(/eyJhbGci…\(\d+ chars\)/);
    for (const part of pasted.split('.')) expect(logs).not.toContain(part);
  });
});

describe('--json', () => {
  it('prints the refusal as JSON too, for a bad ccmsetup argument and for a bad simulator option', async () => {
    for (const argv of [['--json', '/mp:MP01', 'SMSSITECODE=ABCD'], ['/mp:MP01', 'SMSSITECODE=ABC', '--json', '--seed', 'abc']]) {
      const r = await run(ccmsetupMain, [...argv, '--site-dir', siteDir]);
      expect(r.code).toBe(6);
      const doc = JSON.parse(r.out) as { exitCode: number; error: { code: string; message: string } };
      expect(doc.exitCode).toBe(6);
      expect(doc.error.code).toMatch(/^CCMSIM_/);
      expect(r.err).toContain(doc.error.message);
    }
  });
});

describe('return code 7', () => {
  it('is told as a restart ccmsetup waits for, not as a failure', async () => {
    const r = await run(ccmsetupMain, ['/mp:MP01.CONTOSO.COM', 'SMSSITECODE=ABC', '--site-dir', siteDir, '--computer-name', 'PC-REBOOT', '--simulate', 'pending-reboot']);
    expect(r.code).toBe(7);
    expect(r.out).toMatch(/^ccmsetup-sim: PC-REBOOT needs a restart before setup can go on \(\/forcereboot restarts by itself\) \(return code 7\)/);
  });
});

describe('ccmsetup-sim on the real clock', () => {
  it('says once that it waits as ccmsetup does, and how to stop or skip the wait, then prints each retry', async () => {
    // A clock of the real kind whose waits pass at once: the CLI prints what it prints on the real clock.
    let nowMs = START;
    const realLooking: Clock = {
      kind: 'real',
      now: () => nowMs,
      sleep: async (ms) => {
        nowMs += ms;
      },
      schedule: (atMs, fn) => {
        void Promise.resolve().then(() => {
          nowMs = Math.max(nowMs, atMs);
          return fn();
        });
        return () => undefined;
      },
      spawn: (fn) => fn(),
    };
    const saved = installCliOverrides.clock;
    installCliOverrides.clock = realLooking;
    try {
      const r = await run(ccmsetupMain, ['/mp:MP09.CONTOSO.COM', 'SMSSITECODE=ABC', '/retry:10', '/downloadtimeout:25', '--site-dir', siteDir, '--computer-name', 'PC-WAITS']);
      expect(r.code).toBe(6);
      expect(r.out.match(/next retry at /g)).toHaveLength(2);
      expect(r.out.match(/waiting as ccmsetup does \(\/retry, \/downloadtimeout\); Ctrl\+C stops, --start runs on a virtual clock/g)).toHaveLength(1);
    } finally {
      installCliOverrides.clock = saved;
    }
  });
});

describe('ccmsim demo', () => {
  it('installs an internet and an intranet client, refuses the blocked token, and says where every log is', async () => {
    const r = await run(ccmsimMain, ['demo', '--seed', '11', '--dir', join(dir, 'demo')]);
    expect(r.code).toBe(0);
    expect(r.out.match(/as expected/g)).toHaveLength(3);
    expect(r.out).toMatch(/return code +0 .*Internet client/);
    expect(r.out).toMatch(/return code +6 .*blocked token/);
    expect(r.out).toMatch(/ClientIDManagerStartup\.log/);
    // SMSCFG.ini is listed, but not among the logs.
    const section = (title: string) => r.out.split(`\n${title}\n`)[1]!.split('\n\n')[0]!;
    expect(section('Client logs')).toMatch(/ccmsetup\.log/);
    expect(section('Client logs')).not.toMatch(/SMSCFG\.ini/);
    expect(section('Client identity (SMSCFG.ini)').split('\n').every((l) => l.endsWith('SMSCFG.ini'))).toBe(true);
    // Every site log folder it names exists (the MP's IIS log among them).
    const folders = [...r.out.matchAll(/^  (\S+)  \(/gm)].map((m) => m[1]!);
    expect(folders.some((f) => f.endsWith(join('inetpub', 'logs', 'LogFiles', 'W3SVC1')))).toBe(true);
    for (const f of folders) expect(existsSync(f)).toBe(true);
  });
});

describe('the bulk token is never written or printed', () => {
  it('no part of any token appears in any file under the machines and sites, or in anything printed', () => {
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const files = allFiles(dir).map((f) => ({ f, bytes: readFileSync(f) }));
    expect(files.length).toBeGreaterThan(20);
    // Every client and site log written by these runs is well-formed.
    for (const { f } of files.filter((x) => /\.(log|lo_)$/.test(x.f) && !/inetpub/.test(x.f))) expect(() => readLog(f)).not.toThrow();
    // The first stdout of each bulkregtoken-sim /new is the tool's one job: printing the token. Skip those.
    const otherOutput = printed.filter((p) => !tokens.some((t) => p.includes(t) && /Token is valid until/.test(p)));
    for (const token of tokens) {
      for (const part of token.split('.')) {
        expect(part.length).toBeGreaterThan(10);
        for (const { f, bytes } of files) expect(bytes.includes(part), `${part.slice(0, 12)}… found in ${f}`).toBe(false);
        for (const p of otherOutput) expect(p.includes(part)).toBe(false);
      }
    }
  });
});
