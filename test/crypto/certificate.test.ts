import { describe, it, expect } from 'vitest';
import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { createServer, connect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { certificateDerProblem, createCertificate, parseCertificate, pemToDer, sha1Thumbprint } from '../../src/crypto/certificate.js';
import {
  createClientCertificates,
  createClientCertificatesAsync,
  SMS_ENCRYPTION_EKU,
  SMS_SIGNING_EKU,
} from '../../src/crypto/client-certificates.js';
import { privateKeyToPem } from '../../src/crypto/rsa-keys.js';
import { Random } from '../../src/clock/random.js';
import { testKeyPair } from '../helpers/test-keys.js';

const NOW = new Date(Date.UTC(2026, 10, 29, 4, 0, 0));
const NOT_BEFORE = new Date(Date.UTC(2025, 0, 1));
const NOT_AFTER = new Date(Date.UTC(2045, 0, 1));

function sitePki() {
  const rootKeys = testKeyPair(0);
  const root = createCertificate({
    subject: [{ name: 'commonName', value: 'SMS Issuing' }],
    publicKey: rootKeys.publicKey,
    privateKey: rootKeys.privateKey,
    serial: '01',
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    isCa: true,
  });
  const signingKeys = testKeyPair(1);
  const tokenSigning = createCertificate({
    subject: [{ name: 'commonName', value: 'SMS Token Signing Certificate' }],
    issuer: { certificate: root, privateKey: rootKeys.privateKey },
    publicKey: signingKeys.publicKey,
    privateKey: signingKeys.privateKey,
    serial: 'ff02',
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  const cmgKeys = testKeyPair(2);
  const cmg = createCertificate({
    subject: [{ name: 'CN', value: 'CONTOSO.CLOUDAPP.NET' }],
    issuer: { certificate: root, privateKey: rootKeys.privateKey },
    publicKey: cmgKeys.publicKey,
    privateKey: cmgKeys.privateKey,
    serial: '03',
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    ekus: ['serverAuth'],
    dnsNames: ['CONTOSO.CLOUDAPP.NET'],
  });
  return { root, rootKeys, tokenSigning, cmg, cmgKeys };
}

describe('site certificates (forge builds, node:crypto signs)', () => {
  it('makes a self-signed SMS Issuing root CA that verifies with its own key', () => {
    const { root, rootKeys } = sitePki();
    const x = new X509Certificate(root.der);
    expect(x.subject).toBe('CN=SMS Issuing');
    expect(x.issuer).toBe('CN=SMS Issuing');
    expect(x.ca).toBe(true);
    expect(x.verify(rootKeys.publicKey)).toBe(true);
    expect(x.checkIssued(x)).toBe(true);
    expect(root.thumbprint).toBe(x.fingerprint.replace(/:/g, ''));
    expect(root.thumbprint).toMatch(/^[0-9A-F]{40}$/);
  });

  it('issues the token signing and CMG certificates from the root', () => {
    const { root, rootKeys, tokenSigning, cmg } = sitePki();
    const rootX = new X509Certificate(root.der);
    for (const cert of [tokenSigning, cmg]) {
      const x = new X509Certificate(cert.der);
      expect(x.checkIssued(rootX)).toBe(true);
      expect(x.verify(rootKeys.publicKey)).toBe(true);
      expect(x.ca).toBe(false);
    }
    expect(tokenSigning.subject).toBe('CN=SMS Token Signing Certificate');
    expect(tokenSigning.issuer).toBe('CN=SMS Issuing');
    expect(tokenSigning.serial).toBe('FF02');
    expect(cmg.ekus).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cmg.dnsNames).toEqual(['CONTOSO.CLOUDAPP.NET']);
    expect(new X509Certificate(cmg.der).checkHost('contoso.cloudapp.net')).toBe('CONTOSO.CLOUDAPP.NET');
    expect(cmg.notBefore.toISOString()).toBe(NOT_BEFORE.toISOString());
    expect(cmg.notAfter.toISOString()).toBe(NOT_AFTER.toISOString());
  });

  it("carries a subject key identifier of SHA-1 over the RSAPublicKey, which the issued certificates' authority key identifier repeats", () => {
    const { root, rootKeys, tokenSigning } = sitePki();
    const ski = (der: Buffer): string => {
      const ext = forge.pki.certificateFromAsn1(forge.asn1.fromDer(der.toString('binary'))).getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
      return ext?.subjectKeyIdentifier ?? '';
    };
    const sha1OfPkcs1 = (key: KeyObject): string => createHash('sha1').update(key.export({ type: 'pkcs1', format: 'der' })).digest('hex');
    expect(ski(root.der)).toBe(sha1OfPkcs1(rootKeys.publicKey));
    expect(ski(tokenSigning.der)).toBe(sha1OfPkcs1(tokenSigning.publicKey));
    const aki = forge.pki.certificateFromAsn1(forge.asn1.fromDer(tokenSigning.der.toString('binary'))).getExtension('authorityKeyIdentifier') as { value: string };
    expect(Buffer.from(aki.value, 'binary').toString('hex')).toContain(sha1OfPkcs1(rootKeys.publicKey));
  });

  it('the CMG certificate is accepted by Node TLS against the root for the CMG host name', async () => {
    const { root, cmg, cmgKeys } = sitePki();
    const server = createServer({ cert: cmg.pem, key: privateKeyToPem(cmgKeys.privateKey) }, (socket) => socket.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const tryConnect = (servername: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, servername, ca: root.pem }, () => {
          let data = '';
          socket.on('data', (d) => (data += d.toString()));
          socket.on('end', () => resolve(data));
        });
        socket.on('error', reject);
      });
    try {
      await expect(tryConnect('CONTOSO.CLOUDAPP.NET')).resolves.toBe('hello');
      await expect(tryConnect('OTHER.CLOUDAPP.NET')).rejects.toThrow(/altnames|Hostname/i);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('parses PEM and DER alike and refuses what is not a certificate', () => {
    const { cmg } = sitePki();
    const fromPem = parseCertificate(cmg.pem);
    const fromDer = parseCertificate(cmg.der);
    expect(fromPem.thumbprint).toBe(fromDer.thumbprint);
    expect(fromPem.der.equals(cmg.der)).toBe(true);
    expect(sha1Thumbprint(cmg.der)).toBe(cmg.thumbprint);
    expect(fromPem.publicKey.export({ type: 'spki', format: 'der' }).equals(cmg.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    expect(() => parseCertificate(Buffer.from('not a cert'))).toThrow(expect.objectContaining({ code: 'CCMSIM_FILE_UNREADABLE' }));
  });

  it('makes a positive serial even when the top bit is set', () => {
    const { rootKeys } = sitePki();
    const cert = createCertificate({
      subject: [{ name: 'CN', value: 'x' }],
      publicKey: rootKeys.publicKey,
      privateKey: rootKeys.privateKey,
      serial: '80aa',
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
    });
    expect(cert.serial).toBe('80AA');
    // INTEGER, length 3, with a leading 00 so it is not negative.
    expect(cert.der.includes(Buffer.from('02030080aa', 'hex'))).toBe(true);
  });
});

describe('client certificates', () => {
  const make = () =>
    createClientCertificates({
      computerName: 'PC-0042',
      signingKeys: testKeyPair(3),
      encryptionKeys: testKeyPair(4),
      now: NOW,
      random: new Random('client-certs'),
    });

  it('are self-signed, SHA-256, RSA-2048, with the SMS EKUs and the subject .NET shows as CN=SMS, CN=<name>', () => {
    const { signing, encryption } = make();
    expect(signing.subject).toBe('CN=SMS, CN=PC-0042');
    expect(encryption.subject).toBe('CN=SMS, CN=PC-0042');
    const x = new X509Certificate(signing.der);
    // DER order: CN=<COMPUTERNAME> first, then CN=SMS (Node prints RDNs in DER order).
    expect(x.subject).toBe('CN=PC-0042\nCN=SMS');
    expect(x.issuer).toBe(x.subject);
    expect(x.verify(testKeyPair(3).publicKey)).toBe(true);
    expect(new X509Certificate(encryption.der).verify(testKeyPair(4).publicKey)).toBe(true);
    expect(x.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(signing.ekus).toEqual([SMS_SIGNING_EKU]);
    expect(encryption.ekus).toEqual([SMS_ENCRYPTION_EKU]);
    expect(signing.thumbprint).not.toBe(encryption.thumbprint);
    // sha256WithRSAEncryption OID inside the DER (06 09 2A 86 48 86 F7 0D 01 01 0B).
    expect(signing.der.includes(Buffer.from('06092a864886f70d01010b', 'hex'))).toBe(true);
  });

  it('are valid from a day before now to 100 years after', () => {
    const { signing } = make();
    expect(signing.notBefore.toISOString()).toBe('2026-11-28T04:00:00.000Z');
    expect(signing.notAfter.toISOString()).toBe('2126-11-29T04:00:00.000Z');
  });

  it('are the same bytes for the same seed, keys and time', () => {
    expect(make().signing.der.equals(make().signing.der)).toBe(true);
  });

  it('come out the same when signed off the main thread (the agent’s form)', async () => {
    const sync = make();
    const off = await createClientCertificatesAsync({
      computerName: 'PC-0042',
      signingKeys: testKeyPair(3),
      encryptionKeys: testKeyPair(4),
      now: NOW,
      random: new Random('client-certs'),
    });
    expect(off.signing.der.equals(sync.signing.der)).toBe(true);
    expect(off.encryption.der.equals(sync.encryption.der)).toBe(true);
    expect(off.signing.thumbprint).toBe(sync.signing.thumbprint);
  });
});

describe('createCertificate with a reused key (per-key caches)', () => {
  it('gives each certificate its own key data and an equal result to a fresh parse', () => {
    const keys = testKeyPair(3);
    const make = (serial: string, cn: string) =>
      createCertificate({
        subject: [{ name: 'CN', value: cn }],
        publicKey: keys.publicKey,
        privateKey: keys.privateKey,
        serial,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
        ekus: ['clientAuth'],
      });
    const a = make('0a', 'PC-A');
    const b = make('0b', 'PC-B');
    expect(a.thumbprint).not.toBe(b.thumbprint);
    for (const cert of [a, b]) {
      const reparsed = parseCertificate(cert.der);
      const { publicKey, ...rest } = cert;
      const { publicKey: reparsedKey, ...reparsedRest } = reparsed;
      expect(rest).toEqual(reparsedRest);
      expect(publicKey.type).toBe('public');
      expect(publicKey.equals(reparsedKey)).toBe(true);
      expect(new X509Certificate(cert.der).verify(keys.publicKey)).toBe(true);
    }
  });
});

describe('certificateDerProblem', () => {
  it('passes a certificate and names what is wrong with DER that is none', () => {
    const { cmg } = sitePki();
    expect(certificateDerProblem(cmg.der)).toBeUndefined();
    expect(certificateDerProblem(Buffer.from([0x30, 0x00, 0x00]))).toMatch(/^not DER/);
    expect(certificateDerProblem(Buffer.from([0x30, 0x00]))).toMatch(/^not an X\.509 certificate/);
    expect(certificateDerProblem(Buffer.concat([cmg.der, Buffer.from([0])]))).toMatch(/^not DER/);
  });
});

describe('pemToDer', () => {
  it('gives the DER of a PEM certificate without parsing it, and refuses text that holds none', () => {
    const { cmg } = sitePki();
    expect(pemToDer(cmg.pem).equals(cmg.der)).toBe(true);
    expect(() => pemToDer('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n', 'SMS\\X.cer')).toThrow(
      expect.objectContaining({ code: 'CCMSIM_FILE_UNREADABLE', message: 'SMS\\X.cer is not a PEM certificate' }),
    );
  });
});

describe('createCertificate answers what parsing its certificate would', () => {
  const strip = (c: ReturnType<typeof parseCertificate>) => {
    const { publicKey, ...rest } = c;
    return { ...rest, publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('hex') };
  };

  it('for serials of every shape, sub-second dates, dates past 2049, a CA and a certificate it issues', () => {
    const random = new Random('serials');
    const keys = testKeyPair(5);
    const root = createCertificate({
      subject: [{ name: 'commonName', value: 'SMS Issuing' }],
      publicKey: keys.publicKey,
      privateKey: keys.privateKey,
      serial: '01',
      notBefore: new Date('2026-01-01T00:00:00.789Z'),
      notAfter: new Date('2126-01-01T00:00:00.001Z'),
      isCa: true,
    });
    expect(strip(root)).toEqual(strip(parseCertificate(root.der)));
    const serials = ['00', '7f', '80', '0080', '000a', 'ff00ff', ...Array.from({ length: 40 }, () => random.bytes(1 + random.int(0, 19)).toString('hex'))];
    for (const serial of serials) {
      const cert = createCertificate({
        subject: [{ name: 'CN', value: 'PC-0042.contoso_lab' }, { name: 'CN', value: 'SMS' }],
        issuer: { certificate: root, privateKey: keys.privateKey },
        publicKey: testKeyPair(6).publicKey,
        privateKey: testKeyPair(6).privateKey,
        serial,
        notBefore: new Date('2026-11-28T04:05:06.999Z'),
        notAfter: new Date('2051-11-29T04:05:06.500Z'),
        ekus: ['serverAuth', '1.3.6.1.4.1.311.101'],
        dnsNames: ['CONTOSO.CLOUDAPP.NET', 'contoso.cloudapp.net', 'CONTOSO.CLOUDAPP.NET', 'localhost'],
      });
      expect(strip(cert), `serial ${serial}`).toEqual(strip(parseCertificate(cert.der)));
    }
  });

  it('for subjects that need escaping or other attribute types (read back by parsing)', () => {
    const keys = testKeyPair(7);
    for (const subject of [
      [{ name: 'CN', value: 'Contoso, Ltd' }],
      [{ name: 'CN', value: 'with space' }],
      [{ name: 'O', value: 'Contoso' }, { name: 'CN', value: 'MP01' }],
    ]) {
      const cert = createCertificate({ subject, publicKey: keys.publicKey, privateKey: keys.privateKey, serial: '0b', notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
      expect(strip(cert)).toEqual(strip(parseCertificate(cert.der)));
    }
  });
});
