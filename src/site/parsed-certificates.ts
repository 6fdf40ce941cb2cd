/**
 * Owns the site's cache of parsed client certificates: the X509Certificate (and so its public key) of a certificate
 * a client presents or registered, by thumbprint (SHA-1 of the bytes), least recently used dropped first. Every
 * token request and registration message names one; parsing it again each time was a large share of the site's CPU.
 * Certificates never change under a thumbprint, so a cached parse is always the same answer.
 */
import { X509Certificate } from 'node:crypto';
import { sha1Thumbprint } from '../crypto/certificate.js';

const MAX_ENTRIES = 4096;
const parsed = new Map<string, X509Certificate>();

/** `new X509Certificate(der)`, parsed once per certificate; throws as it does for bytes that are no certificate. */
export function parsedCertificate(der: Buffer): X509Certificate {
  const tp: string = sha1Thumbprint(der);
  let cert = parsed.get(tp);
  if (cert !== undefined) {
    parsed.delete(tp);
  } else {
    cert = new X509Certificate(der);
    if (parsed.size >= MAX_ENTRIES) parsed.delete(parsed.keys().next().value!);
  }
  parsed.set(tp, cert);
  return cert;
}
