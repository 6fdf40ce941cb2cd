/**
 * `ccmsetup-sim … --run-for` through its front-door function, in-process: an intranet install on 2028-01-31 at 10:00
 * New York time, kept running with restarts at 08:00, printed as a table or as JSON. Committed test keys only.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentCommandLine } from '../../src/agent/ccmsetup-flow.js';
import { runInstallAndKeepRunning } from '../../src/cli/ccmsetup-run-for.js';
import { wantsRunFor } from '../../src/cli/ccmsetup-options.js';
import { installCliOverrides } from '../../src/cli/ccmsetup-install.js';
import { main } from '../../src/cli/ccmsetup-sim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { testKeys } from '../site-state/site-fixture.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const k of Object.keys(installCliOverrides)) delete (installCliOverrides as Record<string, unknown>)[k];
});

const intranet: AgentCommandLine = {
  parameters: { mp: ['http://MP01.CONTOSO.COM'], retry: 10, downloadtimeout: 1440 },
  properties: { SMSSITECODE: 'ABC' },
  maskedCommandLine: 'ccmsetup.exe /mp:http://MP01.CONTOSO.COM SMSSITECODE=ABC',
};

function args(dir: string, extra: string[]): string[] {
  return [
    '--site-dir', join(dir, 'site'),
    '--machine-dir', join(dir, 'PC1'),
    '--computer-name', 'PC1',
    '--network', 'intranet',
    '--timezone', 'America/New_York',
    '--start', '2028-01-31T10:00',
    '--seed', '7',
    ...extra,
  ];
}


/** An intranet install of `name` through the ccmsetup-sim front door, in a fresh directory, with `extra` options. */
async function frontDoor(name: string, extra: string[]): Promise<{ code: number; io: ReturnType<typeof captureIo>; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ccmsim-runfor-'));
  dirs.push(dir);
  Object.assign(installCliOverrides, { keys: testKeys(6), siteKeys: testKeys(0) });
  const io = captureIo({ cwd: dir });
  const code = await main(
    ['/mp:http://MP01.CONTOSO.COM', 'SMSSITECODE=ABC', `--site-dir=${join(dir, 'site')}`, '--machine-dir', join(dir, name), '--computer-name', name, ...extra],
    io,
  );
  return { code, io, dir };
}

describe('ccmsetup-sim --run-for', () => {
  it('installs, keeps the client running and prints the timeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccmsim-runfor-'));
    dirs.push(dir);
    const io = captureIo({ cwd: dir });
    const a = args(dir, ['--run-for', '70d', '--restart-at', '08:00']);
    expect(wantsRunFor(a)).toBe(true);
    const code = await runInstallAndKeepRunning(intranet, a, io, { keys: testKeys(4), siteKeys: testKeys(0) });
    expect(io.stderrText).toBe('');
    expect(code).toBe(0);
    expect(io.stdoutText).toContain('ccmsetup-sim: PC1 installed the client');
    expect(io.stdoutText).toMatch(/2028-03-02 08:00:00 +PC1 +renewed +MP +2028-05-31 09:00:00/);
    expect(io.stdoutText).toMatch(/2028-04-02 08:00:00 +PC1 +renewed +MP/);
    expect(io.stdoutText).toMatch(/PC1 +intranet +valid/);
  });

  it('prints one JSON object with the install and the lifecycle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccmsim-runfor-'));
    dirs.push(dir);
    const io = captureIo({ cwd: dir });
    const code = await runInstallAndKeepRunning(intranet, args(dir, ['--run-for', '40d', '--json']), io, { keys: testKeys(4), siteKeys: testKeys(0) });
    expect(code).toBe(0);
    const doc = JSON.parse(io.stdoutText) as { install: { result: string }; lifecycle: { entries: Array<{ kind: string; via?: string }>; final: Array<{ status: string }> } };
    expect(doc.install.result).toBe('installed');
    expect(doc.lifecycle.entries.filter((e) => e.kind === 'renewed').map((e) => e.via)).toEqual(['MP']);
    expect(doc.lifecycle.final[0]!.status).toBe('valid');
  });

  it('says that site events stay on the site, with the command that allows CMG clients again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccmsim-runfor-'));
    dirs.push(dir);
    const io = captureIo({ cwd: dir });
    const a = args(dir, ['--run-for', '20d', '--site-event', '10d:cmg-enabled=false', '--json']);
    const code = await runInstallAndKeepRunning(intranet, a, io, { keys: testKeys(4), siteKeys: testKeys(0) });
    expect(code).toBe(0);
    expect(() => JSON.parse(io.stdoutText) as unknown).not.toThrow();
    expect(io.stderrText).toBe(
      `ccmsetup-sim: note: the site in ${join(dir, 'site')} keeps what --site-event changed; to allow CMG clients again: ccmsim site config --site-dir ${JSON.stringify(join(dir, 'site'))} --cmg-enabled true\n`,
    );
  });

  it('refuses a bad option before installing anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccmsim-runfor-'));
    dirs.push(dir);
    const io = captureIo({ cwd: dir });
    const code = await runInstallAndKeepRunning(intranet, args(dir, ['--run-for', 'forever']), io, { keys: testKeys(4), siteKeys: testKeys(0) });
    expect(code).toBe(6);
    expect(io.stderrText).toContain("--run-for: 'forever' is not a duration");
    expect(existsSync(join(dir, 'PC1'))).toBe(false);
  });

  it("an expired token presented within the site's 5-minute clock skew renews through the CMG, and the timeline says why", async () => {
    const { code, io } = await frontDoor('PC3', ['--start', '2028-01-10T09:00:00Z', '--run-for', '100d', '--restart-every', '90d', '--roam', 'intranet:0d-20d,internet:20d-', '--json']);
    expect(code).toBe(0);
    const doc = JSON.parse(io.stdoutText) as { lifecycle: { entries: Array<{ kind: string; via?: string; why?: string; detail: string; atMs: number }> } };
    const lapsed = doc.lifecycle.entries.find((e) => e.kind === 'lapsed')!;
    const renewed = doc.lifecycle.entries.find((e) => e.kind === 'renewed')!;
    expect([renewed.via, renewed.why]).toEqual(['CMG', 'expired']);
    expect(renewed.atMs - lapsed.atMs).toBeLessThanOrEqual(5 * 60_000);
    expect(renewed.detail).toContain("(expired, still within the site's 5-minute clock skew)");
  });

  it('works from the ccmsetup-sim front door: an intranet install that roams to the internet renews through the CMG', async () => {
    const { code, io, dir } = await frontDoor('PC2', [
      '--start', '2028-01-10T09:00:00Z',
      '--run-for', '65d',
      '--roam', 'intranet:0d-20d,internet:20d-',
      '--site-event', '50d:rotate-token-signing',
      '--json',
    ]);
    expect(io.stderrText).toBe(`ccmsetup-sim: note: the site in ${join(dir, 'site')} keeps what --site-event changed\n`);
    expect(code).toBe(0);
    const doc = JSON.parse(io.stdoutText) as { lifecycle: { entries: Array<{ kind: string; via?: string; why?: string; code?: string; at: string }> } };
    const got = doc.lifecycle.entries.filter((e) => e.kind === 'renewed' || e.kind === 'refused').map((e) => [e.at.slice(0, 10), e.kind, e.via, e.code ?? e.why]);
    expect(got).toEqual([
      ['2028-02-09', 'renewed', 'CMG', 'due'],
      ['2028-02-29', 'refused', 'CMG', 'CCMSIM_TOKEN_SIGNER_RETIRED'],
      ['2028-02-29', 'renewed', 'CMG', 'signer-retired'],
    ]);
  });
});
