/**
 * Owns the site's record of registered clients: registration (idempotent for the same SMS GUID and certificate),
 * confirmation polling and listing. A re-registration of a known SMS GUID with a different signing certificate
 * replaces the certificate and revokes the client's tokens, which were paired with the old one.
 */
import { CcmsimError } from '../errors.js';
import { smsGuid, tokenGuid, type SmsGuid, type Thumbprint, type TokenGuid } from '../ids.js';
import { clientCertificate } from './parsed-certificates.js';
import type { Site } from './site.js';
import { statement, writeTransaction } from './store.js';

export type RegistrationMethod = 'intranet' | 'bulk';
export type Approval = 'approved' | 'pending';

export interface RegisterClientInput {
  smsId: string;
  netbiosName: string;
  fqName: string;
  hardwareId?: string;
  signingCertDer: Buffer;
  encryptionCertDer?: Buffer;
  method: RegistrationMethod;
  /** Required with method 'bulk': the validated bulk token's tracking GUID. */
  bulkTokenGuid?: string;
}

export interface ClientRecord {
  smsId: SmsGuid;
  netbiosName: string;
  fqName: string;
  hardwareId: string | undefined;
  signingThumbprint: Thumbprint;
  signingCertDer: Buffer;
  encryptionCertDer: Buffer | undefined;
  approval: Approval;
  method: RegistrationMethod;
  bulkTokenGuid: TokenGuid | undefined;
  registeredMs: number;
  confirmedMs: number | undefined;
  updatedMs: number;
}

export interface RegistrationResult {
  client: ClientRecord;
  /** 'new': first registration; 'unchanged': same GUID and certificate again; 'updated': same GUID, new certificate. */
  outcome: 'new' | 'unchanged' | 'updated';
}

interface ClientRow {
  sms_id: string;
  netbios_name: string;
  fq_name: string;
  hardware_id: string | null;
  signing_thumbprint: string;
  signing_cert_der: Buffer;
  encryption_cert_der: Buffer | null;
  approval: Approval;
  method: RegistrationMethod;
  bulk_token_guid: string | null;
  registered_ms: number;
  confirmed_ms: number | null;
  updated_ms: number;
}

function fromRow(row: ClientRow): ClientRecord {
  return {
    smsId: row.sms_id as SmsGuid,
    netbiosName: row.netbios_name,
    fqName: row.fq_name,
    hardwareId: row.hardware_id ?? undefined,
    signingThumbprint: row.signing_thumbprint as Thumbprint,
    signingCertDer: row.signing_cert_der,
    encryptionCertDer: row.encryption_cert_der ?? undefined,
    approval: row.approval,
    method: row.method,
    bulkTokenGuid: (row.bulk_token_guid ?? undefined) as TokenGuid | undefined,
    registeredMs: row.registered_ms,
    confirmedMs: row.confirmed_ms ?? undefined,
    updatedMs: row.updated_ms,
  };
}

function refuse(message: string): CcmsimError {
  return new CcmsimError('CCMSIM_REGISTRATION_REFUSED', message, { httpStatus: 400 });
}

/** SHA-1 of the DER, after checking it is a certificate at all. */
function certificateThumbprint(der: Buffer, what: string): Thumbprint {
  try {
    return clientCertificate(der).thumbprint;
  } catch {
    throw refuse(`the ${what} certificate is not a valid X.509 certificate`);
  }
}

export function registerClient(site: Site, input: RegisterClientInput): RegistrationResult {
  const smsId = smsGuid(input.smsId);
  if (input.method !== 'intranet' && input.method !== 'bulk') throw refuse(`unknown registration method ${String(input.method)}`);
  const bulk = input.method === 'bulk' ? tokenGuid(input.bulkTokenGuid ?? '') : undefined;
  if (input.method === 'intranet' && input.bulkTokenGuid !== undefined) throw refuse('an intranet registration names no bulk token');
  if (!input.netbiosName.trim()) throw refuse('the registration names no NetBIOS name');
  const signingThumbprint = certificateThumbprint(input.signingCertDer, 'signing');
  if (input.encryptionCertDer) certificateThumbprint(input.encryptionCertDer, 'encryption');
  const nowMs = site.clock.now();
  return writeTransaction(site.db, () => {
    const existing = getClientRow(site, smsId);
    if (bulk && !statement(site.db, 'SELECT 1 FROM bulk_tokens WHERE guid = ?').get(bulk)) {
      throw new CcmsimError('CCMSIM_TOKEN_UNKNOWN', `this site never issued a bulk registration token with GUID ${bulk}`, { httpStatus: 401 });
    }
    if (existing && existing.signing_thumbprint === signingThumbprint) {
      return { client: fromRow(existing), outcome: 'unchanged' as const };
    }
    if (existing) {
      statement(
        site.db,
        `UPDATE clients SET netbios_name = ?, fq_name = ?, hardware_id = ?, signing_thumbprint = ?, signing_cert_der = ?,
             encryption_cert_der = ?, method = ?, bulk_token_guid = ?, confirmed_ms = NULL, updated_ms = ? WHERE sms_id = ?`,
      ).run(input.netbiosName, input.fqName, input.hardwareId ?? null, signingThumbprint, input.signingCertDer, input.encryptionCertDer ?? null, input.method, bulk ?? null, nowMs, smsId);
      // Tokens were paired with the old certificate.
      statement(site.db, 'UPDATE client_tokens SET revoked_ms = ? WHERE sms_id = ? AND revoked_ms IS NULL').run(nowMs, smsId);
      return { client: fromRow(getClientRow(site, smsId)!), outcome: 'updated' as const };
    }
    statement(
      site.db,
      `INSERT INTO clients (sms_id, netbios_name, fq_name, hardware_id, signing_thumbprint, signing_cert_der, encryption_cert_der,
           approval, method, bulk_token_guid, registered_ms, updated_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'approved', ?, ?, ?, ?)`,
    ).run(smsId, input.netbiosName, input.fqName, input.hardwareId ?? null, signingThumbprint, input.signingCertDer, input.encryptionCertDer ?? null, input.method, bulk ?? null, nowMs, nowMs);
    return { client: fromRow(getClientRow(site, smsId)!), outcome: 'new' as const };
  });
}

function getClientRow(site: Site, smsId: SmsGuid): ClientRow | undefined {
  return statement(site.db, 'SELECT * FROM clients WHERE sms_id = ?').get(smsId) as ClientRow | undefined;
}

/** `known` when it is `smsId`'s record (read earlier while serving the same request), else the record read now. */
export function clientRecord(site: Site, smsId: string, known: ClientRecord | undefined): ClientRecord | undefined {
  return known !== undefined && known.smsId === smsId ? known : getClient(site, smsId);
}

export function getClient(site: Site, smsId: string): ClientRecord | undefined {
  const row = getClientRow(site, smsGuid(smsId));
  return row ? fromRow(row) : undefined;
}

export interface Confirmation {
  smsId: SmsGuid;
  /** 'registered' (Status 0) or 'unknown' (the MP has no such client: the client must register again). */
  status: 'registered' | 'unknown';
  approval: Approval | undefined;
  client: ClientRecord | undefined;
}

/** A client's `Confirmation` poll: records the time and answers its status and approval. */
export function confirmRegistration(site: Site, smsIdText: string): Confirmation {
  const smsId = smsGuid(smsIdText);
  return writeTransaction(site.db, () => {
    const changed = statement(site.db, 'UPDATE clients SET confirmed_ms = ? WHERE sms_id = ?').run(site.clock.now(), smsId).changes;
    if (changed === 0) return { smsId, status: 'unknown' as const, approval: undefined, client: undefined };
    const client = fromRow(getClientRow(site, smsId)!);
    return { smsId, status: 'registered' as const, approval: client.approval, client };
  });
}

/** Every registered client, in registration order. */
export function listClients(site: Site): ClientRecord[] {
  return (statement(site.db, 'SELECT * FROM clients ORDER BY registered_ms, rowid').all() as ClientRow[]).map(fromRow);
}
