/**
 * Owns telling simulator options from ccmsetup arguments on one command line. Simulator options start with `--`
 * (ccmsetup syntax never does), may stand anywhere, and take a value as `--x v` or `--x=v` when the table says so.
 */
import { CcmsimError } from '../errors.js';

/** Simulator options that take a value. */
export const SIMULATOR_VALUE_OPTIONS = [
  'site-dir',
  'site-url',
  'machine-dir',
  'computer-name',
  'network',
  'timezone',
  'seed',
  'start',
  'run-for',
  'restart-every',
  'restart-at',
  'roam',
  'offline',
  'site-event',
  'simulate',
  'command-line',
] as const;

/** Simulator options that are switches (`--json`, or `--json=true|false`). */
export const SIMULATOR_BOOLEAN_OPTIONS = ['json', 'parse-only', 'help'] as const;

export interface SplitArgs {
  ccmsetupArgs: string[];
  /** The simulator options as given, values kept next to their option (`--site-dir`, `D` or `--site-dir=D`). */
  simulatorArgs: string[];
  /** The same options by name: a string for value options (the last one given), true/false for switches. */
  options: Record<string, string | boolean>;
}

/** Splits `argv`; an unknown `--x`, or a value option without its value, is a `CCMSIM_USAGE` error. */
export function splitSimulatorOptions(argv: readonly string[]): SplitArgs {
  const ccmsetupArgs: string[] = [];
  const simulatorArgs: string[] = [];
  const options: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      ccmsetupArgs.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq < 0 ? arg.slice(2) : arg.slice(2, eq)).toLowerCase();
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    if ((SIMULATOR_BOOLEAN_OPTIONS as readonly string[]).includes(name)) {
      if (inline !== undefined && !/^(true|false)$/i.test(inline)) {
        throw new CcmsimError('CCMSIM_USAGE', `--${name} is a switch: give it alone (or =true / =false)`);
      }
      options[name] = inline === undefined || inline.toLowerCase() === 'true';
      simulatorArgs.push(arg);
      continue;
    }
    if ((SIMULATOR_VALUE_OPTIONS as readonly string[]).includes(name)) {
      if (inline !== undefined) {
        options[name] = inline;
        simulatorArgs.push(arg);
        continue;
      }
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new CcmsimError('CCMSIM_USAGE', `--${name} needs a value`);
      options[name] = value;
      simulatorArgs.push(arg, value);
      i++;
      continue;
    }
    const known = [...SIMULATOR_VALUE_OPTIONS, ...SIMULATOR_BOOLEAN_OPTIONS].map((o) => `--${o}`).join(', ');
    throw new CcmsimError('CCMSIM_USAGE', `unknown simulator option --${name} (known: ${known})`);
  }
  return { ccmsetupArgs, simulatorArgs, options };
}
