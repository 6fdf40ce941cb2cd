/**
 * Front door `ccmsetup-sim` (ccmsetup.exe): splits simulator options from ccmsetup arguments, or tokenizes one raw
 * Windows line (`--command-line`), then prints usage (`/?`), the parsed command line (`--parse-only`), or hands over
 * to the install (`runInstallFromCli`, owned by the agent engineer). Exit codes are ccmsetup's return codes.
 */
import { parseCcmsetupArgs, printableCommandLine, type CcmsetupCommandLine } from '../args/parse-ccmsetup-args.js';
import { siteTargets } from '../args/site-targets.js';
import { splitSimulatorOptions } from '../args/simulator-options.js';
import { tokenizeWindowsCommandLine } from '../args/windows-command-line.js';
import { CcmsimError, isCcmsimError } from '../errors.js';
import { ccmsetupUsage } from './ccmsetup-usage.js';
import { CCMSETUP_EXIT, ccmsetupExitCode } from './exit-codes.js';
import { processIo, reportError, type Io } from './io.js';
import { errorJson, wantsJson } from './ccmsetup-json.js';
import { maskJwtsIn } from '../args/masking.js';

export const TOOL_NAME = 'ccmsetup-sim';

/** Options this front door handles itself; the rest go on to the install. */
const FRONT_DOOR_OPTIONS = ['parse-only', 'help', 'command-line'];

interface FrontDoorArgs {
  ccmsetupArgs: string[];
  /** Simulator options for the install, without this front door's own. */
  installArgs: string[];
  parseOnly: boolean;
  help: boolean;
}

/** `ccmsetup.exe` or `"C:\Windows\ccmsetup\ccmsetup.exe"` at the start of a pasted line is the program, not an argument. */
const PROGRAM_NAME = /(^|[\\/])ccmsetup(\.exe)?$/i;

function readArgs(argv: readonly string[]): FrontDoorArgs {
  const outer = splitSimulatorOptions(argv);
  let ccmsetupArgs = outer.ccmsetupArgs;
  let simulatorArgs = outer.simulatorArgs;
  let options = outer.options;
  const line = outer.options['command-line'];
  if (typeof line === 'string') {
    // Refused, not "the last counts": two whole command lines cannot be merged, and silently dropping one would
    // install with arguments the tester did not mean (a repeated /regtoken only replaces one value, so it warns).
    if (outer.simulatorArgs.filter(isCommandLineOption).length > 1) {
      throw new CcmsimError('CCMSIM_USAGE', '--command-line is given more than once: give the whole ccmsetup command line in one --command-line');
    }
    if (ccmsetupArgs.length > 0) {
      throw new CcmsimError('CCMSIM_USAGE', 'give the ccmsetup arguments either as arguments or in --command-line, not both');
    }
    const tokens = tokenizeWindowsCommandLine(line);
    if (tokens.length > 0 && PROGRAM_NAME.test(tokens[0]!)) tokens.shift();
    const inner = splitSimulatorOptions(tokens);
    if (inner.simulatorArgs.some(isCommandLineOption)) throw new CcmsimError('CCMSIM_USAGE', '--command-line cannot hold another --command-line');
    ccmsetupArgs = inner.ccmsetupArgs;
    simulatorArgs = [...simulatorArgs, ...inner.simulatorArgs];
    options = { ...options, ...inner.options };
  }
  return {
    ccmsetupArgs,
    installArgs: withoutFrontDoorOptions(simulatorArgs),
    parseOnly: options['parse-only'] === true,
    help: options['help'] === true || ccmsetupArgs.some((a) => a === '/?' || a === '-?'),
  };
}

function isCommandLineOption(arg: string): boolean {
  return /^--command-line(=|$)/i.test(arg);
}

function withoutFrontDoorOptions(simulatorArgs: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < simulatorArgs.length; i++) {
    const arg = simulatorArgs[i]!;
    const name = arg.slice(2).split('=')[0]!.toLowerCase();
    if (!FRONT_DOOR_OPTIONS.includes(name)) {
      out.push(arg);
      continue;
    }
    if (name === 'command-line' && !arg.includes('=')) i++; // its value
  }
  return out;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let args: FrontDoorArgs;
  try {
    args = readArgs(argv);
  } catch (err) {
    reportError(io, TOOL_NAME, err);
    return ccmsetupExitCode(err);
  }
  if (args.help) {
    io.stdout(ccmsetupUsage());
    return CCMSETUP_EXIT.SUCCESS;
  }
  let parsed: CcmsetupCommandLine;
  try {
    parsed = parseCcmsetupArgs(args.ccmsetupArgs, { cwd: io.cwd });
  } catch (err) {
    const exitCode = ccmsetupExitCode(err);
    if (args.parseOnly || wantsJson(args.installArgs)) io.stdout(errorJson(exitCode, err));
    reportError(io, TOOL_NAME, err);
    // A real run (not --parse-only) leaves its ccmsetup.log, as ccmsetup.exe does.
    if (!args.parseOnly && isCcmsimError(err)) {
      const { logRefusal } = await import('./ccmsetup-install.js');
      await logRefusal(args.ccmsetupArgs, args.installArgs, err.message, io);
    }
    return exitCode;
  }
  if (args.parseOnly) {
    // The simulator options are checked as a real run checks them, so a mistake is refused here too (code 6).
    const { readSimulatorOptions, plannedExitCode } = await import('./ccmsetup-options.js');
    let exitCode: number;
    try {
      exitCode = plannedExitCode(parsed, readSimulatorOptions(parsed, args.installArgs).options);
    } catch (err) {
      const code = ccmsetupExitCode(err);
      io.stdout(errorJson(code, err));
      reportError(io, TOOL_NAME, err);
      return code;
    }
    // /regtoken is masked already; a token pasted anywhere else (/mp:, a property) is masked too.
    io.stdout(`${maskJwtsIn(JSON.stringify({ ...printableCommandLine(parsed), targets: siteTargets(parsed), exitCode }, null, 2))}\n`);
    return exitCode;
  }
  for (const warning of printableCommandLine(parsed).warnings) io.stderr(`${TOOL_NAME}: warning: ${warning}\n`);
  // Loaded only for an install, so `/?` and `--parse-only` never load the site, crypto and agent modules.
  const { runInstallFromCli } = await import('./ccmsetup-install.js');
  return runInstallFromCli(parsed, args.installArgs, io);
}
