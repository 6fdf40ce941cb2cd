/**
 * Owns the client's two self-signed certificates in the SMS store: "SMS Signing Certificate" (EKU
 * 1.3.6.1.4.1.311.101) and "SMS Encryption Certificate" (1.3.6.1.4.1.311.101.2), subject `CN=SMS, CN=<COMPUTERNAME>`,
 * RSA-2048 and SHA-256, built by src/crypto from key pairs the injected KeyProvider hands out. A reinstall that kept
 * the store reuses them, as the real client does.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../clock/clock.js';
import type { Random } from '../clock/random.js';
import { createClientCertificatesAsync } from '../crypto/client-certificates.js';
import type { RsaKeyPair } from '../crypto/rsa-keys.js';
import { loadCertificate, storeCertificate } from './client-state.js';
import { LINES, type CatalogLine } from './log-catalog.js';
import { formatLocalStamp } from './local-stamp.js';
import type { MachinePaths } from './machine-dir.js';

/** What the agent needs from a KeyProvider (fresh, pool or fixed). */
export interface KeySource {
  next(): Promise<RsaKeyPair>;
}

export interface ClientCertificate {
  thumbprint: string;
  der: Buffer;
  pem: string;
  privateKey: KeyObject;
}

export interface ClientKeys {
  signing: ClientCertificate;
  encryption: ClientCertificate;
}

export async function ensureClientCertificates(options: {
  paths: MachinePaths;
  computerName: string;
  keys: KeySource;
  clock: Clock;
  random: Random;
  reuse: { signing: string; encryption: string } | undefined;
  timeZone?: string;
  log: (line: CatalogLine) => void;
}): Promise<ClientKeys> {
  if (options.reuse) {
    const signing = await loadCertificate(options.paths, options.reuse.signing);
    const encryption = await loadCertificate(options.paths, options.reuse.encryption);
    if (signing && encryption) {
      options.log(LINES.certReused('SMS Signing Certificate', signing.thumbprint));
      options.log(LINES.certReused('SMS Encryption Certificate', encryption.thumbprint));
      return {
        signing: { thumbprint: signing.thumbprint, pem: signing.pem, der: signing.der, privateKey: signing.privateKey },
        encryption: { thumbprint: encryption.thumbprint, pem: encryption.pem, der: encryption.der, privateKey: encryption.privateKey },
      };
    }
  }
  const signingKeys = await options.keys.next();
  const encryptionKeys = await options.keys.next();
  const certs = await createClientCertificatesAsync({
    computerName: options.computerName,
    signingKeys,
    encryptionKeys,
    now: new Date(options.clock.now()),
    random: options.random,
  });
  const out: ClientKeys = {
    signing: { thumbprint: certs.signing.thumbprint, der: certs.signing.der, pem: certs.signing.pem, privateKey: signingKeys.privateKey },
    encryption: {
      thumbprint: certs.encryption.thumbprint,
      der: certs.encryption.der,
      pem: certs.encryption.pem,
      privateKey: encryptionKeys.privateKey,
    },
  };
  await storeCertificate(options.paths, out.signing.thumbprint, out.signing.pem, out.signing.privateKey);
  await storeCertificate(options.paths, out.encryption.thumbprint, out.encryption.pem, out.encryption.privateKey);
  const tz = options.timeZone ?? 'UTC';
  const subject = `SMS, ${options.computerName}`;
  options.log(LINES.certCreated('SMS Signing Certificate', out.signing.thumbprint, subject, formatLocalStamp(certs.signing.notAfter.getTime(), tz)));
  options.log(
    LINES.certCreated('SMS Encryption Certificate', out.encryption.thumbprint, subject, formatLocalStamp(certs.encryption.notAfter.getTime(), tz)),
  );
  return out;
}
