/**
 * Owns the result of one ccmsetup run (what `--json` prints) and ccmsetup's return code for a failure.
 * The codes mirror `src/cli/exit-codes.ts` (the agent may not import the CLI; a test keeps the two in step).
 */
import { CcmsimError, isCcmsimError, type ErrorCode } from '../errors.js';
import type { RegistrationState } from './client-state.js';

export type CcmsetupResult =
  | 'installed'
  | 'unassigned'
  | 'uninstalled'
  | 'nothing-to-uninstall'
  | 'client-exists'
  | 'failed';

export interface CcmsetupOutcome {
  exitCode: number;
  result: CcmsetupResult;
  computerName: string;
  machineDir: string;
  network: 'intranet' | 'internet';
  /** How the client reached the site: the MP directly, or through the CMG. */
  via: 'mp' | 'cmg' | undefined;
  smsId: string | undefined;
  hardwareId: string | undefined;
  requestedSiteCode: string | undefined;
  assignedSiteCode: string | undefined;
  registration: RegistrationState;
  approval: number | undefined;
  registeredVia: 'intranet' | 'bulk' | undefined;
  /** ISO time the client token expires, when the client holds one. */
  clientTokenExpiresAt: string | undefined;
  error: { code: ErrorCode; message: string; hresult: string | undefined; httpStatus: number | undefined } | undefined;
  logs: { ccmsetup: string; clientIdManagerStartup: string | undefined; clientLocation: string | undefined };
  startedAt: string;
  finishedAt: string;
}

export const RETURN_CODE = { SUCCESS: 0, ERROR: 6, REBOOT_REQUIRED: 7, SETUP_RUNNING: 8, PREREQ_FAILURE: 9, MANIFEST_HASH_FAILURE: 10 } as const;

const BY_CODE: Partial<Record<ErrorCode, number>> = {
  CCMSIM_REBOOT_REQUIRED: RETURN_CODE.REBOOT_REQUIRED,
  CCMSIM_SETUP_RUNNING: RETURN_CODE.SETUP_RUNNING,
  CCMSIM_PREREQ_FAILED: RETURN_CODE.PREREQ_FAILURE,
  CCMSIM_MANIFEST_HASH: RETURN_CODE.MANIFEST_HASH_FAILURE,
  CCMSIM_CLIENT_EXISTS: RETURN_CODE.SUCCESS,
};

/** ccmsetup's return code for a failure (6 for anything without its own code). */
export function returnCodeFor(err: unknown): number {
  return isCcmsimError(err) ? (BY_CODE[err.code] ?? RETURN_CODE.ERROR) : RETURN_CODE.ERROR;
}

export function describeError(err: unknown): NonNullable<CcmsetupOutcome['error']> {
  const e = isCcmsimError(err) ? err : new CcmsimError('CCMSIM_INTERNAL', err instanceof Error ? err.message : String(err));
  return { code: e.code, message: e.message, hresult: e.hresult, httpStatus: e.httpStatus };
}
