import { describe, it, expect, afterEach } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { readConfig } from '../../src/site/site-config.js';
import { certificatePublicKey, parsedCertificate } from '../../src/site/parsed-certificates.js';
import { activeCertificate, certificateByThumbprint, listCertificates, publicKeyOf, tokenSigningCertificateByX5t } from '../../src/site/site-pki.js';
import { keptRead, statement, tableChanged } from '../../src/site/store.js';
import { x5tOf } from '../../src/protocol/tokens.js';
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

  it("a client certificate's public key is parsed once, is the certificate's key, and no certificate is refused", () => {
    const der = clientCertDer(4);
    const key = certificatePublicKey(der);
    expect(certificatePublicKey(Buffer.from(der))).toBe(key);
    expect(key.equals(new X509Certificate(der).publicKey)).toBe(true);
    expect(certificatePublicKey(clientCertDer(5)).equals(key)).toBe(false);
    expect(() => certificatePublicKey(Buffer.from('not a certificate either'))).toThrow();
  });

  it('the kept certificates follow a rotation by this connection and by another one', async () => {
    fixture = await makeSite();
    const db = fixture.site.db;
    const first = activeCertificate(db, 'token-signing');
    expect(tokenSigningCertificateByX5t(db, x5tOf(first.thumbprint))?.status).toBe('active');

    const mine = await fixture.site.rotateTokenSigning();
    expect(activeCertificate(db, 'token-signing').thumbprint).toBe(mine.active.thumbprint);
    expect(tokenSigningCertificateByX5t(db, x5tOf(first.thumbprint))).toMatchObject({ status: 'retired', thumbprint: first.thumbprint });

    const other = await fixture.reopen();
    const theirs = await other.rotateTokenSigning();
    expect(activeCertificate(db, 'token-signing').thumbprint).toBe(theirs.active.thumbprint);
    expect(tokenSigningCertificateByX5t(db, x5tOf(mine.active.thumbprint))?.status).toBe('retired');
    expect(listCertificates(db).map((c) => c.thumbprint)).toEqual(listCertificates(other.db).map((c) => c.thumbprint));
  });

  it('a kept certificate handed out can be changed by its caller without changing the next one', async () => {
    fixture = await makeSite();
    const db = fixture.site.db;
    const signer = activeCertificate(db, 'token-signing');
    signer.status = 'retired';
    listCertificates(db)[0]!.subject = 'changed';
    expect(activeCertificate(db, 'token-signing').status).toBe('active');
    expect(listCertificates(db)[0]!.subject).not.toBe('changed');
  });

  it('keptRead reads again after this connection marks the table changed, and keeps nothing read inside a transaction', async () => {
    fixture = await makeSite();
    const db = fixture.site.db;
    let reads = 0;
    const read = (): number => ++reads;
    expect(keptRead(db, 'example', read)).toBe(1);
    expect(keptRead(db, 'example', read)).toBe(1);
    tableChanged(db, 'example');
    expect(keptRead(db, 'example', read)).toBe(2);
    expect(db.transaction(() => keptRead(db, 'example', read))()).toBe(3);
    expect(keptRead(db, 'example', read)).toBe(2);
    expect(keptRead(db, 'another', read)).toBe(4);
  });
});
