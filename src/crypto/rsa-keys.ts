/**
 * Owns RSA key pairs: generation with node:crypto (asynchronous, so the work runs on libuv's thread pool and never
 * blocks the event loop) and PEM import/export (PKCS#8 private, SPKI public) for keeping keys on disk.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { CcmsimError } from '../errors.js';

export interface RsaKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** RSA-2048, e = 65537, as the SMS certificates use (CRYPTDOC). */
export function generateRsaKeyPair(): Promise<RsaKeyPair> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 }, (err, publicKey, privateKey) => {
      if (err) reject(new CcmsimError('CCMSIM_INTERNAL', `RSA key generation failed: ${err.message}`, { cause: err }));
      else resolve({ privateKey, publicKey });
    });
  });
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), unencrypted: files holding it must be owner-readable only. */
export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
export function publicKeyToPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** Reads a PKCS#8 (or PKCS#1) private key PEM; the public half is derived from it. */
export function keyPairFromPem(pem: string): RsaKeyPair {
  const privateKey = privateKeyFromPem(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

export function privateKeyFromPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `not a PEM private key: ${(err as Error).message}`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'rsa') throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `not an RSA private key (${key.asymmetricKeyType ?? 'unknown'})`);
  return key;
}

export function publicKeyFromPem(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch (err) {
    throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `not a PEM public key: ${(err as Error).message}`, { cause: err });
  }
}
