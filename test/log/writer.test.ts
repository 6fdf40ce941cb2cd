import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import winston from 'winston';
import { openCmLog } from '../../src/log/cm-log.js';
import { openCmLogSet } from '../../src/log/cm-log-set.js';
import { CmFileTransport, type CmLogWriteInfo } from '../../src/log/file-transport.js';
import { CM_WINSTON_LEVELS, cmRecordFormat, winstonLevelForCcmLogLevel, winstonLevelOf } from '../../src/log/winston-format.js';
import { parseCmLog } from '../../src/log/reader.js';
import type { CmLogRecord, LogType } from '../../src/log/record.js';
import { isCcmsimError } from '../../src/errors.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ccmsim-log-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.parse('2024-07-15T10:00:00.000Z');
function rec(i: number, over: Partial<CmLogRecord> = {}): CmLogRecord {
  return { message: `record ${String(i).padStart(4, '0')}`, component: 'ccmsetup', type: 1, thread: 3396, file: 'ccmsetup.cpp:9498', time: T0 + i * 1000, ...over };
}
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe('openCmLog: writing', () => {
  it('puts the bytes in the file before write() returns, BOM first, CRLF everywhere', () => {
    const path = join(tempDir(), 'sub', 'ccmsetup.log');
    const log = openCmLog({ path, format: 'cmtrace', timeZone: 'UTC' });
    expect(existsSync(path)).toBe(false); // created with its first record
    log.write(rec(1));
    const after1 = readFileSync(path);
    expect(after1.subarray(0, 3).equals(BOM)).toBe(true);
    expect(after1.toString('utf8')).toBe(
      '\uFEFF<![LOG[record 0001]LOG]!><time="10:00:01.000+00" date="07-15-2024" component="ccmsetup" context="" type="1" thread="3396" file="ccmsetup.cpp:9498">\r\n',
    );
    log.write(rec(2, { message: 'line one\nline two\rline three\r\n\tTAB <Msg SchemaVersion="1.1">' }));
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('line one\r\nline two\r\nline three\r\n\tTAB <Msg SchemaVersion="1.1">]LOG]!>');
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/); // no lone CR or LF anywhere
    expect(text.match(/\uFEFF/g)).toHaveLength(1);
    log.close();
  });

  it('appends to an existing log without a second BOM and counts its lines', () => {
    const path = join(tempDir(), 'ccmsetup.log');
    const first = openCmLog({ path, format: 'cmtrace', timeZone: 'UTC' });
    first.write(rec(1, { message: 'a\r\nb' }));
    first.close();
    const seen: CmLogWriteInfo[] = [];
    const second = openCmLog({ path, format: 'cmtrace', timeZone: 'UTC', onWrite: (i) => seen.push(i) });
    second.write(rec(2));
    second.close();
    const text = readFileSync(path, 'utf8');
    expect(text.match(/\uFEFF/g)).toHaveLength(1);
    expect(seen[0]).toMatchObject({ firstLine: 3, lastLine: 3 });
    expect(parseCmLog(text).records.map((r) => r.firstLine)).toEqual([1, 3]);
  });

  it('reports each record: file, physical lines, local time text, bias and UTC instant', () => {
    const path = join(tempDir(), 'ClientIDManagerStartup.log');
    const seen: CmLogWriteInfo[] = [];
    const log = openCmLog({ path, format: 'cmtrace', timeZone: 'America/Los_Angeles', onWrite: (i) => seen.push(i) });
    log.write(rec(0, { time: Date.parse('2023-01-13T21:28:46.510Z') }));
    log.write(rec(1, { message: 'Computed HardwareID=2:\r\n\tWin32_SystemEnclosure.SerialNumber=\r\n\tWin32_BIOS.SerialNumber=' }));
    log.write(rec(2));
    log.close();
    expect(seen.map((s) => [s.firstLine, s.lastLine])).toEqual([
      [1, 1],
      [2, 4],
      [5, 5],
    ]);
    expect(seen[0]).toMatchObject({ path, localTime: '13:28:46.510', date: '01-13-2023', bias: '+480', utcTimeMs: Date.parse('2023-01-13T21:28:46.510Z') });
    expect(seen[1]!.bias).toBe('+420'); // July: Pacific daylight time
    expect(seen[2]!.record).toEqual(rec(2)); // the record as given, nothing added
    // The reader agrees with onWrite on every line number.
    const parsed = parseCmLog(readFileSync(path));
    expect(parsed.records.map((r) => [r.firstLine, r.lastLine])).toEqual(seen.map((s) => [s.firstLine, s.lastLine]));
  });

  it('writes the server ("SMS trace") format with upper-case unpadded hex thread ids', () => {
    const path = join(tempDir(), 'MP_RegistrationManager.log');
    const log = openCmLog({ path, format: 'server', timeZone: 'UTC' });
    log.write(rec(1, { message: 'MP Reg: Processing completed. Completion state = 0', component: 'MP_RegistrationManager', thread: 5780 }));
    log.close();
    expect(readFileSync(path, 'utf8')).toBe(
      '\uFEFFMP Reg: Processing completed. Completion state = 0~~  $$<MP_RegistrationManager><07-15-2024 10:00:01.000+00><thread=5780 (0x1694)>\r\n',
    );
  });

  it('refuses a message holding a record terminator or start, and unsafe attribute values (CCMSIM_LOG_UNSAFE_MESSAGE)', () => {
    const dir = tempDir();
    const cm = openCmLog({ path: join(dir, 'a.log'), format: 'cmtrace', timeZone: 'UTC' });
    const sv = openCmLog({ path: join(dir, 'b.log'), format: 'server', timeZone: 'UTC' });
    const refused = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        return isCcmsimError(err, 'CCMSIM_LOG_UNSAFE_MESSAGE');
      }
      return false;
    };
    expect(refused(() => cm.write(rec(1, { message: 'evil ]LOG]!> tail' })))).toBe(true);
    expect(refused(() => cm.write(rec(1, { message: 'x\r\n<![LOG[fake' })))).toBe(true);
    expect(refused(() => cm.write(rec(1, { component: 'a"b' })))).toBe(true);
    expect(refused(() => cm.write(rec(1, { file: 'x.cpp:1\n' })))).toBe(true);
    expect(refused(() => sv.write(rec(1, { message: 'cost $$<100' })))).toBe(true);
    expect(refused(() => sv.write(rec(1, { component: 'SMS<X>' })))).toBe(true);
    // Nothing was written: no file exists for either log.
    expect(readdirSync(dir)).toEqual([]);
    // The same characters alone are fine.
    cm.write(rec(2, { message: ']LOG] and <![LOG and $$< are fine in CMTrace when not complete' }));
    sv.write(rec(2, { message: 'a ]LOG]!> in a server record is fine' }));
    expect(parseCmLog(readFileSync(join(dir, 'a.log'))).records[0]!.message).toContain('$$<');
    expect(parseCmLog(readFileSync(join(dir, 'b.log'))).records[0]!.message).toBe('a ]LOG]!> in a server record is fine');
    cm.close();
    sv.close();
  });
});

describe('openCmLog: a log that cannot be written', () => {
  // Node's recursive mkdir gave EEXIST/ENOTDIR as an internal error, and a second write after a failed first one
  // reported the open of the file instead of what is in the way.
  it('a file where its folder (or a folder above it) belongs: CCMSIM_FILE_UNWRITABLE naming the log and that file, every time', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'Logs'), 'a file where the folder belongs');
    writeFileSync(join(dir, 'ccmsetup'), 'a file where a folder above belongs');
    for (const [path, inTheWay] of [
      [join(dir, 'Logs', 'ccmsetup.log'), join(dir, 'Logs')],
      [join(dir, 'ccmsetup', 'Logs', 'ccmsetup.log'), join(dir, 'ccmsetup')],
    ] as const) {
      const log = openCmLog({ path, format: 'cmtrace', timeZone: 'UTC' });
      for (let i = 1; i <= 2; i++) {
        expect(() => log.write(rec(i))).toThrow(
          expect.objectContaining({ code: 'CCMSIM_FILE_UNWRITABLE', message: `cannot write the log ${path}: a file is in the way: ${inTheWay} is not a directory` }),
        );
      }
      log.close();
    }
    expect(readFileSync(join(dir, 'Logs'), 'utf8')).toBe('a file where the folder belongs');
  });

  it('a directory in its place: CCMSIM_FILE_UNWRITABLE or UNREADABLE naming it, never an internal error', () => {
    const dir = tempDir();
    const path = join(dir, 'ccmsetup.log');
    mkdirSync(path);
    const log = openCmLog({ path, format: 'cmtrace', timeZone: 'UTC' });
    for (let i = 1; i <= 2; i++) {
      let caught: unknown;
      try {
        log.write(rec(i));
      } catch (err) {
        caught = err;
      }
      expect(isCcmsimError(caught, 'CCMSIM_FILE_UNWRITABLE') || isCcmsimError(caught, 'CCMSIM_FILE_UNREADABLE')).toBe(true);
      expect((caught as Error).message).toContain(path);
    }
    log.close();
  });
});

describe('openCmLog: CCMLOGLEVEL and CCMENABLELOGGING', () => {
  const mixed: CmLogRecord[] = [
    rec(1, { type: 0 }),
    rec(2, { type: 1 }),
    rec(3, { type: 2 }),
    rec(4, { type: 3 }),
    rec(5, { type: 1, verbose: true }),
    rec(6, { type: 3, verbose: true }),
  ];
  const written = (level: 0 | 1 | 2 | 3) => {
    const path = join(tempDir(), 'l.log');
    const log = openCmLog({ path, format: 'cmtrace', timeZone: 'UTC', level });
    for (const r of mixed) log.write(r);
    log.close();
    return existsSync(path) ? parseCmLog(readFileSync(path)).records.map((r) => r.message.slice(-1)) : [];
  };

  it('0 writes everything, 1 all but verbose records, 2 warnings and errors, 3 errors only', () => {
    expect(written(0)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(written(1)).toEqual(['1', '2', '3', '4']);
    expect(written(2)).toEqual(['3', '4']);
    expect(written(3)).toEqual(['4']);
  });

  it('enabled=false writes nothing and creates no file', () => {
    const dir = tempDir();
    const path = join(dir, 'logs', 'ccmsetup.log');
    const seen: unknown[] = [];
    const log = openCmLog({ path, format: 'cmtrace', timeZone: 'UTC', enabled: false, onWrite: (i) => seen.push(i) });
    for (const r of mixed) log.write(r);
    log.close();
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    expect(seen).toEqual([]);
  });

  it('a log says whether it writes: enabled=false, and the shared set handing it out, say false', () => {
    const dir = tempDir();
    expect(openCmLog({ path: join(dir, 'a.log'), format: 'cmtrace', timeZone: 'UTC', enabled: false }).enabled).toBe(false);
    const on = openCmLog({ path: join(dir, 'b.log'), format: 'cmtrace', timeZone: 'UTC' });
    expect(on.enabled).toBe(true);
    on.close();
    const quiet = openCmLogSet({ root: dir, format: 'cmtrace', timeZone: 'UTC', enabled: false });
    const loud = openCmLogSet({ root: dir, format: 'cmtrace', timeZone: 'UTC' });
    expect(quiet.get('m/c.log').enabled).toBe(false);
    expect(loud.get('m/c.log').enabled).toBe(true);
    expect(loud.get('m/d.log', { enabled: false }).enabled).toBe(false);
    quiet.closeAll();
    loud.closeAll();
  });

  it('maps record types to winston levels consistently with the filter', () => {
    expect(mixed.map(winstonLevelOf)).toEqual(['info', 'info', 'warning', 'error', 'verbose', 'verbose']);
    expect(([0, 1, 2, 3] as const).map(winstonLevelForCcmLogLevel)).toEqual(['verbose', 'info', 'warning', 'error']);
  });
});

describe('openCmLog: CM rollover', () => {
  // Every record below is the same length, so the arithmetic is exact.
  const recordBytes = Buffer.byteLength(
    '<![LOG[record 0000]LOG]!><time="12:00:00.000-120" date="07-15-2024" component="ccmsetup" context="" type="1" thread="3396" file="ccmsetup.cpp:9498">\r\n',
  );
  const perFile = 3;
  const maxSize = 3 + perFile * recordBytes; // BOM + exactly three records

  function run(maxHistory: number, count: number) {
    const dir = tempDir();
    const path = join(dir, 'ccmsetup.log');
    const seen: CmLogWriteInfo[] = [];
    const log = openCmLog({ path, format: 'cmtrace', timeZone: 'Europe/Paris', maxSize, maxHistory, onWrite: (i) => seen.push(i) });
    for (let i = 0; i < count; i++) log.write(rec(i));
    log.close();
    const files = readdirSync(dir).sort();
    const messages = (name: string) => {
      const buf = readFileSync(join(dir, name));
      expect(buf.subarray(0, 3).equals(BOM)).toBe(true);
      expect(buf.length).toBeLessThanOrEqual(maxSize);
      const parsed = parseCmLog(buf);
      expect(parsed.malformed).toEqual([]);
      return parsed.records.map((r) => r.message);
    };
    return { dir, files, messages, seen };
  }

  it('history 0: the log restarts at the limit, nothing is kept', () => {
    const { files, messages, seen } = run(0, 7);
    expect(files).toEqual(['ccmsetup.log']);
    expect(messages('ccmsetup.log')).toEqual(['record 0006']);
    // The fourth record is the one that would pass the limit: it starts a new file at line 1.
    expect(seen.map((s) => s.firstLine)).toEqual([1, 2, 3, 1, 2, 3, 1]);
  });

  it('history 1: the full log becomes ccmsetup.lo_, overwritten at each rollover', () => {
    const { files, messages } = run(1, 7);
    expect(files).toEqual(['ccmsetup.lo_', 'ccmsetup.log']);
    expect(messages('ccmsetup.lo_')).toEqual(['record 0003', 'record 0004', 'record 0005']);
    expect(messages('ccmsetup.log')).toEqual(['record 0006']);
  });

  it('history 3: timestamped Name-YYYYMMDD-HHMMSS.log files in local time, oldest pruned', () => {
    const { files, messages } = run(3, 16); // rollovers at records 3, 6, 9, 12, 15
    // Rollover at record i happens at T0 + i s = 12:00:0i local time in Paris (UTC+2 in July).
    expect(files).toEqual(['ccmsetup-20240715-120009.log', 'ccmsetup-20240715-120012.log', 'ccmsetup-20240715-120015.log', 'ccmsetup.log']);
    expect(messages('ccmsetup-20240715-120009.log')).toEqual(['record 0006', 'record 0007', 'record 0008']);
    expect(messages('ccmsetup-20240715-120015.log')).toEqual(['record 0012', 'record 0013', 'record 0014']);
    expect(messages('ccmsetup.log')).toEqual(['record 0015']);
  });

  it('history 3: rollovers within the same second keep every file, numbered, and prune in order', () => {
    const dir = tempDir();
    const path = join(dir, 'x.log');
    const log = openCmLog({ path, format: 'cmtrace', timeZone: 'UTC', maxSize, maxHistory: 3 });
    for (let i = 0; i < 16; i++) log.write(rec(i, { time: T0 }));
    log.close();
    expect(readdirSync(dir).sort()).toEqual(['x-20240715-100000-3.log', 'x-20240715-100000-4.log', 'x-20240715-100000-5.log', 'x.log']);
    expect(parseCmLog(readFileSync(join(dir, 'x-20240715-100000-5.log'))).records[0]!.message).toBe('record 0012');
  });

  it('a record larger than maxSize is still written, alone in its file', () => {
    const dir = tempDir();
    const path = join(dir, 'big.log');
    const log = openCmLog({ path, format: 'cmtrace', timeZone: 'UTC', maxSize: 200, maxHistory: 1 });
    log.write(rec(1, { message: 'x'.repeat(500) }));
    log.write(rec(2));
    log.close();
    expect(parseCmLog(readFileSync(join(dir, 'big.lo_'))).records).toHaveLength(1);
    expect(parseCmLog(readFileSync(path)).records.map((r) => r.message)).toEqual(['record 0002']);
  });
});

describe('winston integration', () => {
  it('the CM format and transport work under a plain winston logger, synchronously', () => {
    const path = join(tempDir(), 'w.log');
    const transport = new CmFileTransport({ path, timeZone: 'UTC' });
    const logger = winston.createLogger({
      levels: CM_WINSTON_LEVELS,
      level: winstonLevelForCcmLogLevel(1),
      format: cmRecordFormat({ format: 'cmtrace', timeZone: 'UTC', level: 1 }),
      transports: [transport],
    });
    for (let i = 0; i < 50; i++) {
      const r = rec(i, { type: (i % 4) as LogType });
      logger.log({ ...r, level: winstonLevelOf(r) });
      // The record is in the file as soon as log() returns.
      expect(parseCmLog(readFileSync(path)).records).toHaveLength(i + 1);
    }
    logger.log({ ...rec(99, { verbose: true }), level: 'verbose' }); // filtered at level 1
    expect(parseCmLog(readFileSync(path)).records).toHaveLength(50);
    transport.close();
  });

  it('is cheap per record: 20000 records in well under two seconds', () => {
    const path = join(tempDir(), 'perf.log');
    const log = openCmLog({ path, format: 'cmtrace', timeZone: 'Europe/Paris', maxSize: 1_000_000, maxHistory: 1 });
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) log.write(rec(i, { time: T0 + i * 37 }));
    const elapsed = performance.now() - started;
    log.close();
    expect(elapsed).toBeLessThan(2000);
    const total = parseCmLog(readFileSync(path)).records.length + parseCmLog(readFileSync(join(path, '..', 'perf.lo_'))).records.length;
    expect(total).toBeGreaterThan(0);
  });
});

describe('CmLogSet', () => {
  it('opens logs lazily under a root, reuses them, honours per-log zones and closes them all', () => {
    const root = tempDir();
    const set = openCmLogSet({ root, format: 'cmtrace', timeZone: 'UTC' });
    set.get('PC001/ccmsetup/Logs/ccmsetup.log', { timeZone: 'Asia/Kolkata' });
    expect(readdirSync(root)).toEqual([]); // nothing until a record is written
    set.write('PC001/ccmsetup/Logs/ccmsetup.log', rec(1));
    set.write('PC002/ccmsetup/Logs/ccmsetup.log', rec(1));
    set.write('PC001/ccmsetup/Logs/ccmsetup.log', rec(2));
    expect(set.paths).toEqual(['PC001/ccmsetup/Logs/ccmsetup.log', 'PC002/ccmsetup/Logs/ccmsetup.log']);
    set.closeAll();
    const pc1 = parseCmLog(readFileSync(join(root, 'PC001/ccmsetup/Logs/ccmsetup.log'))).records;
    expect(pc1.map((r) => r.bias)).toEqual(['-330', '-330']);
    expect(parseCmLog(readFileSync(join(root, 'PC002/ccmsetup/Logs/ccmsetup.log'))).records[0]!.bias).toBe('+00');
    expect(() => set.get('../escape.log')).toThrow(/must stay under the log root/);
  });
});

describe('CmLogSet: open-file cap', () => {
  it('keeps at most maxOpenFiles descriptors and resumes suspended logs by appending', () => {
    const root = tempDir();
    const seen: CmLogWriteInfo[] = [];
    const set = openCmLogSet({ root, format: 'cmtrace', timeZone: 'UTC', maxOpenFiles: 2, onWrite: (i) => seen.push(i) });
    for (let round = 0; round < 4; round++) {
      for (let m = 0; m < 5; m++) {
        set.write(`PC${m}/ccmsetup.log`, rec(round, { message: `pc ${m} round ${round}\r\nsecond line` }));
        expect(set.openFiles).toBeLessThanOrEqual(2);
      }
    }
    set.closeAll();
    expect(set.openFiles).toBe(0);
    for (let m = 0; m < 5; m++) {
      const buf = readFileSync(join(root, `PC${m}`, 'ccmsetup.log'));
      expect(buf.toString('utf8').match(/\uFEFF/g)).toHaveLength(1);
      const parsed = parseCmLog(buf);
      expect(parsed.malformed).toEqual([]);
      expect(parsed.records.map((r) => [r.message.split('\r\n')[0], r.firstLine])).toEqual([0, 1, 2, 3].map((round) => [`pc ${m} round ${round}`, round * 2 + 1]));
    }
    // onWrite line numbers stay right across suspend and resume.
    expect(seen.filter((s) => s.path.endsWith(join('PC3', 'ccmsetup.log'))).map((s) => s.firstLine)).toEqual([1, 3, 5, 7]);
  });
});

describe('options', () => {
  it('rejects a bad level, maxSize or maxHistory with CCMSIM_USAGE', () => {
    const path = join(tempDir(), 'x.log');
    for (const bad of [{ level: 4 as never }, { maxSize: 0 }, { maxHistory: -1 }]) {
      let err: unknown;
      try {
        openCmLog({ path, format: 'cmtrace', timeZone: 'UTC', ...bad });
      } catch (e) {
        err = e;
      }
      expect(isCcmsimError(err, 'CCMSIM_USAGE')).toBe(true);
    }
    writeFileSync(path, '');
  });
});

describe('openCmLog: batchWrites (a fleet site)', () => {
  it('puts a turn’s records in the file at the end of the turn, and ends byte for byte as writing each at once', async () => {
    const dir = tempDir();
    const write = (name: string, batchWrites: boolean) => {
      const log = openCmLog({ path: join(dir, name), format: 'cmtrace', timeZone: 'UTC', maxSize: 600, maxHistory: 1, batchWrites });
      return log;
    };
    const batched = write('batched.log', true);
    const direct = write('direct.log', false);
    for (let i = 0; i < 3; i++) {
      batched.write(rec(i));
      direct.write(rec(i));
    }
    // Still in memory during the turn (the file holds only the BOM it was started with)...
    expect(readFileSync(join(dir, 'batched.log'))).toEqual(BOM);
    await new Promise((r) => setImmediate(r));
    // ...and in the file once the turn is over.
    expect(readFileSync(join(dir, 'batched.log'))).toEqual(readFileSync(join(dir, 'direct.log')));
    // Enough records to roll over (600 bytes hold three) mid-turn, then a close with records pending.
    for (let i = 3; i < 10; i++) {
      batched.write(rec(i));
      direct.write(rec(i));
    }
    batched.close();
    direct.close();
    expect(readFileSync(join(dir, 'batched.log'))).toEqual(readFileSync(join(dir, 'direct.log')));
    expect(readFileSync(join(dir, 'batched.lo_'))).toEqual(readFileSync(join(dir, 'direct.lo_')));
    expect(parseCmLog(readFileSync(join(dir, 'batched.log'))).records.map((r) => r.message).at(-1)).toBe('record 0009');
  });
});
