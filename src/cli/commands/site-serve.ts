/**
 * Owns `ccmsim site serve`: starts the MP (HTTP) and the CMG (HTTPS) on loopback for the site directory, prints their
 * URLs, runs until SIGINT/SIGTERM, then closes the servers and the database cleanly. State is read from the store per
 * request, so `ccmsim site config` / `tokens block` from another process take effect at once.
 *
 * `--clock virtual --start <ISO>` serves on a virtual clock that stands at the start time (nothing advances it in a
 * standalone server); runs that fast-forward months use the embedded site, which shares the agents' clock.
 *
 * A `--host`, `--mp-port` or `--cmg-port` the servers cannot listen on (a port in use, an address this computer does not
 * have, a name that does not resolve) is a usage error naming the option: changing it is the fix.
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
  if (typeof start !== 'string') {
    throw new CcmsimError('CCMSIM_USAGE', '--clock virtual needs --start <ISO time>, e.g. --start 2026-01-01T00:00:00Z');
  }
  try {
    return new VirtualClock(parseStartTime(start));
  } catch {
    throw new CcmsimError('CCMSIM_USAGE', `--start ${start}: not a valid ISO date-time (e.g. 2026-01-01T00:00:00Z; without an offset it is UTC)`);
  }
}

/** A failure to listen (Node's `listen EADDRINUSE …`, `getaddrinfo ENOTFOUND …`) as a usage error naming the option to change. */
function listenError(err: unknown, host: string, mpPort: number, cmgPort: number): CcmsimError | undefined {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e.syscall !== 'listen' && e.syscall !== 'getaddrinfo') return undefined;
  // The servers listen on the ports asked for; 0 (a free port) is never in use or privileged.
  const portOption = e.port !== undefined && e.port === cmgPort && cmgPort !== 0 ? `--cmg-port ${cmgPort}` : `--mp-port ${e.port ?? mpPort}`;
  const usage = (message: string): CcmsimError => new CcmsimError('CCMSIM_USAGE', message, { cause: err });
  switch (e.code) {
    case 'EADDRINUSE':
      return usage(`${portOption}: ${host}:${e.port ?? ''} is already in use (choose another port, or leave the option out for a free one)`);
    case 'EACCES':
      return usage(`${portOption}: not allowed to listen on ${host}:${e.port ?? ''} (ports below 1024 need privileges)`);
    case 'EADDRNOTAVAIL':
      return usage(`--host ${host}: not an address of this computer (use 127.0.0.1 or an address of one of its network interfaces)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return usage(`--host ${host}: the name does not resolve (give an IP address, e.g. 127.0.0.1, or a resolvable host name)`);
    default:
      return usage(`cannot listen on ${host}${e.port === undefined ? '' : `:${e.port}`}: ${e.message}`);
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
      const clock = chooseClock(argv.clock, argv.start);
      const mpPort = port('mp-port', argv['mp-port']);
      const cmgPort = port('cmg-port', argv['cmg-port']);
      if (mpPort !== 0 && mpPort === cmgPort) throw new CcmsimError('CCMSIM_USAGE', `--mp-port and --cmg-port are both ${mpPort}: give the MP and the CMG a port each`);
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
        try {
          servers = await startSiteServers(site, { host: String(argv.host), mpPort, cmgPort, timeZone });
        } catch (err) {
          throw listenError(err, String(argv.host), mpPort, cmgPort) ?? err;
        }
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
