// The machine's own pieces: computer names, simulated hardware and the HardwareID rule, SMSCFG.ini, atomic writes,
// and the machine lock behind return code 8.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../../src/clock/random.js';
import { isCcmsimError } from '../../src/errors.js';
import { drawComputerName, normalizeComputerName } from '../../src/agent/computer-name.js';
import { computeHardwareId, drawHardware, hardwareIdInputs, NOT_USED_ON_LAPTOP, type MachineHardware } from '../../src/agent/hardware.js';
import { formatSmsCfg, parseSmsCfg } from '../../src/agent/smscfg.js';
import { machinePaths, writeFileAtomic } from '../../src/agent/machine-dir.js';
import { acquireMachineLock } from '../../src/agent/machine-lock.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ccmsim-machine-'));
}

describe('computer names', () => {
  it('are valid NetBIOS names, repeat with the seed and vary between seeds', () => {
    const names = Array.from({ length: 200 }, (_, i) => drawComputerName(new Random(i + 1)));
    for (const n of names) expect(n).toMatch(/^[A-Z0-9][A-Z0-9-]{0,14}$/);
    expect(new Set(names).size).toBeGreaterThan(190);
    expect(drawComputerName(new Random(42))).toBe(drawComputerName(new Random(42)));
    expect(names.some((n) => n.startsWith('DESKTOP-'))).toBe(true);
  });

  it('normalizes --computer-name and refuses what Windows refuses', () => {
    expect(normalizeComputerName('wks-nyc-0001')).toBe('WKS-NYC-0001');
    for (const bad of ['', 'THIS-NAME-IS-TOO-LONG', 'BAD_NAME', '12345', '-LEADING']) {
      expect(() => normalizeComputerName(bad)).toThrow(/--computer-name/);
    }
  });
});

describe('HardwareID', () => {
  it('is 2: + upper-case SHA-1 of UTF-16LE "encl!asset!board!bios!mac"', () => {
    const hw: MachineHardware = {
      vendor: 'Dell Inc.',
      model: 'OptiPlex 7010',
      laptop: false,
      enclosureSerial: 'ABC1234',
      assetTag: '',
      boardSerial: '/ABC1234/CNCMK0012AB/',
      biosSerial: 'ABC1234',
      macAddress: '00:15:5D:01:02:03',
      osName: 'Microsoft Windows 11 Enterprise',
      osVersion: '10.0.22631',
    };
    const expected = createHash('sha1')
      .update(Buffer.from('ABC1234!!/ABC1234/CNCMK0012AB/!ABC1234!00:15:5D:01:02:03', 'utf16le'))
      .digest('hex')
      .toUpperCase();
    expect(computeHardwareId(hw)).toBe(`2:${expected}`);
    const laptop = { ...hw, laptop: true };
    expect(hardwareIdInputs(laptop)[4]).toEqual(['Win32_NetworkAdapterConfiguration.MACAddress', NOT_USED_ON_LAPTOP]);
    expect(computeHardwareId(laptop)).not.toBe(computeHardwareId(hw));
  });

  it('draws realistic, seed-stable hardware', () => {
    const a = drawHardware(new Random('x'));
    expect(drawHardware(new Random('x'))).toEqual(a);
    const all = Array.from({ length: 50 }, (_, i) => drawHardware(new Random(i)));
    expect(new Set(all.map((h) => h.vendor)).size).toBeGreaterThanOrEqual(4);
    for (const h of all) expect(h.macAddress).toMatch(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
  });
});

describe('SMSCFG.ini', () => {
  it('has the real section and names, CRLF, and reads back', () => {
    const text = formatSmsCfg({
      smsUniqueIdentifier: 'GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED',
      lastSmsUidChangeDate: '01/14/2026 16:38:06',
      certificateIdentifier: 'SMS;78D612FA1FF127C8C0F8AEA67C6EB6E89AC2D74C',
      hardwareIdentifier2: '2:0123',
      smbiosSerialIdentifier: '4100',
      lastVersion: '5.00.9128.1000',
    });
    expect(text.startsWith('[Configuration - Client Properties]\r\n')).toBe(true);
    expect(text).not.toMatch(/[^\r]\n/);
    const parsed = parseSmsCfg(text);
    expect(parsed['SMS Unique Identifier']).toBe('GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED');
    expect(parsed['SMS Certificate Identifier']).toBe('SMS;78D612FA1FF127C8C0F8AEA67C6EB6E89AC2D74C');
  });
});

describe('the machine directory', () => {
  it('is laid out like Windows', () => {
    const p = machinePaths('/m');
    expect(p.ccmsetupLog).toBe('/m/Windows/ccmsetup/Logs/ccmsetup.log');
    expect(p.clientIdLog).toBe('/m/Windows/CCM/Logs/ClientIDManagerStartup.log');
    expect(p.clientLocationLog).toBe('/m/Windows/CCM/Logs/ClientLocation.log');
    expect(p.smscfg).toBe('/m/Windows/SMSCFG.ini');
  });

  it('writes atomically, leaves no temporary file, and applies the mode from the start', async () => {
    const dir = tempDir();
    const target = join(dir, 'a', 'secret.key');
    await writeFileAtomic(target, 'one');
    await writeFileAtomic(target, 'two', { mode: 0o600 });
    expect(readFileSync(target, 'utf8')).toBe('two');
    expect(readdirSync(join(dir, 'a'))).toEqual(['secret.key']);
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it('a write that cannot land is one CCMSIM_FILE_UNWRITABLE line naming the file, leaving no temporary file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'ccmsetup.cab'));
    await expect(writeFileAtomic(join(dir, 'ccmsetup.cab'), 'x')).rejects.toMatchObject({
      code: 'CCMSIM_FILE_UNWRITABLE',
      message: `cannot write ${join(dir, 'ccmsetup.cab')}: a directory is in its place`,
    });
    writeFileSync(join(dir, 'Windows'), 'a file where a folder belongs');
    await expect(writeFileAtomic(join(dir, 'Windows', 'SMSCFG.ini'), 'x')).rejects.toMatchObject({
      code: 'CCMSIM_FILE_UNWRITABLE',
      message: `cannot write ${join(dir, 'Windows', 'SMSCFG.ini')}: a file stands where a folder on the way to it should be`,
    });
    expect(readdirSync(dir).sort()).toEqual(['Windows', 'ccmsetup.cab']);
  });
});

describe('the machine lock', () => {
  it('is exclusive while held (return code 8), free after release', async () => {
    const dir = tempDir();
    const path = join(dir, 'ccmsetup.lock');
    const first = await acquireMachineLock(path);
    await expect(acquireMachineLock(path)).rejects.toSatisfy((e: unknown) => isCcmsimError(e, 'CCMSIM_SETUP_RUNNING'));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ pid: process.pid });
    await first.release();
    const again = await acquireMachineLock(path);
    await again.release();
  });

  it('a directory in the lock\'s place is said as such (it read "setup already running", return code 8)', async () => {
    const dir = tempDir();
    const path = join(dir, 'ccmsetup.lock');
    mkdirSync(path);
    await expect(acquireMachineLock(path)).rejects.toMatchObject({ code: 'CCMSIM_FILE_UNWRITABLE', message: `cannot write the machine lock ${path}: a directory is in its place` });
  });

  it('takes over a stale lock left by a dead process', async () => {
    const dir = tempDir();
    const path = join(dir, 'ccmsetup.lock');
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(child.stdout.toString());
    writeFileSync(path, JSON.stringify({ pid: deadPid }));
    const lock = await acquireMachineLock(path);
    expect(lock.tookOverFrom).toBe(deadPid);
    await lock.release();
  });
});
