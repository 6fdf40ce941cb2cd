/**
 * Owns RSA PKCS#1 v1.5 / SHA-256 signing off the calling thread: node:crypto's callback form runs the RSA work on
 * libuv's thread pool. The agent (main thread) and a fleet's site (its worker thread) both sign this way, so the
 * RSA work of either spreads over whichever core is free instead of queueing behind the thread's other work.
 */
import { sign, type KeyObject } from 'node:crypto';

export function signSha256Async(privateKey: KeyObject, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign('sha256', data, privateKey, (err, signature) => (err ? reject(err) : resolve(signature)));
  });
}
