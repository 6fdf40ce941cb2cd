import { describe, it, expect, afterEach } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { readConfig } from '../../src/site/site-config.js';
import { statement } from '../../src/site/store.js';
import { parsedCertificate } from '../../src/site/parsed-certificates.js';
import { certificateByThumbprint, publicKeyOf } from '../../src/site/site-pki.js';
import { clientCertDer, makeSite, type SiteFixture } from './site-fixture.js';

let fixture: SiteFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

describe('the site hot-path caches answer as the uncached reads did', () => {
  it('a kept configuration is read again after another connection commits, and after this one writes', async () => {
    fixture = await makeSite();
    const other = await fixture.reopen();
    expect(readConfig(fixture.site.db).serverMode).toBe('active');
    expect(readConfig(fixture.site.db).serverMode).toBe('active');
    other.updateConfig({ serverMode: 'passive' });
    expect(readConfig(fixture.site.db).serverMode).toBe('passive');
    fixture.site.updateConfig({ serverMode: 'active', cmgEnabled: false });
    expect(readConfig(fixture.site.db)).toMatchObject({ serverMode: 'active', cmgEnabled: false });
    expect(readConfig(other.db)).toMatchObject({ serverMode: 'active', cmgEnabled: false });
  });

  it('every configuration read is a fresh object: changing one does not change the next', async () => {
    fixture = await makeSite();
    const first = readConfig(fixture.site.db);
    first.serverMode = 'passive';
    expect(readConfig(fixture.site.db).serverMode).toBe('active');
    expect(readConfig(fixture.site.db)).not.toBe(readConfig(fixture.site.db));
  });

  it('a prepared statement is kept per connection', async () => {
    fixture = await makeSite();
    const other = await fixture.reopen();
    const sql = 'SELECT COUNT(*) AS n FROM clients';
    expect(statement(fixture.site.db, sql)).toBe(statement(fixture.site.db, sql));
    expect(statement(other.db, sql)).not.toBe(statement(fixture.site.db, sql));
    expect(statement(other.db, sql).get()).toEqual({ n: 0 });
  });

  it('a client certificate is parsed once, and bytes that are no certificate are still refused', () => {
    const der = clientCertDer(3);
    const cert = parsedCertificate(der);
    expect(parsedCertificate(Buffer.from(der))).toBe(cert);
    expect(cert.fingerprint).toBe(new X509Certificate(der).fingerprint);
    expect(() => parsedCertificate(Buffer.from('not a certificate'))).toThrow();
  });

  it("a site certificate's public key is the one in its PEM", async () => {
    fixture = await makeSite();
    const [root] = fixture.site.certificates().filter((c) => c.role === 'issuing-root');
    const again = certificateByThumbprint(fixture.site.db, root!.thumbprint)!;
    expect(publicKeyOf(again)).toBe(publicKeyOf(root!));
    expect(publicKeyOf(root!).equals(new X509Certificate(root!.pem).publicKey)).toBe(true);
  });
});
