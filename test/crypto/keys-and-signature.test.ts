import { describe, it, expect } from 'vitest';
import { createPublicKey, sign } from 'node:crypto';
import { fixedKeys, freshKeys, keyPool, type KeyGenerator } from '../../src/crypto/key-provider.js';
import { keyPairFromPem, privateKeyFromPem, privateKeyToPem, publicKeyFromPem, publicKeyToPem } from '../../src/crypto/rsa-keys.js';
import { signCcm, utf16le, verifyCcm } from '../../src/crypto/ccm-signature.js';
import { testKeyPair, testKeyPem } from '../helpers/test-keys.js';

/** Hands out the committed test keys in order, counting calls: tests never generate RSA keys. */
function countingGenerator(): { generator: KeyGenerator; calls: () => number } {
  let n = 0;
  return { generator: async () => testKeyPair(n++ % 16), calls: () => n };
}

describe('key providers', () => {
  it('fixedKeys hands out the pairs in order and starts over', async () => {
    const keys = fixedKeys([testKeyPair(0), testKeyPair(1)]);
    expect(keys.kind).toBe('fixed');
    expect(await keys.next()).toBe(testKeyPair(0));
    expect(await keys.next()).toBe(testKeyPair(1));
    expect(await keys.next()).toBe(testKeyPair(0));
    expect(() => fixedKeys([])).toThrow(expect.objectContaining({ code: 'CCMSIM_USAGE' }));
  });

  it('keyPool generates lazily up to its size, then reuses round-robin', async () => {
    const { generator, calls } = countingGenerator();
    const pool = keyPool(3, generator);
    expect(pool.kind).toBe('pool');
    expect(calls()).toBe(0);
    const got = [];
    for (let i = 0; i < 7; i++) got.push(await pool.next());
    expect(calls()).toBe(3);
    expect(got.slice(3)).toEqual([got[0], got[1], got[2], got[0]]);
    expect(new Set(got.slice(0, 3)).size).toBe(3);
    expect(() => keyPool(0)).toThrow(expect.objectContaining({ code: 'CCMSIM_USAGE' }));
  });

  it('keyPool retries a generation that failed instead of keeping the failure', async () => {
    let fail = true;
    const pool = keyPool(1, async () => {
      if (fail) {
        fail = false;
        throw new Error('boom');
      }
      return testKeyPair(5);
    });
    await expect(pool.next()).rejects.toThrow('boom');
    expect(await pool.next()).toBe(testKeyPair(5));
    expect(await pool.next()).toBe(testKeyPair(5));
  });

  it('freshKeys calls its generator every time', async () => {
    const { generator, calls } = countingGenerator();
    const keys = freshKeys(generator);
    await keys.next();
    await keys.next();
    expect(keys.kind).toBe('fresh');
    expect(calls()).toBe(2);
  });
});

describe('PEM helpers', () => {
  it('round-trip PKCS#8 private and SPKI public keys', () => {
    const pair = testKeyPair(2);
    const pem = privateKeyToPem(pair.privateKey);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const back = keyPairFromPem(pem);
    expect(back.publicKey.export({ type: 'spki', format: 'der' }).equals(pair.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    expect(publicKeyToPem(pair.publicKey)).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(publicKeyFromPem(publicKeyToPem(pair.publicKey)).equals(pair.publicKey)).toBe(true);
    expect(privateKeyFromPem(testKeyPem(2)).equals(pair.privateKey)).toBe(true);
    expect(() => privateKeyFromPem('garbage')).toThrow(expect.objectContaining({ code: 'CCMSIM_FILE_UNREADABLE' }));
  });
});

describe('CCM signatures (protocol.md §1.6)', () => {
  const { privateKey, publicKey } = testKeyPair(6);
  const data = utf16le('GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED');

  it('are the PKCS#1 v1.5 SHA-256 signature with its bytes reversed, in upper-case hex', () => {
    const hex = signCcm(privateKey, data);
    const plain = sign('sha256', data, privateKey);
    expect(hex).toBe(Buffer.from(plain).reverse().toString('hex').toUpperCase());
    expect(hex).toMatch(/^[0-9A-F]{512}$/);
    expect(verifyCcm(publicKey, data, hex)).toBe(true);
    expect(verifyCcm(publicKey, data, hex.toLowerCase())).toBe(true);
  });

  it('do not verify when unreversed, altered, for other data or another key, or not hex', () => {
    const hex = signCcm(privateKey, data);
    const unreversed = sign('sha256', data, privateKey).toString('hex').toUpperCase();
    expect(verifyCcm(publicKey, data, unreversed)).toBe(false);
    expect(verifyCcm(publicKey, Buffer.concat([data, Buffer.from([0, 0])]), hex)).toBe(false);
    expect(verifyCcm(createPublicKey(testKeyPair(7).privateKey), data, hex)).toBe(false);
    expect(verifyCcm(publicKey, data, `${hex.slice(0, -2)}00`)).toBe(false);
    expect(verifyCcm(publicKey, data, 'XYZ')).toBe(false);
    expect(verifyCcm(publicKey, data, '')).toBe(false);
    expect(verifyCcm(publicKey, data, 'ABCD')).toBe(false);
  });
});
