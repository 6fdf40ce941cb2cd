/**
 * The committed test-only RSA-2048 keys (test/keys/key-NN.pem), loaded once per test process and reused.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const TEST_KEY_COUNT = 16;

export interface TestKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const cache = new Map<number, TestKeyPair>();

export function testKeyPem(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= TEST_KEY_COUNT) throw new RangeError(`no test key ${index}`);
  return readFileSync(new URL(`../keys/key-${String(index).padStart(2, '0')}.pem`, import.meta.url), 'utf8');
}

export function testKeyPair(index: number): TestKeyPair {
  let pair = cache.get(index);
  if (!pair) {
    const privateKey = createPrivateKey(testKeyPem(index));
    pair = { privateKey, publicKey: createPublicKey(privateKey) };
    cache.set(index, pair);
  }
  return pair;
}
