/**
 * Owns the shape of one row of the ccmsetup parameter and client.msi property tables, and the checks every row's
 * type implies (flag, int range, enum, list members). Rules beyond a row's type live in the row's `check`.
 */

export type ArgType = 'flag' | 'string' | 'int' | 'enum' | 'list' | 'url' | 'path';

export interface ArgSpec {
  /** Canonical spelling, as the docs write it (`BITSPriority`, `SMSSITECODE`). */
  readonly name: string;
  readonly type: ArgType;
  /** Allowed values (enum), or allowed members (list); matched case-insensitively, kept in this spelling. */
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** The documented default, as text (shown by `/?`). */
  readonly default?: string;
  /** For `/?`: what to write after the name, e.g. `<minutes>`. */
  readonly valueHint?: string;
  readonly description: string;
  /** May be given more than once (`/source`). */
  readonly repeatable?: boolean;
  /** Extra rule: returns why `value` (already trimmed, type-checked) is refused, or undefined. */
  readonly check?: (value: string) => string | undefined;
}

const GUID = /^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i;
export const mustBeGuid = (value: string): string | undefined => (GUID.test(value) ? undefined : 'must be a GUID');

/** A URL scheme at the start (`https://`, `http://`, `ftp://`). */
export const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Splits a `;` list, dropping empty items (a trailing `;` is common). */
export function splitList(value: string): string[] {
  return value
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Checks `value` against the row's type. Returns the canonical value (enum spelling, list joined by `;`, integer
 * without leading zeros) or a problem text.
 */
export function checkTyped(spec: ArgSpec, value: string): { value: string } | { problem: string } {
  switch (spec.type) {
    case 'flag':
      return { problem: 'takes no value' };
    case 'int': {
      if (!/^\d+$/.test(value)) return { problem: `must be a whole number${rangeText(spec)}` };
      const n = Number(value);
      if ((spec.min !== undefined && n < spec.min) || n > maxOf(spec)) {
        return { problem: `must be a whole number${rangeText(spec)}` };
      }
      return { value: String(n) };
    }
    case 'enum': {
      const hit = spec.values?.find((v) => v.toUpperCase() === value.toUpperCase());
      if (hit === undefined) return { problem: `must be ${orList(spec.values ?? [])}` };
      return { value: hit };
    }
    case 'list': {
      const items = splitList(value);
      if (items.length === 0) return { problem: 'needs at least one value (separate several with ;)' };
      if (spec.values) {
        const out: string[] = [];
        for (const item of items) {
          const hit = spec.values.find((v) => v.toUpperCase() === item.toUpperCase());
          if (hit === undefined) return { problem: `${JSON.stringify(item)} is not one of ${spec.values.join(', ')}` };
          out.push(hit);
        }
        return { value: out.join(';') };
      }
      return { value: items.join(';') };
    }
    default:
      if (value.length === 0) return { problem: 'needs a value' };
      return { value };
  }
}

/**
 * The largest value of an int row that names no maximum: 4294967295. ccmsetup and the client keep these numbers
 * (minutes, bytes, counts) as 32-bit registry DWORDs (our reading; no limit is documented), and anything larger
 * could not be held exactly anyway (`/retry:99999999999999999999` would become 100000000000000000000).
 */
export const DWORD_MAX = 4294967295;

function maxOf(spec: ArgSpec): number {
  return spec.max ?? DWORD_MAX;
}

export function rangeText(spec: ArgSpec): string {
  if (spec.type === 'int') return ` from ${spec.min ?? 0} to ${maxOf(spec)}`;
  if (spec.min !== undefined && spec.max !== undefined) return ` from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return ` of at least ${spec.min}`;
  if (spec.max !== undefined) return ` of at most ${spec.max}`;
  return '';
}

function orList(values: readonly string[]): string {
  if (values.length <= 1) return values.join('');
  return `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}
