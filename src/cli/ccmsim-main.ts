/**
 * Front door `ccmsim`: everything that is neither ccmsetup.exe nor BulkRegistrationTokenTool.exe, as yargs subcommands.
 * Each subcommand lives in its own module under src/cli/commands/ and registers itself here.
 */
import yargs, { type Argv } from 'yargs';
import { type Io, processIo, reportError } from './io.js';
import { toolExitCode, TOOL_EXIT } from './exit-codes.js';
import { CcmsimError } from '../errors.js';
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

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const ctx: CommandContext = { io, exitCode: TOOL_EXIT.SUCCESS };
  let failure: unknown;
  let y = yargs(argv)
    .scriptName('ccmsim')
    .usage('ccmsim <command> [options]\n\nThe site, logs, fleet and fixture tools of ccmsetup-sim.')
    .strict()
    .demandCommand(1, 'name a command (ccmsim --help lists them)')
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .version(false)
    .help()
    .fail((msg, err) => {
      failure = err ?? new CcmsimError('CCMSIM_USAGE', msg ?? 'bad arguments');
    });
  for (const register of COMMANDS) y = register(y, ctx);
  let helpText = '';
  try {
    await y.parseAsync(argv, {}, (_err, _argv, output) => {
      helpText = output;
    });
  } catch (err) {
    failure ??= err;
  }
  if (failure !== undefined) {
    reportError(io, 'ccmsim', failure);
    return toolExitCode(failure);
  }
  if (helpText) io.stdout(`${helpText}\n`);
  return ctx.exitCode;
}

