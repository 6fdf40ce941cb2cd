/**
 * Owns what the fleet driver needs from the site besides HTTP: bulk tokens, site events and the database's counts.
 * Two backends: in this thread (the site object at hand) and in a worker thread (site-worker.ts), which puts the
 * site's request handling, TLS, SQLite and signing on the second core while the agents run on the main thread.
 */
import { blockBulkToken, createBulkToken } from '../site/bulk-tokens.js';
import { listClients } from '../site/registrations.js';
import { listClientTokens } from '../site/client-tokens.js';
import type { Site } from '../site/site.js';
import { siteControlFor } from '../agent/lifecycle/site-control.js';
import type { SiteEventAction } from '../agent/lifecycle/lifecycle-options.js';
import type { SiteCounts } from './fleet-driver.js';

export interface SiteBackend {
  siteCode: string | undefined;
  createBulkToken(lifetimeMinutes: number): Promise<{ guid: string; token: string }>;
  blockBulkToken(guid: string): Promise<void>;
  apply(action: SiteEventAction, nowMs: number): Promise<string>;
  counts(): Promise<SiteCounts>;
  /** Faults injected by a hook this backend runs itself (worker), by kind; empty when the hook reports directly. */
  faults(): Promise<Record<string, number>>;
}

export function siteCountsOf(site: Site): SiteCounts {
  const clients = listClients(site);
  const ids = new Set(clients.map((c) => c.smsId));
  const names = new Set(clients.map((c) => c.netbiosName.toUpperCase()));
  return { clients: clients.length, duplicateClients: clients.length - Math.min(ids.size, names.size), clientTokens: listClientTokens(site).length };
}

export function localBackend(site: Site): SiteBackend {
  const control = siteControlFor(site);
  return {
    siteCode: site.config().siteCode,
    async createBulkToken(lifetimeMinutes) {
      const t = await createBulkToken(site, { lifetimeMinutes });
      return { guid: t.guid, token: t.token };
    },
    async blockBulkToken(guid) {
      blockBulkToken(site, guid);
    },
    apply: (action, nowMs) => control.apply(action, nowMs),
    counts: async () => siteCountsOf(site),
    faults: async () => ({}),
  };
}
