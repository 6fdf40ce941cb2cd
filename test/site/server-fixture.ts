/**
 * Test fixture for the site servers: a fresh site (committed test keys, virtual clock) with the MP and CMG started on
 * loopback, an undici dispatcher that reaches the CMG the way an agent does (127.0.0.1, SNI = the CMG host, trusting
 * the site root), and helpers to read the server logs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { makeSite, type SiteFixture } from '../site-state/site-fixture.js';
import { startSiteServers, type SiteServers, type SiteServersOptions } from '../../src/site/site-servers.js';
import { activeCertificate } from '../../src/site/site-pki.js';
import type { ServerLogName } from '../../src/site/server-logs.js';

export interface ServerFixture extends SiteFixture {
  servers: SiteServers;
  /** Reaches the CMG like an agent: connects to 127.0.0.1 with SNI = the CMG host and trusts the site root. */
  cmgDispatcher: Dispatcher;
  /** `https://<CMG host>:<port>/CCM_Proxy_ServerAuth/<id>` (the dispatcher maps the host to loopback). */
  cmgServerAuth: string;
  cmgMutualAuth: string;
  log(name: ServerLogName): string;
  close(): Promise<void>;
}

export async function startServerFixture(options: Partial<SiteServersOptions> = {}): Promise<ServerFixture> {
  const fixture = await makeSite();
  const servers = await startSiteServers(fixture.site, { host: '127.0.0.1', ...options });
  const config = fixture.site.config();
  const rootPem = activeCertificate(fixture.site.db, 'issuing-root').pem;
  const connector = buildConnector({ ca: rootPem, servername: config.cmgHost });
  // Resolve the CMG host name to loopback; SNI and the certificate check stay on the real name.
  const dispatcher = new Agent({
    connect: (opts, callback) => connector({ ...opts, hostname: '127.0.0.1', servername: config.cmgHost }, callback),
  });
  return {
    ...fixture,
    servers,
    cmgDispatcher: dispatcher,
    cmgServerAuth: `https://${config.cmgHost}:${servers.cmgPort}/CCM_Proxy_ServerAuth/${config.cmgId}`,
    cmgMutualAuth: `https://${config.cmgHost}:${servers.cmgPort}/CCM_Proxy_MutualAuth/${config.cmgId}`,
    log: (name) => {
      const path = servers.logs.pathOf(name);
      return existsSync(path) ? readFileSync(path, 'utf8') : '';
    },
    close: async () => {
      await servers.close();
      await dispatcher.close();
      fixture.cleanup();
    },
  };
}

export { request };
