/**
 * Owns the site a fleet talks to. Embedded (default): the site directory inside --out, served on loopback by the
 * embedded module with the fleet's fault hook, reached through one shared keep-alive transport (undici pools).
 * Remote (--site-url): a running `ccmsim site serve`, through the embedded module's connectRemoteSite, which also
 * tells the site's code and its clock.
 */
import type { Clock } from '../clock/clock.js';
import type { Random } from '../clock/random.js';
import type { KeyProvider } from '../crypto/key-provider.js';
import type { Site } from '../site/site.js';
import type { FaultHook } from '../site/site-servers.js';
import type { SiteEndpoints, SiteTransport } from '../agent/site-transport.js';
import { connectRemoteSite, startEmbeddedSite } from '../embedded/embedded-site.js';

export interface FleetSite {
  endpoints: SiteEndpoints;
  transport: SiteTransport;
  siteNames: { mpUrl: string; cmgUrl: string };
  /** The in-process site (embedded only). */
  site: Site | undefined;
  /** A remote site (--site-url): its code, and its clock when the fleet connected. */
  remote?: { siteCode: string; siteNowMs: number };
  close(): Promise<void>;
}

export async function startFleetSite(options: {
  siteDir: string;
  clock: Clock;
  random: Random;
  keys?: KeyProvider | undefined;
  faults?: FaultHook | undefined;
  timeZone?: string;
}): Promise<FleetSite> {
  const c = await startEmbeddedSite({
    siteDir: options.siteDir,
    clock: options.clock,
    random: options.random,
    ...(options.keys ? { keys: options.keys } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.timeZone !== undefined ? { timeZone: options.timeZone } : {}),
    // Thousands of agents: one write per log and event-loop turn, not one per line (the files are complete at close).
    batchLogWrites: true,
  });
  return { endpoints: c.endpoints, transport: c.transport, siteNames: c.siteNames, site: c.site, close: () => c.close() };
}

export async function connectFleetSite(siteUrl: string): Promise<FleetSite> {
  const c = await connectRemoteSite(siteUrl);
  return {
    endpoints: c.endpoints,
    transport: c.transport,
    siteNames: c.siteNames,
    site: undefined,
    remote: { siteCode: c.description.siteCode, siteNowMs: c.siteNowMs },
    close: () => c.close(),
  };
}
