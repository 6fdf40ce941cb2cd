/**
 * Owns the CCM signature form (protocol.md §1.6): RSA PKCS#1 v1.5 over SHA-256, the signature bytes reversed
 * (CryptoAPI's little-endian order), written as upper-case hex. `signCcmAsync` does the RSA work on libuv's thread
 * pool, so an agent's signatures use the second core instead of the main thread (a fleet's agents all share it).
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { signSha256Async } from './async-sign.js';

export function signCcm(privateKey: KeyObject, data: Buffer): string {
  return ccmHex(sign('sha256', data, privateKey));
}

/** The same signature as signCcm, computed off the main thread. */
export function signCcmAsync(privateKey: KeyObject, data: Buffer): Promise<string> {
  return signSha256Async(privateKey, data).then(ccmHex);
}

function ccmHex(signature: Buffer): string {
  return Buffer.from(signature.reverse()).toString('hex').toUpperCase();
}

/** False (never a throw) for a signature that is not hex, has the wrong length, or does not verify. */
export function verifyCcm(publicKey: KeyObject, data: Buffer, hex: string): boolean {
  const text = hex.trim();
  if (text.length === 0 || text.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(text)) return false;
  const signature = Buffer.from(text, 'hex').reverse();
  try {
    return verify('sha256', data, publicKey, signature);
  } catch {
    return false;
  }
}

/** UTF-16LE without BOM, as Windows signs text (protocol.md §1.6). */
export function utf16le(text: string): Buffer {
  return Buffer.from(text, 'utf16le');
}
