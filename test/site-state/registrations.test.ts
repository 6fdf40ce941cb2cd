import { describe, it, expect, afterEach } from 'vitest';
import { createHash } from 'node:crypto';
import { confirmRegistration, getClient, listClients, registerClient } from '../../src/site/registrations.js';
import { createBulkToken } from '../../src/site/bulk-tokens.js';
import { issueClientToken, listClientTokens } from '../../src/site/client-tokens.js';
import { clientCertDer, makeSite, START_MS, type SiteFixture } from './site-fixture.js';

let fixture: SiteFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

const SMS_ID = 'GUID:3F2504E0-4F89-41D3-9A0C-0305E82C3301';

function input(certIndex: number, extra: Record<string, unknown> = {}) {
  return {
    smsId: SMS_ID,
    netbiosName: 'PC001',
    fqName: 'PC001.contoso.com',
    hardwareId: '2:5B6E4F1A0C0D',
    signingCertDer: clientCertDer(certIndex),
    encryptionCertDer: clientCertDer(certIndex + 1),
    method: 'intranet' as const,
    ...extra,
  };
}

describe('registering clients', () => {
  it('records the client with its signing certificate thumbprint and how it registered', async () => {
    fixture = await makeSite();
    const der = clientCertDer(10);
    const r = registerClient(fixture.site, { ...input(10), smsId: SMS_ID.toLowerCase() });
    expect(r.outcome).toBe('new');
    expect(r.client).toMatchObject({
      smsId: SMS_ID,
      netbiosName: 'PC001',
      hardwareId: '2:5B6E4F1A0C0D',
      approval: 'approved',
      method: 'intranet',
      bulkTokenGuid: undefined,
      registeredMs: START_MS,
      signingThumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
    });
    expect(Buffer.compare(r.client.signingCertDer, der)).toBe(0);
  });

  it('is idempotent for the same SMS GUID and certificate, also from two open sites at once', async () => {
    fixture = await makeSite();
    const other = await fixture.reopen();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => Promise.resolve().then(() => registerClient(i % 2 ? other : fixture!.site, input(10)))),
    );
    expect(results.filter((r) => r.outcome === 'new')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'unchanged')).toHaveLength(19);
    expect(listClients(fixture.site)).toHaveLength(1);
    const count = fixture.site.db.prepare('SELECT COUNT(*) AS n FROM clients').get() as { n: number };
    expect(count.n).toBe(1);
  });

  it('a re-registration with a different certificate updates the record and revokes its tokens', async () => {
    fixture = await makeSite();
    registerClient(fixture.site, input(10));
    await issueClientToken(fixture.site, SMS_ID, { via: 'mp' });
    await fixture.clock.advance(60_000);
    const r = registerClient(fixture.site, input(12));
    expect(r.outcome).toBe('updated');
    expect(r.client.signingThumbprint).toBe(createHash('sha1').update(clientCertDer(12)).digest('hex').toUpperCase());
    expect(r.client.registeredMs).toBe(START_MS);
    expect(r.client.updatedMs).toBe(START_MS + 60_000);
    expect(listClients(fixture.site)).toHaveLength(1);
    expect(listClientTokens(fixture.site, SMS_ID).every((t) => t.revokedMs !== undefined)).toBe(true);
  });

  it('a bulk registration names a bulk token the site issued', async () => {
    fixture = await makeSite();
    const bulk = await createBulkToken(fixture.site);
    const r = registerClient(fixture.site, input(10, { method: 'bulk', bulkTokenGuid: bulk.guid }));
    expect(r.client).toMatchObject({ method: 'bulk', bulkTokenGuid: bulk.guid });
    expect(() => registerClient(fixture!.site, input(10, { smsId: 'GUID:11111111-2222-4333-8444-555555555555', method: 'bulk', bulkTokenGuid: '0b4a4b1e-1111-4222-8333-944445555666' }))).toThrow(
      expect.objectContaining({ code: 'CCMSIM_TOKEN_UNKNOWN' }),
    );
  });

  it('refuses a signing certificate that is not X.509', async () => {
    fixture = await makeSite();
    expect(() => registerClient(fixture!.site, { ...input(10), signingCertDer: Buffer.from('nope') })).toThrow(
      expect.objectContaining({ code: 'CCMSIM_REGISTRATION_REFUSED' }),
    );
    expect(listClients(fixture.site)).toHaveLength(0);
  });

  it('confirmation answers registered with approval, or unknown', async () => {
    fixture = await makeSite();
    registerClient(fixture.site, input(10));
    await fixture.clock.advance(5_000);
    expect(confirmRegistration(fixture.site, SMS_ID)).toMatchObject({ status: 'registered', approval: 'approved' });
    expect(getClient(fixture.site, SMS_ID)!.confirmedMs).toBe(START_MS + 5_000);
    expect(confirmRegistration(fixture.site, 'GUID:11111111-2222-4333-8444-555555555555')).toMatchObject({ status: 'unknown' });
  });
});
