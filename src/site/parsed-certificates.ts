/**
 * Owns how the site reads client certificates (the SMS Signing and Encryption certificates a registration carries):
 * the fields it uses (thumbprint, the subject's common name, the end of validity, the public key), each certificate
 * read once and kept by thumbprint, least recently used dropped first.
 *
 * node-forge reads the DER's structure (~5 µs) instead of `new X509Certificate` (~0.1 ms): OpenSSL 3 spends nearly
 * all of that decoding the public key, and every registration brings two new certificates. Public keys are kept by
 * their SubjectPublicKeyInfo bytes, so the key a fleet's key pool shares is decoded once (node:crypto, which also
 * refuses a malformed key). Certificates never change under a thumbprint, so a kept reading is always the same answer.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { sha1Thumbprint } from '../crypto/certificate.js';
import type { Thumbprint } from '../ids.js';
import { LruCache } from '../lru-cache.js';

const { asn1 } = forge;

/** forge's `fromDer` takes these options (its type definitions only know the older `strict` flag). */
const fromDer = asn1.fromDer as unknown as (bytes: forge.util.ByteStringBuffer, options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean }) => forge.asn1.Asn1;

/** Kept for every client of a large fleet: a renewal wave asks for each client's key once a month, oldest first. */
const MAX_CERTIFICATES = 1 << 17;
const MAX_PUBLIC_KEYS = 1 << 17;
const COMMON_NAME_OID = '2.5.4.3';

/** What the site reads from a client certificate. */
export interface ClientCertificate {
  /** SHA-1 of the DER, upper-case hex (what Windows calls the thumbprint). */
  thumbprint: Thumbprint;
  /** The subject's last (most specific) common name, if it has one. */
  commonName: string | undefined;
  notBeforeMs: number;
  notAfterMs: number;
  publicKey: KeyObject;
}

const certificates = new LruCache<string, ClientCertificate>(MAX_CERTIFICATES);
const publicKeys = new LruCache<string, KeyObject>(MAX_PUBLIC_KEYS);

function notCertificate(why: string): Error {
  return new Error(`not an X.509 certificate: ${why}`);
}

function children(node: forge.asn1.Asn1, what: string, min: number): forge.asn1.Asn1[] {
  if (node.tagClass !== asn1.Class.UNIVERSAL || node.type !== asn1.Type.SEQUENCE || !Array.isArray(node.value) || node.value.length < min) {
    throw notCertificate(`${what} is not a SEQUENCE of at least ${min}`);
  }
  return node.value;
}

function timeMs(node: forge.asn1.Asn1 | undefined, what: string): number {
  if (node === undefined || typeof node.value !== 'string') throw notCertificate(`${what} is missing`);
  let date: Date;
  if (node.type === asn1.Type.UTCTIME) date = asn1.utcTimeToDate(node.value);
  else if (node.type === asn1.Type.GENERALIZEDTIME) date = asn1.generalizedTimeToDate(node.value);
  else throw notCertificate(`${what} is not a time`);
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw notCertificate(`${what} is not a valid time`);
  return ms;
}

function attributeText(node: forge.asn1.Asn1): string {
  const raw = typeof node.value === 'string' ? node.value : '';
  if (node.type === asn1.Type.UTF8) return forge.util.decodeUtf8(raw);
  // BMPString: UTF-16 big-endian.
  if (node.type === asn1.Type.BMPSTRING) return Buffer.from(raw, 'binary').swap16().toString('utf16le');
  return raw;
}

function lastCommonName(subject: forge.asn1.Asn1): string | undefined {
  let cn: string | undefined;
  for (const rdn of children(subject, 'the subject', 0)) {
    if (!Array.isArray(rdn.value)) throw notCertificate('a subject RDN is not a SET');
    for (const attr of rdn.value) {
      const [oid, value] = children(attr, 'a subject attribute', 2);
      if (oid!.type === asn1.Type.OID && asn1.derToOid(oid!.value as string) === COMMON_NAME_OID) cn = attributeText(value!);
    }
  }
  return cn;
}

/** The public key in SubjectPublicKeyInfo DER, decoded once per distinct key (kept by the bytes themselves). */
function publicKeyOfSpki(spki: Buffer): KeyObject {
  return publicKeys.getOrMake(spki.toString('base64'), () => createPublicKey({ key: spki, format: 'der', type: 'spki' }));
}

function readCertificate(der: Buffer, thumbprint: Thumbprint): ClientCertificate {
  let root: forge.asn1.Asn1;
  try {
    // Bit strings stay opaque: the key and the signature are not ASN.1 to look into.
    root = fromDer(forge.util.createBuffer(der.toString('binary')), { strict: true, parseAllBytes: true, decodeBitStrings: false });
  } catch (err) {
    throw notCertificate((err as Error).message);
  }
  const [tbs, signatureAlgorithm, signature] = children(root, 'the certificate', 3);
  children(signatureAlgorithm!, 'the signature algorithm', 1);
  if (signature!.type !== asn1.Type.BITSTRING) throw notCertificate('the signature is not a BIT STRING');
  const fields = children(tbs!, 'the TBSCertificate', 6);
  // [0] EXPLICIT version, absent in a v1 certificate.
  let i = fields[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  if (fields[i++]!.type !== asn1.Type.INTEGER) throw notCertificate('the serial number is not an INTEGER');
  children(fields[i++]!, 'the signature algorithm', 1);
  children(fields[i++]!, 'the issuer', 0);
  const [notBefore, notAfter] = children(fields[i++]!, 'the validity', 2);
  const subject = fields[i++];
  const spki = fields[i++];
  if (subject === undefined || spki === undefined) throw notCertificate('the TBSCertificate has no subject public key');
  children(spki, 'the subject public key info', 2);
  return {
    thumbprint,
    commonName: lastCommonName(subject),
    notBeforeMs: timeMs(notBefore, 'notBefore'),
    notAfterMs: timeMs(notAfter, 'notAfter'),
    publicKey: publicKeyOfSpki(Buffer.from(asn1.toDer(spki).getBytes(), 'binary')),
  };
}

/** The certificate `der`, read once per certificate; throws an Error naming the problem for bytes that are no certificate. */
export function clientCertificate(der: Buffer): ClientCertificate {
  const thumbprint = sha1Thumbprint(der);
  return certificates.getOrMake(thumbprint, () => readCertificate(der, thumbprint));
}

/** The public key of the certificate `der`; throws for bytes that are no certificate. */
export function certificatePublicKey(der: Buffer): KeyObject {
  return clientCertificate(der).publicKey;
}
