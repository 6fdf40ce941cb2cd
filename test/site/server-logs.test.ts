// The server logs' safety nets: token parts and JWT-shaped text never reach a file; wire text cannot end a record.
import { describe, it, expect, afterEach } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { VirtualClock } from '../../src/clock/clock.js';
import { ServerLogs, scrub, tokenSecrets } from '../../src/site/server-logs.js';
import { sitePaths } from '../../src/site/site-dir.js';
import { parseCmLog } from '../../src/log/reader.js';
import { tempDir } from '../site-state/site-fixture.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJVbmlxdWVJZCI6ImFiYyJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';

describe('server logs', () => {
  it('scrubs presented token parts and anything JWT-shaped, but leaves host names alone', () => {
    const [h, p, s] = TOKEN.split('.');
    expect(scrub(`payload ${p} and signature ${s}`, tokenSecrets(TOKEN))).toBe('payload [removed] and signature [removed]');
    expect(scrub(`header ${h}`, tokenSecrets(TOKEN))).toBe('header [removed]');
    expect(scrub(`a token ${TOKEN} inline`, [])).toBe('a token [token removed] inline');
    expect(scrub("Client 'PC001.corp.contoso.com' at MP01.CONTOSO.COM", [])).toBe("Client 'PC001.corp.contoso.com' at MP01.CONTOSO.COM");
  });

  it('refuses up front a log path that holds a directory, naming it; missing logs and files are fine', () => {
    const { dir, cleanup } = tempDir('logs');
    cleanups.push(cleanup);
    const logs = new ServerLogs({ paths: sitePaths(dir), clock: new VirtualClock(Date.parse('2026-03-01T09:00:00Z')) });
    expect(() => logs.checkWritable()).not.toThrow();
    logs.write('CCM_STS', 'a line');
    logs.close();
    expect(() => logs.checkWritable()).not.toThrow();
    mkdirSync(logs.pathOf('MP_RegistrationManager'), { recursive: true });
    expect(() => logs.checkWritable()).toThrow(
      expect.objectContaining({ code: 'CCMSIM_SITE_STATE', message: `the server log ${logs.pathOf('MP_RegistrationManager')} cannot be written: it is not a file` }),
    );
  });

  it('writes CMTrace and server records that read back whole, even when wire text holds record delimiters', () => {
    const { dir, cleanup } = tempDir('logs');
    cleanups.push(cleanup);
    const logs = new ServerLogs({ paths: sitePaths(dir), clock: new VirtualClock(Date.parse('2026-03-01T09:00:00Z')) });
    logs.write('CcmIsapi', 'evil ]LOG]!><time="x" and <![LOG[ fake', 3, { secrets: [], threadSeed: 1 });
    logs.write('CMGService', 'evil $$<Fake><01-01-2000 00:00:00.000+00><thread=1 (0x1)>\r\nsecond line', 2, { secrets: tokenSecrets(TOKEN), threadSeed: 0 });
    logs.close();
    const isapi = parseCmLog(readFileSync(logs.pathOf('CcmIsapi')));
    expect(isapi.malformed).toEqual([]);
    expect(isapi.records).toHaveLength(1);
    expect(isapi.records[0]).toMatchObject({ component: 'CcmIsapi', type: 3, thread: 3044, message: 'evil ]LOG ]!><time="x" and <![LOG [ fake' });
    const cmg = parseCmLog(readFileSync(logs.pathOf('CMGService')));
    expect(cmg.malformed).toEqual([]);
    expect(cmg.records).toHaveLength(1);
    expect(cmg.records[0]).toMatchObject({ component: 'CMGService', thread: 4992, message: 'evil $ $<Fake><01-01-2000 00:00:00.000+00><thread=1 (0x1)> second line' });
  });
});
