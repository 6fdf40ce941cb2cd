/**
 * Owns the `MM/DD/YYYY HH:MM:SS` local-time text the client writes in SMSCFG.ini and in
 * `Cached encrypted token for 'S-1-5-18'. Will expire at '…'`, in the simulated machine's IANA zone.
 */
import { localTimeText } from '../log/bias.js';

export function formatLocalStamp(ms: number, timeZone: string): string {
  const t = localTimeText(ms, timeZone);
  const [mm, dd, yyyy] = t.date.split('-');
  return `${mm}/${dd}/${yyyy} ${t.localTime.slice(0, 8)}`;
}
