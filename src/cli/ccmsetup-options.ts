/**
 * Owns reading and checking `ccmsetup-sim`'s simulator options, for a real install and for `--parse-only` alike, so
 * both refuse the same mistakes with the same line. Light on purpose: `--parse-only` loads this, never the site,
 * crypto or agent flow modules.
 */
import { pickSeed } from '../clock/random.js';
import { CcmsimError } from '../errors.js';
import type { AgentCommandLine, SimulateOption } from '../agent/ccmsetup-flow.js';
import { normalizeComputerName } from '../agent/computer-name.js';
import {
  extractLifecycleArgs,
  parseLifecycleOptions,
  parseStartOption,
  RUN_FOR_ONLY_OPTIONS,
  runForOnly,
  type LifecycleOptions,
  type RawLifecycleOptions,
} from '../agent/lifecycle/lifecycle-options.js';
import { CCMSETUP_EXIT } from './exit-codes.js';

export interface InstallOptions {
  siteDir: string | undefined;
  siteUrl: string | undefined;
  machineDir: string | undefined;
  computerName: string | undefined;
  network: 'intranet' | 'internet' | undefined;
  timeZone: string;
  seed: number;
  seedGiven: boolean;
  json: boolean;
  simulate: SimulateOption | undefined;
  startMs: number | undefined;
}

/** The simulator's time zone when `--timezone` is not given: UTC, so runs repeat byte for byte on any host. */
export const DEFAULT_TIME_ZONE = 'UTC';

const VALUE_OPTIONS = ['site-dir', 'site-url', 'machine-dir', 'computer-name', 'network', 'timezone', 'seed', 'simulate', 'start'] as const;

/** What an empty value option is told to give instead. */
const EMPTY_VALUE_HINT: Partial<Record<string, string>> = {
  'site-dir': 'a directory, or leave the option out for $CCMSIM_SITE_DIR, else .ccmsim/site',
  'site-url': "the URL of a running ccmsim site serve's MP, e.g. http://127.0.0.1:8080",
  'machine-dir': 'a directory, or leave the option out for logs/<COMPUTERNAME>',
};

/** Reads the simulator options (`--x v`, `--x=v`); anything unknown or empty is a usage error naming it. */
export function parseInstallOptions(simulatorArgs: readonly string[]): InstallOptions {
  const values: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < simulatorArgs.length; i++) {
    const arg = simulatorArgs[i]!;
    const m = /^--([A-Za-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new CcmsimError('CCMSIM_USAGE', `unexpected simulator argument ${JSON.stringify(arg)}`);
    // Case-insensitive like ccmsetup's own parameters (and like --run-for, which the splitter matches so).
    const name = m[1]!.toLowerCase();
    if (name === 'json') {
      if (m[2] !== undefined && !/^(true|false)$/i.test(m[2])) throw new CcmsimError('CCMSIM_USAGE', '--json takes no value');
      json = m[2] === undefined || m[2].toLowerCase() === 'true';
      continue;
    }
    // Known options, only not on their own: say what they need, as the --run-for parser does.
    if ((RUN_FOR_ONLY_OPTIONS as readonly string[]).includes(name)) runForOnly([name]);
    if (!(VALUE_OPTIONS as readonly string[]).includes(name)) {
      throw new CcmsimError('CCMSIM_USAGE', `unknown simulator option --${name} (known: --${[...VALUE_OPTIONS, 'json'].join(', --')})`);
    }
    let value = m[2];
    if (value === undefined) {
      value = simulatorArgs[i + 1];
      if (value === undefined || value.startsWith('--')) throw new CcmsimError('CCMSIM_USAGE', `--${name} needs a value`);
      i++;
    }
    // An empty value is a slip (an unset shell variable): taken as given, `--site-url ''` ran the embedded site and
    // `--site-dir ''` the default one.
    if (value.trim() === '') throw new CcmsimError('CCMSIM_USAGE', `--${name} is empty: give ${EMPTY_VALUE_HINT[name] ?? 'a value'}`);
    values[name] = value;
  }
  if (values['site-dir'] !== undefined && values['site-url'] !== undefined) {
    throw new CcmsimError('CCMSIM_USAGE', 'give either --site-dir (embedded site) or --site-url (a running ccmsim site serve), not both');
  }
  const network = values['network'];
  if (network !== undefined && network !== 'intranet' && network !== 'internet') {
    throw new CcmsimError('CCMSIM_USAGE', `--network takes intranet or internet, not ${JSON.stringify(network)}`);
  }
  const simulate = values['simulate'];
  if (simulate !== undefined && simulate !== 'pending-reboot' && simulate !== 'prereq-failure') {
    throw new CcmsimError('CCMSIM_USAGE', `--simulate takes pending-reboot or prereq-failure, not ${JSON.stringify(simulate)}`);
  }
  const timeZone = values['timezone'] ?? DEFAULT_TIME_ZONE;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new CcmsimError('CCMSIM_USAGE', `--timezone ${timeZone}: not an IANA time zone (e.g. UTC, Europe/Paris, America/Los_Angeles)`);
  }
  let seed: number | undefined;
  if (values['seed'] !== undefined) {
    if (!/^\d{1,10}$/.test(values['seed']) || Number(values['seed']) < 1 || Number(values['seed']) > 2 ** 31 - 1) {
      throw new CcmsimError('CCMSIM_USAGE', `--seed ${values['seed']}: must be an integer from 1 to 2147483647`);
    }
    seed = Number(values['seed']);
  }
  // One rule with and without --run-for: a time without an offset is the machine's local time in --timezone.
  const startMs = values['start'] !== undefined ? parseStartOption(values['start'], timeZone) : undefined;
  return {
    siteDir: values['site-dir'],
    siteUrl: values['site-url'],
    machineDir: values['machine-dir'],
    computerName: values['computer-name'] !== undefined ? normalizeComputerName(values['computer-name']) : undefined,
    network: network as InstallOptions['network'],
    timeZone,
    seed: seed ?? pickSeed(),
    seedGiven: seed !== undefined,
    json,
    simulate: simulate as SimulateOption | undefined,
    startMs,
  };
}

/** True when the simulator arguments ask for a run after the install. */
export function wantsRunFor(simulatorArgs: readonly string[]): boolean {
  return simulatorArgs.some((a) => /^--run-for(=|$)/i.test(a));
}

export interface RunForArgs {
  raw: RawLifecycleOptions & { start?: string };
  lifecycle: LifecycleOptions;
  /** CCMALWAYSINF=1 on the command line the lifecycle options were checked against. */
  alwaysInternet: boolean;
}

/**
 * Every simulator option checked as a real run checks it before anything is installed: the install options, and with
 * `--run-for` the lifecycle options read against this command line. Throws CCMSIM_USAGE for the first mistake.
 */
export function readSimulatorOptions(commandLine: AgentCommandLine, simulatorArgs: readonly string[]): { options: InstallOptions; runFor: RunForArgs | undefined } {
  if (!wantsRunFor(simulatorArgs)) return { options: parseInstallOptions(simulatorArgs), runFor: undefined };
  const { raw, rest } = extractLifecycleArgs(simulatorArgs);
  const options = parseInstallOptions(rest);
  const internet = alwaysInternet(commandLine);
  const lifecycle = parseLifecycleOptions(raw, { alwaysInternet: internet })!;
  if (options.siteUrl !== undefined && lifecycle.siteEvents.length > 0) {
    throw new CcmsimError('CCMSIM_USAGE', '--site-event needs the embedded site (--site-dir); a remote site (--site-url) is changed with ccmsim site commands');
  }
  // The lifecycle's splitter took --start out of `rest`; it is read here by the same rule as without --run-for.
  const startMs = raw.start !== undefined ? parseStartOption(raw.start, options.timeZone) : undefined;
  return { options: { ...options, startMs }, runFor: { raw, lifecycle, alwaysInternet: internet } };
}

/** CCMALWAYSINF=1: the client always behaves as on the internet. */
export function alwaysInternet(commandLine: AgentCommandLine): boolean {
  return (commandLine.properties['CCMALWAYSINF'] ?? '').trim() === '1';
}

/**
 * The return code the command line and simulator options decide by themselves (what `--parse-only` reports): a run
 * that reaches the prerequisite phase ends with 9 for `--simulate prereq-failure` and 7 for `--simulate pending-reboot`
 * without /forcereboot; `/uninstall` never gets there. The site and the machine's files can still change a real run's code.
 */
export function plannedExitCode(commandLine: AgentCommandLine & { parameters: { uninstall?: boolean } }, options: InstallOptions): number {
  if (commandLine.parameters.uninstall) return CCMSETUP_EXIT.SUCCESS;
  if (options.simulate === 'prereq-failure') return CCMSETUP_EXIT.PREREQ_FAILURE;
  if (options.simulate === 'pending-reboot' && !commandLine.parameters.forcereboot) return CCMSETUP_EXIT.REBOOT_REQUIRED;
  return CCMSETUP_EXIT.SUCCESS;
}
