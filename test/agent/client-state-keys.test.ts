import { describe, it, expect, afterEach } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createCipheriv, hkdfSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificate } from '../../src/crypto/certificate.js';
import { loadCertificate, machinePaths, readCachedToken, storeCertificate, writeCachedToken } from '../../src/agent/client-state.js';
import { testKeyPair, testKeyPem } from '../helpers/test-keys.js';

/** Self-signed certificates for the store (these tests are about the keys; the store checks a certificate's shape and name). */
function testCertificate(serial: string): { pem: string; thumbprint: string } {
  const pair = testKeyPair(5);
  const c = createCertificate({
    subject: [{ name: 'CN', value: `SMS ${serial}` }],
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
    serial,
    notBefore: new Date(Date.UTC(2026, 0, 1)),
    notAfter: new Date(Date.UTC(2126, 0, 1)),
  });
  return { pem: c.pem, thumbprint: c.thumbprint };
}
const A = testCertificate('0A');
const B = testCertificate('0B');
const CERT = A.pem;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function machine(): ReturnType<typeof machinePaths> {
  const dir = mkdtempSync(join(tmpdir(), 'ccmsim-keys-'));
  dirs.push(dir);
  return machinePaths(dir);
}

describe('the SMS store keeps parsed keys without ever serving a stale one', () => {
  it('stores the key as PKCS#8 PEM and loads the same key back, read after read', async () => {
    const paths = machine();
    const pair = testKeyPair(5);
    await storeCertificate(paths, A.thumbprint, A.pem, pair.privateKey);
    await storeCertificate(paths, B.thumbprint, B.pem, pair.privateKey);
    const stored = readFileSync(join(paths.certStore, `${A.thumbprint}.key`), 'utf8');
    expect(stored).toBe(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(readFileSync(join(paths.certStore, `${B.thumbprint}.key`), 'utf8')).toBe(stored);
    const a = await loadCertificate(paths, A.thumbprint);
    const b = await loadCertificate(paths, A.thumbprint);
    expect(a!.privateKey.equals(pair.privateKey)).toBe(true);
    expect(a!.publicKey.equals(pair.publicKey)).toBe(true);
    expect(b!.privateKey.equals(a!.privateKey)).toBe(true);
  });

  it('a key file replaced on disk is read again, and a removed one is gone', async () => {
    const paths = machine();
    await storeCertificate(paths, A.thumbprint, A.pem, testKeyPair(1).privateKey);
    expect((await loadCertificate(paths, A.thumbprint))!.privateKey.equals(testKeyPair(1).privateKey)).toBe(true);
    writeFileSync(join(paths.certStore, `${A.thumbprint}.key`), testKeyPem(2));
    expect((await loadCertificate(paths, A.thumbprint))!.privateKey.equals(testKeyPair(2).privateKey)).toBe(true);
    rmSync(join(paths.certStore, `${A.thumbprint}.key`));
    expect(await loadCertificate(paths, A.thumbprint)).toBeUndefined();
  });

  it('a token cached with one key reads back with it and not with another', async () => {
    const paths = machine();
    const token = { tokenId: 't-1', token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', expiresAt: '2026-02-01T00:00:00.000Z', cachedAt: '2026-01-01T00:00:00.000Z' };
    await writeCachedToken(paths, token, { thumbprint: 'AA', key: testKeyPair(3).privateKey });
    expect(await readCachedToken(paths, testKeyPair(3).privateKey)).toEqual(token);
    expect(await readCachedToken(paths, testKeyPair(4).privateKey)).toBeUndefined();
  });

  it('caches the token as documented: AES-256-GCM, key and nonce from HKDF-SHA256 over the PKCS#8 key and the token ID', async () => {
    const paths = machine();
    const key = testKeyPair(3).privateKey;
    const token = { tokenId: 'b1e1c0de-0000-4000-8000-000000000001', token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', expiresAt: '2026-02-01T00:00:00.000Z', cachedAt: '2026-01-01T00:00:00.000Z' };
    await writeCachedToken(paths, token, { thumbprint: 'AA', key });
    await writeCachedToken(paths, token, { thumbprint: 'AA', key });
    const okm = Buffer.from(hkdfSync('sha256', key.export({ type: 'pkcs8', format: 'der' }), Buffer.from(token.tokenId), Buffer.from('ccmsim cached client token'), 44));
    const cipher = createCipheriv('aes-256-gcm', okm.subarray(0, 32), okm.subarray(32, 44));
    const ciphertext = Buffer.concat([cipher.update(token.token, 'utf8'), cipher.final()]);
    const stored = JSON.parse(readFileSync(paths.clientToken, 'utf8')) as Record<string, string>;
    expect(stored).toEqual({
      tokenId: token.tokenId,
      expiresAt: token.expiresAt,
      cachedAt: token.cachedAt,
      encryptedWith: 'AA',
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    });
  });
});

describe('the SMS store folder', () => {
  it('is made owner-only (0700), and a file in its way is one CCMSIM_FILE_UNWRITABLE line naming that file', async () => {
    const paths = machine();
    await storeCertificate(paths, A.thumbprint, CERT, testKeyPair(5).privateKey);
    expect(statSync(paths.certStore).mode & 0o777).toBe(0o700);

    const blocked = machine();
    mkdirSync(blocked.ccmDir, { recursive: true });
    const inTheWay = join(blocked.ccmDir, 'CertStore');
    writeFileSync(inTheWay, 'a file where the folder belongs');
    await expect(storeCertificate(blocked, 'AA', CERT, testKeyPair(5).privateKey)).rejects.toMatchObject({
      code: 'CCMSIM_FILE_UNWRITABLE',
      message: `cannot make the certificate store ${blocked.certStore}: a file is in the way: ${inTheWay} is not a directory`,
    });
    expect(readFileSync(inTheWay, 'utf8')).toBe('a file where the folder belongs');
  });
});

describe('a certificate in the SMS store', () => {
  // pemToDer only looked at the first byte: garbage starting 0x30, or another certificate copied over the file, was
  // taken as the client's own and sent to the site.
  for (const [what, content, problem] of [
    ['garbage that starts like DER', '-----BEGIN CERTIFICATE-----\nMAAA\n-----END CERTIFICATE-----\n', /is damaged: not DER/],
    ['an empty SEQUENCE', '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n', /is damaged: not an X\.509 certificate/],
    ['another certificate', B.pem, new RegExp(`is damaged: its SHA-1 thumbprint is ${B.thumbprint}, not the one its name gives`)],
  ] as const) {
    it(`holding ${what} is CCMSIM_FILE_UNREADABLE naming the file, which stays as it is`, async () => {
      const paths = machine();
      await storeCertificate(paths, A.thumbprint, A.pem, testKeyPair(5).privateKey);
      const cer = join(paths.certStore, `${A.thumbprint}.cer`);
      writeFileSync(cer, content);
      const refused = loadCertificate(paths, A.thumbprint);
      await expect(refused).rejects.toMatchObject({ code: 'CCMSIM_FILE_UNREADABLE', message: expect.stringMatching(problem) });
      await expect(refused).rejects.toMatchObject({ message: expect.stringContaining(`the certificate file ${cer} is damaged: `) });
      expect(readFileSync(cer, 'utf8')).toBe(content);
    });
  }
});
