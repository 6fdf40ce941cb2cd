/**
 * Owns the seam between the lifecycle runner and a client: `ClientRuntime` (what happens when the client service
 * starts) and `SiteControl` (site-side events scheduled inside a run). The fake implementations apply the pure rule;
 * the real ones talk HTTP to the embedded site.
 */
import type { ErrorCode } from '../../errors.js';
import type { SiteEventAction } from './lifecycle-options.js';
import type { HeldToken, RenewReason, TokenProblem, Via } from './renewal-rule.js';
import type { Location } from './schedule.js';

export interface ClientStartContext {
  nowMs: number;
  location: Location;
  /** 0 for the first restart after the install. */
  startIndex: number;
}

export type ClientStartResult =
  | { action: 'none'; why: 'offline' | 'not-due' | 'cmg-ok' }
  | { action: 'renewed'; via: Via; why: RenewReason; token: HeldToken }
  | {
      action: 'refused';
      via: Via;
      attempted: 'renew' | 'use-cmg';
      /** Why a renewal was attempted. */
      why?: RenewReason;
      code: ErrorCode;
      httpStatus?: number;
      hresult: string;
      message: string;
    };

export interface ClientTokenState {
  token: HeldToken | undefined;
  /** Set once a refusal showed the token cannot be used; cleared by a new token. */
  problem: TokenProblem | undefined;
}

export interface ClientRuntime {
  /** The client's name in the timeline (its computer name). */
  readonly name: string;
  /** IANA zone of the client (restart times and log bias). */
  readonly timeZone: string;
  state(): ClientTokenState;
  /**
   * The client service starts (CCMExec restart): renew the token if due. Resolves to what happened, in order (one
   * outcome, or a refusal followed by the recovery attempt). Never throws for a site refusal.
   */
  start(ctx: ClientStartContext): Promise<ClientStartResult[]>;
}

export interface SiteControl {
  /** Applies a site event now; resolves to a one-line description for the timeline. */
  apply(action: SiteEventAction, nowMs: number): Promise<string>;
}
