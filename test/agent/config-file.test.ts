// An install with ccmsetup's /config:<file>: the file's [Client Install] properties drive the install exactly as if
// typed (site assignment, CCM log settings, the MSI properties line), ccmsetup.log names the file where ccmsetup reads
// it, and a file that cannot be used stops ccmsetup-sim before anything is installed (exit 6, one line).
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machinePaths } from '../../src/agent/machine-dir.js';
import { captureIo } from '../../src/cli/io.js';
import { main as ccmsetupMain } from '../../src/cli/ccmsetup-sim-main.js';
import { messages, readLog, startWorld, type TestWorld } from './harness.js';

let w: TestWorld;
let dir: string;
beforeAll(async () => {
  w = await startWorld();
  dir = mkdtempSync(join(tmpdir(), 'ccmsim-agent-config-'));
});
afterAll(async () => {
  await w.close();
});

function configFile(name: string, install: string): string {
  const path = join(dir, name);
  writeFileSync(path, `[Client Install]\r\nInstall=${install}\r\n`);
  return path;
}

const configLine = (lines: string[]): string | undefined => lines.find((l) => l.startsWith('Config file:'));
const msiLine = (lines: string[]): string | undefined => lines.find((l) => l.startsWith('MSI properties:'));

describe('ccmsetup /config:<file> on the intranet', () => {
  it("the reviewer's file: SMSSITECODE assigns the client, the MSI properties hold the file's, the log names the file", async () => {
    const cfg = configFile('cfg.txt', 'INSTALL=ALL SMSSITECODE=ABC SMSCACHESIZE=100 CCMLOGLEVEL=0');
    const out = await w.install(`/mp:http://MP01.CONTOSO.COM /config:"${cfg}"`, { network: 'intranet' });
    expect(out).toMatchObject({ exitCode: 0, result: 'installed', requestedSiteCode: 'ABC', assignedSiteCode: 'ABC', registration: 'registered' });
    const p = machinePaths(out.machineDir);
    const lines = messages(p.ccmsetupLog);
    // As a service ccmsetup reads the file in %Windir%\ccmsetup (cli.md §2 /config).
    expect(configLine(lines)).toBe('Config file:      C:\\Windows\\ccmsetup\\cfg.txt');
    expect(msiLine(lines)).toBe(
      'MSI properties:    CCMFIRSTCERT="1" CCMHTTPPORT="80" CCMHTTPSCERTNAME="" CCMHTTPSPORT="443" CCMHTTPSSTATE="224" CCMLOGLEVEL="0" INSTALL="ALL" SMSCACHESIZE="100" SMSSITECODE="ABC"',
    );
    expect(lines).toContain('SMSSITECODE:    ABC');
  });

  it('CCM log settings from the file govern the client logs: CCMLOGLEVEL=2 keeps only warnings and errors', async () => {
    const cfg = configFile('quiet.txt', 'SMSSITECODE=ABC CCMLOGLEVEL=2');
    const quiet = await w.install(`/mp:http://MP01.CONTOSO.COM /config:"${cfg}"`, { network: 'intranet' });
    expect(quiet).toMatchObject({ exitCode: 0, result: 'installed' });
    const quietLog = machinePaths(quiet.machineDir).clientIdLog;
    expect(existsSync(quietLog) ? readLog(quietLog).filter((r) => (r.type ?? 0) < 2) : []).toEqual([]);
    const plain = await w.install('/mp:http://MP01.CONTOSO.COM SMSSITECODE=ABC', { network: 'intranet' });
    expect(readLog(machinePaths(plain.machineDir).clientIdLog).filter((r) => r.type === 1).length).toBeGreaterThan(5);
  });

  it('a site code from the file that the site does not have leaves the client unassigned; the typed one wins over it', async () => {
    const cfg = configFile('wrong-site.txt', 'SMSSITECODE=XYZ');
    const fromFile = await w.install(`/mp:http://MP01.CONTOSO.COM /config:"${cfg}"`, { network: 'intranet' });
    expect(fromFile).toMatchObject({ exitCode: 0, result: 'unassigned', requestedSiteCode: 'XYZ', assignedSiteCode: undefined });
    const typed = await w.install(`/mp:http://MP01.CONTOSO.COM /config:"${cfg}" SMSSITECODE=ABC`, { network: 'intranet' });
    expect(typed).toMatchObject({ exitCode: 0, result: 'installed', requestedSiteCode: 'ABC', assignedSiteCode: 'ABC' });
    expect(msiLine(messages(machinePaths(typed.machineDir).ccmsetupLog))).toContain('SMSSITECODE="ABC"');
  });

  it('with /noservice the file sits beside ccmsetup.exe; without /config the line stays empty', async () => {
    const cfg = configFile('beside.txt', 'SMSSITECODE=ABC');
    const noService = await w.install(`/mp:http://MP01.CONTOSO.COM /noservice /config:"${cfg}"`, { network: 'intranet' });
    expect(configLine(messages(machinePaths(noService.machineDir).ccmsetupLog))).toBe('Config file:      C:\\Install\\ConfigMgr client\\beside.txt');
    const plain = await w.install('/mp:http://MP01.CONTOSO.COM SMSSITECODE=ABC', { network: 'intranet' });
    expect(configLine(messages(machinePaths(plain.machineDir).ccmsetupLog))).toBe('Config file:      ');
  });
});

describe('ccmsetup-sim with a /config file it cannot use', () => {
  async function run(argv: string[]) {
    const io = captureIo({ cwd: dir, env: {} });
    const code = await ccmsetupMain(argv, io);
    return { code, out: io.stdoutText, err: io.stderrText };
  }

  it('--parse-only shows the properties the file gives and where they came from', async () => {
    const cfg = configFile('parse.txt', 'INSTALL=ALL SMSSITECODE=ABC SMSCACHESIZE=100');
    const r = await run(['/mp:http://MP01.CONTOSO.COM', `/config:${cfg}`, 'SMSCACHESIZE=200', '--parse-only']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.properties).toEqual({ SMSCACHESIZE: '200', INSTALL: 'ALL', SMSSITECODE: 'ABC' });
    expect(json.configFile).toEqual({ path: cfg, applied: ['INSTALL', 'SMSSITECODE'], overridden: ['SMSCACHESIZE'] });
    expect(json.targets.siteCode).toBe('ABC');
  });

  for (const [what, make] of [
    ['a missing file', () => join(dir, 'missing.txt')],
    ['a directory', () => dir],
    ['an empty file', () => (writeFileSync(join(dir, 'empty.txt'), ''), join(dir, 'empty.txt'))],
    ['a file without [Client Install]', () => (writeFileSync(join(dir, 'other.txt'), '[Site Info]\nInstall=SMSSITECODE=ABC\n'), join(dir, 'other.txt'))],
    ['a [Client Install] without Install=', () => (writeFileSync(join(dir, 'nokey.txt'), '[Client Install]\n'), join(dir, 'nokey.txt'))],
  ] as const) {
    it(`${what}: exit 6, one line naming the file, nothing installed`, async () => {
      const path = make();
      const machineDir = join(dir, `machine-${what.replace(/\W+/g, '-')}`);
      const r = await run(['/mp:http://MP01.CONTOSO.COM', `/config:${path}`, '--network', 'intranet', '--machine-dir', machineDir, '--site-dir', join(dir, 'site')]);
      expect(r.code).toBe(6);
      expect(r.out).toBe('');
      expect(r.err).toMatch(new RegExp(`^ccmsetup-sim: /config:${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .+ \\(CCMSIM_BAD_ARGUMENT\\)\\n$`));
      expect(r.err).not.toMatch(/\n\s+at /);
      // Nothing installed: the machine holds only the ccmsetup.log of the refused run, ending as ccmsetup.exe ends it.
      expect(existsSync(join(machineDir, 'Windows', 'CCM'))).toBe(false);
      const log = readFileSync(join(machineDir, 'Windows', 'ccmsetup', 'Logs', 'ccmsetup.log'), 'utf8');
      expect(log).toMatch(/<!\[LOG\[Invalid command line: \/config:.+\]LOG\]!>.* type="3" /);
      expect(log.trimEnd()).toMatch(/<!\[LOG\[CcmSetup is exiting with return code 6\]LOG\]!>[^\n]*$/);
    });
  }
});
