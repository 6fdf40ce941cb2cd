/**
 * Front door `ccmsim`: everything that is neither ccmsetup.exe nor BulkRegistrationTokenTool.exe, as yargs subcommands.
 * Each subcommand lives in its own module under src/cli/commands/ and registers itself here.
 */
import yargs, { type Argv } from 'yargs';
import { type Io, processIo, reportError } from './io.js';
import { toolExitCode, TOOL_EXIT } from './exit-codes.js';
import { CcmsimError } from '../errors.js';
import { packageVersion } from '../package-version.js';
import { siteCommand, SITE_SUBCOMMANDS } from './commands/site-command.js';
import { siteServeCommand } from './commands/site-serve.js';
import { logsCommand } from './commands/logs-parse.js';
import { demoCommand } from './commands/demo.js';
import { fleetCommand } from './commands/fleet.js';
import { fixturesCommand } from './commands/fixtures.js';

/** What a subcommand module exports. `run` returns the exit code. */
export interface CommandContext {
  io: Io;
  /** Set by a handler: the exit code of the run. */
  exitCode: number;
}
export type CommandModule = (y: Argv, ctx: CommandContext) => Argv;

const COMMANDS: CommandModule[] = [
  demoCommand,
  siteCommand([...SITE_SUBCOMMANDS, siteServeCommand]),
  logsCommand,
  fleetCommand,
  fixturesCommand,
];

/** yargs' wording, made to name the option as it is typed. */
function yargsMessage(msg: string, argv: readonly string[]): string {
  const missing = /^Not enough arguments following: (\S+)$/.exec(msg);
  if (missing) return `--${missing[1]} needs a value`;
  // "got 0, need at least 1" names neither the command nor what it wants: with too few positionals, the words on the
  // line before any option are the command itself.
  const positional = /^Not enough non-option arguments: got (\d+), need at least (\d+)$/.exec(msg);
  if (positional) {
    const end = argv.findIndex((a) => a.startsWith('-'));
    const command = (end < 0 ? argv : argv.slice(0, end)).slice(0, Number(positional[1]) === 0 ? undefined : -Number(positional[1])).join(' ');
    const more = Number(positional[2]) - Number(positional[1]);
    return `${command} needs ${more === 1 ? 'an argument' : `${more} more arguments`} (ccmsim ${command} --help names it)`;
  }
  return msg;
}

/**
 * The options on the line that the command being run does not know, worded as strict mode words them. yargs lets an
 * unknown `--x` take the next word as its value and counts positionals before it checks for unknown options, so
 * `logs parse --bogus file.log` would otherwise be refused for a missing <file>, never naming --bogus.
 */
function unknownOptions(argv: readonly string[], known: Record<string, unknown>): string | undefined {
  const isKnown = (name: string): boolean =>
    name in known || name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) in known || (name.startsWith('no-') && isKnown(name.slice(3)));
  const end = argv.indexOf('--');
  const unknown = (end < 0 ? argv : argv.slice(0, end))
    .filter((a) => a.startsWith('-') && a !== '-' && !/^-\d/.test(a))
    .map((a) => a.replace(/^--?/, '').split('=')[0]!)
    .filter((name) => name !== '' && !isKnown(name));
  if (unknown.length === 0) return undefined;
  return `Unknown argument${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const ctx: CommandContext = { io, exitCode: TOOL_EXIT.SUCCESS };
  let y = yargs(argv)
    .scriptName('ccmsim')
    .usage('ccmsim <command> [options]\n\nThe site, logs, fleet and fixture tools of ccmsetup-sim.')
    .strict()
    .demandCommand(1, 'name a command (ccmsim --help lists them)')
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .version('version', 'show the version of ccmsetup-sim', packageVersion())
    .help()
    .fail((msg, err) => {
      // Throw, never just record: yargs runs a command's validation (strict, requiresArg, demanded positionals) right
      // before its handler, and a fail callback that returns lets the handler run anyway, so a bad line acted first
      // and was refused afterwards. Errors of our own (CcmsimError, a handler's bug) pass through unchanged.
      if (err !== undefined && err !== null && err.name !== 'YError') throw err;
      const text = msg ?? err?.message ?? 'bad arguments';
      // At failure, y's options are those of the command being run (yargs resets and rebuilds it per command);
      // getOptions is yargs' own method, missing from its type declarations.
      const known = () => (y as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key;
      const unknown = /^Not enough non-option arguments/.test(text) ? unknownOptions(argv, known()) : undefined;
      throw new CcmsimError('CCMSIM_USAGE', unknown ?? yargsMessage(text, argv));
    });
  for (const register of COMMANDS) y = register(y, ctx);
  let helpText = '';
  try {
    await y.parseAsync(argv, {}, (_err, _argv, output) => {
      helpText = output;
    });
  } catch (err) {
    reportError(io, 'ccmsim', err);
    return toolExitCode(err);
  }
  if (helpText) io.stdout(`${helpText}\n`);
  return ctx.exitCode;
}

