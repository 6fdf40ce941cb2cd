/**
 * Front door `bulkregtoken-sim`: BulkRegistrationTokenTool.exe for the simulated site. `/new` prints a banner, the
 * tracking GUID, `Token is valid until <date>.` and the token alone as the 5th output line (community scripts take
 * line index 4, or the line matching the JWT pattern). The token goes to stdout only, never to a file or log.
 */
import { createBulkToken, BULK_LIFETIME_DEFAULT_MINUTES, BULK_LIFETIME_MAX_MINUTES, BULK_LIFETIME_MIN_MINUTES } from '../site/bulk-tokens.js';
import { type Io, processIo, reportError, usageError } from './io.js';
import { parseStartTime, VirtualClock } from '../clock/clock.js';
import { toolExitCode, TOOL_EXIT } from './exit-codes.js';
import { formatUtc, openSiteForCli, type SiteCliDeps } from './commands/site-common.js';

export const TOOL_NAME = 'bulkregtoken-sim';

/** The documented parameters, in Microsoft's wording (token-based authentication for CMG, "tool usage"). */
export const USAGE = `Usage: bulkregtoken-sim [/?] [/new [/lifetime <minutes>]] [--site-dir <dir>] [--start <ISO date-time>]

  /?         Display this usage information.
  /new       Create a new bulk registration token.
             Displays a GUID that the site uses to track issued tokens, the token validity period
             (three days by default), and the bulk registration token.
  /lifetime  Use with /new parameter to specify the token validity period of the token.
             Specify an integer value in minutes. The default value is ${BULK_LIFETIME_DEFAULT_MINUTES.toLocaleString('en-US')} (three days).
             The maximum value is ${BULK_LIFETIME_MAX_MINUTES.toLocaleString('en-US')} (seven days).
             Separate the value with a space: /lifetime 4320.

  --site-dir <dir>  the simulated site (default: $CCMSIM_SITE_DIR, else .ccmsim/site)
  --start <time>    create the token as of this virtual time (UTC unless it has an offset), for
                    ccmsetup-sim runs that use --start; default: now

The token isn't stored on the client or the site. Make sure to copy the token from the command prompt,
and store in a secure location.

Exit codes: 0 success, 2 usage error, 4 refused (site server in passive mode), 1 site state error, 70 internal error.
`;

export interface BulkToolArgs {
  help: boolean;
  create: boolean;
  lifetimeMinutes: number;
  siteDir: string | undefined;
  /** Virtual creation time (epoch ms), for runs on a virtual clock. */
  startMs: number | undefined;
}

/** Parses the tool's Windows-style switches (case-insensitive, any order; `/lifetime` takes a space-separated value). */
export function parseBulkToolArgs(argv: readonly string[]): BulkToolArgs {
  const out: BulkToolArgs = { help: false, create: false, lifetimeMinutes: BULK_LIFETIME_DEFAULT_MINUTES, siteDir: undefined, startMs: undefined };
  let lifetimeGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const lower = arg.toLowerCase();
    if (lower === '/?' || lower === '-?' || lower === '/help' || lower === '--help' || lower === '-h') {
      out.help = true;
    } else if (lower === '/new' || lower === '-new') {
      out.create = true;
    } else if (lower === '/lifetime' || lower === '-lifetime') {
      const value = argv[i + 1];
      if (value === undefined || (/^[/]/.test(value) && !/^-?\d/.test(value)) || value.startsWith('--')) {
        throw usageError('/lifetime needs a value in minutes after a space, e.g. /lifetime 4320');
      }
      i++;
      if (!/^[+-]?\d+$/.test(value.trim())) throw usageError(`/lifetime ${value}: not an integer number of minutes`);
      const minutes = Number(value.trim());
      if (minutes < BULK_LIFETIME_MIN_MINUTES || minutes > BULK_LIFETIME_MAX_MINUTES) {
        throw usageError(`/lifetime ${value}: must be from ${BULK_LIFETIME_MIN_MINUTES} to ${BULK_LIFETIME_MAX_MINUTES} minutes (${BULK_LIFETIME_MAX_MINUTES} is seven days)`);
      }
      // Two lifetimes are a mistake to point out, not a choice to make silently.
      if (lifetimeGiven) throw usageError(`/lifetime given twice (${out.lifetimeMinutes} and ${minutes}): give it once`);
      out.lifetimeMinutes = minutes;
      lifetimeGiven = true;
    } else if (/^[/-]lifetime[:=]/i.test(arg)) {
      throw usageError(`${arg}: separate the value with a space, not a colon: /lifetime ${arg.slice(10)}`);
    } else if (lower === '--site-dir') {
      const value = argv[i + 1];
      if (value === undefined) throw usageError('--site-dir needs a directory');
      out.siteDir = value;
      i++;
    } else if (lower.startsWith('--site-dir=')) {
      out.siteDir = arg.slice('--site-dir='.length);
    } else if (lower === '--start' || lower.startsWith('--start=')) {
      const value = lower === '--start' ? argv[++i] : arg.slice('--start='.length);
      if (value === undefined) throw usageError('--start needs an ISO date-time, e.g. --start 2028-01-31T10:00:00Z');
      try {
        out.startMs = parseStartTime(value);
      } catch {
        throw usageError(`--start ${value}: not an ISO date-time`);
      }
    } else {
      throw usageError(`unknown parameter ${arg} (bulkregtoken-sim /? lists the parameters)`);
    }
  }
  if (lifetimeGiven && !out.create && !out.help) throw usageError('/lifetime goes with /new: bulkregtoken-sim /new /lifetime <minutes>');
  return out;
}

export async function main(argv: string[], io: Io = processIo(), deps: SiteCliDeps = {}): Promise<number> {
  try {
    const args = parseBulkToolArgs(argv);
    if (args.help) {
      io.stdout(USAGE);
      return TOOL_EXIT.SUCCESS;
    }
    if (!args.create) {
      io.stdout(USAGE);
      reportError(io, TOOL_NAME, usageError('nothing to do: give /new to create a token'));
      return TOOL_EXIT.USAGE;
    }
    const clockDeps = args.startMs === undefined ? {} : { clock: new VirtualClock(args.startMs) };
    const site = await openSiteForCli(io, args.siteDir, { create: true, deps: { ...clockDeps, ...deps } });
    try {
      const created = await createBulkToken(site, { lifetimeMinutes: args.lifetimeMinutes });
      const config = site.config();
      // Exactly five lines; the token is the fifth and alone on its line. No other line holds a GUID.
      io.stdout(
        [
          `Bulk registration token tool (ccmsetup-sim) for site ${config.siteCode}.`,
          `Created a new bulk registration token (lifetime ${args.lifetimeMinutes} minutes).`,
          `Token GUID: ${created.guid}`,
          `Token is valid until ${formatUtc(created.validUntilMs)}.`,
          created.token,
        ].join('\n') + '\n',
      );
      return TOOL_EXIT.SUCCESS;
    } finally {
      site.close();
    }
  } catch (err) {
    reportError(io, TOOL_NAME, err);
    return toolExitCode(err);
  }
}
