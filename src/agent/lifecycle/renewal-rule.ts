/**
 * Owns the token renewal rule as pure functions (docs/lifecycle.md). The client side (`clientIntent`) decides what a
 * client start does from what the client knows; the site side (`cmgVerdict`, `mpVerdict`) decides whether the CMG or
 * the MP accepts it; `decideStart` puts both together for the fake runtime and the tests. Nothing here has a clock.
 */
import type { ErrorCode } from '../../errors.js';
import { HRESULT } from '../../errors.js';
import { DAY_MS, MINUTE_MS } from './duration.js';
import type { Location } from './schedule.js';

/** "valid for 90 days". */
export const TOKEN_LIFETIME_MS = 90 * DAY_MS;
/** "renews … once a month": at the first client start at which the token is 30 or more days old. */
export const RENEW_AGE_MS = 30 * DAY_MS;
/** The site accepts a token up to 5 minutes after `exp` (docs/protocol.md, "Clock skew"). */
export const SITE_CLOCK_SKEW_MS = 5 * MINUTE_MS;

export type Via = 'CMG' | 'MP';

/** The client token a client holds (never the bulk token: that one is used once, at the install). */
export interface HeldToken {
  tokenId: string;
  issuedMs: number;
  expiresMs: number;
  /** Thumbprint (or any stable name) of the SMS Token Signing certificate that signed it. */
  signer: string;
  /** How the client got it: at the install, or by a renewal through the CMG or the MP. */
  via: Via | 'install';
}

/** What a client learned from a refusal: its token cannot be used any more. */
export type TokenProblem = 'expired' | 'signer-retired';

export interface ClientView {
  nowMs: number;
  location: Location;
  token: HeldToken | undefined;
  problem?: TokenProblem | undefined;
}

export type RenewReason = 'due' | 'expired' | 'signer-retired' | 'no-token';

export type ClientIntent =
  /** Offline, or on the intranet with a token younger than 30 days: the start does nothing with tokens. */
  | { kind: 'none'; why: 'offline' | 'not-due' }
  /** On the internet with a token that is not due: the client talks to the site through the CMG with it. */
  | { kind: 'use-cmg' }
  | { kind: 'renew'; via: Via; why: RenewReason };

/** True when the token is 30 or more days old at `nowMs`. */
export function renewalDue(token: HeldToken, nowMs: number): boolean {
  return nowMs - token.issuedMs >= RENEW_AGE_MS;
}

/** True when the token is past its expiry as the client sees it (no skew on the client side). */
export function expiredAt(token: HeldToken, nowMs: number): boolean {
  return nowMs >= token.expiresMs;
}

/** What the client attempts at a start. Renewal happens only at starts: there is no renewal between them. */
export function clientIntent(view: ClientView): ClientIntent {
  if (view.location === 'offline') return { kind: 'none', why: 'offline' };
  const via: Via = view.location === 'internet' ? 'CMG' : 'MP';
  const t = view.token;
  let why: RenewReason | undefined;
  if (t === undefined) why = 'no-token';
  else if (view.problem === 'signer-retired') why = 'signer-retired';
  else if (view.problem === 'expired' || expiredAt(t, view.nowMs)) why = 'expired';
  else if (renewalDue(t, view.nowMs)) why = 'due';
  if (why !== undefined) return { kind: 'renew', via, why };
  return via === 'CMG' ? { kind: 'use-cmg' } : { kind: 'none', why: 'not-due' };
}

/** The site facts the verdicts need. */
export interface SiteView {
  /** Client setting "Enable clients to use a cloud management gateway". */
  cmgEnabled: boolean;
  /** The active SMS Token Signing certificate. */
  activeSigner: string;
  /** "The management point issues tokens to clients on the internal network" (default on). */
  mpIssuesTokens?: boolean;
}

export interface Refusal {
  code: ErrorCode;
  httpStatus: number;
  /** What the client logs: a bad HTTP status. */
  hresult: string;
  message: string;
}

/** What the client sends through the CMG: an ordinary token-authenticated message, or a CCM_STS renewal. */
export type CmgPurpose = 'message' | 'renew';

/**
 * Whether the CMG accepts a request carrying `token`, in the site's order (src/site/cmg-endpoints.ts,
 * request-auth.ts): the client setting first (with the CMG disabled every token client is refused), then the token:
 * a retired signer is refused for ordinary messages but accepted by the CCM_STS Renew path (the site's recovery rule,
 * docs/site.md), and an expired token is refused either way (5-minute skew).
 */
export function cmgVerdict(site: SiteView, token: HeldToken | undefined, nowMs: number, purpose: CmgPurpose = 'message'): Refusal | undefined {
  const hresult = HRESULT.CCM_E_BAD_HTTP_STATUS_CODE;
  if (!site.cmgEnabled) {
    return { code: 'CCMSIM_CMG_NOT_ALLOWED', httpStatus: 403, hresult, message: 'client settings do not enable clients to use a cloud management gateway' };
  }
  if (token === undefined) {
    return { code: 'CCMSIM_TOKEN_MALFORMED', httpStatus: 401, hresult, message: 'a token client must present a token (Authorization: Bearer)' };
  }
  if (purpose === 'message' && token.signer !== site.activeSigner) {
    return {
      code: 'CCMSIM_TOKEN_SIGNER_RETIRED',
      httpStatus: 401,
      hresult,
      message: `the client token is signed by a retired SMS Token Signing certificate (${token.signer}); the client needs a new token`,
    };
  }
  if (nowMs > token.expiresMs + SITE_CLOCK_SKEW_MS) {
    return {
      code: 'CCMSIM_TOKEN_EXPIRED',
      httpStatus: 401,
      hresult,
      message: `client token ${token.tokenId} expired at ${new Date(token.expiresMs).toISOString()}; connect to a management point on the internal network for a new one`,
    };
  }
  return undefined;
}

/**
 * Whether the MP gives an intranet client a new token (on the strength of its signature; expired tokens included).
 * Only a client without a valid token depends on the site letting the MP issue tokens to internal clients.
 */
export function mpVerdict(site: SiteView, token: HeldToken | undefined, nowMs: number): Refusal | undefined {
  const needsIntranetIssue = token === undefined || nowMs > token.expiresMs + SITE_CLOCK_SKEW_MS;
  if (site.mpIssuesTokens === false && needsIntranetIssue) {
    return {
      code: 'CCMSIM_REGISTRATION_REFUSED',
      httpStatus: 403,
      hresult: HRESULT.CCM_E_BAD_HTTP_STATUS_CODE,
      message: 'the site does not let the management point issue tokens to clients on the internal network',
    };
  }
  return undefined;
}

/** What a refusal teaches the client about its token. */
export function problemOf(code: ErrorCode): TokenProblem | undefined {
  if (code === 'CCMSIM_TOKEN_EXPIRED') return 'expired';
  if (code === 'CCMSIM_TOKEN_SIGNER_RETIRED' || code === 'CCMSIM_TOKEN_UNKNOWN_KEY') return 'signer-retired';
  return undefined;
}

export type StartDecision =
  | { action: 'none'; why: 'offline' | 'not-due' | 'cmg-ok' }
  | { action: 'renew'; via: Via; why: RenewReason }
  | { action: 'refused'; via: Via; attempted: 'renew' | 'use-cmg'; why?: RenewReason; refusal: Refusal };

/** One attempt at a client start: the client's intent, then the site's verdict on it. */
export function decideStart(view: ClientView, site: SiteView): StartDecision {
  const intent = clientIntent(view);
  if (intent.kind === 'none') return { action: 'none', why: intent.why };
  if (intent.kind === 'use-cmg') {
    const refusal = cmgVerdict(site, view.token, view.nowMs, 'message');
    return refusal === undefined ? { action: 'none', why: 'cmg-ok' } : { action: 'refused', via: 'CMG', attempted: 'use-cmg', refusal };
  }
  const refusal = intent.via === 'CMG' ? cmgVerdict(site, view.token, view.nowMs, 'renew') : mpVerdict(site, view.token, view.nowMs);
  if (refusal !== undefined) return { action: 'refused', via: intent.via, attempted: 'renew', why: intent.why, refusal };
  return { action: 'renew', via: intent.via, why: intent.why };
}

/**
 * Everything one client start does: one attempt, and a second one when the first refusal changed what the client
 * knows (a CMG message refused for a retired signer makes the client ask CCM_STS for a new token at once, still
 * during startup, and the site's Renew path accepts the retired signer).
 */
export function decideStartSteps(view: ClientView, site: SiteView): StartDecision[] {
  const first = decideStart(view, site);
  if (first.action !== 'refused' || first.attempted !== 'use-cmg') return [first];
  const problem = problemOf(first.refusal.code);
  if (problem === undefined) return [first];
  return [first, decideStart({ ...view, problem }, site)];
}
