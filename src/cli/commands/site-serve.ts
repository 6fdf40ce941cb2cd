/**
 * Owns `ccmsim site serve`: starts the MP (HTTP) and the CMG (HTTPS) on loopback for the site directory, prints their
 * URLs, runs until SIGINT/SIGTERM, then closes the servers and the database cleanly. State is read from the store per
 * request, so `ccmsim site config` / `tokens block` from another process take effect at once.
 *
 * `--clock virtual --start <ISO>` serves on a virtual clock that stands at the start time (nothing advances it in a
 * standalone server); runs that fast-forward months use the embedded site, which shares the agents' clock.
 */
import type { Argv } from 'yargs';
import type { CommandContext } from '../ccmsim-main.js';
import { parseStartTime, VirtualClock, type Clock } from '../../clock/clock.js';
import { CcmsimError } from '../../errors.js';
import { startSiteServers, type SiteServers } from '../../site/site-servers.js';
import { openSiteForCli, resolveSeed, withSeedOption } from './site-common.js';

export interface SiteServeHooks {
  /** Resolves when the server should stop. Default: the first SIGINT or SIGTERM. Tests replace it. */
  waitForStop?: (servers: SiteServers) => Promise<void>;
}

/** Overrides for in-process tests. Left empty in production. */
export const siteServeHooks: SiteServeHooks = {};

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function port(name: string, value: unknown): number {
  if (value === undefined) return 0;
  // Strings, not yargs numbers: the error quotes what was typed ('abc', not NaN), and '' or '0x50' is no port.
  const n = /^\s*\d+\s*$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CcmsimError('CCMSIM_USAGE', `--${name} must be a port number from 0 to 65535, not ${String(value)}`);
  return n;
}

function chooseClock(kind: unknown, start: unknown): Clock | undefined {
  if (kind === undefined || kind === 'real') {
    if (start !== undefined) throw new CcmsimError('CCMSIM_USAGE', '--start goes with --clock virtual');
    return undefined;
  }
  if (kind !== 'virtual') throw new CcmsimError('CCMSIM_USAGE', `--clock must be real or virtual, not ${String(kind)}`);
  if (typeof start !== 'string' || !/^\s*\d{4}-\d{2}-\d{2}T/.test(start)) {
    throw new CcmsimError('CCMSIM_USAGE', '--clock virtual needs --start <ISO time>, e.g. --start 2026-01-01T00:00:00Z');
  }
  try {
    return new VirtualClock(parseStartTime(start));
  } catch {
    throw new CcmsimError('CCMSIM_USAGE', `--start ${start}: not a valid ISO date-time (e.g. 2026-01-01T00:00:00Z; without an offset it is UTC)`);
  }
}

export function siteServeCommand(y: Argv, ctx: CommandContext): Argv {
  return y.command(
    'serve',
    'run the management point (HTTP) and the cloud management gateway (HTTPS) on loopback until Ctrl+C',
    (c) =>
      withSeedOption(c)
        .option('mp-port', { type: 'string', requiresArg: true, describe: 'MP port (default: a free port)' })
        .option('cmg-port', { type: 'string', requiresArg: true, describe: 'CMG port (default: a free port)' })
        .option('host', { type: 'string', requiresArg: true, default: '127.0.0.1', describe: 'address to listen on' })
        .option('clock', { type: 'string', requiresArg: true, choices: ['real', 'virtual'], describe: 'real (default) or virtual (stands at --start)' })
        .option('start', { type: 'string', requiresArg: true, describe: 'the virtual clock start, ISO 8601 (with --clock virtual)' })
        .option('log-time-zone', { type: 'string', requiresArg: true, default: 'UTC', describe: 'IANA time zone the server logs are printed in' }),
    async (argv) => {
      const mpPort = port('mp-port', argv['mp-port']);
      const cmgPort = port('cmg-port', argv['cmg-port']);
      const clock = chooseClock(argv.clock, argv.start);
      const timeZone = String(argv['log-time-zone']);
      try {
        new Intl.DateTimeFormat('en-US', { timeZone });
      } catch {
        throw new CcmsimError('CCMSIM_USAGE', `--log-time-zone ${timeZone}: not an IANA time zone`);
      }
      const seed = resolveSeed(argv.seed);
      const site = await openSiteForCli(ctx.io, argv['site-dir'] as string | undefined, clock ? { deps: { clock }, seed } : { seed });
      let servers: SiteServers | undefined;
      try {
        servers = await startSiteServers(site, { host: String(argv.host), mpPort, cmgPort, timeZone });
        const config = site.config();
        ctx.io.stdout(
          `Site ${config.siteCode} in ${site.siteDir}\n` +
            `MP: ${servers.mpUrl}\n` +
            `CMG: ${servers.cmgUrl}\n` +
            `CMG listens on ${servers.host}:${servers.cmgPort}; map ${config.cmgHost} to ${servers.host} (SNI ${config.cmgHost}).\n` +
            `Site root certificate: ${site.paths.rootCertificate}\n` +
            `Site description for agents: ${servers.mpUrl}/ccmsim/site\n` +
            `Seed: ${seed}\n` +
            `Serving until SIGINT or SIGTERM.\n`,
        );
        await (siteServeHooks.waitForStop ?? waitForSignal)(servers);
        ctx.io.stdout('Stopping: closing the servers and the site database.\n');
      } finally {
        if (servers) await servers.close();
        site.close();
      }
    },
  );
}
