/**
 * Owns the record of a lifecycle run: one entry per install, renewal, refusal, lapse, location change and site event,
 * the final state of each client, and their two renderings (a readable table and JSON).
 */
import type { ErrorCode } from '../../errors.js';
import { formatLocal, formatLocalIso } from './local-time.js';
import type { HeldToken, RenewReason, TokenProblem, Via } from './renewal-rule.js';
import type { Location } from './schedule.js';

export type TimelineKind = 'install' | 'renewed' | 'refused' | 'lapsed' | 'location' | 'site-event';

export interface TimelineEntry {
  kind: TimelineKind;
  atMs: number;
  /** ISO instant with the client's offset (UTC for site events). */
  at: string;
  /** Client name; absent for site events. */
  client?: string;
  via?: Via | 'install';
  why?: RenewReason | 'use-cmg';
  /** New token's expiry (renewals, install). */
  expiresMs?: number;
  expires?: string;
  tokenId?: string;
  code?: ErrorCode;
  hresult?: string;
  location?: Location;
  detail: string;
}

export interface ClientFinalState {
  client: string;
  timeZone: string;
  location: Location;
  status: 'valid' | 'expired' | 'signer-retired' | 'no-token';
  token: { tokenId: string; issued: string; expires: string; signer: string; via: HeldToken['via'] } | null;
  starts: number;
  renewals: number;
  refusals: number;
  lapses: number;
}

export interface Timeline {
  start: string;
  end: string;
  entries: TimelineEntry[];
  final: ClientFinalState[];
}

export function finalStatus(token: HeldToken | undefined, problem: TokenProblem | undefined, nowMs: number): ClientFinalState['status'] {
  if (token === undefined) return 'no-token';
  if (nowMs >= token.expiresMs) return 'expired';
  if (problem !== undefined) return problem;
  return 'valid';
}

export function tokenSummary(token: HeldToken | undefined, timeZone: string): ClientFinalState['token'] {
  if (token === undefined) return null;
  return {
    tokenId: token.tokenId,
    issued: formatLocalIso(token.issuedMs, timeZone),
    expires: formatLocalIso(token.expiresMs, timeZone),
    signer: token.signer,
    via: token.via,
  };
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/**
 * The readable form. Runs of identical refusals of one client (same code, nothing else in between for that client)
 * are folded into one row with a count; the JSON keeps every entry.
 */
export function formatTimelineTable(t: Timeline, zoneOf: (client: string | undefined) => string): string {
  const rows: string[][] = [];
  const lastRefusal = new Map<string, { row: string[]; count: number; code: string; detail: string }>();
  for (const e of t.entries) {
    const tz = zoneOf(e.client);
    const when = formatLocal(e.atMs, tz);
    const key = e.client ?? '';
    if (e.kind === 'refused') {
      const prev = lastRefusal.get(key);
      if (prev !== undefined && prev.code === e.code) {
        prev.count++;
        prev.row[2] = `refused x${prev.count}`;
        prev.row[5] = `${prev.detail} (last ${when})`;
        continue;
      }
      const detail = `${e.code ?? ''} ${e.hresult ?? ''}: ${e.detail}`;
      const row = [when, e.client ?? '-', 'refused', e.via ?? '', '', detail];
      rows.push(row);
      lastRefusal.set(key, { row, count: 1, code: e.code ?? '', detail });
      continue;
    }
    if (e.client !== undefined) lastRefusal.delete(key);
    else lastRefusal.clear();
    rows.push([when, e.client ?? '(site)', e.kind, e.via ?? '', e.expiresMs !== undefined ? formatLocal(e.expiresMs, tz) : '', e.detail]);
  }
  const out = [`Token lifecycle from ${t.start} to ${t.end}`, '', ...table(['Date (client local)', 'Client', 'Event', 'Via', 'New expiry', 'Detail'], rows)];
  out.push('', 'Final state');
  out.push(
    ...table(
      ['Client', 'Location', 'Token', 'Expires', 'Signed by', 'Starts', 'Renewals', 'Refusals', 'Lapses'],
      t.final.map((f) => [
        f.client,
        f.location,
        f.status,
        f.token?.expires ?? '-',
        f.token?.signer ?? '-',
        String(f.starts),
        String(f.renewals),
        String(f.refusals),
        String(f.lapses),
      ]),
    ),
  );
  return out.join('\n');
}

export function timelineJson(t: Timeline): string {
  return JSON.stringify(t, null, 2);
}
