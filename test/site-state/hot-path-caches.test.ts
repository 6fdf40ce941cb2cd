import { describe, it, expect, afterEach, vi } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { readConfig } from '../../src/site/site-config.js';
import { certificatePublicKey, clientCertificate } from '../../src/site/parsed-certificates.js';
import { createCertificate } from '../../src/crypto/certificate.js';
import { testKeyPair } from '../helpers/test-keys.js';
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
    await Promise.resolve();
    expect(readConfig(fixture.site.db).serverMode).toBe('passive');
    // This connection's own write is seen at once; the other connection sees it from its next turn.
    fixture.site.updateConfig({ serverMode: 'active', cmgEnabled: false });
    expect(readConfig(fixture.site.db)).toMatchObject({ serverMode: 'active', cmgEnabled: false });
    await Promise.resolve();
    expect(readConfig(other.db)).toMatchObject({ serverMode: 'active', cmgEnabled: false });
  });

  it('every configuration read is a fresh object: changing one does not change the next', async () => {
    fixture = await makeSite();
    const first = readConfig(fixture.site.db);
    first.serverMode = 'passive';
    expect(readConfig(fixture.site.db).serverMode).toBe('active');
    expect(readConfig(fixture.site.db)).not.toBe(readConfig(fixture.site.db));
  });

  it('one data_version check serves every kept read of a synchronous stretch; the next turn checks again', async () => {
    fixture = await makeSite();
    const db = fixture.site.db;
    await Promise.resolve();
    const checks = vi.spyOn(statement(db, 'PRAGMA data_version'), 'get');
    for (let i = 0; i < 5; i++) readConfig(db);
    activeCertificate(db, 'token-signing');
    expect(checks).toHaveBeenCalledTimes(1);
    await Promise.resolve();
    readConfig(db);
    expect(checks).toHaveBeenCalledTimes(2);
    checks.mockRestore();
  });

  it('a prepared statement is kept per connection', async () => {
    fixture = await makeSite();
    const other = await fixture.reopen();
    const sql = 'SELECT COUNT(*) AS n FROM clients';
    expect(statement(fixture.site.db, sql)).toBe(statement(fixture.site.db, sql));
    expect(statement(other.db, sql)).not.toBe(statement(fixture.site.db, sql));
    expect(statement(other.db, sql).get()).toEqual({ n: 0 });
  });

  it('a client certificate is read once, with the fields X509Certificate reads, and bytes that are no certificate are refused', () => {
    const der = clientCertDer(3);
    const cert = clientCertificate(der);
    expect(clientCertificate(Buffer.from(der))).toBe(cert);
    const x509 = new X509Certificate(der);
    expect(cert.thumbprint).toBe(x509.fingerprint.replace(/:/g, ''));
    expect(cert.commonName).toBe('CLIENT3');
    expect(cert.notBeforeMs).toBe(Date.parse(x509.validFrom));
    expect(cert.notAfterMs).toBe(Date.parse(x509.validTo));
    expect(cert.publicKey.equals(x509.publicKey)).toBe(true);
    expect(() => clientCertificate(Buffer.from('not a certificate'))).toThrow(/not an X.509 certificate/);
    // Well-formed DER that is not a certificate, a truncated certificate, and one with trailing bytes.
    expect(() => clientCertificate(Buffer.from('3003020101', 'hex'))).toThrow(/not an X.509 certificate/);
    expect(() => clientCertificate(der.subarray(0, der.length - 10))).toThrow(/not an X.509 certificate/);
    expect(() => clientCertificate(Buffer.concat([der, Buffer.from([0])]))).toThrow(/not an X.509 certificate/);
  });

  it('a client certificate names its last common name, UTF-8 included, and dates past 2049 as GeneralizedTime', () => {
    const pair = testKeyPair(6);
    const der = createCertificate({
      subject: [{ name: 'commonName', value: 'SMS' }, { name: 'commonName', value: 'Poste-Ééà' }],
      publicKey: pair.publicKey,
      privateKey: pair.privateKey,
      serial: '7f',
      notBefore: new Date(Date.UTC(2020, 0, 1)),
      notAfter: new Date(Date.UTC(2060, 5, 30, 12, 0, 5)),
    }).der;
    const cert = clientCertificate(der);
    expect(cert.commonName).toBe('Poste-Ééà');
    expect(cert.notAfterMs).toBe(Date.UTC(2060, 5, 30, 12, 0, 5));
    expect(cert.notAfterMs).toBe(Date.parse(new X509Certificate(der).validTo));
  });

  it('certificates of one key share one decoded public key; a certificate with a broken key is refused', () => {
    // Two certificates (different names and serials) of the same key pair, as a fleet's key pool makes them.
    const a = clientCertificate(clientCertDer(7, 'POOLED-A'));
    const b = clientCertificate(clientCertDer(7, 'POOLED-B'));
    expect(a.thumbprint).not.toBe(b.thumbprint);
    expect(b.publicKey).toBe(a.publicKey);
    // The RSAPublicKey inside the key's BIT STRING made a SET: the certificate's structure still reads, the key does not.
    const der = Buffer.from(clientCertDer(8));
    const rsaPublicKey = der.indexOf(Buffer.from('3082010a02820101', 'hex'));
    expect(rsaPublicKey).toBeGreaterThan(0);
    der[rsaPublicKey] = 0x31;
    expect(() => new X509Certificate(der).publicKey).toThrow();
    expect(() => clientCertificate(der)).toThrow();
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
