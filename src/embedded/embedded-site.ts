/**
 * Owns the meeting point of agent and site: the embedded default (open the site directory, creating it with the
 * defaults if missing, and serve it in-process on loopback) and the remote case (`--site-url`: learn the CMG's port,
 * the root certificate, the site code and the site's clock from a running `ccmsim site serve` at `/ccmsim/site`).
 * Either way the agent gets the site's real host names mapped to where the servers listen, and one shared transport.
 */
import { request } from 'undici';
import { RealClock, type Clock } from '../clock/clock.js';
import type { Random } from '../clock/random.js';
import { CcmsimError, HRESULT } from '../errors.js';
import type { KeyProvider } from '../crypto/key-provider.js';
import { openSite, type Site } from '../site/site.js';
import { startSiteServers, type FaultHook } from '../site/site-servers.js';
import { activeCertificate } from '../site/site-pki.js';
import type { SiteDescription } from '../site/mp-info.js';
import { createSiteTransport, type SiteEndpoints, type SiteTransport } from '../agent/site-transport.js';
import { createCcmSiteClient } from '../agent/ccm-site-client.js';
import type { SiteClient } from '../agent/site-client.js';

export interface SiteConnection {
  endpoints: SiteEndpoints;
  transport: SiteTransport;
  client: SiteClient;
  /** The site's MP and CMG as clients name them. */
  siteNames: { mpUrl: string; cmgUrl: string };
  /** The in-process site (embedded only). */
  site: Site | undefined;
  close(): Promise<void>;
}

export interface EmbeddedSiteOptions {
  siteDir: string;
  clock: Clock;
  random: Random;
  keys?: KeyProvider;
  /** Ports for the MP and the CMG (default: any free port). */
  mpPort?: number;
  cmgPort?: number;
  /** IANA zone of the server logs (default UTC). */
  timeZone?: string;
  /** Per-request fault injection on the servers (fleet runs). */
  faults?: FaultHook;
  /** Server logs written once per event-loop turn (fleet runs). */
  batchLogWrites?: boolean;
}

/** Opens (or creates) the site in `siteDir`, serves it on loopback and connects an agent transport to it. */
export async function startEmbeddedSite(options: EmbeddedSiteOptions): Promise<SiteConnection> {
  const site = await openSite({
    siteDir: options.siteDir,
    clock: options.clock,
    random: options.random.fork('site'),
    create: true,
    ...(options.keys ? { keys: options.keys } : {}),
  });
  let servers;
  try {
    servers = await startSiteServers(site, {
      host: '127.0.0.1',
      ...(options.mpPort !== undefined ? { mpPort: options.mpPort } : {}),
      ...(options.cmgPort !== undefined ? { cmgPort: options.cmgPort } : {}),
      ...(options.timeZone !== undefined ? { timeZone: options.timeZone } : {}),
      ...(options.faults !== undefined ? { faults: options.faults } : {}),
      ...(options.batchLogWrites === true ? { batchLogWrites: true } : {}),
    });
  } catch (err) {
    site.close();
    throw err;
  }
  const closeServers = async (): Promise<void> => {
    // The servers' close waits for connections with unref'd timers; in a bare CLI process nothing else keeps the
    // event loop alive, so Node would exit with the close still pending (exit code 13). Hold it open meanwhile.
    const keepAlive = setInterval(() => undefined, 20);
    try {
      await servers.close();
    } finally {
      clearInterval(keepAlive);
    }
  };
  let config;
  let rootPem;
  try {
    config = site.config();
    // The agent trusts the root as the database holds it; the .cer.pem beside it is an export for people.
    rootPem = activeCertificate(site.db, 'issuing-root').pem;
  } catch (err) {
    // Started servers would hold the process open after the error.
    await closeServers();
    site.close();
    throw err;
  }
  const siteNames = {
    mpUrl: `http://${config.mpHost}`,
    cmgUrl: `https://${config.cmgHost}/CCM_Proxy_MutualAuth/${config.cmgId}`,
  };
  const endpoints: SiteEndpoints = {
    ...siteNames,
    trustedRootPem: rootPem,
    hostMap: {
      [config.mpHost]: { address: '127.0.0.1', port: servers.mpPort },
      [config.cmgHost]: { address: '127.0.0.1', port: servers.cmgPort },
    },
  };
  const transport = createSiteTransport(endpoints);
  return {
    endpoints,
    transport,
    client: createCcmSiteClient(transport, options.clock),
    siteNames,
    site,
    async close() {
      await transport.close();
      await closeServers();
      site.close();
    },
  };
}

/** A running site reached by URL: what it says about itself, and its clock when it said it. */
export interface RemoteSiteConnection extends SiteConnection {
  description: SiteDescription;
  /** The site's clock when it answered `/ccmsim/site` (its HTTP Date header: whole seconds). It signs, and checks
   * request timestamps, on that clock, whether `site serve` runs on the real clock or on `--clock virtual`. */
  siteNowMs: number;
}

/** Connects to a running `ccmsim site serve` given its MP URL (e.g. `http://127.0.0.1:8080`). */
export async function connectRemoteSite(siteUrl: string, clock: Clock = new RealClock()): Promise<RemoteSiteConnection> {
  let base: URL;
  try {
    base = new URL(siteUrl);
  } catch {
    throw new CcmsimError('CCMSIM_USAGE', `--site-url ${siteUrl}: not a URL (give the MP's URL, e.g. http://127.0.0.1:8080)`);
  }
  let description: SiteDescription;
  let siteNowMs: number;
  try {
    const res = await request(new URL('/ccmsim/site', base), { method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    description = JSON.parse(text) as SiteDescription;
    const date = res.headers['date'];
    siteNowMs = typeof date === 'string' ? Date.parse(date) : Number.NaN;
    if (!Number.isFinite(siteNowMs)) throw new Error('the answer has no valid Date header (the site clock)');
  } catch (err) {
    throw new CcmsimError('CCMSIM_SITE_UNREACHABLE', `cannot read the site description at ${siteUrl}/ccmsim/site: ${(err as Error).message}`, {
      hresult: HRESULT.WINHTTP_CANNOT_CONNECT,
      cause: err,
    });
  }
  const mpPort = Number(base.port || (base.protocol === 'https:' ? 443 : 80));
  const hostMap: SiteEndpoints['hostMap'] = { [description.mpHost]: { address: base.hostname, port: mpPort } };
  if (description.cmgPort !== null) {
    const cmgAddress = description.cmgAddress && description.cmgAddress !== '0.0.0.0' ? description.cmgAddress : base.hostname;
    hostMap[description.cmgHost] = { address: cmgAddress, port: description.cmgPort };
  }
  const siteNames = { mpUrl: `http://${description.mpHost}`, cmgUrl: description.cmgMutualAuthUrl };
  const endpoints: SiteEndpoints = { ...siteNames, trustedRootPem: description.rootCertificatePem, hostMap };
  const transport = createSiteTransport(endpoints);
  return {
    endpoints,
    transport,
    client: createCcmSiteClient(transport, clock),
    siteNames,
    site: undefined,
    description,
    siteNowMs,
    close: () => transport.close(),
  };
}
