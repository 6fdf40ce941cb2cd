/**
 * Owns the identifier types that must never be mixed up: the client's SMS GUID, a bulk token's tracking GUID,
 * a site code and a certificate thumbprint. Each is a branded string made only through its parser.
 */
import { CcmsimError } from './errors.js';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** `GUID:` + upper-case GUID, as in SMSCFG.ini and ClientIDManagerStartup.log. */
export type SmsGuid = Brand<string, 'SmsGuid'>;
/** A bulk registration token's tracking GUID, lower case (the `UniqueId` claim). */
export type TokenGuid = Brand<string, 'TokenGuid'>;
/** Three characters A-Z/0-9, upper case. */
export type SiteCode = Brand<string, 'SiteCode'>;
/** SHA-1 certificate thumbprint, 40 upper-case hex characters. */
export type Thumbprint = Brand<string, 'Thumbprint'>;
/** A client token's ID (the `jti` claim), lower-case GUID. */
export type ClientTokenId = Brand<string, 'ClientTokenId'>;

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Names Microsoft reserves (prepare-to-install-sites). */
export const RESERVED_SITE_CODES: readonly string[] = ['AUX', 'CON', 'NUL', 'PRN', 'SMS', 'ENV'];

export function isGuid(value: string): boolean {
  return GUID_RE.test(value);
}

export function smsGuid(value: string): SmsGuid {
  const bare = value.replace(/^GUID:/i, '').replace(/^\{|\}$/g, '');
  if (!GUID_RE.test(bare)) throw new CcmsimError('CCMSIM_BAD_ID', `not an SMS GUID: ${value}`);
  return `GUID:${bare.toUpperCase()}` as SmsGuid;
}

export function tokenGuid(value: string): TokenGuid {
  const bare = value.replace(/^\{|\}$/g, '');
  if (!GUID_RE.test(bare)) throw new CcmsimError('CCMSIM_BAD_ID', `not a token GUID: ${value}`);
  return bare.toLowerCase() as TokenGuid;
}

export function clientTokenId(value: string): ClientTokenId {
  if (!GUID_RE.test(value)) throw new CcmsimError('CCMSIM_BAD_ID', `not a client token ID: ${value}`);
  return value.toLowerCase() as ClientTokenId;
}

/** Why `value` is not a valid site code, or undefined when it is one. */
export function siteCodeProblem(value: string): string | undefined {
  if (!/^[A-Za-z0-9]{3}$/.test(value)) return 'must be three characters A-Z or 0-9';
  if (RESERVED_SITE_CODES.includes(value.toUpperCase())) return `${value.toUpperCase()} is a reserved name`;
  return undefined;
}

export function siteCode(value: string): SiteCode {
  const problem = siteCodeProblem(value);
  if (problem) throw new CcmsimError('CCMSIM_BAD_ID', `site code ${value}: ${problem}`);
  return value.toUpperCase() as SiteCode;
}

export function thumbprint(value: string): Thumbprint {
  if (!/^[0-9a-f]{40}$/i.test(value)) throw new CcmsimError('CCMSIM_BAD_ID', `not a SHA-1 thumbprint: ${value}`);
  return value.toUpperCase() as Thumbprint;
}
