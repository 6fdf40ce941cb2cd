import { describe, it, expect } from 'vitest';
import { DAY_MS, HOUR_MS } from '../../src/agent/lifecycle/duration.js';
import { parseOffline, parseRoam } from '../../src/agent/lifecycle/lifecycle-options.js';
import { formatLocal, fromLocal } from '../../src/agent/lifecycle/local-time.js';
import { locationAt, locationChanges, restartTime, type ClientSchedule } from '../../src/agent/lifecycle/schedule.js';

const NY = 'America/New_York';

function schedule(over: Partial<ClientSchedule>): ClientSchedule {
  return {
    installMs: Date.UTC(2028, 0, 31, 15, 0),
    endMs: Date.UTC(2029, 0, 31, 15, 0),
    timeZone: NY,
    restart: { everyMs: DAY_MS },
    installNetwork: 'internet',
    offline: [],
    ...over,
  };
}

describe('local wall time in the client zone', () => {
  it('moves a skipped time forward and takes the first of a repeated time', () => {
    // 2028-03-12 02:30 does not exist in New York (clocks jump 02:00 -> 03:00).
    expect(formatLocal(fromLocal({ year: 2028, month: 3, day: 12, hour: 2, minute: 30, second: 0, millisecond: 0 }, NY), NY)).toBe('2028-03-12 03:30:00');
    // 2028-11-05 01:30 happens twice; the first one is still EDT (05:30Z).
    expect(fromLocal({ year: 2028, month: 11, day: 5, hour: 1, minute: 30, second: 0, millisecond: 0 }, NY)).toBe(Date.UTC(2028, 10, 5, 5, 30));
  });
});

describe('restarts', () => {
  it('happen at the install local time of day by default, across DST (fixed local time, not fixed 24 h)', () => {
    const s = schedule({});
    const first = [0, 1, 2].map((k) => formatLocal(restartTime(s, k)!, NY));
    expect(first).toEqual(['2028-02-01 10:00:00', '2028-02-02 10:00:00', '2028-02-03 10:00:00']);
    // Around the spring-forward night the local time stays 10:00, so the gap between restarts is 23 h.
    const k11 = restartTime(s, 39)!; // Feb 1 + 39 days (leap year) = 2028-03-11
    const k12 = restartTime(s, 40)!;
    expect(formatLocal(k11, NY)).toBe('2028-03-11 10:00:00');
    expect(formatLocal(k12, NY)).toBe('2028-03-12 10:00:00');
    expect(k12 - k11).toBe(23 * HOUR_MS);
  });

  it('happen at --restart-at, the first one being the first such time after the install', () => {
    const s = schedule({ restart: { everyMs: DAY_MS, at: { hour: 8, minute: 0, second: 0 } } });
    expect(formatLocal(restartTime(s, 0)!, NY)).toBe('2028-02-01 08:00:00');
    const early = schedule({ restart: { everyMs: 2 * DAY_MS, at: { hour: 12, minute: 0, second: 0 } } });
    expect([0, 1].map((k) => formatLocal(restartTime(early, k)!, NY))).toEqual(['2028-01-31 12:00:00', '2028-02-02 12:00:00']);
  });

  it('are plain intervals when the period is not whole days, and stop at the end of the run', () => {
    const s = schedule({ restart: { everyMs: 36 * HOUR_MS }, endMs: Date.UTC(2028, 0, 31, 15, 0) + 4 * DAY_MS });
    expect(restartTime(s, 0)).toBe(s.installMs + 36 * HOUR_MS);
    expect(restartTime(s, 1)).toBe(s.installMs + 72 * HOUR_MS);
    expect(restartTime(s, 2)).toBeUndefined();
  });
});

describe('location', () => {
  it('follows --roam periods, with offline windows on top', () => {
    const s = schedule({ roam: parseRoam('internet:0d-30d,intranet:30d-32d,internet:32d-'), offline: parseOffline('40d-140d') });
    const at = (d: number): string => locationAt(s, s.installMs + d * DAY_MS);
    expect([at(0), at(29.9), at(30), at(31.9), at(32), at(40), at(139.9), at(140)]).toEqual([
      'internet',
      'internet',
      'intranet',
      'intranet',
      'internet',
      'offline',
      'offline',
      'internet',
    ]);
    expect(locationChanges(s).map((c) => [(c.atMs - s.installMs) / DAY_MS, c.location])).toEqual([
      [30, 'intranet'],
      [32, 'internet'],
      [40, 'offline'],
      [140, 'internet'],
    ]);
  });

  it('is the install network without --roam', () => {
    const s = schedule({ installNetwork: 'intranet' });
    expect(locationAt(s, s.installMs + 100 * DAY_MS)).toBe('intranet');
  });
});
