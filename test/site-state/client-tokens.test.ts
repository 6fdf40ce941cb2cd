import { describe, it, expect, afterEach } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { registerClient } from '../../src/site/registrations.js';
import { createBulkToken, blockBulkToken } from '../../src/site/bulk-tokens.js';
import {
  authenticateClientToken,
  CLIENT_TOKEN_LIFETIME_MS,
  getClientToken,
  issueClientToken,
  listClientTokens,
} from '../../src/site/client-tokens.js';
import { CLOCK_SKEW_MS } from '../../src/site/site-jwt.js';
import { Random } from '../../src/clock/random.js';
import type { ErrorCode } from '../../src/errors.js';
import { clientCertDer, makeSite, START_MS, type SiteFixture } from './site-fixture.js';

let fixture: SiteFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

const SMS_ID = 'GUID:3F2504E0-4F89-41D3-9A0C-0305E82C3301';
const OTHER_ID = 'GUID:11111111-2222-4333-8444-555555555555';
const DAY = 24 * 60 * 60 * 1000;

async function refusal(p: Promise<unknown>): Promise<{ code: ErrorCode; httpStatus: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: ErrorCode; httpStatus: number | undefined; message: string };
  }
  throw new Error('expected a refusal');
}

async function registered(fx: SiteFixture, smsId = SMS_ID, certIndex = 10): Promise<string> {
  return registerClient(fx.site, {
    smsId,
    netbiosName: 'PC001',
    fqName: 'PC001.contoso.com',
    signingCertDer: clientCertDer(certIndex),
    method: 'intranet',
  }).client.signingThumbprint;
}

describe('client tokens', () => {
  it('a site opened again with the same seed still gives every token and bulk token an unused ID', async () => {
    fixture = await makeSite();
    await registered(fixture);
    await registered(fixture, OTHER_ID, 11);
    // Two openings with one seed draw the same IDs, as two `--seed 9` runs against one site do.
    const first = await fixture.reopen({ random: new Random('same-seed') });
    const second = await fixture.reopen({ random: new Random('same-seed') });
    const a = await issueClientToken(first, SMS_ID, { via: 'mp' });
    const b = await issueClientToken(second, OTHER_ID, { via: 'mp' });
    expect(b.tokenId).not.toBe(a.tokenId);
    expect(listClientTokens(second).map((t) => t.tokenId).sort()).toEqual([a.tokenId, b.tokenId].sort());
    const bulkA = await createBulkToken(first);
    const bulkB = await createBulkToken(second);
    expect(bulkB.guid).not.toBe(bulkA.guid);
  });

  it('an intranet client gets a 90-day token naming its SMS GUID and signing-certificate thumbprint', async () => {
    fixture = await makeSite();
    const tp = await registered(fixture);
    const issued = await issueClientToken(fixture.site, SMS_ID, { via: 'mp' });
    expect(issued.expiresMs - issued.issuedMs).toBe(CLIENT_TOKEN_LIFETIME_MS);
    const header = decodeProtectedHeader(issued.token);
    expect(header).toMatchObject({ typ: 'JWT', alg: 'RS256' });
    const payload = decodeJwt(issued.token);
    const tenant = fixture.site.config().tenantId;
    expect(payload).toEqual({
      SCCMTokenCategory: 'SCCMClientAuthToken',
      Authority: 'SCCM',
      Type: 'ClientAuthentication',
      TenantId: tenant,
      DeviceId: SMS_ID,
      CertThumbprint: tp,
      jti: issued.tokenId,
      iss: `urn:sccm:oauth2:${tenant.toLowerCase()}`,
      aud: 'urn:sccm:service',
      iat: START_MS / 1000,
      nbf: START_MS / 1000,
      exp: (START_MS + 90 * DAY) / 1000,
    });
    const auth = await authenticateClientToken(fixture.site, issued.token, tp.toLowerCase());
    expect(auth).toMatchObject({ smsId: SMS_ID, tokenId: issued.tokenId, expiresMs: START_MS + 90 * DAY });
    expect(getClientToken(fixture.site, issued.tokenId)).toMatchObject({ via: 'mp', revokedMs: undefined, certThumbprint: tp });
  });

  it('is refused when presented with another certificate (a token copied to another machine)', async () => {
    fixture = await makeSite();
    await registered(fixture);
    const otherTp = await registered(fixture, OTHER_ID, 12);
    const issued = await issueClientToken(fixture.site, SMS_ID, { via: 'mp' });
    expect(await refusal(authenticateClientToken(fixture.site, issued.token, otherTp))).toMatchObject({
      code: 'CCMSIM_TOKEN_CERT_MISMATCH',
      httpStatus: 403,
    });
  });

  it('renewal through the CMG needs a still-valid token and revokes the previous one', async () => {
    fixture = await makeSite();
    const tp = await registered(fixture);
    const first = await issueClientToken(fixture.site, SMS_ID, { via: 'mp' });
    await fixture.clock.advance(30 * DAY);
    const auth = await authenticateClientToken(fixture.site, first.token, tp);
    const second = await issueClientToken(fixture.site, SMS_ID, { via: 'cmg', presentedTokenId: auth.tokenId });
    expect(second.replacedTokenIds).toEqual([first.tokenId]);
    expect(second.expiresMs).toBe(START_MS + 120 * DAY);
    expect(await refusal(authenticateClientToken(fixture.site, first.token, tp))).toMatchObject({ code: 'CCMSIM_TOKEN_REVOKED', httpStatus: 401 });
    expect((await authenticateClientToken(fixture.site, second.token, tp)).tokenId).toBe(second.tokenId);
    expect(listClientTokens(fixture.site, SMS_ID).map((t) => t.via)).toEqual(['mp', 'cmg']);
  });

  it('an expired token is refused; the CMG will not renew it; the internal MP will', async () => {
    fixture = await makeSite();
    const tp = await registered(fixture);
    const first = await issueClientToken(fixture.site, SMS_ID, { via: 'mp' });
    await fixture.clock.advance(90 * DAY + CLOCK_SKEW_MS + 1000);
    expect(await refusal(authenticateClientToken(fixture.site, first.token, tp))).toMatchObject({ code: 'CCMSIM_TOKEN_EXPIRED', httpStatus: 401 });
    const viaCmg = await refusal(issueClientToken(fixture.site, SMS_ID, { via: 'cmg', presentedTokenId: first.tokenId }));
    expect(viaCmg.code).toBe('CCMSIM_TOKEN_EXPIRED');
    expect(viaCmg.message).toMatch(/internal network/);
    expect((await refusal(issueClientToken(fixture.site, SMS_ID, { via: 'cmg' }))).code).toBe('CCMSIM_TOKEN_UNKNOWN');
    const renewed = await issueClientToken(fixture.site, SMS_ID, { via: 'mp', presentedTokenId: first.tokenId });
    expect(renewed.via).toBe('mp');
    expect((await authenticateClientToken(fixture.site, renewed.token, tp)).tokenId).toBe(renewed.tokenId);
  });

  it('the internal MP issues tokens on the signature alone only when the site allows it', async () => {
    fixture = await makeSite();
    await registered(fixture);
    fixture.site.updateConfig({ intranetTokens: false });
    expect(await refusal(issueClientToken(fixture.site, SMS_ID, { via: 'mp' }))).toMatchObject({ code: 'CCMSIM_REGISTRATION_REFUSED', httpStatus: 403 });
    fixture.site.updateConfig({ intranetTokens: true });
    expect((await issueClientToken(fixture.site, SMS_ID, { via: 'mp' })).via).toBe('mp');
  });

  it('through the CMG: a valid bulk token gives the first token; a blocked one or a disabled CMG does not', async () => {
    fixture = await makeSite();
    await registered(fixture);
    const bulk = await createBulkToken(fixture.site);
    expect((await issueClientToken(fixture.site, SMS_ID, { via: 'cmg', bulkTokenGuid: bulk.guid })).via).toBe('cmg');
    fixture.site.updateConfig({ cmgEnabled: false });
    expect(await refusal(issueClientToken(fixture.site, SMS_ID, { via: 'cmg', bulkTokenGuid: bulk.guid }))).toMatchObject({
      code: 'CCMSIM_CMG_NOT_ALLOWED',
      httpStatus: 403,
    });
    fixture.site.updateConfig({ cmgEnabled: true });
    blockBulkToken(fixture.site, bulk.guid);
    expect((await refusal(issueClientToken(fixture.site, SMS_ID, { via: 'cmg', bulkTokenGuid: bulk.guid }))).code).toBe('CCMSIM_TOKEN_BLOCKED');
  });

  it('a client that never registered gets no token', async () => {
    fixture = await makeSite();
    expect((await refusal(issueClientToken(fixture.site, SMS_ID, { via: 'mp' }))).code).toBe('CCMSIM_REGISTRATION_REFUSED');
  });

  it('after token-signing rotation an old token is refused as signed by a retired certificate, and renewal recovers', async () => {
    fixture = await makeSite();
    const tp = await registered(fixture);
    const first = await issueClientToken(fixture.site, SMS_ID, { via: 'mp' });
    const { retired } = await fixture.site.rotateTokenSigning();
    expect(first.signedBy).toBe(retired.thumbprint);
    const r = await refusal(authenticateClientToken(fixture.site, first.token, tp));
    expect(r).toMatchObject({ code: 'CCMSIM_TOKEN_SIGNER_RETIRED', httpStatus: 401 });
    expect(r.message).toMatch(/retired SMS Token Signing certificate/);
    // The token service's Renew path accepts it once, and the new token is signed by the new certificate.
    const auth = await authenticateClientToken(fixture.site, first.token, tp, fixture.clock.now(), { allowRetiredSigner: true });
    const renewed = await issueClientToken(fixture.site, SMS_ID, { via: 'cmg', presentedTokenId: auth.tokenId });
    expect(renewed.signedBy).not.toBe(retired.thumbprint);
    expect((await authenticateClientToken(fixture.site, renewed.token, tp)).tokenId).toBe(renewed.tokenId);
  });
});
