/**
 * Owns the error taxonomy: one stable `CCMSIM_…` code per kind of failure, with the HRESULT a real client would log
 * where one exists. Codes are mapped to process exit codes in one place only: `src/cli/exit-codes.ts`.
 */

export const ERROR_CODES = {
  // Command line and input files
  CCMSIM_BAD_ARGUMENT: 'a ccmsetup parameter or property breaks a documented rule',
  CCMSIM_USAGE: 'a simulator option is missing, unknown or malformed',
  CCMSIM_BAD_ID: 'an identifier (GUID, site code, thumbprint) is malformed',
  CCMSIM_FILE_NOT_FOUND: 'a file or directory named on the command line does not exist',
  CCMSIM_FILE_UNREADABLE: 'a file exists but cannot be read or is not in the expected format',
  CCMSIM_FILE_UNWRITABLE: 'a file cannot be written (a directory in its place, no permission, a full disk)',
  // Logs
  CCMSIM_LOG_UNSAFE_MESSAGE: 'a log message holds a record terminator the format cannot carry',
  CCMSIM_LOG_MALFORMED: 'a log file holds malformed records',
  // Wire protocol
  CCMSIM_PROTOCOL_MALFORMED: 'a CCM message (multipart, zlib, UTF-16 or XML) is malformed',
  CCMSIM_SIGNATURE_INVALID: 'a message signature does not match the signing certificate',
  CCMSIM_HTTP_STATUS: 'the server answered with an unexpected HTTP status',
  CCMSIM_SITE_UNREACHABLE: 'the management point or CMG could not be reached',
  CCMSIM_TLS_FAILURE: 'the TLS handshake or the server certificate check failed',
  // Tokens
  CCMSIM_TOKEN_MALFORMED: 'the token is not a well-formed JWT',
  CCMSIM_TOKEN_ALGORITHM: 'the token uses an algorithm other than RS256',
  CCMSIM_TOKEN_UNKNOWN_KEY: 'the token names a signing certificate (x5t) the site does not know',
  CCMSIM_TOKEN_SIGNATURE: 'the token signature does not verify',
  CCMSIM_TOKEN_CLAIMS: 'the token has a wrong audience, issuer, type or tenant',
  CCMSIM_TOKEN_NOT_YET_VALID: 'the token is not valid yet (nbf)',
  CCMSIM_TOKEN_EXPIRED: 'the token has expired',
  CCMSIM_TOKEN_BLOCKED: 'the bulk registration token is blocked',
  CCMSIM_TOKEN_UNKNOWN: 'the site never issued this token GUID',
  CCMSIM_TOKEN_CERT_MISMATCH: 'the client token is presented with a certificate it was not issued to',
  CCMSIM_TOKEN_REVOKED: 'the client token was revoked or superseded',
  CCMSIM_TOKEN_SIGNER_RETIRED: 'the client token is signed by a retired SMS Token Signing certificate; the client needs a new token',
  // Site
  CCMSIM_SITE_PASSIVE: 'the site server is in passive mode',
  CCMSIM_SITE_STATE: 'the site directory or database is missing, locked or damaged',
  CCMSIM_CMG_NOT_ALLOWED: 'client settings do not allow clients to use the cloud management gateway',
  CCMSIM_CLIENT_CERT_REQUIRED: 'a CMG MutualAuth path was used without a PKI client certificate',
  CCMSIM_REGISTRATION_REFUSED: 'the management point refused the registration',
  // ccmsetup outcomes with their own return codes
  CCMSIM_REBOOT_REQUIRED: 'a restart is pending and /forcereboot was not given',
  CCMSIM_SETUP_RUNNING: 'another ccmsetup holds this machine',
  CCMSIM_PREREQ_FAILED: 'prerequisite evaluation failed',
  CCMSIM_MANIFEST_HASH: 'a downloaded file does not match the signed manifest',
  CCMSIM_DOWNLOAD_TIMEOUT: 'downloads kept failing until /downloadtimeout',
  CCMSIM_CLIENT_EXISTS: 'a client is already installed and /logon was given',
  // Everything else
  CCMSIM_INTERNAL: 'an unexpected internal error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface CcmsimErrorOptions {
  /** The HRESULT a real client or server would log, e.g. `0x87d0027e`. */
  hresult?: string;
  /** HTTP status a server answers with for this failure. */
  httpStatus?: number;
  cause?: unknown;
  /** Extra machine-readable facts (never secrets). */
  details?: Record<string, unknown>;
}

export class CcmsimError extends Error {
  readonly code: ErrorCode;
  readonly hresult: string | undefined;
  readonly httpStatus: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: CcmsimErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CcmsimError';
    this.code = code;
    this.hresult = options.hresult;
    this.httpStatus = options.httpStatus;
    this.details = options.details;
  }
}

export function isCcmsimError(err: unknown, code?: ErrorCode): err is CcmsimError {
  return err instanceof CcmsimError && (code === undefined || err.code === code);
}

/** Well-known HRESULTs (ConfigMgr error-code table; see docs/errors.md). */
export const HRESULT = {
  E_FAIL: '0x80004005',
  /** E_INVALIDARG: what a refused command line ends with. */
  E_INVALIDARG: '0x80070057',
  FILE_NOT_FOUND: '0x80070002',
  CCM_E_BAD_HTTP_STATUS_CODE: '0x87d0027e',
  CCM_E_TRANSIENT: '0x87d00231',
  CCM_E_MSG_NOT_SIGNED: '0x87d00232',
  CCM_E_NO_TOKEN_AUTH: '0x87d00455',
  CCM_E_REGTOKEN_FROM_MEDIA: '0x87d00215',
  BG_E_HTTP_ERROR_404: '0x80190194',
  WINHTTP_CANNOT_CONNECT: '0x80072efd',
  /** ERROR_WINHTTP_NAME_NOT_RESOLVED (12007): the server name could not be resolved. */
  WINHTTP_NAME_NOT_RESOLVED: '0x80072ee7',
  WINHTTP_SECURE_FAILURE: '0x80072f8f',
  TRUST_E_BAD_DIGEST: '0x80096010',
  ERROR_SUCCESS_REBOOT_REQUIRED: '0x80070bc2',
} as const;
