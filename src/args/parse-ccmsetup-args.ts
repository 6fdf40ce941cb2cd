/**
 * Owns reading a ccmsetup.exe command line (already split into arguments) into typed parameters and client.msi
 * properties, enforcing the documented rules. Grammar (cli.md §1): `/name`, `/name:value`, `NAME=value`, bare flag
 * properties; names case-insensitive; any order; `/source` repeatable; `;` lists. A rule broken is a
 * `CcmsimError('CCMSIM_BAD_ARGUMENT')` whose one-line message names the argument and the rule.
 */
import { CcmsimError } from '../errors.js';
import { type ArgSpec, checkTyped, splitList } from './arg-spec.js';
import { CCMSETUP_PARAMETERS, findParameter, parameterKey } from './ccmsetup-parameters.js';
import { findProperty } from './client-properties.js';
import { installValue, readConfigFile } from './config-file.js';
import { maskJwtsIn, maskSecret, maskSecretsIn } from './masking.js';
import { quoteCcmsetupArgument, tokenizeWindowsCommandLine } from './windows-command-line.js';

export type BitsPriority = 'FOREGROUND' | 'HIGH' | 'NORMAL' | 'LOW';

export interface ParsedParameters {
  /** `/?` */
  help: boolean;
  allowmetered: boolean;
  alwaysexcludeupgrade: boolean;
  bitspriority: BitsPriority;
  config?: string;
  /** Minutes (default 1440). */
  downloadtimeout: number;
  excludefeatures?: string[];
  forceinstall: boolean;
  forcereboot: boolean;
  logon: boolean;
  mp?: string[];
  nocrlcheck: boolean;
  noservice: boolean;
  /** The bulk registration token, unmasked: never print it (use `printableCommandLine`). */
  regtoken?: string;
  /** Minutes (default 10). */
  retry: number;
  service: boolean;
  skipprereq?: string[];
  source?: string[];
  uninstall: boolean;
  usepkicert: boolean;
  ignoreskipupgrade: boolean;
  upgradetolatest: boolean;
}

/** Where the `/config` file's properties went: names only, the values are in `properties`. */
export interface ConfigFileProperties {
  /** The file as given to `/config`. */
  path: string;
  /** Properties whose value in `properties` comes from the file. */
  applied: string[];
  /** Properties the file sets too but the command line's value counts (docs/agent.md: the command line wins). */
  overridden: string[];
}

export interface ParseCcmsetupOptions {
  /** Folder a relative `/config` path is read from (default: the process's working directory). */
  cwd?: string;
}

export interface CcmsetupCommandLine {
  parameters: ParsedParameters;
  /**
   * client.msi properties by upper-case name, known ones normalized (SMSSITECODE upper case, lists joined by `;`): the
   * command line's, plus the `/config` file's that the command line does not set.
   */
  properties: Record<string, string>;
  /** Present when `/config` is given. */
  configFile?: ConfigFileProperties;
  /** Unknown `/switches` and stray words, as given (masked), ignored. */
  unknownParameters: string[];
  warnings: string[];
  /** `ccmsetup.exe …` as ccmsetup would log it, every token masked. */
  maskedCommandLine: string;
}

/** Properties whose value is a secret even when it does not look like a JWT. */
const SECRET_PROPERTIES = ['REGTOKEN'];

const PROPERTY_ARG = /^([A-Za-z_][A-Za-z0-9_.]*)=(.*)$/s;

function defaults(): ParsedParameters {
  return {
    help: false,
    allowmetered: false,
    alwaysexcludeupgrade: false,
    bitspriority: 'NORMAL',
    downloadtimeout: 1440,
    forceinstall: false,
    forcereboot: false,
    logon: false,
    nocrlcheck: false,
    noservice: false,
    retry: 10,
    service: false,
    uninstall: false,
    usepkicert: false,
    ignoreskipupgrade: false,
    upgradetolatest: false,
  };
}

function bad(message: string): CcmsimError {
  return new CcmsimError('CCMSIM_BAD_ARGUMENT', maskJwtsIn(message));
}

/** True when `arg` is itself a parameter or property, so it cannot be the value after `/name: `. */
function looksLikeArgument(arg: string): boolean {
  return arg.startsWith('/') || PROPERTY_ARG.test(arg);
}

/** Values are trimmed except free text and paths, where spaces may be meant. */
function typedValue(spec: ArgSpec, raw: string, shown: string): string {
  const value = spec.type === 'string' || spec.type === 'path' || spec.type === 'url' ? raw : raw.trim();
  const typed = checkTyped(spec, value);
  if ('problem' in typed) throw bad(`${shown}: ${typed.problem}`);
  const problem = spec.check?.(typed.value);
  if (problem) throw bad(`${shown}: ${problem}`);
  return typed.value;
}

/**
 * Parses ccmsetup arguments, reading the `/config` file if given; throws `CCMSIM_BAD_ARGUMENT` for the first rule
 * broken (in the file too).
 */
export function parseCcmsetupArgs(args: readonly string[], options: ParseCcmsetupOptions = {}): CcmsetupCommandLine {
  const parameters = defaults() as ParsedParameters & Record<string, unknown>;
  const properties: Record<string, string> = {};
  const unknownParameters: string[] = [];
  const warnings: string[] = [];
  const seenParameters = new Set<string>();
  const shownArgs: string[] = [];

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '') continue;
    if (arg.startsWith('/')) {
      const body = arg.slice(1);
      const colon = body.indexOf(':');
      const name = colon < 0 ? body : body.slice(0, colon);
      let value = colon < 0 ? undefined : body.slice(colon + 1);
      const spec = findParameter(name);
      if (!spec) {
        unknownParameters.push(arg);
        warnings.push(`unknown parameter /${name} ignored`);
        shownArgs.push(arg);
        continue;
      }
      const key = parameterKey(spec);
      if (spec.type === 'flag') {
        if (value !== undefined) throw bad(`${arg}: /${spec.name} takes no value`);
        parameters[key] = true;
        shownArgs.push(arg);
        continue;
      }
      const hint = `/${spec.name}:${spec.valueHint ?? '<value>'}`;
      if (value === undefined) throw bad(`/${name} needs a value (${hint})`);
      let shown = arg;
      if (value === '') {
        // Tolerates the docs' own typo `/source: D:\Clients`: the next argument is the value.
        const next = args[i + 1];
        if (next === undefined || next === '' || looksLikeArgument(next)) throw bad(`/${name} needs a value (${hint})`);
        value = next;
        i++;
        shown = `${arg} ${next}`;
        warnings.push(`a space follows /${name}: took "${next}" as its value`);
      }
      const typed = typedValue(spec, value, spec.name === 'regtoken' ? `/${name}` : shown);
      shownArgs.push(`/${name}:${typed}`);
      if (seenParameters.has(key) && !spec.repeatable && spec.type !== 'list') {
        warnings.push(`/${spec.name} is given more than once; the last one counts`);
      }
      seenParameters.add(key);
      assignParameter(parameters, spec, key, typed);
      continue;
    }
    if (takeProperty(arg, properties, warnings, '')) {
      shownArgs.push(arg);
      continue;
    }
    unknownParameters.push(arg);
    warnings.push(`argument "${arg}" ignored: not a /parameter, a PROPERTY=value or a flag property`);
    shownArgs.push(arg);
  }

  const configFile = parameters.config === undefined ? undefined : mergeConfigFile(parameters.config, properties, warnings, options);

  crossChecks(parameters, properties, warnings);

  const secrets = secretsOf({ parameters, properties });
  const mask = (text: string): string => maskSecretsIn(text, secrets);
  return {
    parameters,
    properties,
    ...(configFile ? { configFile } : {}),
    unknownParameters: unknownParameters.map(mask),
    warnings: warnings.map(mask),
    maskedCommandLine: commandLineText(shownArgs, secrets),
  };
}

/** The command line as ccmsetup shows it: each argument quoted as Windows would, every secret and JWT masked. */
function commandLineText(args: readonly string[], secrets: readonly string[]): string {
  return ['ccmsetup.exe', ...args.map((a) => maskSecretsIn(quoteCcmsetupArgument(a), secrets))].join(' ');
}

/** `maskedCommandLine` of arguments that did not parse: their secrets are the values of `/regtoken:` and `REGTOKEN=`. */
export function maskedArgumentLine(args: readonly string[]): string {
  const secrets = args.flatMap((a) => {
    const value = /^(?:[/-]regtoken:|regtoken=)(.+)$/is.exec(a)?.[1];
    return value === undefined ? [] : [value];
  });
  return commandLineText(args, secrets);
}

/**
 * Takes `arg` into `into` if it is a `NAME=value` or a bare flag property (checked against the property table);
 * false if it is neither. `where` prefixes messages about a property read from the `/config` file.
 */
function takeProperty(arg: string, into: Record<string, string>, warnings: string[], where: string): boolean {
  const prop = PROPERTY_ARG.exec(arg);
  if (prop) {
    const name = prop[1]!.toUpperCase();
    const raw = prop[2]!;
    const spec = findProperty(name);
    let value = raw;
    if (spec && spec.type !== 'flag') {
      value = typedValue(spec, raw, where + (SECRET_PROPERTIES.includes(name) ? `${prop[1]}=` : arg));
      if (name === 'SMSSITECODE') value = value.toUpperCase();
    }
    if (name === 'REGTOKEN') {
      warnings.push(`${where}REGTOKEN= is passed to client.msi as an ordinary property; the bulk registration token goes in /regtoken:<token>`);
    }
    if (into[name] !== undefined) warnings.push(`${where}${name} is given more than once; the last one counts`);
    into[name] = value;
    return true;
  }
  const spec = findProperty(arg);
  if (spec?.type === 'flag') {
    // A bare flag property (`CCMSetup.exe CCMALLOWSILENTREBOOT`): passed on as set.
    into[spec.name] = 'TRUE';
    return true;
  }
  if (spec) throw bad(`${where}${arg} needs a value (${spec.name}=${spec.valueHint ?? '<value>'})`);
  return false;
}

/**
 * Reads the `/config` file's `Install=` properties with the command line's grammar and adds those the command line
 * does not set to `properties` (our precedence: the command line wins, docs/agent.md).
 */
function mergeConfigFile(
  path: string,
  properties: Record<string, string>,
  warnings: string[],
  options: ParseCcmsetupOptions,
): ConfigFileProperties {
  const shown = quoteCcmsetupArgument(`/config:${path}`);
  const install = installValue(readConfigFile(path, options.cwd ?? process.cwd(), shown), shown);
  warnings.push(...install.warnings);
  const where = `${shown}: `;
  const fromFile: Record<string, string> = {};
  for (const token of tokenizeWindowsCommandLine(install.value)) {
    if (token === '') continue;
    if (token.startsWith('/')) {
      throw bad(`${where}Install= holds ${token}: it takes client.msi properties (NAME=value), not ccmsetup parameters`);
    }
    if (!takeProperty(token, fromFile, warnings, where)) {
      warnings.push(`${where}"${token}" in Install= ignored: not a PROPERTY=value or a flag property`);
    }
  }
  const applied: string[] = [];
  const overridden: string[] = [];
  for (const [name, value] of Object.entries(fromFile)) {
    if (properties[name] !== undefined) {
      overridden.push(name);
      warnings.push(`${name} is set on the command line and in ${shown}; the command line's value counts`);
      continue;
    }
    properties[name] = value;
    applied.push(name);
  }
  return { path, applied, overridden };
}

function assignParameter(parameters: Record<string, unknown>, spec: ArgSpec, key: string, value: string): void {
  switch (spec.name) {
    case 'AlwaysExcludeUpgrade':
      parameters[key] = value === 'TRUE';
      return;
    case 'retry':
    case 'downloadtimeout':
      parameters[key] = Number(value);
      return;
    case 'mp':
    case 'skipprereq': {
      // Repeating a list parameter adds to it.
      const before = (parameters[key] as string[] | undefined) ?? [];
      parameters[key] = [...before, ...splitList(value).filter((v) => !before.includes(v))];
      return;
    }
    case 'ExcludeFeatures':
      parameters[key] = [value];
      return;
    case 'source':
      parameters[key] = [...((parameters[key] as string[] | undefined) ?? []), value];
      return;
    default:
      parameters[key] = value;
  }
}

function crossChecks(parameters: ParsedParameters, properties: Record<string, string>, warnings: string[]): void {
  const host = properties['CCMHOSTNAME'];
  if (host !== undefined && properties['SMSSITECODE'] === 'AUTO') {
    throw bad(`CCMHOSTNAME=${host}: not allowed with SMSSITECODE=AUTO (give the three-character site code)`);
  }
  if (parameters.regtoken !== undefined && host === undefined && !(parameters.mp ?? []).length) {
    warnings.push('/regtoken is given without /mp or CCMHOSTNAME: the client has no CMG or management point to register with');
  }
  if (parameters.service && parameters.noservice) warnings.push('/service and /noservice are both given; /noservice counts');
}

/** The values of this command line that must never be printed: the `/regtoken` and any `REGTOKEN=` value. */
export function secretsOf(cl: Pick<CcmsetupCommandLine, 'parameters' | 'properties'>): string[] {
  const out: string[] = [];
  if (cl.parameters.regtoken) out.push(cl.parameters.regtoken);
  for (const name of SECRET_PROPERTIES) if (cl.properties[name]) out.push(cl.properties[name]);
  return out;
}

/** The command line as JSON-ready data with every secret masked (what `--parse-only` prints). */
export function printableCommandLine(cl: CcmsetupCommandLine): CcmsetupCommandLine {
  const secrets = secretsOf(cl);
  const mask = (text: string): string => maskSecretsIn(text, secrets);
  const parameters: Record<string, unknown> = {};
  for (const spec of CCMSETUP_PARAMETERS) {
    const key = parameterKey(spec);
    const value = (cl.parameters as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (key === 'regtoken') parameters[key] = maskSecret(value as string);
    else if (typeof value === 'string') parameters[key] = mask(value);
    else if (Array.isArray(value)) parameters[key] = value.map((v: string) => mask(v));
    else parameters[key] = value;
  }
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(cl.properties)) {
    properties[name] = SECRET_PROPERTIES.includes(name) ? maskSecret(value) : mask(value);
  }
  return {
    parameters: parameters as unknown as ParsedParameters,
    properties,
    ...(cl.configFile ? { configFile: { ...cl.configFile, path: mask(cl.configFile.path) } } : {}),
    unknownParameters: cl.unknownParameters.map(mask),
    warnings: cl.warnings.map(mask),
    maskedCommandLine: mask(cl.maskedCommandLine),
  };
}
