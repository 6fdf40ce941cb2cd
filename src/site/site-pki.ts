/**
 * Owns the site's PKI: the "SMS Issuing" root, the "SMS Token Signing Certificate" and the CMG's server certificate,
 * their private keys under `pki/` (mode 0600, written atomically), token-signing rotation, and the check at open that
 * every stored certificate is the one its thumbprint names. Retired token-signing certificates stay in the store so a
 * token signed by one is recognized as such.
 *
 * Validity: every site certificate runs from 2000-01-01 to 2099-12-31, so it is valid under the real clock (Node's
 * TLS checks real time) and under a virtual clock running years ahead or behind (docs/site.md).
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CcmsimError } from '../errors.js';
import { thumbprint as toThumbprint, type Thumbprint } from '../ids.js';
import type { Random } from '../clock/random.js';
import type { KeyProvider } from '../crypto/key-provider.js';
import type { RsaKeyPair } from '../crypto/rsa-keys.js';
import { createCertificate, parseCertificate, type Certificate } from '../crypto/certificate.js';
import { x5tOf } from '../protocol/tokens.js';
import { writeFileAtomic, type SitePaths } from './site-dir.js';
import { keptRead, type SiteDb, statement, tableChanged, writeTransaction } from './store.js';

export type CertificateRole = 'issuing-root' | 'token-signing' | 'cmg-server';

export interface SiteCertificate {
  thumbprint: Thumbprint;
  role: CertificateRole;
  subject: string;
  pem: string;
  /** The private key's file name under `pki/`. */
  keyFile: string;
  notBeforeMs: number;
  notAfterMs: number;
  createdMs: number;
  status: 'active' | 'retired';
  retiredMs: number | undefined;
}

/** The validity window of every site certificate (see the module comment). */
export const SITE_CERT_NOT_BEFORE = new Date(Date.UTC(2000, 0, 1, 0, 0, 0));
export const SITE_CERT_NOT_AFTER = new Date(Date.UTC(2099, 11, 31, 23, 59, 59));

export const ROOT_SUBJECT = 'SMS Issuing';
export const TOKEN_SIGNING_SUBJECT = 'SMS Token Signing Certificate';

/** What a new certificate brings before it is stored. */
export interface NewCertificate {
  role: CertificateRole;
  certificate: Certificate;
  privateKey: KeyObject;
}

interface CertRow {
  thumbprint: string;
  role: CertificateRole;
  subject: string;
  pem: string;
  key_file: string;
  not_before_ms: number;
  not_after_ms: number;
  created_ms: number;
  status: 'active' | 'retired';
  retired_ms: number | null;
}

function fromRow(row: CertRow): SiteCertificate {
  return {
    thumbprint: row.thumbprint as Thumbprint,
    role: row.role,
    subject: row.subject,
    pem: row.pem,
    keyFile: row.key_file,
    notBeforeMs: row.not_before_ms,
    notAfterMs: row.not_after_ms,
    createdMs: row.created_ms,
    status: row.status,
    retiredMs: row.retired_ms ?? undefined,
  };
}

function serialFrom(random: Random): string {
  // A positive 16-byte serial: clear the top bit so DER does not read it as negative.
  const bytes = random.bytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

/** Builds the three certificates of a new site (no I/O besides asking `keys` for key pairs). */
export async function buildSitePki(options: { keys: KeyProvider; random: Random; cmgHost: string }): Promise<NewCertificate[]> {
  // The three pairs are asked for at once (in this order): fresh ones are then generated side by side on libuv's pool.
  const [rootKeys, signingKeys, cmgKeys] = await Promise.all([options.keys.next(), options.keys.next(), options.keys.next()] as const);
  const root = createCertificate({
    subject: [{ name: 'commonName', value: ROOT_SUBJECT }],
    publicKey: rootKeys.publicKey,
    privateKey: rootKeys.privateKey,
    serial: serialFrom(options.random),
    notBefore: SITE_CERT_NOT_BEFORE,
    notAfter: SITE_CERT_NOT_AFTER,
    isCa: true,
  });
  const signing = buildTokenSigning({ pair: signingKeys, random: options.random, root: { certificate: root, privateKey: rootKeys.privateKey } });
  const cmg = createCertificate({
    subject: [{ name: 'commonName', value: options.cmgHost }],
    issuer: { certificate: root, privateKey: rootKeys.privateKey },
    publicKey: cmgKeys.publicKey,
    privateKey: cmgKeys.privateKey,
    serial: serialFrom(options.random),
    notBefore: SITE_CERT_NOT_BEFORE,
    notAfter: SITE_CERT_NOT_AFTER,
    ekus: ['serverAuth'],
    dnsNames: [options.cmgHost, options.cmgHost.toLowerCase(), 'localhost'],
  });
  return [
    { role: 'issuing-root', certificate: root, privateKey: rootKeys.privateKey },
    signing,
    { role: 'cmg-server', certificate: cmg, privateKey: cmgKeys.privateKey },
  ];
}

function buildTokenSigning(options: {
  pair: RsaKeyPair;
  random: Random;
  root: { certificate: Certificate; privateKey: KeyObject };
}): NewCertificate {
  const pair = options.pair;
  const certificate = createCertificate({
    subject: [{ name: 'commonName', value: TOKEN_SIGNING_SUBJECT }],
    issuer: options.root,
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
    serial: serialFrom(options.random),
    notBefore: SITE_CERT_NOT_BEFORE,
    notAfter: SITE_CERT_NOT_AFTER,
  });
  return { role: 'token-signing', certificate, privateKey: pair.privateKey };
}

function keyFileName(role: CertificateRole, tp: Thumbprint): string {
  return `${role}-${tp}.key`;
}

/**
 * Stores a new certificate: its private key file first (atomic, 0600), then its row. Call inside a write transaction;
 * a key file whose row never commits is harmless (nothing refers to it).
 */
export function storeCertificate(db: SiteDb, paths: SitePaths, cert: NewCertificate, nowMs: number): SiteCertificate {
  const tp = toThumbprint(cert.certificate.thumbprint);
  const keyFile = keyFileName(cert.role, tp);
  tableChanged(db, 'certificates');
  writeFileAtomic(join(paths.pki, keyFile), cert.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
  statement(
    db,
    `INSERT INTO certificates (thumbprint, role, subject, pem, key_file, not_before_ms, not_after_ms, created_ms, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active')`,
  ).run(tp, cert.role, cert.certificate.subject, cert.certificate.pem, keyFile, cert.certificate.notBefore.getTime(), cert.certificate.notAfter.getTime(), nowMs);
  if (cert.role === 'issuing-root') writeFileAtomic(paths.rootCertificate, cert.certificate.pem, 0o644);
  return activeCertificate(db, cert.role);
}

/** Every certificate the site has made, newest first, with the token-signing ones by `x5t` (kept: see `keptRead`). */
function storedCertificates(db: SiteDb): { all: readonly SiteCertificate[]; tokenSigningByX5t: ReadonlyMap<string, SiteCertificate> } {
  return keptRead(db, 'certificates', () => {
    const rows = statement(db, 'SELECT * FROM certificates ORDER BY created_ms DESC, rowid DESC').all() as CertRow[];
    const all = rows.map(fromRow);
    const tokenSigningByX5t = new Map(all.filter((c) => c.role === 'token-signing').map((c) => [x5tOf(c.thumbprint), c]));
    return { all, tokenSigningByX5t };
  });
}

export function activeCertificate(db: SiteDb, role: CertificateRole): SiteCertificate {
  const cert = storedCertificates(db).all.find((c) => c.role === role && c.status === 'active');
  if (!cert) throw new CcmsimError('CCMSIM_SITE_STATE', `the site has no active ${role} certificate`);
  return { ...cert };
}

/** Every certificate the site has made, newest first (the console's Certificates node lists them all). */
export function listCertificates(db: SiteDb): SiteCertificate[] {
  return storedCertificates(db).all.map((c) => ({ ...c }));
}

/** The token-signing certificate (active or retired) whose `x5t` is `x5t`. */
export function tokenSigningCertificateByX5t(db: SiteDb, x5t: string): SiteCertificate | undefined {
  const cert = storedCertificates(db).tokenSigningByX5t.get(x5t);
  return cert ? { ...cert } : undefined;
}

export function certificateByThumbprint(db: SiteDb, tp: string): SiteCertificate | undefined {
  const row = statement(db, 'SELECT * FROM certificates WHERE thumbprint = ?').get(tp.toUpperCase()) as CertRow | undefined;
  return row ? fromRow(row) : undefined;
}

const keyCache = new Map<string, KeyObject>();

/** The private key of a site certificate, read from `pki/` (cached per process; keys never change once written). */
export function privateKeyOf(paths: SitePaths, cert: SiteCertificate): KeyObject {
  return keyCache.get(join(paths.pki, cert.keyFile)) ?? readPrivateKey(paths, cert);
}

/** Reads a site certificate's private key from its file whether or not it is cached (opening a site checks the files). */
export function readPrivateKey(paths: SitePaths, cert: SiteCertificate): KeyObject {
  const file = join(paths.pki, cert.keyFile);
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CcmsimError('CCMSIM_SITE_STATE', `cannot read the private key of the ${cert.role} certificate (${file})`, { cause: err });
  }
  keyCache.set(file, key);
  return key;
}

/** Parsed site certificates by thumbprint (few: the root, the MP's and each token-signing one), with the PEM they came from. */
const publicKeyCache = new Map<string, { pem: string; key: KeyObject }>();

/** The public key of a site certificate (parsed once: every token the site verifies needs its signer's). */
export function publicKeyOf(cert: SiteCertificate): KeyObject {
  const cached = publicKeyCache.get(cert.thumbprint);
  if (cached !== undefined && cached.pem === cert.pem) return cached.key;
  const key = new X509Certificate(cert.pem).publicKey;
  if (publicKeyCache.size >= 256) publicKeyCache.clear();
  publicKeyCache.set(cert.thumbprint, { pem: cert.pem, key });
  return key;
}

/**
 * The first stored certificate whose PEM does not parse or is not the certificate its thumbprint names, in words
 * (undefined when all are sound). Checked when a site is opened: a damaged one would otherwise surface as an OpenSSL
 * error in the middle of serving.
 */
export function damagedCertificate(db: SiteDb): string | undefined {
  for (const cert of listCertificates(db)) {
    let actual: string;
    try {
      actual = new X509Certificate(cert.pem).fingerprint.replace(/:/g, '');
    } catch {
      return `the ${cert.status} ${cert.role} certificate ${cert.thumbprint} is not a readable PEM certificate`;
    }
    if (actual !== cert.thumbprint.toUpperCase()) return `the ${cert.status} ${cert.role} certificate ${cert.thumbprint} holds another certificate (${actual})`;
  }
  return undefined;
}

/**
 * Makes a new SMS Token Signing certificate (issued by the root) and retires the active one. Tokens signed by the
 * retired certificate are then refused with CCMSIM_TOKEN_SIGNER_RETIRED (see docs/site.md for how clients recover).
 */
export async function rotateTokenSigning(options: {
  db: SiteDb;
  paths: SitePaths;
  keys: KeyProvider;
  random: Random;
  nowMs: number;
}): Promise<{ retired: SiteCertificate; active: SiteCertificate }> {
  const root = activeCertificate(options.db, 'issuing-root');
  const rootCertificate = parseStoredCertificate(root);
  const fresh = buildTokenSigning({
    pair: await options.keys.next(),
    random: options.random,
    root: { certificate: rootCertificate, privateKey: privateKeyOf(options.paths, root) },
  });
  tableChanged(options.db, 'certificates');
  return writeTransaction(options.db, () => {
    const old = activeCertificate(options.db, 'token-signing');
    statement(options.db, `UPDATE certificates SET status = 'retired', retired_ms = ? WHERE thumbprint = ?`).run(options.nowMs, old.thumbprint);
    const active = storeCertificate(options.db, options.paths, fresh, options.nowMs);
    return { retired: { ...old, status: 'retired' as const, retiredMs: options.nowMs }, active };
  });
}

function parseStoredCertificate(cert: SiteCertificate): Certificate {
  return parseCertificate(cert.pem);
}
