/**
 * The one table that maps error codes to process exit codes, for each of the three front doors.
 * ccmsetup-sim uses ccmsetup.exe's documented return codes; the other tools use their own, listed in the README.
 */
import { type ErrorCode, isCcmsimError } from '../errors.js';

/** ccmsetup.exe return codes (about-client-installation-properties). */
export const CCMSETUP_EXIT = {
  SUCCESS: 0,
  ERROR: 6,
  REBOOT_REQUIRED: 7,
  SETUP_RUNNING: 8,
  PREREQ_FAILURE: 9,
  MANIFEST_HASH_FAILURE: 10,
} as const;

/** Exit codes of `ccmsim` and `bulkregtoken-sim`. */
export const TOOL_EXIT = {
  SUCCESS: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  REFUSED: 4,
  INTERNAL: 70,
} as const;

const CCMSETUP_BY_CODE: Partial<Record<ErrorCode, number>> = {
  CCMSIM_REBOOT_REQUIRED: CCMSETUP_EXIT.REBOOT_REQUIRED,
  CCMSIM_SETUP_RUNNING: CCMSETUP_EXIT.SETUP_RUNNING,
  CCMSIM_PREREQ_FAILED: CCMSETUP_EXIT.PREREQ_FAILURE,
  CCMSIM_MANIFEST_HASH: CCMSETUP_EXIT.MANIFEST_HASH_FAILURE,
  CCMSIM_CLIENT_EXISTS: CCMSETUP_EXIT.SUCCESS,
};

const TOOL_BY_CODE: Partial<Record<ErrorCode, number>> = {
  CCMSIM_USAGE: TOOL_EXIT.USAGE,
  CCMSIM_BAD_ARGUMENT: TOOL_EXIT.USAGE,
  CCMSIM_BAD_ID: TOOL_EXIT.USAGE,
  CCMSIM_FILE_NOT_FOUND: TOOL_EXIT.NOT_FOUND,
  CCMSIM_FILE_UNREADABLE: TOOL_EXIT.FAILURE,
  CCMSIM_LOG_MALFORMED: TOOL_EXIT.FAILURE,
  CCMSIM_TOKEN_UNKNOWN: TOOL_EXIT.NOT_FOUND,
  CCMSIM_SITE_PASSIVE: TOOL_EXIT.REFUSED,
  CCMSIM_SITE_STATE: TOOL_EXIT.FAILURE,
  CCMSIM_INTERNAL: TOOL_EXIT.INTERNAL,
};

/** The return code ccmsetup.exe would give for this failure (6 for anything without its own code). */
export function ccmsetupExitCode(err: unknown): number {
  if (isCcmsimError(err)) return CCMSETUP_BY_CODE[err.code] ?? CCMSETUP_EXIT.ERROR;
  return CCMSETUP_EXIT.ERROR;
}

/** The exit code of `ccmsim` / `bulkregtoken-sim` for this failure. */
export function toolExitCode(err: unknown): number {
  if (isCcmsimError(err)) return TOOL_BY_CODE[err.code] ?? TOOL_EXIT.FAILURE;
  return TOOL_EXIT.INTERNAL;
}
