/**
 * Owns the simulator's duration syntax (`200d`, `36h`, `90m`, `45s`, `1d12h`): whole units, largest first, each at
 * most once. Used by `--run-for`, `--restart-every` and the offsets of `--roam`, `--offline` and `--site-event`.
 */
import { CcmsimError } from '../../errors.js';

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', DAY_MS],
  ['h', HOUR_MS],
  ['m', MINUTE_MS],
  ['s', SECOND_MS],
];

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * Parses a duration into milliseconds. `what` names the option in the error message (`--run-for`).
 * Zero is allowed only when `allowZero` is set (offsets such as `0d`).
 */
export function parseDuration(text: string, what: string, options: { allowZero?: boolean } = {}): number {
  const value = text.trim();
  const m = DURATION.exec(value);
  if (value === '' || m === null || m.slice(1).every((g) => g === undefined)) {
    throw new CcmsimError(
      'CCMSIM_USAGE',
      `${what}: '${text}' is not a duration (use whole units, largest first: 200d, 36h, 90m, 45s, 1d12h)`,
    );
  }
  let ms = 0;
  UNITS.forEach(([, unitMs], i) => {
    const g = m[i + 1];
    if (g !== undefined) ms += Number(g) * unitMs;
  });
  if (!Number.isSafeInteger(ms)) throw new CcmsimError('CCMSIM_USAGE', `${what}: '${text}' is too long`);
  if (ms === 0 && options.allowZero !== true) throw new CcmsimError('CCMSIM_USAGE', `${what}: '${text}' must be longer than zero`);
  return ms;
}

/** `1d12h`, `30d`, `0d`: the shortest form `parseDuration` reads back to the same value (sub-second parts dropped). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0d';
  let rest = Math.floor(Math.abs(ms) / SECOND_MS) * SECOND_MS;
  let out = '';
  for (const [unit, unitMs] of UNITS) {
    const n = Math.floor(rest / unitMs);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * unitMs;
  }
  return (ms < 0 ? '-' : '') + (out === '' ? '0s' : out);
}
