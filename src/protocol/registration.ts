/**
 * Owns the registration messages (protocol.md §1.5–1.7): ClientRegistrationRequest (Registration and Confirmation)
 * with its `<Data>` element signed as CCM signs (UTF-16LE, SHA-256 PKCS#1 v1.5, reversed, upper hex), and the
 * ClientRegistrationResponse. The signed `<Data>` text is taken from the request by exact substring, never
 * re-serialised, so whitespace and attribute order are whatever the sender signed.
 */
import type { KeyObject } from 'node:crypto';
import { signCcm, signCcmAsync, utf16le, verifyCcm } from '../crypto/ccm-signature.js';
import { formatCcmTime } from './msg-header.js';
import { attr, child, escapeXml, malformed, parseXml, rootElement, text, type XmlNode } from './xml-util.js';

/** sha256WithRSAEncryption, the HashAlgorithm real clients and tools send. */
export const REGISTRATION_HASH_ALGORITHM = '1.2.840.113549.1.1.11';
export const DEFAULT_AGENT_IDENTITY = 'CCMSetup.exe';
export const DEFAULT_AGENT_VERSION = '5.00.8325.0000';

export type RegistrationRequestType = 'Registration' | 'Confirmation';

export interface BuildRegistrationRequestOptions {
  /** `GUID:…`, or '' to let the MP choose. */
  smsId: string;
  timeStamp: Date | string;
  netbiosName: string;
  fqName: string;
  /** Windows LCID, e.g. 1033 or 2057. */
  localeId: number | string;
  /** 0 intranet, 1 internet-enabled, 2 always on internet. */
  internetFlag: number | string;
  signingCertDer: Buffer;
  encryptionCertDer: Buffer;
  signingKey: KeyObject;
  agentIdentity?: string;
  agentVersion?: string;
  /** Sent as the `HardwareID1` discovery property when given (the simulator's site records it). */
  hardwareId?: string;
}

export interface BuildConfirmationRequestOptions {
  smsId: string;
  timeStamp: Date | string;
  signingKey: KeyObject;
  agentIdentity?: string;
  agentVersion?: string;
}

export interface RegistrationRequest {
  requestType: RegistrationRequestType;
  smsId: string;
  timeStamp: string;
  hashAlgorithm: string | undefined;
  /** The exact `<Data …>…</Data>` text as received: what the signature covers. */
  dataXml: string;
  signatureHex: string;
  signingCertDer: Buffer | undefined;
  encryptionCertDer: Buffer | undefined;
  /** DiscoveryProperties by Name (`Netbios Name`, `FQ Name`, `Locale ID`, `InternetFlag`, …). */
  properties: Record<string, string>;
  agentIdentity: string | undefined;
  agentVersion: string | undefined;
  /** The `SMSID` attribute of `<Signature>` (sent on Confirmation). */
  signatureSmsId: string | undefined;
  /** Conveniences over `properties`. */
  netbiosName: string;
  fqName: string;
  hardwareId: string | undefined;
}

function timeText(value: Date | string): string {
  return typeof value === 'string' ? value : formatCcmTime(value);
}

function hex(der: Buffer): string {
  return der.toString('hex').toUpperCase();
}

function agentInformation(identity: string | undefined, version: string | undefined): string {
  return `<AgentInformation AgentIdentity="${escapeXml(identity ?? DEFAULT_AGENT_IDENTITY)}" AgentVersion="${escapeXml(version ?? DEFAULT_AGENT_VERSION)}" AgentType="0" />`;
}

function wrap(dataXml: string, signature: string, signatureSmsId?: string): string {
  const sigOpen = signatureSmsId === undefined ? '<Signature>' : `<Signature SMSID="${escapeXml(signatureSmsId)}">`;
  return `<ClientRegistrationRequest>${dataXml}${sigOpen}<SignatureValue>${signature}</SignatureValue></Signature></ClientRegistrationRequest>`;
}

export function buildRegistrationRequest(options: BuildRegistrationRequestOptions): string {
  const dataXml = registrationData(options);
  return wrap(dataXml, signCcm(options.signingKey, utf16le(dataXml)));
}

/** The same request, signed off the main thread (the agent's form). */
export async function buildRegistrationRequestAsync(options: BuildRegistrationRequestOptions): Promise<string> {
  const dataXml = registrationData(options);
  return wrap(dataXml, await signCcmAsync(options.signingKey, utf16le(dataXml)));
}

function registrationData(options: BuildRegistrationRequestOptions): string {
  const e = escapeXml;
  const property = (name: string, value: string | number): string => `<Property Name="${e(name)}" Value="${e(String(value))}" />`;
  return (
    `<Data HashAlgorithm="${REGISTRATION_HASH_ALGORITHM}" SMSID="${e(options.smsId)}" RequestType="Registration" TimeStamp="${e(timeText(options.timeStamp))}">` +
    agentInformation(options.agentIdentity, options.agentVersion) +
    `<Certificates><Encryption Encoding="HexBinary" KeyType="1">${hex(options.encryptionCertDer)}</Encryption>` +
    `<Signing Encoding="HexBinary" KeyType="1">${hex(options.signingCertDer)}</Signing></Certificates>` +
    `<DiscoveryProperties>` +
    property('Netbios Name', options.netbiosName) +
    property('FQ Name', options.fqName) +
    property('Locale ID', options.localeId) +
    property('InternetFlag', options.internetFlag) +
    (options.hardwareId !== undefined ? property('HardwareID1', options.hardwareId) : '') +
    `</DiscoveryProperties></Data>`
  );
}

export function buildConfirmationRequest(options: BuildConfirmationRequestOptions): string {
  const dataXml = confirmationData(options);
  return wrap(dataXml, signCcm(options.signingKey, utf16le(dataXml)), options.smsId);
}

/** The same request, signed off the main thread (the agent's form). */
export async function buildConfirmationRequestAsync(options: BuildConfirmationRequestOptions): Promise<string> {
  const dataXml = confirmationData(options);
  return wrap(dataXml, await signCcmAsync(options.signingKey, utf16le(dataXml)), options.smsId);
}

function confirmationData(options: BuildConfirmationRequestOptions): string {
  const e = escapeXml;
  return (
    `<Data HashAlgorithm="${REGISTRATION_HASH_ALGORITHM}" SMSID="${e(options.smsId)}" RequestType="Confirmation" TimeStamp="${e(timeText(options.timeStamp))}">` +
    agentInformation(options.agentIdentity, options.agentVersion) +
    `</Data>`
  );
}

/** The first `<Data …>…</Data>` (or `<Data …/>`) of the document, byte for byte. */
function dataSubstring(xml: string): string {
  const start = xml.search(/<Data[\s>/]/);
  if (start < 0) throw malformed('the registration request has no <Data> element');
  const openEnd = xml.indexOf('>', start);
  if (openEnd < 0) throw malformed('the registration request has an unterminated <Data> tag');
  if (xml[openEnd - 1] === '/') return xml.slice(start, openEnd + 1);
  const close = xml.indexOf('</Data>', openEnd);
  if (close < 0) throw malformed('the registration request has no </Data>');
  return xml.slice(start, close + '</Data>'.length);
}

function certificate(node: XmlNode | undefined, name: string): Buffer | undefined {
  const value = text(node, name);
  if (value === undefined || value === '') return undefined;
  const clean = value.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(clean)) throw malformed(`the <${name}> certificate is not hex`);
  return Buffer.from(clean, 'hex');
}

export function parseRegistrationRequest(xml: string): RegistrationRequest {
  const source = xml.endsWith('\u0000') ? xml.slice(0, -1) : xml;
  const root = rootElement(parseXml(source, 'the registration request'), 'ClientRegistrationRequest', 'the registration request');
  const data = child(root, 'Data');
  if (!data) throw malformed('the registration request has no <Data> element');
  const requestType = attr(data, 'RequestType');
  if (requestType !== 'Registration' && requestType !== 'Confirmation') {
    throw malformed(`the registration request has RequestType ${JSON.stringify(requestType ?? null)}; expected Registration or Confirmation`);
  }
  const signature = child(root, 'Signature');
  const signatureHex = (text(signature, 'SignatureValue') ?? '').replace(/\s+/g, '');
  if (signatureHex === '') throw malformed('the registration request has no <SignatureValue>');
  const agent = child(data, 'AgentInformation');
  const certs = child(data, 'Certificates');
  const properties: Record<string, string> = {};
  const list = child(data, 'DiscoveryProperties')?.['Property'];
  for (const item of Array.isArray(list) ? list : list === undefined ? [] : [list]) {
    const name = attr(item as XmlNode, 'Name');
    if (name !== undefined) properties[name] = attr(item as XmlNode, 'Value') ?? '';
  }
  // Names are matched case-insensitively: SDK07 writes "NetBIOS Name" and "Locale Id", tools "Netbios Name".
  const prop = (name: string): string | undefined => {
    const key = Object.keys(properties).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : properties[key];
  };
  return {
    requestType,
    smsId: attr(data, 'SMSID') ?? '',
    timeStamp: attr(data, 'TimeStamp') ?? '',
    hashAlgorithm: attr(data, 'HashAlgorithm'),
    dataXml: dataSubstring(source),
    signatureHex,
    signingCertDer: certificate(certs, 'Signing'),
    encryptionCertDer: certificate(certs, 'Encryption'),
    properties,
    agentIdentity: attr(agent, 'AgentIdentity'),
    agentVersion: attr(agent, 'AgentVersion'),
    signatureSmsId: attr(signature, 'SMSID'),
    netbiosName: prop('Netbios Name') ?? '',
    fqName: prop('FQ Name') ?? '',
    hardwareId: prop('HardwareID1'),
  };
}

/** Checks the reversed SHA-256 signature over UTF-16LE of the exact `<Data>` text. */
export function verifyRegistrationSignature(parsed: Pick<RegistrationRequest, 'dataXml' | 'signatureHex'>, publicKey: KeyObject): boolean {
  return verifyCcm(publicKey, utf16le(parsed.dataXml), parsed.signatureHex);
}

/** 0 registered, 1 pending, 2 reset (send the registration again), 3 error/rejected (SDK07). */
export type RegistrationStatus = 0 | 1 | 2 | 3 | 4;

export interface RegistrationResponse {
  responseType: RegistrationRequestType;
  status: RegistrationStatus;
  smsId: string | undefined;
  approvalStatus: number | undefined;
  timeStamp: string | undefined;
}

export interface BuildRegistrationResponseOptions {
  responseType: RegistrationRequestType;
  status: RegistrationStatus;
  smsId?: string;
  approvalStatus?: number;
  timeStamp?: Date | string;
  /** Alias of timeStamp. */
  timestamp?: Date | string;
}

export function buildRegistrationResponse(options: BuildRegistrationResponseOptions): string {
  const stamp = options.timeStamp ?? options.timestamp;
  const attrs = [`ResponseType="${options.responseType}"`];
  if (stamp !== undefined) attrs.push(`TimeStamp="${escapeXml(timeText(stamp))}"`);
  attrs.push(`Status="${options.status}"`);
  if (options.smsId !== undefined) attrs.push(`SMSID="${escapeXml(options.smsId)}"`);
  if (options.approvalStatus !== undefined) attrs.push(`ApprovalStatus="${Math.trunc(options.approvalStatus)}"`);
  return `<ClientRegistrationResponse ${attrs.join(' ')}/>`;
}

export function parseRegistrationResponse(xml: string): RegistrationResponse {
  const source = xml.endsWith('\u0000') ? xml.slice(0, -1) : xml;
  const root = rootElement(parseXml(source, 'the registration response'), 'ClientRegistrationResponse', 'the registration response');
  const responseType = attr(root, 'ResponseType');
  if (responseType !== 'Registration' && responseType !== 'Confirmation') {
    throw malformed(`the registration response has ResponseType ${JSON.stringify(responseType ?? null)}`);
  }
  const statusText = attr(root, 'Status');
  if (statusText === undefined || !/^[0-4]$/.test(statusText)) throw malformed(`the registration response has Status ${JSON.stringify(statusText ?? null)}`);
  const approvalText = attr(root, 'ApprovalStatus');
  if (approvalText !== undefined && !/^-?\d+$/.test(approvalText)) throw malformed(`the registration response has ApprovalStatus ${JSON.stringify(approvalText)}`);
  return {
    responseType,
    status: Number(statusText) as RegistrationStatus,
    smsId: attr(root, 'SMSID'),
    approvalStatus: approvalText === undefined ? undefined : Number(approvalText),
    timeStamp: attr(root, 'TimeStamp'),
  };
}
