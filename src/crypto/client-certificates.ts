/**
 * Owns the client's two self-signed certificates, as ccmsetup/ClientIDManager makes them (protocol.md §2):
 * "SMS Signing Certificate" (EKU 1.3.6.1.4.1.311.101) and "SMS Encryption Certificate" (EKU 1.3.6.1.4.1.311.101.2),
 * RSA-2048, SHA-256, subject shown by .NET as `CN=SMS, CN=<COMPUTERNAME>` (DER order: CN=<COMPUTERNAME>, CN=SMS).
 */
import type { Random } from '../clock/random.js';
import { createCertificate, createCertificateAsync, type Certificate, type CreateCertificateOptions } from './certificate.js';
import type { RsaKeyPair } from './rsa-keys.js';

export const SMS_SIGNING_EKU = '1.3.6.1.4.1.311.101';
export const SMS_ENCRYPTION_EKU = '1.3.6.1.4.1.311.101.2';
export const SMS_SIGNING_FRIENDLY_NAME = 'SMS Signing Certificate';
export const SMS_ENCRYPTION_FRIENDLY_NAME = 'SMS Encryption Certificate';

/**
 * Validity (ours; the real period is not public, protocol.md §2): from one day before `now`, so a client whose
 * clock is a little ahead of the site's is not refused, to 100 years after, so runs that fast-forward the virtual
 * clock by months or years never see a client certificate expire. A public helper script uses the same 100 years.
 */
export const CLIENT_CERT_BACKDATE_MS = 24 * 60 * 60 * 1000;
export const CLIENT_CERT_YEARS = 100;

export interface ClientCertificates {
  signing: Certificate;
  encryption: Certificate;
}

export interface CreateClientCertificatesOptions {
  computerName: string;
  signingKeys: RsaKeyPair;
  encryptionKeys: RsaKeyPair;
  now: Date;
  /** Draws the serial numbers. */
  random: Random;
}

function serialFrom(random: Random): string {
  const bytes = random.bytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive DER INTEGER
  return bytes.toString('hex');
}

function clientSubject(computerName: string): { name: string; value: string }[] {
  return [
    { name: 'CN', value: computerName.toUpperCase() },
    { name: 'CN', value: 'SMS' },
  ];
}

export function createClientCertificates(options: CreateClientCertificatesOptions): ClientCertificates {
  const [signing, encryption] = clientCertificateOptions(options);
  return { signing: createCertificate(signing), encryption: createCertificate(encryption) };
}

/** The same two certificates, signed off the main thread and side by side (the agent's form). */
export async function createClientCertificatesAsync(options: CreateClientCertificatesOptions): Promise<ClientCertificates> {
  const [signing, encryption] = clientCertificateOptions(options);
  const [s, e] = await Promise.all([createCertificateAsync(signing), createCertificateAsync(encryption)]);
  return { signing: s, encryption: e };
}

/** Both certificates' options; the serials are drawn here, signing first, so either form gives the same bytes. */
function clientCertificateOptions(options: CreateClientCertificatesOptions): [CreateCertificateOptions, CreateCertificateOptions] {
  const notBefore = new Date(options.now.getTime() - CLIENT_CERT_BACKDATE_MS);
  const notAfter = new Date(options.now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CLIENT_CERT_YEARS);
  const subject = clientSubject(options.computerName);
  const make = (keys: RsaKeyPair, eku: string): CreateCertificateOptions => ({
    subject,
    publicKey: keys.publicKey,
    privateKey: keys.privateKey,
    serial: serialFrom(options.random),
    notBefore,
    notAfter,
    ekus: [eku],
    // Key usage as the public tools set it (digitalSignature + dataEncipherment), plus keyEncipherment,
    // which the encryption certificate needs for CMS key transport.
    keyUsage: { digitalSignature: true, keyEncipherment: true, dataEncipherment: true },
  });
  return [make(options.signingKeys, SMS_SIGNING_EKU), make(options.encryptionKeys, SMS_ENCRYPTION_EKU)];
}
