/**
 * Owns the site's caches of parsed client certificates, by thumbprint (SHA-1 of the bytes), least recently used
 * dropped first. OpenSSL 3 takes ~0.1 ms to parse a certificate or a bare public key, and every registration message
 * and token request names one, so parsing again each time was a large share of the site's CPU. Certificates never
 * change under a thumbprint, so a cached parse is always the same answer.
 * - `parsedCertificate`: the whole X509Certificate (registration reads its subject, dates and fingerprint); few kept.
 * - `certificatePublicKey`: only its public key (token requests verify with it); kept for every client of a large
 *   fleet (~0.7 KB each), since a renewal wave asks for each client's key once a month, oldest first, which would
 *   evict every entry of a smaller cache before its next use.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { sha1Thumbprint } from '../crypto/certificate.js';

const MAX_CERTIFICATES = 4096;
const MAX_PUBLIC_KEYS = 1 << 17;

/** A map kept to `max` entries, the least recently used dropped first. */
class LruCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly max: number) {}

  getOrMake(key: string, make: () => V): V {
    let value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
    } else {
      value = make();
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(key, value);
    return value;
  }
}

const certificates = new LruCache<X509Certificate>(MAX_CERTIFICATES);
const publicKeys = new LruCache<KeyObject>(MAX_PUBLIC_KEYS);

/** `new X509Certificate(der)`, parsed once per certificate; throws as it does for bytes that are no certificate. */
export function parsedCertificate(der: Buffer): X509Certificate {
  return certificates.getOrMake(sha1Thumbprint(der), () => new X509Certificate(der));
}

/** The public key of the certificate `der`, parsed once per certificate; throws for bytes that are no certificate. */
export function certificatePublicKey(der: Buffer): KeyObject {
  return publicKeys.getOrMake(sha1Thumbprint(der), () => parsedCertificate(der).publicKey);
}
