import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatCmtraceRecord, formatServerRecord, type CmLogRecord, type LogType } from '../../src/log/record.js';
import { parseCmLog } from '../../src/log/reader.js';

interface GoldenEntry {
  name: string;
  format: 'cmtrace' | 'server';
  timeZone: string;
  utc: string;
  record: { message: string; component: string; type: LogType; thread: number; file: string };
  expected: string;
}

const golden = JSON.parse(readFileSync(new URL('../golden/logs/real-lines.json', import.meta.url), 'utf8')) as {
  entries: GoldenEntry[];
};

describe('golden: real log lines from logs.md, reproduced byte for byte from their fields', () => {
  it('has the genuine samples, both formats', () => {
    expect(golden.entries.length).toBeGreaterThanOrEqual(10);
    expect(golden.entries.some((e) => e.format === 'server')).toBe(true);
  });

  for (const entry of golden.entries) {
    it(`${entry.name} (${entry.timeZone})`, () => {
      const rec: CmLogRecord = { ...entry.record, time: Date.parse(entry.utc) };
      const text = entry.format === 'cmtrace' ? formatCmtraceRecord(rec, entry.timeZone) : formatServerRecord(rec, entry.timeZone);
      expect(Buffer.from(text, 'utf8').equals(Buffer.from(entry.expected, 'utf8'))).toBe(true);
      expect(text).toBe(entry.expected);
      // …and the reader gives the same fields and instant back.
      const parsed = parseCmLog(text);
      expect(parsed.malformed).toEqual([]);
      expect(parsed.records).toHaveLength(1);
      expect(parsed.records[0]!.message).toBe(rec.message);
      expect(parsed.records[0]!.utcTimeMs).toBe(rec.time);
      expect(parsed.records[0]!.thread).toBe(rec.thread);
    });
  }

  it('reproduces the `ccmsetup started in process 476` record exactly', () => {
    const text = formatCmtraceRecord(
      {
        message: '==========[ ccmsetup started in process 476 ]==========',
        component: 'ccmsetup',
        type: 1,
        thread: 3396,
        file: 'ccmsetup.cpp:9498',
        time: Date.UTC(2020, 1, 4, 15, 10, 29, 68),
      },
      'UTC',
    );
    expect(text).toBe(
      '<![LOG[==========[ ccmsetup started in process 476 ]==========]LOG]!><time="15:10:29.068+00" date="02-04-2020" component="ccmsetup" context="" type="1" thread="3396" file="ccmsetup.cpp:9498">\r\n',
    );
  });

  it('prints the bias samples seen in real logs: +480, -60 (London summer), -330 (Kolkata), +300 (US Eastern winter)', () => {
    const base = { message: 'x', component: 'c', type: 1 as const, thread: 1, file: '' };
    const time = (tz: string, iso: string) => /time="([^"]+)"/.exec(formatCmtraceRecord({ ...base, time: Date.parse(iso) }, tz))![1];
    expect(time('America/Los_Angeles', '2017-01-10T09:52:13.827Z')).toBe('01:52:13.827+480');
    expect(time('Europe/London', '2016-07-01T03:20:47.594Z')).toBe('04:20:47.594-60');
    expect(time('Asia/Kolkata', '2014-11-03T01:33:10.647Z')).toBe('07:03:10.647-330');
    expect(formatServerRecord({ ...base, time: Date.parse('2016-12-06T08:11:46.039Z') }, 'America/New_York')).toContain(
      '<12-06-2016 03:11:46.039+300>',
    );
  });
});
