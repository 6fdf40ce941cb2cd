// The MP's IIS log on its own: a header on each new day's file, one line per request, batched lines written at the
// end of the turn or at close, and a file that already exists appended to without a second header.
import { describe, it, expect, afterEach } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IisLog, type IisLogEntry } from '../../src/site/iis-log.js';
import { sitePaths } from '../../src/site/site-dir.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function entry(iso: string, path: string): IisLogEntry {
  return { timeMs: Date.parse(iso), serverIp: '10.0.0.5', method: 'GET', path, query: 'MPLIST', serverPort: 80, clientIp: '10.0.0.9', userAgent: 'SMS CCM 5.0', status: 200, timeTakenMs: 3 };
}

function lines(log: IisLog, iso: string): string[] {
  return readFileSync(log.pathFor(Date.parse(iso)), 'utf8').split('\r\n').filter((l) => l !== '');
}

describe('the IIS access log', () => {
  it("refuses up front a day's file or the log folder that is something else, naming it", () => {
    const dir = mkdtempSync(join(tmpdir(), 'iis-'));
    dirs.push(dir);
    const log = new IisLog(sitePaths(dir));
    const now = Date.parse('2026-03-01T10:00:00Z');
    expect(() => log.checkWritable(now)).not.toThrow();
    mkdirSync(log.pathFor(now), { recursive: true });
    expect(() => log.checkWritable(now)).toThrow(
      expect.objectContaining({ code: 'CCMSIM_SITE_STATE', message: `the IIS log file ${log.pathFor(now)} cannot be written: it is not a file` }),
    );
    // Another day's file is not today's business.
    expect(() => log.checkWritable(now + 86_400_000)).not.toThrow();
    // A file above the log folder: statSync says ENOTDIR, which is no "not there yet" (every request was a 500).
    const other = mkdtempSync(join(tmpdir(), 'iis-'));
    dirs.push(other);
    writeFileSync(join(other, 'inetpub'), 'a file where a folder belongs');
    const blocked = new IisLog(sitePaths(other));
    expect(() => blocked.checkWritable(now)).toThrow(
      expect.objectContaining({ code: 'CCMSIM_SITE_STATE', message: `the IIS log directory ${join(other, 'inetpub', 'logs', 'LogFiles', 'W3SVC1')} cannot be written: ${join(other, 'inetpub')} is not a directory` }),
    );
  });

  it('starts each day with the W3C header and appends to an existing file without another', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccmsim-iis-'));
    dirs.push(dir);
    const paths = sitePaths(dir);
    const first = new IisLog(paths);
    first.write(entry('2026-03-01T23:59:58Z', '/SMS_MP/.sms_aut'));
    first.write(entry('2026-03-02T00:00:01Z', '/SMS_MP/.sms_aut'));
    first.close();
    const again = new IisLog(paths);
    again.write(entry('2026-03-02T08:00:00Z', '/CCM_Client/ccmsetup.cab'));
    again.close();
    expect(lines(first, '2026-03-01T00:00:00Z')).toEqual([
      '#Software: Microsoft Internet Information Services 10.0',
      '#Version: 1.0',
      '#Date: 2026-03-01 23:59:58',
      expect.stringMatching(/^#Fields: date time s-ip cs-method /),
      '2026-03-01 23:59:58 10.0.0.5 GET /SMS_MP/.sms_aut MPLIST 80 - 10.0.0.9 SMS+CCM+5.0 - 200 0 0 3',
    ]);
    const day2 = lines(first, '2026-03-02T00:00:00Z');
    expect(day2.filter((l) => l.startsWith('#Software'))).toHaveLength(1);
    expect(day2.filter((l) => !l.startsWith('#')).map((l) => l.split(' ')[4])).toEqual(['/SMS_MP/.sms_aut', '/CCM_Client/ccmsetup.cab']);
  });

  it('with batchWrites, writes a turn\'s lines at the end of the turn, and what is left at close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccmsim-iis-'));
    dirs.push(dir);
    const log = new IisLog(sitePaths(dir), { batchWrites: true });
    log.write(entry('2026-03-01T10:00:00Z', '/a'));
    log.write(entry('2026-03-01T10:00:01Z', '/b'));
    expect(readFileSync(log.pathFor(Date.parse('2026-03-01T10:00:00Z')), 'utf8')).toBe('');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines(log, '2026-03-01T10:00:00Z').filter((l) => !l.startsWith('#'))).toHaveLength(2);
    log.write(entry('2026-03-01T10:00:02Z', '/c'));
    log.close();
    expect(lines(log, '2026-03-01T10:00:00Z').filter((l) => !l.startsWith('#')).map((l) => l.split(' ')[4])).toEqual(['/a', '/b', '/c']);
  });

  it('scrubs tokens from every field as the server logs do: JWT-shaped text, and the parts of a presented token', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccmsim-iis-'));
    dirs.push(dir);
    const token = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJVbmlxdWVJZCI6ImFiYyJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
    const signature = token.split('.')[2]!;
    const log = new IisLog(sitePaths(dir));
    const at = '2026-03-01T10:00:00Z';
    log.write({ ...entry(at, `/${token}`), query: `MPLIST&t=${token}`, userAgent: token });
    log.write({ ...entry(at, `/SMS_MP/${signature}`), secrets: [token, ...token.split('.')] });
    // A token longer than the 500-character cut is removed whole, not cut into a part the JWT shape misses.
    log.write({ ...entry(at, '/a'), query: `${'x'.repeat(480)}&t=${token}` });
    log.close();
    const text = readFileSync(log.pathFor(Date.parse(at)), 'utf8');
    for (const part of token.split('.')) expect(text).not.toContain(part);
    expect(lines(log, at).filter((l) => !l.startsWith('#')).map((l) => l.split(' ').slice(4, 6).concat(l.split(' ')[9]!))).toEqual([
      ['/[token+removed]', 'MPLIST&t=[token+removed]', '[token+removed]'],
      ['/SMS_MP/[removed]', 'MPLIST', 'SMS+CCM+5.0'],
      ['/a', `${'x'.repeat(480)}&t=[token+removed]`, 'SMS+CCM+5.0'],
    ]);
  });

  it('writes bytes outside visible ASCII as %XX, never raw, and spaces as +', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccmsim-iis-'));
    dirs.push(dir);
    const log = new IisLog(sitePaths(dir));
    const at = '2026-03-01T10:00:00Z';
    // Wire text is read as latin1, so 'Ã©' is the two bytes of a UTF-8 é.
    log.write({ ...entry(at, '/SMS_MP/\x00\x7f'), query: 'a=\x1b[2J', userAgent: 'Caf\u00c3\u00a9 1.0\tx' });
    log.close();
    const text = readFileSync(log.pathFor(Date.parse(at)));
    expect([...text].every((b) => b === 0x0d || b === 0x0a || (b >= 0x20 && b < 0x7f))).toBe(true);
    const fields = lines(log, at).at(-1)!.split(' ');
    expect([fields[4], fields[5], fields[9]]).toEqual(['/SMS_MP/%00%7F', 'a=%1B[2J', 'Caf%C3%A9+1.0+x']);
  });
});
