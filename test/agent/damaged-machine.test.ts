// A machine directory whose files are damaged or unusable: ccmsetup-sim refuses with one line naming the file
// (exit 6), and leaves the machine's identity and client files as they were.
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../src/clock/clock.js';
import { fixedKeys } from '../../src/crypto/key-provider.js';
import { captureIo } from '../../src/cli/io.js';
import { main as ccmsetupMain } from '../../src/cli/ccmsetup-sim-main.js';
import { installCliOverrides } from '../../src/cli/ccmsetup-install.js';
import { testKeyPair } from '../helpers/test-keys.js';
import { START } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'ccmsim-damaged-'));
const siteDir = join(dir, 'site');

beforeAll(() => {
  Object.assign(installCliOverrides, {
    keys: fixedKeys([testKeyPair(5), testKeyPair(6)]),
    siteKeys: fixedKeys([testKeyPair(0), testKeyPair(1), testKeyPair(2)]),
    clock: new VirtualClock(START),
  });
});
afterAll(() => {
  for (const k of Object.keys(installCliOverrides)) delete (installCliOverrides as Record<string, unknown>)[k];
});

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo({ cwd: dir, env: {} });
  const code = await ccmsetupMain(argv, io);
  return { code, out: io.stdoutText, err: io.stderrText };
}

/** One intranet install on `machine`, a new seed each time (a new seed would draw a new name and hardware). */
let seed = 100;
function install(machine: string, ...extra: string[]): Promise<{ code: number; out: string; err: string }> {
  return run(['/mp:MP01.CONTOSO.COM', 'SMSSITECODE=ABC', '--site-dir', siteDir, '--machine-dir', machine, '--seed', String(++seed), ...extra]);
}

/** Every file under the machine's Windows folder but the logs, with its content. */
function clientFiles(machine: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'Logs') walk(p);
      } else {
        out[p] = readFileSync(p, 'utf8');
      }
    }
  };
  walk(join(machine, 'Windows'));
  return out;
}

function expectOneLine(err: string, pattern: RegExp): void {
  expect(err.trim().split('\n')).toHaveLength(1);
  expect(err).toMatch(pattern);
  expect(err).not.toMatch(/internal error|CCMSIM_INTERNAL|    at /);
}

describe('a damaged Windows/ccmsim-machine.json on an installed machine', () => {
  for (const [what, content] of [
    ['garbage', 'garbage'],
    ['{}', '{}'],
    ['an empty file', ''],
  ] as const) {
    it(`(${what}) is refused with exit 6 naming the file; name, HardwareID and client files stay`, async () => {
      const machine = join(dir, `identity-${what.replace(/\W/g, '')}`);
      expect((await install(machine)).code).toBe(0);
      const identity = join(machine, 'Windows', 'ccmsim-machine.json');
      writeFileSync(identity, content);
      const before = clientFiles(machine);
      for (const extra of [[], ['--computer-name', 'PC-OTHER-NAME'], ['--json']]) {
        const r = await install(machine, ...extra);
        expect(r.code).toBe(6);
        expectOneLine(r.err, /ccmsim-machine\.json is damaged: .*\(CCMSIM_FILE_UNREADABLE\)/);
        expect(r.err).toContain(identity);
        expect(clientFiles(machine)).toEqual(before);
      }
    });
  }

  it('missing on a machine never installed on: the install draws the machine as before', async () => {
    const machine = join(dir, 'fresh');
    const r = await install(machine);
    expect(r.code).toBe(0);
    const id = JSON.parse(readFileSync(join(machine, 'Windows', 'ccmsim-machine.json'), 'utf8')) as { computerName: string };
    expect(r.out).toContain(`ccmsetup-sim: ${id.computerName} installed`);
  });
});

describe('unusable files of an installed client', () => {
  const store = (machine: string): string => join(machine, 'Windows', 'CCM', 'CertStore', 'LocalMachine', 'SMS');
  const cases: Array<[string, (machine: string) => string, RegExp]> = [
    [
      'a garbage private key',
      (m) => {
        const key = join(store(m), readdirSync(store(m)).find((f) => f.endsWith('.key'))!);
        writeFileSync(key, 'garbage');
        return key;
      },
      /private key file .*\.key is damaged: not a PEM private key \(CCMSIM_FILE_UNREADABLE\)/,
    ],
    [
      'a garbage certificate',
      (m) => {
        const cer = join(store(m), readdirSync(store(m)).find((f) => f.endsWith('.cer'))!);
        writeFileSync(cer, 'garbage');
        return cer;
      },
      /certificate file .*\.cer is not a PEM certificate \(CCMSIM_FILE_UNREADABLE\)/,
    ],
    [
      // It began 0x30, which was all that was checked: exit 0, "Found existing … certificate", the garbage kept.
      'a certificate whose DER is garbage',
      (m) => {
        const cer = join(store(m), readdirSync(store(m)).find((f) => f.endsWith('.cer'))!);
        writeFileSync(cer, '-----BEGIN CERTIFICATE-----\nMAAA\n-----END CERTIFICATE-----\n');
        return cer;
      },
      /certificate file .*\.cer is damaged: not DER.* \(CCMSIM_FILE_UNREADABLE\)/,
    ],
    [
      'a certificate copied over the other',
      (m) => {
        const [first, second] = readdirSync(store(m)).filter((f) => f.endsWith('.cer')).sort();
        const cer = join(store(m), second!);
        writeFileSync(cer, readFileSync(join(store(m), first!)));
        return cer;
      },
      /certificate file .*\.cer is damaged: its SHA-1 thumbprint is [0-9A-F]{40}, not the one its name gives \(CCMSIM_FILE_UNREADABLE\)/,
    ],
    ...(['CCM/ccmsim-client.json', 'SMSCFG.ini'] as const).map((file): [string, (machine: string) => string, RegExp] => [
      `${file} replaced by a directory`,
      (m) => {
        const path = join(m, 'Windows', ...file.split('/'));
        rmSync(path);
        mkdirSync(path);
        return path;
      },
      /is a directory, not a file \(CCMSIM_FILE_UNREADABLE\)/,
    ]),
  ];
  for (const [what, damage, message] of cases) {
    it(`${what}: one line naming the file, exit 6, nothing overwritten`, async () => {
      const machine = join(dir, `unusable-${what.replace(/\W+/g, '-')}`);
      expect((await install(machine)).code).toBe(0);
      const path = damage(machine);
      const before = clientFiles(machine);
      const r = await install(machine);
      expect(r.code).toBe(6);
      expectOneLine(r.err, message);
      expect(r.err).toContain(path);
      expect(clientFiles(machine)).toEqual(before);
    });
  }

  it('--machine-dir naming a regular file: a usage error, exit 6, the file untouched', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'mine');
    for (const argv of [
      ['/mp:MP01.CONTOSO.COM', 'SMSSITECODE=ABC', '--site-dir', siteDir, '--machine-dir', file],
      ['/mp:MP01.CONTOSO.COM', 'SMSSITECODE=ABC', '--site-dir', siteDir, '--machine-dir', file, '--computer-name', 'PC-FILE'],
    ]) {
      const r = await run(argv);
      expect(r.code).toBe(6);
      expectOneLine(r.err, /--machine-dir .*not-a-dir: is a file, not a directory \(CCMSIM_USAGE\)/);
    }
    // A refused command line with it: the command line's error alone.
    const refused = await run(['/mp:MP01.CONTOSO.COM', 'SMSSITECODE=ABCD', '--machine-dir', file]);
    expect(refused.code).toBe(6);
    expectOneLine(refused.err, /SMSSITECODE=ABCD/);
    expect(readFileSync(file, 'utf8')).toBe('mine');
  });
});

describe('a file where a folder of the machine belongs', () => {
  // Each gave an internal error (Node's ENOTDIR/EEXIST), and where the broken log was ccmsetup.log the failure's own
  // log line threw again: runCcmsetup threw and left ccmsetup.lock behind, which blocks an in-process agent (one PID).
  for (const folder of ['Windows/ccmsetup', 'Windows/ccmsetup/Logs', 'Windows/CCM/Logs', 'Windows/CCM/CertStore']) {
    it(`${folder}: one CCMSIM_FILE_UNWRITABLE line naming it, exit 6, no lock left; once it is gone the install works`, async () => {
      const machine = join(dir, `file-for-${folder.replace(/\W+/g, '-')}`);
      const path = join(machine, ...folder.split('/'));
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, 'a file where a folder belongs');
      const lock = join(machine, 'Windows', 'ccmsetup', 'ccmsetup.lock');
      for (const extra of [[], ['--json']]) {
        const r = await install(machine, ...extra);
        expect(r.code).toBe(6);
        expectOneLine(r.err, /(is not a directory|: it is a file, not a directory) \(CCMSIM_FILE_UNWRITABLE\)$/m);
        expect(r.err).toContain(path);
        if (extra.length > 0) expect((JSON.parse(r.out) as { error: { code: string } }).error.code).toBe('CCMSIM_FILE_UNWRITABLE');
        expect(existsSync(lock)).toBe(false);
      }
      expect(readFileSync(path, 'utf8')).toBe('a file where a folder belongs');
      rmSync(path);
      expect((await install(machine)).code).toBe(0);
    });
  }
});
