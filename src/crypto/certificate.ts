/**
 * Owns X.509 certificates: node-forge builds the TBSCertificate (its ASN.1 API only), node:crypto signs the DER
 * TBS with SHA-256 RSA, and forge's ASN.1 assembles the final Certificate. forge's pure-JS key generation and
 * signing are never used. Parsing and thumbprints use node:crypto's X509Certificate.
 */
import { createHash, createPublicKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { CcmsimError } from '../errors.js';
import type { Thumbprint } from '../ids.js';
import { signSha256Async } from './async-sign.js';

const { asn1, pki } = forge;

/** One RDN, in DER order. `name` is a forge attribute name (`commonName`) or short name (`CN`, `O`, `OU`…). */
export interface SubjectAttribute {
  name: string;
  value: string;
}

export interface KeyUsageFlags {
  digitalSignature?: boolean;
  nonRepudiation?: boolean;
  keyEncipherment?: boolean;
  dataEncipherment?: boolean;
  keyAgreement?: boolean;
  keyCertSign?: boolean;
  cRLSign?: boolean;
}

export interface Certificate {
  pem: string;
  der: Buffer;
  thumbprint: Thumbprint;
  /** As .NET and Windows show it: RDNs last to first, joined by `, ` (e.g. `CN=SMS, CN=PC01`). */
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  /** Upper-case hex as Node shows it (without the 00 that keeps the DER INTEGER positive). */
  serial: string;
  /** Extended key usage OIDs (dotted), empty when the extension is absent. */
  ekus: string[];
  /** subjectAltName dNSName entries. */
  dnsNames: string[];
  isCa: boolean;
}

export interface CreateCertificateOptions {
  subject: SubjectAttribute[];
  /** The signer. Absent: self-signed with `privateKey`. */
  issuer?: { certificate: Certificate; privateKey: KeyObject };
  publicKey: KeyObject;
  /** The subject's private key; signs the certificate when it is self-signed. */
  privateKey: KeyObject;
  /** Hex; made a positive DER INTEGER. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  isCa?: boolean;
  /** `serverAuth`, `clientAuth`, … or dotted OIDs such as `1.3.6.1.4.1.311.101`. */
  ekus?: string[];
  /** subjectAltName dNSName entries. */
  dnsNames?: string[];
  keyUsage?: KeyUsageFlags;
  /** Mark the EKU extension critical (default false). */
  ekuCritical?: boolean;
}

const EKU_NAMES: Record<string, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
};

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

/**
 * The DER bytes of a PEM certificate, without parsing it (callers that need the fields use parseCertificate).
 * Throws CCMSIM_FILE_UNREADABLE when the text holds no DER SEQUENCE at all.
 */
export function pemToDer(pem: string, what = 'the certificate'): Buffer {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  if (der.length < 2 || der[0] !== 0x30) throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `${what} is not a PEM certificate`);
  return der;
}

/** forge's `fromDer` takes these options (its type definitions only know the older `strict` flag). */
const fromDer = asn1.fromDer as unknown as (
  bytes: forge.util.ByteStringBuffer,
  options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean },
) => forge.asn1.Asn1;

function isUniversal(node: forge.asn1.Asn1 | undefined, type: number): node is forge.asn1.Asn1 {
  return node !== undefined && node.tagClass === asn1.Class.UNIVERSAL && node.type === type;
}

/**
 * Why `der` is not a certificate, or undefined when it has a certificate's shape: well-formed DER, every byte used,
 * a SEQUENCE of TBSCertificate (a SEQUENCE of at least its six required fields), signatureAlgorithm and a BIT STRING.
 * node-forge's DER reader takes microseconds where X509Certificate takes ~0.1 ms, nearly all of it decoding the
 * public key, which an agent reading its own store does not need (the site reads client certificates the same way).
 */
export function certificateDerProblem(der: Buffer): string | undefined {
  let cert: forge.asn1.Asn1;
  try {
    cert = fromDer(forge.util.createBuffer(der.toString('binary')), { strict: true, parseAllBytes: true, decodeBitStrings: false });
  } catch (err) {
    return `not DER: ${(err as Error).message.replace(/\.$/, '')}`;
  }
  const parts = isUniversal(cert, asn1.Type.SEQUENCE) && Array.isArray(cert.value) ? cert.value : [];
  const [tbs, algorithm, signature] = parts;
  if (parts.length !== 3 || !isUniversal(tbs, asn1.Type.SEQUENCE) || !isUniversal(algorithm, asn1.Type.SEQUENCE) || !isUniversal(signature, asn1.Type.BITSTRING)) {
    return 'not an X.509 certificate (no TBSCertificate, signature algorithm and signature)';
  }
  if (!Array.isArray(tbs.value) || tbs.value.length < 6) return 'not an X.509 certificate (its TBSCertificate lacks required fields)';
  return undefined;
}

export function sha1Thumbprint(der: Buffer): Thumbprint {
  return createHash('sha1').update(der).digest('hex').toUpperCase() as Thumbprint;
}

// Per-key derived values, cached because fleets reuse a small key pool for thousands of certificates.
// KeyObjects are immutable, so a WeakMap keyed by the object is always current.
const keyIdentifierCache = new WeakMap<KeyObject, Buffer>();
const forgePublicKeyCache = new WeakMap<KeyObject, forge.pki.PublicKey>();

/** SHA-1 over the RSAPublicKey (PKCS#1) bytes: the RFC 5280 §4.2.1.2 method (1) key identifier. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  let id = keyIdentifierCache.get(publicKey);
  if (id === undefined) {
    id = createHash('sha1').update(publicKey.export({ type: 'pkcs1', format: 'der' })).digest();
    keyIdentifierCache.set(publicKey, id);
  }
  return id;
}

/** forge's view of a public key (forge only reads it while building the TBS). */
function forgePublicKey(publicKey: KeyObject): forge.pki.PublicKey {
  let key = forgePublicKeyCache.get(publicKey);
  if (key === undefined) {
    key = pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    forgePublicKeyCache.set(publicKey, key);
  }
  return key;
}

function positiveSerial(hex: string): string {
  let clean = hex.replace(/^0x/i, '').replace(/[^0-9a-fA-F]/g, '');
  if (clean.length === 0 || clean.length !== hex.replace(/^0x/i, '').length) throw new CcmsimError('CCMSIM_INTERNAL', `certificate serial is not hex: ${hex}`);
  if (clean.length % 2 === 1) clean = `0${clean}`;
  while (clean.length > 2 && clean.startsWith('00') && parseInt(clean.slice(2, 3), 16) < 8) clean = clean.slice(2);
  if (parseInt(clean.slice(0, 1), 16) >= 8) clean = `00${clean}`;
  return clean.toLowerCase();
}

function forgeAttribute(attr: SubjectAttribute): forge.pki.CertificateField {
  // UTF8String for every value: PrintableString (forge's default) cannot carry `_`, `@` and the like.
  const base = { value: attr.value, valueTagClass: asn1.Type.UTF8 as unknown as forge.asn1.Class };
  return /^[A-Z]{1,6}$/.test(attr.name) ? { ...base, shortName: attr.name } : { ...base, name: attr.name };
}

/** The subject Name node of a DER certificate (TBSCertificate field 6, or 5 in a v1 certificate). */
function subjectNameNode(der: Buffer): forge.asn1.Asn1 {
  const cert = asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const tbs = (cert.value as forge.asn1.Asn1[])[0]!;
  const fields = tbs.value as forge.asn1.Asn1[];
  const hasVersion = fields[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC;
  return fields[hasVersion ? 5 : 4]!;
}

export function createCertificate(options: CreateCertificateOptions): Certificate {
  const tbs = certificateToBeSigned(options);
  return tbs.finish(sign('sha256', tbs.der, tbs.signerKey));
}

/** The same certificate, its signature computed off the main thread (the agent's form). */
export async function createCertificateAsync(options: CreateCertificateOptions): Promise<Certificate> {
  const tbs = certificateToBeSigned(options);
  return tbs.finish(await signSha256Async(tbs.signerKey, tbs.der));
}

/** The TBSCertificate's DER, the key that signs it, and how a signature over it makes the certificate. */
function certificateToBeSigned(options: CreateCertificateOptions): { der: Buffer; signerKey: KeyObject; finish(signature: Buffer): Certificate } {
  if (!(options.notBefore < options.notAfter)) throw new CcmsimError('CCMSIM_INTERNAL', 'certificate notBefore must be before notAfter');
  if (options.subject.length === 0) throw new CcmsimError('CCMSIM_INTERNAL', 'certificate subject is empty');
  const isCa = options.isCa ?? false;
  const signerKey = options.issuer ? options.issuer.privateKey : options.privateKey;
  const issuerPublic = options.issuer ? options.issuer.certificate.publicKey : options.publicKey;

  const cert = pki.createCertificate();
  cert.version = 2; // v3
  cert.serialNumber = positiveSerial(options.serial);
  cert.validity.notBefore = options.notBefore;
  cert.validity.notAfter = options.notAfter;
  const subject = options.subject.map(forgeAttribute);
  cert.setSubject(subject);
  cert.setIssuer(subject); // replaced below by the issuer's exact subject bytes when issued by a CA
  cert.publicKey = forgePublicKey(options.publicKey);
  cert.siginfo.algorithmOid = SHA256_WITH_RSA;
  cert.signatureOid = SHA256_WITH_RSA;

  const keyUsage: KeyUsageFlags =
    options.keyUsage ?? (isCa ? { digitalSignature: true, keyCertSign: true, cRLSign: true } : { digitalSignature: true, keyEncipherment: true });
  const extensions: Record<string, unknown>[] = [
    { name: 'basicConstraints', cA: isCa, critical: isCa },
    { name: 'keyUsage', critical: true, ...keyUsage },
  ];
  if (options.ekus && options.ekus.length > 0) {
    const eku: Record<string, unknown> = { name: 'extKeyUsage', critical: options.ekuCritical ?? false };
    for (const name of options.ekus) {
      const oid = EKU_NAMES[name] ?? name;
      if (!/^\d+(\.\d+)+$/.test(oid)) throw new CcmsimError('CCMSIM_INTERNAL', `unknown extended key usage ${name}`);
      // forge looks keys up in its OID table both ways: a known OID must be given by its forge name.
      const forgeName = (pki.oids as Record<string, string>)[oid];
      eku[forgeName !== undefined && !forgeName.includes('.') ? forgeName : oid] = true;
    }
    extensions.push(eku);
  }
  if (options.dnsNames && options.dnsNames.length > 0) {
    extensions.push({ name: 'subjectAltName', altNames: [...new Set(options.dnsNames)].map((value) => ({ type: 2, value })) });
  }
  // Given, not left to forge: forge would convert the public key again to compute the same SHA-1 (RFC 5280 method 1).
  extensions.push({ name: 'subjectKeyIdentifier', value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, keyIdentifier(options.publicKey).toString('binary')) });
  extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: keyIdentifier(issuerPublic).toString('binary') });
  cert.setExtensions(extensions);

  // getTBSCertificate is public in node-forge but missing from its type definitions.
  const tbs = (pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  if (options.issuer) (tbs.value as forge.asn1.Asn1[])[3] = subjectNameNode(options.issuer.certificate.der);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const finish = (signature: Buffer): Certificate => {
    const sigAlg = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(SHA256_WITH_RSA).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
    ]);
    const full = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      tbs,
      sigAlg,
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\u0000${signature.toString('binary')}`),
    ]);
    const der = Buffer.from(asn1.toDer(full).getBytes(), 'binary');
    const known = fieldsWithoutParsing(options);
    if (known !== undefined) return { pem: toPem(der), der, thumbprint: sha1Thumbprint(der), ...known };
    // The certificate carries options.publicKey: reuse it rather than rebuilding a KeyObject from the DER.
    return fromX509(new X509Certificate(der), options.publicKey);
  };
  return { der: tbsDer, signerKey, finish };
}

/** A common name Node prints as is (no escaping), so the displayed subject is known without parsing. */
const PLAIN_COMMON_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The fields parseCertificate would read back from a certificate built from `options`, when they are plain enough to
 * know without parsing (subjects of common names only, which is every certificate the simulator makes); undefined
 * otherwise. A fleet makes two certificates per agent: parsing each back cost a tenth of an install's main thread.
 * Tests hold this to parseCertificate's answer.
 */
function fieldsWithoutParsing(options: CreateCertificateOptions): Omit<Certificate, 'pem' | 'der' | 'thumbprint'> | undefined {
  const plain = options.subject.every((a) => (a.name === 'CN' || a.name === 'commonName') && PLAIN_COMMON_NAME.test(a.value));
  if (!plain) return undefined;
  const subject = options.subject.map((a) => `CN=${a.value}`).reverse().join(', ');
  const positive = positiveSerial(options.serial);
  const seconds = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);
  return {
    subject,
    issuer: options.issuer ? options.issuer.certificate.subject : subject,
    notBefore: seconds(options.notBefore),
    notAfter: seconds(options.notAfter),
    publicKey: options.publicKey,
    // Node shows the INTEGER without the 00 that keeps it positive.
    serial: /^0+$/.test(positive) ? '0' : (positive.length > 2 && positive.startsWith('00') ? positive.slice(2) : positive).toUpperCase(),
    ekus: (options.ekus ?? []).map((name) => EKU_NAMES[name] ?? name),
    dnsNames: [...new Set(options.dnsNames ?? [])],
    isCa: options.isCa ?? false,
  };
}

function displayName(x509Name: string): string {
  // Node lists RDNs in DER order, one per line; Windows and .NET show them last to first.
  return x509Name.split('\n').filter((line) => line.length > 0).reverse().join(', ');
}

function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** Reads a DER (Buffer) or PEM (string or Buffer) certificate. */
export function parseCertificate(derOrPem: Buffer | string): Certificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(derOrPem);
  } catch (err) {
    throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `not an X.509 certificate: ${(err as Error).message}`, { cause: err });
  }
  return fromX509(x509, createPublicKey(x509.publicKey.export({ type: 'spki', format: 'pem' })));
}

function fromX509(x509: X509Certificate, publicKey: KeyObject): Certificate {
  const der = x509.raw;
  const dnsNames = (x509.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
  return {
    pem: toPem(der),
    der,
    thumbprint: sha1Thumbprint(der),
    subject: displayName(x509.subject),
    issuer: displayName(x509.issuer),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    publicKey,
    serial: x509.serialNumber.toUpperCase(),
    ekus: [...(x509.keyUsage ?? [])],
    dnsNames,
    isCa: x509.ca,
  };
}
