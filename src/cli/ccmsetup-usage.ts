/**
 * Owns the text `ccmsetup-sim /?` prints: every ccmsetup parameter and client.msi property from the tables (so the
 * list cannot drift from what the parser knows), the simulator options and the return codes. The real ccmsetup.exe
 * shows this in a dialog; the simulator prints it to the console.
 */
import type { ArgSpec } from '../args/arg-spec.js';
import { rangeText } from '../args/arg-spec.js';
import { CCMSETUP_PARAMETERS } from '../args/ccmsetup-parameters.js';
import { CLIENT_PROPERTIES } from '../args/client-properties.js';
import { CCMSETUP_EXIT } from './exit-codes.js';

function parameterLine(spec: ArgSpec): string {
  const head = spec.type === 'flag' ? `/${spec.name}` : `/${spec.name}:${spec.valueHint ?? '<value>'}`;
  return entry(head, spec);
}

function propertyLine(spec: ArgSpec): string {
  const head = spec.type === 'flag' ? spec.name : `${spec.name}=${spec.valueHint ?? '<value>'}`;
  return entry(head, spec);
}

function entry(head: string, spec: ArgSpec): string {
  const extras: string[] = [];
  if (spec.type === 'int' && (spec.min !== undefined || spec.max !== undefined)) extras.push(`whole number${rangeText(spec)}`);
  if (spec.default !== undefined) extras.push(`default ${spec.default}`);
  if (spec.repeatable) extras.push('repeatable');
  const tail = extras.length ? ` (${extras.join('; ')})` : '';
  return `  ${head}\n      ${spec.description}${tail}\n`;
}

export function ccmsetupUsage(): string {
  return [
    'Usage: ccmsetup-sim [<ccmsetup parameters>] [<client.msi properties>] [--<simulator options>]\n',
    '\n',
    'Simulates CCMSetup.exe. Parameters start with / and take a value after a colon (/mp:MP01.CONTOSO.COM);\n',
    'properties are NAME=value and are passed to client.msi. Names are case-insensitive and may come in any order;\n',
    'quote values that hold spaces; separate list items with ;.\n',
    '\n',
    `ccmsetup parameters (${CCMSETUP_PARAMETERS.length}):\n`,
    ...CCMSETUP_PARAMETERS.map(parameterLine),
    '\n',
    `client.msi properties (${CLIENT_PROPERTIES.length}; unknown properties are passed on as given):\n`,
    ...CLIENT_PROPERTIES.map(propertyLine),
    '\n',
    'Simulator options (start with --, may stand anywhere):\n',
    '  --parse-only            print the parsed command line as JSON and exit with the code it and the options decide\n',
    '                          by themselves (6, 7, 9 or 0); contacts no site, does not read the machine directory\n',
    '  --command-line "<line>" one raw Windows command line (e.g. a CCMSETUPCMD value) instead of the arguments\n',
    '  --site-dir <dir> | --site-url <url>   the simulated site (embedded, or a running `ccmsim site serve`)\n',
    '  --machine-dir <dir>     the simulated machine\'s directory (its Windows\\ tree and logs)\n',
    '  --computer-name <name>  --network intranet|internet  --timezone <IANA zone>   who and where the machine is\n',
    '  --seed <n>              repeat a run exactly (the seed is printed after each run)\n',
    '  --start <ISO date-time> run on a virtual clock from this instant (otherwise the real clock)\n',
    '  --simulate pending-reboot|prereq-failure   make the install end as such a machine would (return code 7 or 9)\n',
    '  --json                  print the outcome as JSON\n',
    'After the install, on the virtual clock (docs/lifecycle.md; offsets count from the end of the install):\n',
    '  --run-for <duration>    keep the client running this long, renewing its token (e.g. 200d; needed by the rest)\n',
    '  --restart-every <d>     client service restarts, default 1d     --restart-at HH:MM   their local time of day\n',
    '  --roam "internet:0d-30d,intranet:30d-"   where the machine is, period by period\n',
    '  --offline 40d-140d      a window with no network (repeatable)\n',
    '  --site-event 60d:rotate-token-signing | 90d:cmg-enabled=false   a site change during the run\n',
    '                          (repeatable; it changes the site itself, which keeps the change after the run)\n',
    '  --help                  this text (also /? and -?)\n',
    '\n',
    'Return codes: ',
    `${CCMSETUP_EXIT.SUCCESS} success, ${CCMSETUP_EXIT.ERROR} error, ${CCMSETUP_EXIT.REBOOT_REQUIRED} reboot required, `,
    `${CCMSETUP_EXIT.SETUP_RUNNING} setup already running, ${CCMSETUP_EXIT.PREREQ_FAILURE} prerequisite evaluation failure, `,
    `${CCMSETUP_EXIT.MANIFEST_HASH_FAILURE} setup manifest hash validation failure.\n`,
  ].join('');
}
