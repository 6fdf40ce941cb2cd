import { describe, expect, it } from 'vitest';
import { biasMinutes, formatBias, formatBiasMinutes, localTimeText } from '../../src/log/bias.js';
import { isCcmsimError } from '../../src/errors.js';

const at = (iso: string) => Date.parse(iso);

describe('Windows bias (UTC = local + bias)', () => {
  it('prints zero as +00 and other values like C %+03d', () => {
    expect(formatBiasMinutes(0)).toBe('+00');
    expect(formatBiasMinutes(480)).toBe('+480');
    expect(formatBiasMinutes(-60)).toBe('-60');
    expect(formatBiasMinutes(-330)).toBe('-330');
    expect(formatBiasMinutes(5)).toBe('+05');
    expect(formatBias(at('2020-02-04T15:10:29.068Z'), 'UTC')).toBe('+00');
  });

  it('follows America/Los_Angeles across the March and November 2024 transitions', () => {
    // DST starts 2024-03-10 02:00 PST = 10:00 UTC; ends 2024-11-03 02:00 PDT = 09:00 UTC.
    expect(formatBias(at('2024-03-10T09:59:59.999Z'), 'America/Los_Angeles')).toBe('+480');
    expect(formatBias(at('2024-03-10T10:00:00.000Z'), 'America/Los_Angeles')).toBe('+420');
    expect(formatBias(at('2024-11-03T08:59:59.999Z'), 'America/Los_Angeles')).toBe('+420');
    expect(formatBias(at('2024-11-03T09:00:00.000Z'), 'America/Los_Angeles')).toBe('+480');
    // Local text at the spring-forward instant jumps from 01:59:59.999 to 03:00:00.000.
    expect(localTimeText(at('2024-03-10T09:59:59.999Z'), 'America/Los_Angeles').localTime).toBe('01:59:59.999');
    expect(localTimeText(at('2024-03-10T10:00:00.000Z'), 'America/Los_Angeles').localTime).toBe('03:00:00.000');
  });

  it('gives -60/-120 for Europe/Paris and -60 for Europe/London in summer', () => {
    expect(formatBias(at('2024-01-15T12:00:00Z'), 'Europe/Paris')).toBe('-60');
    expect(formatBias(at('2024-07-15T12:00:00Z'), 'Europe/Paris')).toBe('-120');
    // Europe switches at 01:00 UTC on the last Sunday of March (2024-03-31).
    expect(formatBias(at('2024-03-31T00:59:59.999Z'), 'Europe/Paris')).toBe('-60');
    expect(formatBias(at('2024-03-31T01:00:00.000Z'), 'Europe/Paris')).toBe('-120');
    expect(formatBias(at('2016-09-02T07:06:34.590Z'), 'Europe/London')).toBe('-60');
    expect(formatBias(at('2016-12-02T07:06:34.590Z'), 'Europe/London')).toBe('+00');
  });

  it('gives -330 for Asia/Kolkata (no DST) and -600/-660 for Australia/Sydney', () => {
    expect(formatBias(at('2014-11-20T01:33:10.647Z'), 'Asia/Kolkata')).toBe('-330');
    expect(formatBias(at('2014-06-20T01:33:10.647Z'), 'Asia/Kolkata')).toBe('-330');
    expect(formatBias(at('2012-11-20T00:00:00Z'), 'Australia/Sydney')).toBe('-660');
    expect(formatBias(at('2012-06-20T00:00:00Z'), 'Australia/Sydney')).toBe('-600');
    // Southern-hemisphere DST ends 2024-04-07 03:00 AEDT = 2024-04-06 16:00 UTC.
    expect(biasMinutes(at('2024-04-06T15:59:59Z'), 'Australia/Sydney')).toBe(-660);
    expect(biasMinutes(at('2024-04-06T16:00:00Z'), 'Australia/Sydney')).toBe(-600);
  });

  it('prints local time and date for the zone, whatever the host TZ', () => {
    const t = localTimeText(at('2023-01-13T21:28:46.510Z'), 'America/Los_Angeles');
    expect(t).toEqual({ localTime: '13:28:46.510', date: '01-13-2023', bias: '+480', biasMinutes: 480 });
    // Crossing midnight eastwards: 20:00 UTC on Dec 31 is already Jan 1 in Kolkata.
    const k = localTimeText(at('2019-12-31T20:00:00.007Z'), 'Asia/Kolkata');
    expect(k).toEqual({ localTime: '01:30:00.007', date: '01-01-2020', bias: '-330', biasMinutes: -330 });
    // UTC = local + bias holds for every sample.
    for (const tz of ['America/Los_Angeles', 'Europe/Paris', 'Asia/Kolkata', 'Australia/Sydney', 'UTC']) {
      const ms = at('2024-10-27T00:30:00.250Z');
      const x = localTimeText(ms, tz);
      const [mo, d, y] = x.date.split('-').map(Number);
      const [h, mi, s] = x.localTime.split(':').map(Number);
      expect(Date.UTC(y!, mo! - 1, d!, h!, mi!, Math.floor(s!), 250) + x.biasMinutes * 60_000).toBe(ms);
    }
  });

  it('refuses an unknown zone with a CcmsimError', () => {
    let err: unknown;
    try {
      formatBias(0, 'Mars/Olympus_Mons');
    } catch (e) {
      err = e;
    }
    expect(isCcmsimError(err, 'CCMSIM_USAGE')).toBe(true);
  });
});
