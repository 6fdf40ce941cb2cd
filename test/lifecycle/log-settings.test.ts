/**
 * The installed client's logging properties (CCMLOGMAXSIZE, CCMLOGMAXHISTORY, CCMLOGLEVEL, CCMENABLELOGGING) govern
 * the CCM logs the client writes after the install too: the install keeps them with the client state (as a real
 * client keeps them in its registry) and every lifecycle log opened later, in a new process as well, follows them.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../src/clock/clock.js';
import type { AgentCommandLine } from '../../src/agent/ccmsetup-flow.js';
import { machinePaths, readClientLogSettings, readClientState } from '../../src/agent/client-state.js';
import { LIFECYCLE_LINES, openLifecycleLog } from '../../src/agent/lifecycle/lifecycle-log.js';
import { runInstallAndKeepRunning } from '../../src/cli/ccmsetup-run-for.js';
import { installCliOverrides } from '../../src/cli/ccmsetup-install.js';
import { captureIo } from '../../src/cli/io.js';
import { testKeys } from '../site-state/site-fixture.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const k of Object.keys(installCliOverrides)) delete (installCliOverrides as Record<string, unknown>)[k];
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ccmsim-logsettings-'));
  dirs.push(dir);
  return dir;
}

/** `ccmsetup.exe /mp:http://MP01.CONTOSO.COM SMSSITECODE=ABC <extra>` on the intranet, kept running for 200 days. */
async function installAndRun(dir: string, extra: Record<string, string>): Promise<string> {
  const props = Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(' ');
  const commandLine: AgentCommandLine = {
    parameters: { mp: ['http://MP01.CONTOSO.COM'], retry: 10, downloadtimeout: 1440 },
    properties: { SMSSITECODE: 'ABC', ...extra },
    maskedCommandLine: `ccmsetup.exe /mp:http://MP01.CONTOSO.COM SMSSITECODE=ABC ${props}`,
  };
  const argv = [
    '--site-dir', join(dir, 'site'),
    '--machine-dir', join(dir, 'PC1'),
    '--computer-name', 'PC1',
    '--network', 'intranet',
    '--timezone', 'UTC',
    '--start', '2027-01-01T00:00:00Z',
    '--seed', '7',
    '--run-for', '200d',
  ];
  const io = captureIo({ cwd: dir });
  const code = await runInstallAndKeepRunning(commandLine, argv, io, { keys: testKeys(4), siteKeys: testKeys(0) });
  expect(io.stderrText).toBe('');
  expect(code).toBe(0);
  return join(dir, 'PC1');
}

const ccmLogs = (machineDir: string): string => machinePaths(machineDir).ccmLogs;
const listLogs = (machineDir: string): string[] => (existsSync(ccmLogs(machineDir)) ? readdirSync(ccmLogs(machineDir)).sort() : []);

describe('ccmsetup-sim --run-for follows the installed client log settings', () => {
  it('CCMLOGMAXSIZE=10000 CCMLOGMAXHISTORY=3: the token lifecycle rolls ClientIDManagerStartup.log over into timestamped history', async () => {
    const machineDir = await installAndRun(tempDir(), { CCMLOGMAXSIZE: '10000', CCMLOGMAXHISTORY: '3' });
    expect((await readClientState(machinePaths(machineDir)))?.logSettings).toEqual({ maxSize: 10000, maxHistory: 3 });
    const files = listLogs(machineDir);
    const history = files.filter((f) => /^ClientIDManagerStartup-\d{8}-\d{6}\.log$/.test(f));
    expect(history).toHaveLength(3);
    expect(files.some((f) => f.endsWith('.lo_'))).toBe(false);
    for (const f of files) expect(statSync(join(ccmLogs(machineDir), f)).size, f).toBeLessThanOrEqual(10_000);
  });

  it('CCMENABLELOGGING=FALSE: the running client writes no CCM log at all', async () => {
    const machineDir = await installAndRun(tempDir(), { CCMENABLELOGGING: 'FALSE' });
    expect((await readClientState(machinePaths(machineDir)))?.logSettings).toEqual({ enabled: false });
    expect(listLogs(machineDir)).toEqual([]);
  });

  it('CCMLOGLEVEL=3: the running client writes errors only (no type-1 records)', async () => {
    const machineDir = await installAndRun(tempDir(), { CCMLOGLEVEL: '3' });
    for (const f of listLogs(machineDir)) expect(readFileSync(join(ccmLogs(machineDir), f), 'utf8'), f).not.toContain('type="1"');
  });
});

/** A client state as an install writes it; `logSettings` omitted = a state file written before they were kept. */
function writeState(machineDir: string, logSettings?: unknown): void {
  const paths = machinePaths(machineDir);
  mkdirSync(join(paths.clientState, '..'), { recursive: true });
  const state = {
    schema: 1,
    installedVersion: '5.00.9132.1000',
    installedAt: '2027-01-01T00:00:00.000Z',
    computerName: 'PC2',
    smsId: 'GUID:6E3B2A1C-0000-4000-8000-000000000001',
    hardwareId: '2:0000',
    hardware: {},
    signingThumbprint: 'AA',
    encryptionThumbprint: 'BB',
    network: 'intranet',
    registration: 'registered',
    ...(logSettings === undefined ? {} : { logSettings }),
  };
  writeFileSync(paths.clientState, `${JSON.stringify(state, null, 2)}\n`);
}

/** One process of the running client: opens its lifecycle log, writes `n` start-up lines a minute apart, closes. */
async function runProcess(machineDir: string, clock: VirtualClock, n: number): Promise<void> {
  const log = openLifecycleLog({ machineDir, timeZone: 'UTC', clock, thread: 4242 });
  for (let i = 0; i < n; i++) {
    log.write(LIFECYCLE_LINES.startup());
    log.write(LIFECYCLE_LINES.gettingToken('http://MP01.CONTOSO.COM/CCM_STS'));
    await clock.advance(60_000);
  }
  log.close();
}

describe('openLifecycleLog and the kept settings', () => {
  it('every later process (a restarted client) reads the settings again: the history is kept across restarts', async () => {
    const machineDir = join(tempDir(), 'PC2');
    writeState(machineDir, { maxSize: 10000, maxHistory: 1 });
    const clock = new VirtualClock(Date.parse('2027-01-01T00:00:00Z'));
    await runProcess(machineDir, clock, 30);
    expect(listLogs(machineDir)).toEqual(['CcmMessaging.log', 'ClientIDManagerStartup.log']);
    // The restarted client opens its logs afresh and must still roll over at the kept CCMLOGMAXSIZE.
    await runProcess(machineDir, clock, 30);
    const files = listLogs(machineDir);
    expect(files).toContain('ClientIDManagerStartup.lo_');
    expect(statSync(join(ccmLogs(machineDir), 'ClientIDManagerStartup.log')).size).toBeLessThanOrEqual(10_000);
    expect(statSync(join(ccmLogs(machineDir), 'CcmMessaging.log')).size).toBeLessThanOrEqual(10_000);
  });

  it('an old state file without settings is still read, and the defaults apply (no rollover at 10000 bytes)', async () => {
    const machineDir = join(tempDir(), 'PC2');
    writeState(machineDir);
    expect((await readClientState(machinePaths(machineDir)))?.computerName).toBe('PC2');
    expect(readClientLogSettings(machinePaths(machineDir))).toEqual({});
    const clock = new VirtualClock(Date.parse('2027-01-01T00:00:00Z'));
    await runProcess(machineDir, clock, 60);
    expect(listLogs(machineDir)).toEqual(['CcmMessaging.log', 'ClientIDManagerStartup.log']);
    expect(statSync(join(ccmLogs(machineDir), 'ClientIDManagerStartup.log')).size).toBeGreaterThan(10_000);
  });

  it('damaged stored values fall back to the defaults one by one; no client state means the defaults', () => {
    const machineDir = join(tempDir(), 'PC2');
    expect(readClientLogSettings(machinePaths(machineDir))).toEqual({});
    writeState(machineDir, { maxSize: -5, maxHistory: 2, level: 7, enabled: 'no' });
    expect(readClientLogSettings(machinePaths(machineDir))).toEqual({ maxHistory: 2 });
  });

  it('settings given to openLifecycleLog win over the kept ones (CCMENABLELOGGING=FALSE writes nothing)', () => {
    const machineDir = join(tempDir(), 'PC2');
    writeState(machineDir, { maxSize: 10000 });
    const clock = new VirtualClock(Date.parse('2027-01-01T00:00:00Z'));
    const log = openLifecycleLog({ machineDir, timeZone: 'UTC', clock, thread: 4242, settings: { enabled: false } });
    log.write(LIFECYCLE_LINES.startup());
    log.close();
    expect(listLogs(machineDir)).toEqual([]);
  });
});
