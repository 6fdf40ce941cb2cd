import { describe, it, expect } from 'vitest';
import { isCcmsimError } from '../../src/errors.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, formatDuration, parseDuration } from '../../src/agent/lifecycle/duration.js';
import {
  extractLifecycleArgs,
  parseLifecycleOptions,
  parseOffline,
  parseRestartAt,
  parseRoam,
  parseSiteEvents,
  parseStartOption,
} from '../../src/agent/lifecycle/lifecycle-options.js';

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isCcmsimError(err, 'CCMSIM_USAGE')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a CCMSIM_USAGE error');
}

describe('durations', () => {
  it('reads days, hours, minutes, seconds and combinations', () => {
    expect(parseDuration('200d', '--run-for')).toBe(200 * DAY_MS);
    expect(parseDuration('36h', '--run-for')).toBe(36 * HOUR_MS);
    expect(parseDuration('90m', '--run-for')).toBe(90 * MINUTE_MS);
    expect(parseDuration('1d12h', '--run-for')).toBe(36 * HOUR_MS);
    expect(parseDuration('0d', '--roam', { allowZero: true })).toBe(0);
    expect(formatDuration(36 * HOUR_MS)).toBe('1d12h');
  });

  it('refuses malformed and zero durations, naming the option', () => {
    expect(usageError(() => parseDuration('12', '--run-for'))).toMatch(/--run-for: '12' is not a duration/);
    expect(usageError(() => parseDuration('12h1d', '--run-for'))).toMatch(/largest first/);
    expect(usageError(() => parseDuration('1.5d', '--run-for'))).toMatch(/not a duration/);
    expect(usageError(() => parseDuration('', '--run-for'))).toMatch(/not a duration/);
    expect(usageError(() => parseDuration('0d', '--restart-every'))).toMatch(/longer than zero/);
  });
});

describe('--roam', () => {
  it('reads contiguous periods from the install with an open end', () => {
    expect(parseRoam('internet:0d-30d,intranet:30d-32d,internet:32d-')).toEqual([
      { network: 'internet', fromMs: 0, toMs: 30 * DAY_MS },
      { network: 'intranet', fromMs: 30 * DAY_MS, toMs: 32 * DAY_MS },
      { network: 'internet', fromMs: 32 * DAY_MS },
    ]);
  });

  it('refuses gaps, overlaps, a late first period, a closed last period and unknown networks', () => {
    expect(usageError(() => parseRoam('internet:0d-30d,intranet:31d-'))).toMatch(/gap between 30d and 31d/);
    expect(usageError(() => parseRoam('internet:0d-30d,intranet:29d-'))).toMatch(/overlaps/);
    expect(usageError(() => parseRoam('internet:1d-'))).toMatch(/must start at 0d/);
    expect(usageError(() => parseRoam('internet:0d-30d'))).toMatch(/last period must be open-ended/);
    expect(usageError(() => parseRoam('internet:0d-,intranet:30d-'))).toMatch(/only the last period may be open-ended/);
    expect(usageError(() => parseRoam('vpn:0d-'))).toMatch(/use internet or intranet/);
    expect(usageError(() => parseRoam('internet:30d-10d,intranet:10d-'))).toMatch(/ends before it starts/);
  });
});

describe('--offline, --site-event, --restart-at', () => {
  it('reads repeated and comma-listed offline windows, sorted', () => {
    expect(parseOffline('40d-')).toEqual([{ fromMs: 40 * DAY_MS }]);
    const w = parseOffline(['100d-110d', '40d-50d,55d-60d']);
    expect(w.map((x) => [x.fromMs / DAY_MS, x.toMs! / DAY_MS])).toEqual([
      [40, 50],
      [55, 60],
      [100, 110],
    ]);
    expect(usageError(() => parseOffline(['40d-50d', '45d-60d']))).toMatch(/overlap/);
    expect(usageError(() => parseOffline('40d-'.concat(',50d-60d')))).toMatch(/overlap/);
  });

  it('reads site events', () => {
    expect(parseSiteEvents(['90d:cmg-enabled=false', '60d:rotate-token-signing'])).toEqual([
      { atMs: 60 * DAY_MS, action: { kind: 'rotate-token-signing' }, text: '60d:rotate-token-signing' },
      { atMs: 90 * DAY_MS, action: { kind: 'cmg-enabled', value: false }, text: '90d:cmg-enabled=false' },
    ]);
    expect(usageError(() => parseSiteEvents('60d:reboot-site'))).toMatch(/unknown event 'reboot-site'/);
    expect(usageError(() => parseSiteEvents('rotate-token-signing'))).toMatch(/not <offset>:<event>/);
  });

  it('reads a 24-hour restart time', () => {
    expect(parseRestartAt('08:00')).toEqual({ hour: 8, minute: 0, second: 0 });
    expect(usageError(() => parseRestartAt('8am'))).toMatch(/24-hour/);
    expect(usageError(() => parseRestartAt('24:00'))).toMatch(/24-hour/);
  });
});

describe('--start', () => {
  it('takes a time without an offset as the client local time, DST-aware', () => {
    expect(parseStartOption('2028-01-31T10:00', 'America/New_York')).toBe(Date.UTC(2028, 0, 31, 15, 0));
    expect(parseStartOption('2028-07-01T10:00', 'America/New_York')).toBe(Date.UTC(2028, 6, 1, 14, 0));
    expect(parseStartOption('2028-01-31T10:00:00Z', 'America/New_York')).toBe(Date.UTC(2028, 0, 31, 10, 0));
    expect(parseStartOption('2028-01-31', 'Europe/Paris')).toBe(Date.UTC(2028, 0, 30, 23, 0));
    expect(usageError(() => parseStartOption('2028-02-30T10:00', 'UTC'))).toMatch(/'2028-02-30T10:00' is not a valid ISO date-time/);
    expect(usageError(() => parseStartOption('2028-02-30T10:00Z', 'UTC'))).toMatch(/not a valid ISO date-time/);
    expect(usageError(() => parseStartOption('yesterday', 'UTC'))).toMatch(/'yesterday' is not a valid ISO date-time/);
  });
});

describe('the options together', () => {
  it('gives defaults (restart every day) and absolute-free offsets', () => {
    const o = parseLifecycleOptions({ runFor: '200d' }, { alwaysInternet: false })!;
    expect(o.runForMs).toBe(200 * DAY_MS);
    expect(o.restart).toEqual({ everyMs: DAY_MS });
    expect(o.roam).toBeUndefined();
  });

  it('refuses stray options without --run-for, --restart-at with sub-day restarts and intranet periods under CCMALWAYSINF=1', () => {
    expect(parseLifecycleOptions({}, { alwaysInternet: false })).toBeUndefined();
    expect(usageError(() => parseLifecycleOptions({ offline: '1d-2d' }, { alwaysInternet: false }))).toMatch(/^--offline only applies with --run-for <duration>$/);
    expect(usageError(() => parseLifecycleOptions({ runFor: '10d', restartEvery: '12h', restartAt: '08:00' }, { alwaysInternet: false }))).toMatch(
      /--restart-at needs --restart-every in whole days/,
    );
    expect(usageError(() => parseLifecycleOptions({ runFor: '10d', roam: 'internet:0d-1d,intranet:1d-' }, { alwaysInternet: true }))).toMatch(/CCMALWAYSINF=1/);
  });

  it('takes its options out of a simulator argument list', () => {
    const { raw, rest } = extractLifecycleArgs(['--run-for', '200d', '--offline=40d-50d', '--offline', '60d-70d', '--json', '--seed', '7', '--site-event', '60d:rotate-token-signing']);
    expect(raw).toEqual({ runFor: '200d', offline: ['40d-50d', '60d-70d'], json: true, siteEvent: ['60d:rotate-token-signing'] });
    expect(rest).toEqual(['--seed', '7']);
    expect(extractLifecycleArgs(['--json=false']).raw).toEqual({ json: false });
    expect(usageError(() => extractLifecycleArgs(['--run-for']))).toMatch(/--run-for needs a value/);
  });
});
