/**
 * Owns `ccmsim logs parse <file> [--json]`: reads a CM log (CMTrace or server format, `.log` or `.lo_`), prints its
 * records as a table (or JSON) with a summary of counts per type, and reports malformed records by line number
 * (exit code 1 when there is any).
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import type { CommandContext, CommandModule } from '../ccmsim-main.js';
import { TOOL_EXIT } from '../exit-codes.js';
import { CcmsimError } from '../../errors.js';
import { countByType, parseCmLog, type ParsedCmLog, type ParsedRecord } from '../../log/reader.js';

function readLog(path: string): Buffer {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new CcmsimError('CCMSIM_FILE_NOT_FOUND', `log file not found: ${path}`);
  }
  if (!isFile) throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `not a file: ${path}`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `cannot read ${path}: ${(err as Error).message}`);
  }
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function messageCell(r: ParsedRecord): string {
  const lines = r.message.split(/\r\n|\r|\n/);
  return lines.length > 1 ? `${lines[0]} [+${lines.length - 1} lines]` : lines[0]!;
}

export function formatTable(parsed: ParsedCmLog): string {
  const rows = parsed.records.map((r) => [
    String(r.firstLine),
    r.date,
    `${r.localTime}${r.bias}`,
    r.type === null ? '-' : String(r.type),
    String(r.thread),
    r.component,
    messageCell(r),
  ]);
  const header = ['LINE', 'DATE', 'TIME', 'TYPE', 'THREAD', 'COMPONENT', 'MESSAGE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `${l}\n`).join('');
}

export function formatSummary(parsed: ParsedCmLog): string {
  const c = countByType(parsed.records);
  const server = c.none > 0 ? `, server records (no type): ${c.none}` : '';
  return (
    `${parsed.records.length} records (type 0: ${c['0']}, type 1: ${c['1']}, type 2: ${c['2']}, type 3: ${c['3']}${server}), ` +
    `${parsed.malformed.length} malformed\n`
  );
}

export const logsCommand: CommandModule = (y: Argv, ctx: CommandContext) =>
  y.command('logs', 'read Configuration Manager logs (CMTrace and server format)', (ly) =>
    ly
      .command(
        'parse <file>',
        'list the records of a CM log (.log or .lo_) and report malformed ones by line',
        (c) =>
          c
            .positional('file', { type: 'string', demandOption: true, describe: 'the log file' })
            .option('json', { type: 'boolean', default: false, describe: 'print records, malformed records and counts as JSON' }),
        (argv) => {
          // resolve() would turn '' into the working directory and report that instead.
          if (argv.file === '') throw new CcmsimError('CCMSIM_USAGE', "the log file argument is empty (''): name a .log or .lo_ file");
          const path = resolve(ctx.io.cwd, String(argv.file));
          const parsed = parseCmLog(readLog(path));
          if (argv.json) {
            ctx.io.stdout(
              `${JSON.stringify({ file: path, bom: parsed.bom, counts: countByType(parsed.records), records: parsed.records, malformed: parsed.malformed }, null, 2)}\n`,
            );
          } else {
            ctx.io.stdout(formatTable(parsed));
            ctx.io.stdout(formatSummary(parsed));
          }
          for (const m of parsed.malformed) ctx.io.stderr(`ccmsim: ${path}:${m.line}: malformed record: ${m.reason}\n`);
          ctx.exitCode = parsed.malformed.length > 0 ? TOOL_EXIT.FAILURE : TOOL_EXIT.SUCCESS;
        },
      )
      .demandCommand(1, 'name a logs subcommand (ccmsim logs --help lists them)'),
  );
