import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/ccmsim-main.js';
import { captureIo } from '../../src/cli/io.js';
import { openCmLog } from '../../src/log/cm-log.js';

const GENUINE = '/work/shared/reference/real-logs/ccmsetup-onprem-2020.log';
const dir = mkdtempSync(join(tmpdir(), 'ccmsim-logs-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeSample(name: string): string {
  const path = join(dir, name);
  const log = openCmLog({ path, format: 'cmtrace', timeZone: 'Europe/Paris' });
  log.write({ message: 'CcmSetup version: 5.0.8458.1007', component: 'ccmsetup', type: 1, thread: 3396, file: 'ccmsetup.cpp:633', time: Date.UTC(2024, 6, 15, 10) });
  log.write({ message: "Received header '<Msg>\r\n\t<ID/>\r\n</Msg>'", component: 'ccmsetup', type: 0, thread: 3396, file: 'httphelper.cpp:1', time: Date.UTC(2024, 6, 15, 10, 0, 1) });
  log.write({ message: 'Failed to connect to policy namespace. Error 0x8004100e', component: 'ccmsetup', type: 3, thread: 3396, file: 'localpolicy.cpp:367', time: Date.UTC(2024, 6, 15, 10, 0, 2) });
  log.close();
  return path;
}

describe('ccmsim logs parse', () => {
  it('prints a table and a summary with counts per type', async () => {
    const path = writeSample('ccmsetup.log');
    const io = captureIo({ cwd: dir });
    const code = await main(['logs', 'parse', 'ccmsetup.log'], io);
    expect(code).toBe(0);
    expect(io.stderrText).toBe('');
    const lines = io.stdoutText.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^LINE\s+DATE\s+TIME\s+TYPE\s+THREAD\s+COMPONENT\s+MESSAGE$/);
    expect(lines[1]).toMatch(/^1\s+07-15-2024\s+12:00:00\.000-120\s+1\s+3396\s+ccmsetup\s+CcmSetup version: 5\.0\.8458\.1007$/);
    expect(lines[2]).toContain("Received header '<Msg> [+2 lines]");
    expect(lines[3]).toMatch(/^5\s/); // the third record starts on physical line 5
    expect(lines.at(-1)).toBe('3 records (type 0: 1, type 1: 1, type 2: 0, type 3: 1), 0 malformed');
    expect(existsSync(path)).toBe(true);
  });

  it('prints JSON with --json', async () => {
    writeSample('json.log');
    const io = captureIo({ cwd: dir });
    expect(await main(['logs', 'parse', join(dir, 'json.log'), '--json'], io)).toBe(0);
    const out = JSON.parse(io.stdoutText) as { counts: Record<string, number>; records: { utcTimeMs: number; lastLine: number }[]; malformed: unknown[] };
    expect(out.counts).toEqual({ '0': 1, '1': 1, '2': 0, '3': 1, none: 0 });
    expect(out.records[0]!.utcTimeMs).toBe(Date.UTC(2024, 6, 15, 10));
    expect(out.records[1]!.lastLine).toBe(4);
    expect(out.malformed).toEqual([]);
  });

  it('reports malformed records by line on stderr and exits 1', async () => {
    const path = join(dir, 'bad.lo_');
    writeFileSync(
      path,
      '\uFEFF<![LOG[ok]LOG]!><time="15:10:29.068+00" date="02-04-2020" component="c" context="" type="1" thread="1" file="">\r\nnot a record\r\n',
    );
    const io = captureIo({ cwd: dir });
    expect(await main(['logs', 'parse', 'bad.lo_'], io)).toBe(1);
    expect(io.stderrText).toMatch(/bad\.lo_:2: malformed record: text is neither a CMTrace record/);
    expect(io.stdoutText).toContain('1 records (type 0: 0, type 1: 1, type 2: 0, type 3: 0), 1 malformed');
  });

  it('skips NUL padding after a complete record (exit 0) and still reports a record it cut short (exit 1)', async () => {
    const good = (n: number) => `<![LOG[ok ${n}]LOG]!><time="15:10:29.068+00" date="02-04-2020" component="c" context="" type="1" thread="1" file="">\r\n`;
    writeFileSync(join(dir, 'padded.log'), good(1) + '\u0000'.repeat(500) + good(2) + good(3));
    const io = captureIo({ cwd: dir });
    expect(await main(['logs', 'parse', 'padded.log'], io)).toBe(0);
    expect(io.stderrText).toBe('');
    expect(io.stdoutText).toContain('3 records (type 0: 0, type 1: 3, type 2: 0, type 3: 0), 0 malformed');
    writeFileSync(join(dir, 'cut.log'), good(1) + '<![LOG[cut sh' + '\u0000'.repeat(500) + good(2));
    const cut = captureIo({ cwd: dir });
    expect(await main(['logs', 'parse', 'cut.log'], cut)).toBe(1);
    expect(cut.stderrText).toMatch(/cut\.log:2: malformed record: CMTrace record has no/);
  });

  it.each([
    [[''], /^ccmsim: the log file argument is empty \(''\): name a \.log or \.lo_ file \(CCMSIM_USAGE\)\n$/],
    [['--bogus', 'ccmsetup.log'], /^ccmsim: Unknown argument: bogus \(CCMSIM_USAGE\)\n$/],
    [['--bogus=1', 'ccmsetup.log'], /^ccmsim: Unknown argument: bogus \(CCMSIM_USAGE\)\n$/],
  ])('logs parse %j is a one-line usage error (exit 2) naming what is wrong', async (args, message) => {
    writeSample('ccmsetup.log');
    const io = captureIo({ cwd: dir });
    expect(await main(['logs', 'parse', ...args], io)).toBe(2);
    expect(io.stderrText).toMatch(message);
    expect(io.stdoutText).toBe('');
  });

  it('names a missing file in one line with CCMSIM_FILE_NOT_FOUND', async () => {
    const io = captureIo({ cwd: dir });
    expect(await main(['logs', 'parse', 'nope.log'], io)).toBe(3);
    expect(io.stderrText).toMatch(/^ccmsim: log file not found: .*nope\.log \(CCMSIM_FILE_NOT_FOUND\)\n$/);
    expect(io.stdoutText).toBe('');
  });

  it.runIf(existsSync(GENUINE))('summarizes the genuine ccmsetup.log', async () => {
    const io = captureIo();
    expect(await main(['logs', 'parse', GENUINE], io)).toBe(0);
    expect(io.stdoutText.trimEnd().split('\n').at(-1)).toBe('195 records (type 0: 49, type 1: 125, type 2: 12, type 3: 9), 0 malformed');
  });
});
