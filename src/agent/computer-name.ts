/**
 * Owns realistic Windows computer names drawn from the seed: Windows' own `DESKTOP-XXXXXXX` / `LAPTOP-XXXXXXXX`
 * defaults and corporate naming schemes, always a valid NetBIOS name (at most 15 characters, A-Z, 0-9 and `-`).
 */
import type { Random } from '../clock/random.js';
import { CcmsimError } from '../errors.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function chars(random: Random, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += ALNUM[random.int(0, ALNUM.length - 1)];
  return out;
}

const SITES = ['NYC', 'LON', 'PAR', 'SEA', 'BER', 'SYD', 'TOR', 'AMS', 'DAL', 'MUC'];

export function drawComputerName(random: Random): string {
  const n = String(random.int(1, 9999)).padStart(4, '0');
  switch (random.int(0, 4)) {
    case 0:
      return `DESKTOP-${chars(random, 7)}`;
    case 1:
      return `LAPTOP-${chars(random, 8)}`;
    case 2:
      return `${random.pick(['CONTOSO', 'FABRIKAM', 'LITWARE'])}-${random.pick(['LT', 'WS', 'PC'])}${n}`;
    case 3:
      return `${random.pick(['WKS', 'LT', 'PC'])}-${random.pick(SITES)}-${n}`;
    default:
      return `PC${String(random.int(100000, 999999))}`;
  }
}

/** Upper-cases and checks a `--computer-name` value the way Windows would accept it as a NetBIOS name. */
export function normalizeComputerName(value: string): string {
  const name = value.trim().toUpperCase();
  if (!/^[A-Z0-9][A-Z0-9-]{0,14}$/.test(name) || /^\d+$/.test(name)) {
    throw new CcmsimError(
      'CCMSIM_USAGE',
      `--computer-name ${value}: must be 1 to 15 characters A-Z, 0-9 or '-', start with a letter or digit, and not be all digits`,
    );
  }
  return name;
}
