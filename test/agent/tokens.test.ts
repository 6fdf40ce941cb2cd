// Token cases beyond the happy path: expired, foreign and malformed bulk tokens are refused with their own reasons;
// a client registered on the intranet roams to the internet and uses its own token through the CMG (no bulk token);
// an agent reaches a site through --site-url (the site's /ccmsim/site description) instead of the embedded one; and
// agents share one log sink, as a fleet does.
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { Random } from '../../src/clock/random.js';
import { fixedKeys } from '../../src/crypto/key-provider.js';
import { createBulkToken } from '../../src/site/bulk-tokens.js';
import { listClients } from '../../src/site/registrations.js';
import { startEmbeddedSite, connectRemoteSite } from '../../src/embedded/embedded-site.js';
import { machinePaths } from '../../src/agent/machine-dir.js';
import { openCmLogSet } from '../../src/log/cm-log-set.js';
import { testKeyPair } from '../helpers/test-keys.js';
import { CMG, inOrder, messages, MS_LINE, startWorld, type TestWorld } from './harness.js';

let w: TestWorld;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.close();
});

describe('bulk tokens the site refuses', () => {
  it('an expired token', async () => {
    const bulk = await createBulkToken(w.conn.site!, { lifetimeMinutes: 1 });
    await w.clock.advance(10 * 60_000);
    const out = await w.install(`${MS_LINE}${bulk.token}`);
    expect(out).toMatchObject({ exitCode: 6, error: { code: 'CCMSIM_TOKEN_EXPIRED', hresult: '0x87d0027e', httpStatus: 401 } });
  });

  it("another site's token (a signing certificate this site does not know)", async () => {
    const other = await startEmbeddedSite({
      siteDir: join(w.dir, 'other-site'),
      clock: w.clock,
      random: new Random('other-site'),
      keys: fixedKeys([testKeyPair(12), testKeyPair(13), testKeyPair(14)]),
    });
    try {
      const foreign = await createBulkToken(other.site!);
      const out = await w.install(`${MS_LINE}${foreign.token}`);
      expect(out.exitCode).toBe(6);
      expect(out.error?.code).toMatch(/^CCMSIM_TOKEN_(UNKNOWN_KEY|CLAIMS|SIGNATURE|UNKNOWN)$/);
    } finally {
      await other.close();
    }
  });

  it('a value that is only shaped like a token', async () => {
    const out = await w.install(`${MS_LINE}aaaa.bbbb.cccc`);
    expect(out).toMatchObject({ exitCode: 6, error: { code: 'CCMSIM_TOKEN_MALFORMED' } });
    inOrder(messages(machinePaths(out.machineDir).clientIdLog), [/Registration was refused by the site: .*\(CCMSIM_TOKEN_MALFORMED\)/]);
  });
});

describe('the client token, without any bulk token', () => {
  it('an intranet-registered client roams to the internet and talks to the CMG with its own token', async () => {
    const name = 'LAPTOP-ROAM01';
    const intranet = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC', { name });
    expect(intranet).toMatchObject({ exitCode: 0, registeredVia: 'intranet' });
    const roamed = await w.install(`CCMHOSTNAME=${CMG} SMSSITECODE=ABC`, { name });
    expect(roamed).toMatchObject({ exitCode: 0, network: 'internet', via: 'cmg', smsId: intranet.smsId, registration: 'registered' });
    expect(roamed.clientTokenExpiresAt).toBe(intranet.clientTokenExpiresAt);
  });
});

describe('--site-url', () => {
  it('reads /ccmsim/site from a running site and installs through its CMG', async () => {
    const mpPort = w.conn.endpoints.hostMap['MP01.CONTOSO.COM']!.port;
    const remote = await connectRemoteSite(`http://127.0.0.1:${mpPort}`, w.clock);
    try {
      expect(remote.siteNames.cmgUrl).toBe(`https://${CMG}`);
      const bulk = await createBulkToken(w.conn.site!);
      const out = await w.install(`${MS_LINE}${bulk.token}`, { name: 'PC-REMOTE01', site: remote.client, siteNames: remote.siteNames });
      expect(out).toMatchObject({ exitCode: 0, via: 'cmg', registeredVia: 'bulk' });
      expect(listClients(w.conn.site!).some((c) => c.netbiosName === 'PC-REMOTE01' && c.bulkTokenGuid === bulk.guid)).toBe(true);
    } finally {
      await remote.close();
    }
  });
});

describe('a shared log sink (how a fleet runs many agents)', () => {
  it('two agents write through one CmLogSet and hold no file descriptor once done', async () => {
    const set = openCmLogSet({ root: w.dir, format: 'cmtrace', timeZone: 'UTC' });
    try {
      const a = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC', { name: 'PC-FLEET-01', logs: { set, root: w.dir } });
      const b = await w.install('/mp:MP01.CONTOSO.COM SMSSITECODE=ABC', { name: 'PC-FLEET-02', logs: { set, root: w.dir } });
      expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
      expect(set.paths).toHaveLength(6);
      expect(set.openFiles).toBe(0);
      expect(messages(a.logs.ccmsetup).at(-1)).toBe('CcmSetup is exiting with return code 0');
    } finally {
      set.closeAll();
    }
  });
});
