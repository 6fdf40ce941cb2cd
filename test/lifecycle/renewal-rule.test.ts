import { describe, it, expect } from 'vitest';
import { DAY_MS, MINUTE_MS } from '../../src/agent/lifecycle/duration.js';
import { clientIntent, cmgVerdict, decideStart, decideStartSteps, type HeldToken, type SiteView } from '../../src/agent/lifecycle/renewal-rule.js';

const T0 = Date.UTC(2028, 0, 1);
const token: HeldToken = { tokenId: 't1', issuedMs: T0, expiresMs: T0 + 90 * DAY_MS, signer: 'S1', via: 'install' };
const site: SiteView = { cmgEnabled: true, activeSigner: 'S1' };
const at = (days: number): number => T0 + days * DAY_MS;

describe('the renewal rule', () => {
  it('renews at the first start at which the token is 30 or more days old: CMG on the internet, MP on the intranet', () => {
    expect(decideStart({ nowMs: at(30) - 1, location: 'internet', token }, site)).toEqual({ action: 'none', why: 'cmg-ok' });
    expect(decideStart({ nowMs: at(30), location: 'internet', token }, site)).toEqual({ action: 'renew', via: 'CMG', why: 'due' });
    expect(decideStart({ nowMs: at(29), location: 'intranet', token }, site)).toEqual({ action: 'none', why: 'not-due' });
    expect(decideStart({ nowMs: at(30), location: 'intranet', token }, site)).toEqual({ action: 'renew', via: 'MP', why: 'due' });
  });

  it('does nothing offline, whatever the token', () => {
    expect(clientIntent({ nowMs: at(200), location: 'offline', token })).toEqual({ kind: 'none', why: 'offline' });
  });

  it('lets the CMG refuse an expired token (after the 5-minute skew) while the MP renews it', () => {
    expect(decideStart({ nowMs: at(90) + 4 * MINUTE_MS, location: 'internet', token }, site).action).toBe('renew');
    const refused = decideStart({ nowMs: at(90) + 6 * MINUTE_MS, location: 'internet', token }, site);
    expect(refused).toMatchObject({ action: 'refused', via: 'CMG', why: 'expired', refusal: { code: 'CCMSIM_TOKEN_EXPIRED', httpStatus: 401, hresult: '0x87d0027e' } });
    expect(decideStart({ nowMs: at(120), location: 'intranet', token }, site)).toEqual({ action: 'renew', via: 'MP', why: 'expired' });
  });

  it('refuses a token signed by a retired certificate for CMG messages; the client then renews it through CCM_STS at the same start', () => {
    const rotated: SiteView = { cmgEnabled: true, activeSigner: 'S2' };
    expect(decideStart({ nowMs: at(5), location: 'internet', token }, rotated)).toMatchObject({
      action: 'refused',
      attempted: 'use-cmg',
      refusal: { code: 'CCMSIM_TOKEN_SIGNER_RETIRED', httpStatus: 401 },
    });
    // The Renew path accepts the retired signer (docs/site.md), so the lesson is applied at once.
    expect(decideStartSteps({ nowMs: at(5), location: 'internet', token }, rotated)).toMatchObject([
      { action: 'refused', attempted: 'use-cmg', refusal: { code: 'CCMSIM_TOKEN_SIGNER_RETIRED' } },
      { action: 'renew', via: 'CMG', why: 'signer-retired' },
    ]);
    // On the intranet the client asks the MP at once (not waiting for 30 days) once it knows its token is useless.
    expect(decideStart({ nowMs: at(7), location: 'intranet', token, problem: 'signer-retired' }, rotated)).toEqual({ action: 'renew', via: 'MP', why: 'signer-retired' });
    // Retired and expired: the client asks for a renewal, which the CMG refuses as expired; only the MP helps.
    expect(decideStartSteps({ nowMs: at(91), location: 'internet', token }, rotated)).toMatchObject([
      { action: 'refused', attempted: 'renew', why: 'expired', refusal: { code: 'CCMSIM_TOKEN_EXPIRED' } },
    ]);
  });

  it('refuses every internet token client when the CMG is disabled in client settings, and leaves intranet clients alone', () => {
    const off: SiteView = { cmgEnabled: false, activeSigner: 'S1' };
    expect(cmgVerdict(off, token, at(1))).toMatchObject({ code: 'CCMSIM_CMG_NOT_ALLOWED', httpStatus: 403 });
    expect(decideStart({ nowMs: at(1), location: 'internet', token }, off).action).toBe('refused');
    expect(decideStart({ nowMs: at(31), location: 'internet', token }, off).action).toBe('refused');
    expect(decideStart({ nowMs: at(31), location: 'intranet', token }, off)).toEqual({ action: 'renew', via: 'MP', why: 'due' });
  });

  it('lets the MP refuse a client without a valid token when the site does not issue tokens to internal clients', () => {
    expect(decideStart({ nowMs: at(120), location: 'intranet', token }, { ...site, mpIssuesTokens: false })).toMatchObject({
      action: 'refused',
      refusal: { code: 'CCMSIM_REGISTRATION_REFUSED' },
    });
    // A client whose token is still valid renews through the MP anyway (it authenticates with that token).
    expect(decideStart({ nowMs: at(31), location: 'intranet', token }, { ...site, mpIssuesTokens: false }).action).toBe('renew');
  });
});
