import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/clock/random.js';
import { formatCmtraceRecord, formatServerRecord, normalizeLineBreaks, type CmLogRecord, type LogType } from '../../src/log/record.js';
import { countByType, parseCmLog } from '../../src/log/reader.js';
import { isCcmsimError } from '../../src/errors.js';

const GENUINE = '/work/shared/reference/real-logs/ccmsetup-onprem-2020.log';

describe(`parseCmLog on the genuine ccmsetup.log (runs only where ${GENUINE} exists; never copied into the repo)`, () => {
  it.runIf(existsSync(GENUINE))('reads 195 records, types 0/1/2/3 = 49/125/12/9, nothing malformed', () => {
    const bytes = readFileSync(GENUINE);
    const parsed = parseCmLog(bytes);
    expect(parsed.bom).toBe(true);
    expect(parsed.malformed).toEqual([]);
    expect(parsed.records).toHaveLength(195);
    expect(countByType(parsed.records)).toEqual({ '0': 49, '1': 125, '2': 12, '3': 9, none: 0 });
    expect(parsed.records.every((r) => r.format === 'cmtrace' && r.context === '' && r.bias === '+00')).toBe(true);
    // 228 physical lines: the last record ends on line 228.
    expect(parsed.records.at(-1)!.lastLine).toBe(228);
    const first = parsed.records[0]!;
    expect(first).toMatchObject({
      message: '==========[ ccmsetup started in process 476 ]==========',
      component: 'ccmsetup',
      type: 1,
      thread: 3396,
      file: 'ccmsetup.cpp:9498',
      localTime: '15:10:29.068',
      date: '02-04-2020',
      bias: '+00',
      utcTimeMs: Date.UTC(2020, 1, 4, 15, 10, 29, 68),
      firstLine: 1,
      lastLine: 1,
    });
    const multi = parsed.records.find((r) => r.message.startsWith("Received header '<Msg SchemaVersion=\"1.1\">"))!;
    expect(multi.lastLine).toBeGreaterThan(multi.firstLine);
    expect(multi.message).toContain('\r\n\t<ID>');
    // Writing the parsed records back (zone UTC) gives the file byte for byte.
    const rewritten =
      '\uFEFF' +
      parsed.records
        .map((r) => formatCmtraceRecord({ message: r.message, component: r.component, type: r.type!, thread: r.thread, file: r.file!, time: r.utcTimeMs! }, 'UTC'))
        .join('');
    expect(Buffer.from(rewritten, 'utf8').equals(bytes)).toBe(true);
  });
});

describe('parseCmLog: formats and tolerance', () => {
  it('reads server records with and without ~~, multi-line ones, and converts the bias to UTC', () => {
    const text =
      '---->: An event has occurred, the event code is: 0x1  $$<SMS_SITE_SYSTEM_STATUS_SUMMARIZER><12-06-2016 03:11:46.039+300><thread=4840 (0x12E8)>\r\n' +
      'first line\r\nsecond line~~  $$<CMGService><06-24-2020 15:31:46.376-120><thread=4992 (0x1380)>\r\n';
    const { records, malformed } = parseCmLog(text);
    expect(malformed).toEqual([]);
    expect(records[0]).toMatchObject({
      format: 'server',
      message: '---->: An event has occurred, the event code is: 0x1',
      component: 'SMS_SITE_SYSTEM_STATUS_SUMMARIZER',
      type: null,
      file: null,
      thread: 4840,
      bias: '+300',
      utcTimeMs: Date.UTC(2016, 11, 6, 8, 11, 46, 39),
      firstLine: 1,
      lastLine: 1,
    });
    expect(records[1]).toMatchObject({ message: 'first line\r\nsecond line', firstLine: 2, lastLine: 3, utcTimeMs: Date.UTC(2020, 5, 24, 13, 31, 46, 376) });
  });

  it('detects the format per record in a mixed file and tolerates managed-code CMTrace variants', () => {
    const text =
      '<![LOG[managed]LOG]!><time="10:22:50.8422964" date="1-2-2015" component="SCClient" context="" type="1" thread="7" file="">\n' +
      'srv~~  $$<SMS_MP><01-02-2015 10:22:51.000+00><thread=8 (0x8)>\n';
    const { records, malformed } = parseCmLog(text);
    expect(malformed).toEqual([]);
    expect(records.map((r) => r.format)).toEqual(['cmtrace', 'server']);
    expect(records[0]).toMatchObject({ localTime: '10:22:50.8422964', bias: '', biasMinutes: null, utcTimeMs: null, file: '' });
  });

  it('reports malformed records by line and keeps going', () => {
    const good = (n: number) =>
      `<![LOG[ok ${n}]LOG]!><time="15:10:29.068+00" date="02-04-2020" component="ccmsetup" context="" type="1" thread="1" file="a.cpp:1">\r\n`;
    const text =
      '\uFEFF' +
      good(1) + // line 1
      'garbage that is no record\r\n' + // line 2
      good(2) + // line 3
      '<![LOG[bad type]LOG]!><time="15:10:29.068+00" date="02-04-2020" component="c" context="" type="7" thread="1" file="">\r\n' + // 4
      '<![LOG[two\r\nlines, no terminator\r\n' + // 5-6
      good(3) + // line 7
      '<![LOG[bad date]LOG]!><time="15:10:29.068+00" date="02-30-2020" component="c" context="" type="1" thread="1" file="">\r\n' + // 8
      'x~~  $$<C><02-04-2020 15:10:29.068+00><thread=17 (0x10)>\r\n' + // 9
      '<![LOG[attrs]LOG]!><time="15:10:29.068+00" component="c">\r\n' + // 10
      good(4); // 11
    const { records, malformed } = parseCmLog(text);
    expect(records.map((r) => [r.message, r.firstLine])).toEqual([
      ['ok 1', 1],
      ['ok 2', 3],
      ['ok 3', 7],
      ['ok 4', 11],
    ]);
    expect(malformed.map((m) => m.line)).toEqual([2, 4, 5, 8, 9, 10]);
    expect(malformed[1]!.reason).toMatch(/type "7"/);
    expect(malformed[2]!.reason).toMatch(/no \]LOG\]!>/);
    expect(malformed[3]!.reason).toMatch(/calendar date/);
    expect(malformed[4]!.reason).toMatch(/does not match its hex/);
  });

  it('resynchronises after NUL padding, as CMTrace does: the record that follows it on the same line is read', () => {
    const good = (n: number) =>
      `<![LOG[ok ${n}]LOG]!><time="15:10:29.068+00" date="02-04-2020" component="ccmsetup" context="" type="1" thread="1" file="a.cpp:1">\r\n`;
    // A log cut short by a crash: the rest of its allocation is NULs, and the next start appends after them.
    const text = good(1) + '<![LOG[cut sh' + '\u0000'.repeat(300) + good(2) + good(3);
    const { records, malformed } = parseCmLog(text);
    expect(records.map((r) => [r.message, r.firstLine])).toEqual([
      ['ok 1', 1],
      ['ok 2', 2],
      ['ok 3', 3],
    ]);
    expect(malformed.map((m) => m.line)).toEqual([2]);
  });

  it('skips NUL padding between complete records: no malformed record, line numbers unchanged', () => {
    const good = (n: number) =>
      `<![LOG[ok ${n}]LOG]!><time="15:10:29.068+00" date="02-04-2020" component="ccmsetup" context="" type="1" thread="1" file="a.cpp:1">\r\n`;
    const server = 'srv ok  $$<SMS_MP><02-04-2020 15:10:29.068+00><thread=12 (0xC)>\r\n';
    const nuls = (k: number) => '\u0000'.repeat(k);
    // At a line start, before the next record on the same line.
    expect(parseCmLog(good(1) + nuls(500) + good(2) + good(3))).toMatchObject({
      records: [{ message: 'ok 1', firstLine: 1 }, { message: 'ok 2', firstLine: 2 }, { message: 'ok 3', firstLine: 3 }],
      malformed: [],
    });
    // Right after a record's closing '>', on lines of their own, before a server record, and at the end.
    const text = good(1).trimEnd() + nuls(3) + '\r\n' + '\r\n' + nuls(40) + '\r\n' + good(2) + nuls(7) + server + good(3) + nuls(64);
    const { records, malformed } = parseCmLog(text);
    expect(malformed).toEqual([]);
    expect(records.map((r) => [r.message, r.firstLine])).toEqual([
      ['ok 1', 1],
      ['ok 2', 4],
      ['srv ok', 5],
      ['ok 3', 6],
    ]);
  });

  it('reads a .lo_ file like a .log (same bytes, same result) and an empty file as no records', () => {
    const text = formatCmtraceRecord({ message: 'm', component: 'c', type: 2, thread: 1, file: 'f.cpp:1', time: 0 }, 'UTC');
    expect(parseCmLog(Buffer.from(`\uFEFF${text}`))).toEqual(parseCmLog(`\uFEFF${text}`));
    expect(parseCmLog('')).toEqual({ records: [], malformed: [], bom: false });
    expect(parseCmLog('\uFEFF')).toEqual({ records: [], malformed: [], bom: true });
  });
});

describe('round trip: parse(write(records)) gives the records back', () => {
  const zones = ['UTC', 'America/Los_Angeles', 'Europe/Paris', 'Asia/Kolkata', 'Australia/Sydney', 'America/St_Johns'];
  const words = ['ccmsetup', 'Sending', 'message', 'GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139', '0x87d00231', 'C:\\Windows\\ccmsetup\\', '"quoted"', "'single'", 'a&b', '~', '~~', '$$', '$', '  ', '\t', ']LOG]', '<![LOG', 'ü€', '100%'];

  function randomMessage(r: Random): string {
    const kind = r.int(0, 4);
    if (kind === 0) return '';
    const phrase = () => Array.from({ length: r.int(1, 8) }, () => r.pick(words)).join(' ');
    if (kind === 1) return phrase();
    const br = () => r.pick(['\r\n', '\n', '\r']);
    // Leading and trailing line breaks and spaces must survive too.
    if (kind === 2) return `${r.pick(['', ' ', '  '])}${br()}${phrase()}${r.pick(['', ' ', '\t', br()])}`;
    // Multi-line XML with TABs, <, >, quotes and mixed line breaks.
    return (
      `Received header '<Msg SchemaVersion="1.1">${br()}\t<ID>{${r.uuid().toUpperCase()}}</ID>${br()}` +
      `\t<SourceHost>${phrase()}</SourceHost>${br()}\t<Body Type="ByteRange" Length="${r.int(0, 99999)}"/>${br()}</Msg>'` +
      (r.chance(0.3) ? `${br()}${phrase()}${br()}` : '')
    );
  }

  function randomRecords(seed: number, count: number): CmLogRecord[] {
    const r = new Random(seed);
    let time = Date.UTC(2019, 0, 1) + r.int(0, 10 ** 9);
    return Array.from({ length: count }, () => {
      time += r.int(0, 3 * 24 * 3600 * 1000);
      return {
        message: randomMessage(r),
        component: r.pick(['ccmsetup', 'ClientIDManagerStartup', 'LocationServices', 'MP Registration Manager', 'SMS_CLOUD_PROXYCONNECTOR']),
        type: r.int(0, 3) as LogType,
        thread: r.int(0, 2 ** 31),
        file: r.pick(['', 'ccmsetup.cpp:9498', 'state.h:67', 'util.cpp:2075']),
        time,
      };
    });
  }

  for (const format of ['cmtrace', 'server'] as const) {
    it(`${format}: 600 random records over six zones, one seed per zone`, () => {
      zones.forEach((tz, z) => {
        const write = format === 'cmtrace' ? formatCmtraceRecord : formatServerRecord;
        // A message the format cannot carry is refused (never written); the rest must come back unchanged.
        const unsafe = format === 'cmtrace' ? [']LOG]!>', '<![LOG['] : ['$$<', '<![LOG['];
        const records: CmLogRecord[] = [];
        const chunks: string[] = [];
        for (const rec of randomRecords(1000 + z, 100)) {
          const holdsTerminator = unsafe.some((u) => normalizeLineBreaks(rec.message).includes(u));
          try {
            chunks.push(write(rec, tz));
            records.push(rec);
            expect(holdsTerminator).toBe(false);
          } catch (err) {
            expect(isCcmsimError(err, 'CCMSIM_LOG_UNSAFE_MESSAGE') && holdsTerminator).toBe(true);
          }
        }
        expect(records.length).toBeGreaterThan(80);
        const text = `\uFEFF${chunks.join('')}`;
        const parsed = parseCmLog(Buffer.from(text, 'utf8'));
        expect(parsed.malformed).toEqual([]);
        expect(parsed.records).toHaveLength(records.length);
        let line = 1;
        parsed.records.forEach((p, i) => {
          const rec = records[i]!;
          expect(p.format).toBe(format);
          expect(p.message).toBe(normalizeLineBreaks(rec.message));
          expect(p.component).toBe(rec.component);
          expect(p.thread).toBe(rec.thread);
          expect(p.utcTimeMs).toBe(rec.time);
          if (format === 'cmtrace') {
            expect(p.type).toBe(rec.type);
            expect(p.file).toBe(rec.file);
            expect(p.context).toBe('');
          }
          expect(p.firstLine).toBe(line);
          line = p.lastLine + 1;
        });
      });
    });
  }
});
