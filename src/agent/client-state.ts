/**
 * Owns what the installed client keeps on disk between runs (the registry's part, as JSON), the cached client
 * token, and the SMS certificate store. Every write is atomic; keys and the token are owner-only (0600). Parsed keys
 * are kept in memory by their PEM text, so re-reading the store costs file reads, not key parsing.
 * The bulk registration token never appears here: nothing in this module has a field that could hold it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, createSecretKey, hkdfSync } from 'node:crypto';
import { CcmsimError } from '../errors.js';
import { LruCache } from '../lru-cache.js';
import { fileSystemFailure, makeDirectory } from '../make-directory.js';
import { certificateDerProblem, pemToDer, sha1Thumbprint } from '../crypto/certificate.js';
import type { ClientLogSettings } from './client-logs.js';
import type { MachineHardware } from './hardware.js';
import { machinePaths, readTextIfExists, removeIfExists, writeFileAtomic, type MachinePaths } from './machine-dir.js';
import { formatSmsCfg, type SmsCfg } from './smscfg.js';

export type RegistrationState = 'none' | 'pending' | 'registered';

export interface ClientState {
  schema: 1;
  installedVersion: string;
  installedAt: string;
  computerName: string;
  smsId: string;
  hardwareId: string;
  hardware: MachineHardware;
  signingThumbprint: string;
  encryptionThumbprint: string;
  network: 'intranet' | 'internet';
  /** The site code the client was told to join (SMSSITECODE), upper case, or undefined for AUTO. */
  requestedSiteCode: string | undefined;
  /** The site the client is assigned to; undefined while unassigned. */
  assignedSiteCode: string | undefined;
  /** When an unassigned client tries site assignment again (every 10 minutes). */
  nextAssignmentAt: string | undefined;
  mpUrl: string | undefined;
  cmgUrl: string | undefined;
  registration: RegistrationState;
  approval: number | undefined;
  registeredVia: 'intranet' | 'bulk' | undefined;
  /**
   * CCMLOGMAXSIZE, CCMLOGMAXHISTORY, CCMLOGLEVEL, CCMENABLELOGGING as the install resolved them: a real client keeps
   * them in its registry, so they govern every CCM log line it writes later. Absent in state files written before
   * they were kept (the defaults then apply).
   */
  logSettings?: ClientLogSettings;
}

/** The client token as the agent uses it. */
export interface CachedClientToken {
  tokenId: string;
  token: string;
  expiresAt: string;
  cachedAt: string;
}

/**
 * On disk the token is encrypted, as the real client caches it ("Cached encrypted token for 'S-1-5-18'"): AES-256-GCM
 * with a key and nonce derived (HKDF-SHA256) from the SMS Encryption Certificate's private key and the token ID, so
 * only the machine holding that key can read it, and no randomness is needed.
 */
interface StoredToken {
  tokenId: string;
  expiresAt: string;
  cachedAt: string;
  encryptedWith: string;
  tag: string;
  ciphertext: string;
}

export interface StoredCertificate {
  thumbprint: string;
  pem: string;
  /** The certificate's DER bytes (checked when the store is read). */
  der: Buffer;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export async function readClientState(paths: MachinePaths): Promise<ClientState | undefined> {
  const text = await readTextIfExists(paths.clientState);
  if (text === undefined) return undefined;
  try {
    const state = JSON.parse(text) as ClientState;
    if (state.schema !== 1 || typeof state.smsId !== 'string') throw new Error('unknown schema');
    return state;
  } catch (err) {
    throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `the client state ${paths.clientState} is damaged: ${(err as Error).message}`);
  }
}

/** Only the well-formed fields of a stored `logSettings` (a damaged or hand-edited value falls back to the default). */
export function clientLogSettingsOf(value: unknown): ClientLogSettings {
  const out: ClientLogSettings = {};
  if (typeof value !== 'object' || value === null) return out;
  const v = value as Record<string, unknown>;
  if (typeof v['maxSize'] === 'number' && Number.isSafeInteger(v['maxSize']) && v['maxSize'] >= 1) out.maxSize = v['maxSize'];
  if (typeof v['maxHistory'] === 'number' && Number.isSafeInteger(v['maxHistory']) && v['maxHistory'] >= 0) out.maxHistory = v['maxHistory'];
  const level = v['level'];
  if (level === 0 || level === 1 || level === 2 || level === 3) out.level = level;
  if (typeof v['enabled'] === 'boolean') out.enabled = v['enabled'];
  return out;
}

/**
 * The installed client's log settings, read synchronously (log sinks open synchronously). No client, an old state
 * file without them, or an unreadable one: the defaults (`{}`); the runtime reports a damaged state on its own.
 */
export function readClientLogSettings(paths: MachinePaths): ClientLogSettings {
  let text: string;
  try {
    text = readFileSync(paths.clientState, 'utf8');
  } catch {
    return {};
  }
  try {
    return clientLogSettingsOf((JSON.parse(text) as { logSettings?: unknown }).logSettings);
  } catch {
    return {};
  }
}

export async function writeClientState(paths: MachinePaths, state: ClientState): Promise<void> {
  await writeFileAtomic(paths.clientState, `${JSON.stringify(state, null, 2)}\n`);
}

export async function writeSmsCfg(paths: MachinePaths, cfg: SmsCfg): Promise<void> {
  await writeFileAtomic(paths.smscfg, formatSmsCfg(cfg));
}

/**
 * Parsed keys by their PEM text (bounded, least recently used dropped first): a pool of agents, or one agent's every
 * start, reads the same key files, and re-parsing PEM was most of a start's CPU. Keyed by content, so a changed or
 * removed file is still read from disk each time and never served stale.
 */
const keysByPem = new LruCache<string, { privateKey: KeyObject; publicKey: KeyObject }>(1024);

function keysOfPem(keyPem: string): { privateKey: KeyObject; publicKey: KeyObject } {
  return keysByPem.getOrMake(keyPem, () => {
    const privateKey = createPrivateKey(keyPem);
    return { privateKey, publicKey: createPublicKey(privateKey) };
  });
}

/**
 * Made once per KeyObject (KeyObjects never change): the key's PKCS#8 PEM for the store, and its PKCS#8 DER as the
 * secret key the token cipher derives from (given to HKDF as a KeyObject: a Buffer is made into one on every call).
 */
const pkcs8Pem = new WeakMap<KeyObject, string>();
const tokenCipherSecret = new WeakMap<KeyObject, KeyObject>();

function tokenCipherSecretOf(key: KeyObject): KeyObject {
  let secret = tokenCipherSecret.get(key);
  if (secret === undefined) {
    secret = createSecretKey(key.export({ type: 'pkcs8', format: 'der' }));
    tokenCipherSecret.set(key, secret);
  }
  return secret;
}

function exportPkcs8Pem(key: KeyObject): string {
  let pem = pkcs8Pem.get(key);
  if (pem === undefined) {
    pem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
    pkcs8Pem.set(key, pem);
  }
  return pem;
}

const TOKEN_CIPHER_INFO = Buffer.from('ccmsim cached client token', 'utf8');

function tokenCipherKeys(encryptionKey: KeyObject, tokenId: string): { key: Buffer; iv: Buffer } {
  const okm = Buffer.from(hkdfSync('sha256', tokenCipherSecretOf(encryptionKey), Buffer.from(tokenId, 'utf8'), TOKEN_CIPHER_INFO, 44));
  return { key: okm.subarray(0, 32), iv: okm.subarray(32, 44) };
}

/** The installed client's SMS Encryption Certificate key, from its state and store. */
async function installedEncryptionKey(paths: MachinePaths): Promise<{ thumbprint: string; key: KeyObject } | undefined> {
  const state = await readClientState(paths).catch(() => undefined);
  if (!state) return undefined;
  const cert = await loadCertificate(paths, state.encryptionThumbprint);
  return cert ? { thumbprint: cert.thumbprint, key: cert.privateKey } : undefined;
}

/** Reads and decrypts the cached token (with `encryptionKey`, else the installed client's); undefined if none is usable. */
export async function readCachedToken(paths: MachinePaths, encryptionKey?: KeyObject): Promise<CachedClientToken | undefined> {
  const text = await readTextIfExists(paths.clientToken);
  if (text === undefined) return undefined;
  const key = encryptionKey ?? (await installedEncryptionKey(paths))?.key;
  if (key === undefined) return undefined;
  try {
    const stored = JSON.parse(text) as StoredToken;
    const k = tokenCipherKeys(key, stored.tokenId);
    const decipher = createDecipheriv('aes-256-gcm', k.key, k.iv);
    decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));
    const token = Buffer.concat([decipher.update(Buffer.from(stored.ciphertext, 'base64')), decipher.final()]).toString('utf8');
    return { tokenId: stored.tokenId, token, expiresAt: stored.expiresAt, cachedAt: stored.cachedAt };
  } catch {
    // A token that no longer decrypts (new certificates) is as good as none: the client asks for a new one.
    return undefined;
  }
}

/** Encrypts and caches the token (0600) for the installed client, or with the given encryption key. */
export async function writeCachedToken(
  paths: MachinePaths,
  token: CachedClientToken,
  encryption?: { thumbprint: string; key: KeyObject },
): Promise<void> {
  const enc = encryption ?? (await installedEncryptionKey(paths));
  if (!enc) throw new CcmsimError('CCMSIM_FILE_NOT_FOUND', `no SMS Encryption Certificate in ${paths.certStore} to encrypt the client token with`);
  const k = tokenCipherKeys(enc.key, token.tokenId);
  const cipher = createCipheriv('aes-256-gcm', k.key, k.iv);
  const ciphertext = Buffer.concat([cipher.update(token.token, 'utf8'), cipher.final()]);
  const stored: StoredToken = {
    tokenId: token.tokenId,
    expiresAt: token.expiresAt,
    cachedAt: token.cachedAt,
    encryptedWith: enc.thumbprint,
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
  await writeFileAtomic(paths.clientToken, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
}

/** Saves a certificate and its private key in the SMS store (`<thumbprint>.cer` PEM, `<thumbprint>.key` PEM 0600). */
export async function storeCertificate(paths: MachinePaths, thumbprint: string, pem: string, privateKey: KeyObject): Promise<void> {
  try {
    // makeDirectory, not a recursive mkdir: that one spins forever under /proc, and its EEXIST/ENOTDIR surfaced as an internal error.
    makeDirectory(paths.certStore, 0o700);
  } catch (err) {
    throw new CcmsimError('CCMSIM_FILE_UNWRITABLE', `cannot make the certificate store ${paths.certStore}: ${fileSystemFailure(err, paths.certStore)}`, { cause: err });
  }
  const keyPem = exportPkcs8Pem(privateKey);
  await writeFileAtomic(join(paths.certStore, `${thumbprint}.key`), keyPem, { mode: 0o600 });
  await writeFileAtomic(join(paths.certStore, `${thumbprint}.cer`), pem);
}

/**
 * A certificate and its key from the SMS store; undefined when either file is missing. A file that is there but holds
 * no certificate or no private key is CCMSIM_FILE_UNREADABLE naming it (not replaced: it is the client's identity).
 * The certificate must have a certificate's structure and the SHA-1 thumbprint its file is named by: anything else
 * (garbage that merely starts like DER, another certificate copied over it) would be sent to the site as this client's.
 */
export async function loadCertificate(paths: MachinePaths, thumbprint: string): Promise<StoredCertificate | undefined> {
  const cerPath = join(paths.certStore, `${thumbprint}.cer`);
  const keyPath = join(paths.certStore, `${thumbprint}.key`);
  const pem = await readTextIfExists(cerPath);
  const keyPem = await readTextIfExists(keyPath);
  if (pem === undefined || keyPem === undefined) return undefined;
  const der = pemToDer(pem, `the certificate file ${cerPath}`);
  const problem = certificateDerProblem(der) ?? thumbprintProblem(der, thumbprint);
  if (problem !== undefined) throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `the certificate file ${cerPath} is damaged: ${problem}`);
  let keys: { privateKey: KeyObject; publicKey: KeyObject };
  try {
    keys = keysOfPem(keyPem);
  } catch {
    throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `the private key file ${keyPath} is damaged: not a PEM private key`);
  }
  return { thumbprint, pem, der, ...keys };
}

function thumbprintProblem(der: Buffer, thumbprint: string): string | undefined {
  const actual = sha1Thumbprint(der);
  return actual === thumbprint.toUpperCase() ? undefined : `its SHA-1 thumbprint is ${actual}, not the one its name gives`;
}

export async function listStoredCertificates(paths: MachinePaths): Promise<string[]> {
  try {
    return readdirSync(paths.certStore).filter((f) => f.endsWith('.cer')).map((f) => f.slice(0, -4));
  } catch {
    return [];
  }
}

/**
 * What `/uninstall` removes: the client, its certificates and token. SMSCFG.ini and the logs stay, as on Windows
 * (a reinstall therefore keeps the SMS Unique Identifier, the well-known cause of duplicate GUIDs on cloned images).
 */
export async function removeClient(paths: MachinePaths): Promise<void> {
  await removeIfExists(paths.clientState);
  await removeIfExists(paths.clientToken);
  await removeIfExists(paths.certStore);
  await removeIfExists(join(paths.ccmsetupDir, 'client.msi'));
  await removeIfExists(join(paths.ccmsetupDir, 'ccmsetup.cab'));
}

/** The machine itself (name and hardware): drawn once, kept for the machine directory's life, never uninstalled. */
export interface MachineIdentity {
  schema: 1;
  computerName: string;
  hardware: MachineHardware;
}

export function machineIdentityPath(paths: MachinePaths): string {
  return join(paths.windows, 'ccmsim-machine.json');
}

const HARDWARE_TEXT_FIELDS = ['vendor', 'model', 'enclosureSerial', 'assetTag', 'boardSerial', 'biosSerial', 'macAddress', 'osName', 'osVersion'] as const;

/** Why `value` is not a machine identity this simulator wrote, or undefined when it is one. */
function machineIdentityProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const id = value as Record<string, unknown>;
  if (id['schema'] !== 1) return 'unknown schema';
  if (typeof id['computerName'] !== 'string' || !/^[A-Z0-9][A-Z0-9-]{0,14}$/.test(id['computerName'])) return 'no valid computerName';
  const hw = id['hardware'];
  if (typeof hw !== 'object' || hw === null) return 'no hardware';
  const h = hw as Record<string, unknown>;
  if (typeof h['laptop'] !== 'boolean' || HARDWARE_TEXT_FIELDS.some((f) => typeof h[f] !== 'string')) return 'incomplete hardware';
  return undefined;
}

/**
 * The machine's name and hardware; undefined only when the file does not exist (a machine never installed on). A
 * damaged file is refused rather than replaced: drawing a new identity would silently turn the machine into another
 * computer (new name and HardwareID) and rewrite its client state and SMSCFG.ini with them.
 */
export async function readMachineIdentity(paths: MachinePaths): Promise<MachineIdentity | undefined> {
  const path = machineIdentityPath(paths);
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  let problem: string | undefined;
  let id: unknown;
  try {
    id = JSON.parse(text);
    problem = machineIdentityProblem(id);
  } catch {
    problem = text.trim() === '' ? 'empty' : 'not JSON';
  }
  if (problem !== undefined) {
    throw new CcmsimError('CCMSIM_FILE_UNREADABLE', `the machine identity ${path} is damaged: ${problem} (restore it, or remove it to make this a new computer)`);
  }
  return id as MachineIdentity;
}

export async function writeMachineIdentity(paths: MachinePaths, id: MachineIdentity): Promise<void> {
  await writeFileAtomic(machineIdentityPath(paths), `${JSON.stringify(id, null, 2)}\n`);
}

export { machinePaths };
