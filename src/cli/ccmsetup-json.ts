/**
 * Owns what `ccmsetup-sim` prints as JSON when it refuses a run (`--parse-only`, `--json`): the same exit code and
 * error a script would otherwise have to scrape from stderr, with any token masked.
 */
import { maskJwtsIn } from '../args/masking.js';
import { isCcmsimError } from '../errors.js';

/** Whether the simulator options ask for JSON (`--json`, `--json=true`): a script then gets JSON for a refusal too. */
export function wantsJson(simulatorArgs: readonly string[]): boolean {
  return simulatorArgs.some((a) => /^--json(=true)?$/i.test(a));
}

/** `{ exitCode, error: { code, message } }`, tokens masked. */
export function errorJson(exitCode: number, err: unknown): string {
  const error = isCcmsimError(err) ? { code: err.code, message: err.message } : { code: 'CCMSIM_INTERNAL', message: String(err) };
  return `${maskJwtsIn(JSON.stringify({ exitCode, error }, null, 2))}\n`;
}
