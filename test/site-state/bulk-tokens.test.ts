import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import {
  blockBulkToken,
  createBulkToken,
  getBulkToken,
  listBulkTokens,
  unblockBulkToken,
  validateBulkToken,
  bulkTokenStatus,
} from '../../src/site/bulk-tokens.js';
import { signSiteJwt, CLOCK_SKEW_MS } from '../../src/site/site-jwt.js';
import { activeCertificate } from '../../src/site/site-pki.js';
import type { ErrorCode } from '../../src/errors.js';
import { testKeyPair } from '../helpers/test-keys.js';
import { makeSite, START_MS, type SiteFixture } from './site-fixture.js';

let fixture: SiteFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

async function refusal(p: Promise<unknown>): Promise<{ code: ErrorCode; httpStatus: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: ErrorCode; httpStatus: number | undefined; message: string };
    return { code: e.code, httpStatus: e.httpStatus, message: e.message };
  }
  throw new Error('expected a refusal');
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The documented claims for this site, with `overrides` applied. */
function claims(fx: SiteFixture, guid: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const tenant = fx.site.config().tenantId;
  const nbf = Math.floor(fx.clock.now() / 1000);
  return {
    SCCMTokenCategory: 'SCCMPreAuthToken',
    Authority: 'SCCM',
    License: 'SCCM',
    Type: 'BulkRegistration',
    TenantId: tenant,
    UniqueId: guid,
    iss: `urn:sccm:oauth2:${tenant.toLowerCase()}`,
    aud: 'urn:sccm:service',
    exp: nbf + 3600,
    nbf,
    ...overrides,
  };
}

describe('creating a bulk registration token', () => {
  it('signs the documented header and claims with the active token-signing certificate', async () => {
    fixture = await makeSite();
    const made = await createBulkToken(fixture.site, { lifetimeMinutes: 4320 });
    const header = decodeProtectedHeader(made.token);
    const signing = activeCertificate(fixture.site.db, 'token-signing');
    expect(header).toEqual({ typ: 'JWT', alg: 'RS256', x5t: Buffer.from(signing.thumbprint, 'hex').toString('base64url') });
    const payload = decodeJwt(made.token);
    const tenant = fixture.site.config().tenantId;
    expect(Object.keys(payload)).toEqual(['SCCMTokenCategory', 'Authority', 'License', 'Type', 'TenantId', 'UniqueId', 'iss', 'aud', 'exp', 'nbf']);
    expect(payload).toMatchObject({
      SCCMTokenCategory: 'SCCMPreAuthToken',
      Authority: 'SCCM',
      License: 'SCCM',
      Type: 'BulkRegistration',
      TenantId: tenant.toUpperCase(),
      UniqueId: made.guid,
      iss: `urn:sccm:oauth2:${tenant.toLowerCase()}`,
      aud: 'urn:sccm:service',
      nbf: START_MS / 1000,
      exp: START_MS / 1000 + 4320 * 60,
    });
    expect(made.validUntilMs).toBe(START_MS + 4320 * 60_000);
    expect(getBulkToken(fixture.site, made.guid)).toMatchObject({ lifetimeMinutes: 4320, createdMs: START_MS, blocked: false });
    const valid = await validateBulkToken(fixture.site, made.token);
    expect(valid.guid).toBe(made.guid);
  });

  it('defaults to 4320 minutes and refuses lifetimes outside 1..10080', async () => {
    fixture = await makeSite();
    expect((await createBulkToken(fixture.site)).lifetimeMinutes).toBe(4320);
    for (const bad of [0, -5, 10081, 1.5]) {
      expect((await refusal(createBulkToken(fixture.site, { lifetimeMinutes: bad }))).code).toBe('CCMSIM_USAGE');
    }
  });

  it('refuses on a site whose server is in passive mode, quoting the known issue', async () => {
    fixture = await makeSite();
    fixture.site.updateConfig({ serverMode: 'passive' });
    const r = await refusal(createBulkToken(fixture.site));
    expect(r.code).toBe('CCMSIM_SITE_PASSIVE');
    expect(r.message).toContain("You can't create a bulk registration token on a site that has a site server in passive mode.");
    expect(listBulkTokens(fixture.site)).toHaveLength(0);
  });
});

describe('validating a bulk registration token: each refusal has its own code and HTTP 401', () => {
  it('not a JWT', async () => {
    fixture = await makeSite();
    for (const bad of ['', 'hello', 'a.b', 'a.b.c.d', '!!!.???.***']) {
      expect(await refusal(validateBulkToken(fixture.site, bad))).toMatchObject({ code: 'CCMSIM_TOKEN_MALFORMED', httpStatus: 401 });
    }
  });

  it("Microsoft's example token from the product document is malformed", async () => {
    fixture = await makeSite();
    const doc = readFileSync('/work/shared/reference/seed-token-auth-cmg.txt', 'utf8');
    const example = /\/regtoken:([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(doc)![1]!;
    expect(example.startsWith('eyJ0eXAiOiJKV1Qi')).toBe(true);
    expect(await refusal(validateBulkToken(fixture.site, example))).toMatchObject({ code: 'CCMSIM_TOKEN_MALFORMED', httpStatus: 401 });
  });

  it('alg none and HS256 are refused before any key is used', async () => {
    fixture = await makeSite();
    const made = await createBulkToken(fixture.site);
    const [, payload] = made.token.split('.');
    const none = `${b64url({ typ: 'JWT', alg: 'none' })}.${payload}.`;
    expect(await refusal(validateBulkToken(fixture.site, none))).toMatchObject({ code: 'CCMSIM_TOKEN_ALGORITHM', httpStatus: 401 });
    const x5t = decodeProtectedHeader(made.token).x5t as string;
    const hs = await new SignJWT(claims(fixture, made.guid)).setProtectedHeader({ typ: 'JWT', alg: 'HS256', x5t }).sign(Buffer.alloc(32, 7));
    expect(await refusal(validateBulkToken(fixture.site, hs))).toMatchObject({ code: 'CCMSIM_TOKEN_ALGORITHM', httpStatus: 401 });
  });

  it('an x5t the site does not know', async () => {
    fixture = await makeSite();
    const made = await createBulkToken(fixture.site);
    const other = await new SignJWT(claims(fixture, made.guid))
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: Buffer.alloc(20, 1).toString('base64url') })
      .sign(testKeyPair(9).privateKey);
    expect(await refusal(validateBulkToken(fixture.site, other))).toMatchObject({ code: 'CCMSIM_TOKEN_UNKNOWN_KEY', httpStatus: 401 });
  });

  it("a bad signature (another key with the site's x5t, or a tampered payload)", async () => {
    fixture = await makeSite();
    const made = await createBulkToken(fixture.site);
    const x5t = decodeProtectedHeader(made.token).x5t as string;
    const forged = await new SignJWT(claims(fixture, made.guid)).setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t }).sign(testKeyPair(9).privateKey);
    expect(await refusal(validateBulkToken(fixture.site, forged))).toMatchObject({ code: 'CCMSIM_TOKEN_SIGNATURE', httpStatus: 401 });
    const [h, , s] = made.token.split('.');
    const tampered = `${h}.${b64url(claims(fixture, made.guid, { exp: 4102444800 }))}.${s}`;
    expect((await refusal(validateBulkToken(fixture.site, tampered))).code).toBe('CCMSIM_TOKEN_SIGNATURE');
  });

  it('wrong aud, iss, Type or tenant', async () => {
    fixture = await makeSite();
    const made = await createBulkToken(fixture.site);
    const wrong: Array<Record<string, unknown>> = [
      { aud: 'urn:sccm:other' },
      { iss: 'urn:sccm:oauth2:00000000-0000-0000-0000-000000000000' },
      { Type: 'ClientAuthentication' },
      { TenantId: '00000000-0000-0000-0000-000000000000' },
    ];
    for (const w of wrong) {
      const { token } = await signSiteJwt(fixture.site, claims(fixture, made.guid, w));
      const r = await refusal(validateBulkToken(fixture.site, token));
      expect(r).toMatchObject({ code: 'CCMSIM_TOKEN_CLAIMS', httpStatus: 401 });
      expect(r.message).toContain(Object.keys(w)[0]!);
    }
  });

  it('not yet valid and expired, with 5 minutes of clock skew allowed', async () => {
    fixture = await makeSite();
    const made = await createBulkToken(fixture.site, { lifetimeMinutes: 60 });
    expect((await validateBulkToken(fixture.site, made.token, START_MS - CLOCK_SKEW_MS + 1000)).guid).toBe(made.guid);
    expect(await refusal(validateBulkToken(fixture.site, made.token, START_MS - CLOCK_SKEW_MS - 1000))).toMatchObject({
      code: 'CCMSIM_TOKEN_NOT_YET_VALID',
      httpStatus: 401,
    });
    expect((await validateBulkToken(fixture.site, made.token, made.validUntilMs + CLOCK_SKEW_MS - 1000)).guid).toBe(made.guid);
    expect(await refusal(validateBulkToken(fixture.site, made.token, made.validUntilMs + CLOCK_SKEW_MS + 1000))).toMatchObject({
      code: 'CCMSIM_TOKEN_EXPIRED',
      httpStatus: 401,
    });
    expect(bulkTokenStatus(getBulkToken(fixture.site, made.guid)!, made.validUntilMs + 1)).toBe('Expired');
  });

  it('a GUID this site never issued', async () => {
    fixture = await makeSite();
    const { token } = await signSiteJwt(fixture.site, claims(fixture, '0b4a4b1e-1111-4222-8333-944445555666'));
    expect(await refusal(validateBulkToken(fixture.site, token))).toMatchObject({ code: 'CCMSIM_TOKEN_UNKNOWN', httpStatus: 401 });
  });

  it('blocked, then usable again once unblocked', async () => {
    fixture = await makeSite();
    const made = await createBulkToken(fixture.site);
    await fixture.clock.advance(120_000);
    const blocked = blockBulkToken(fixture.site, made.guid.toUpperCase());
    expect(blocked).toMatchObject({ blocked: true, blockChangedMs: START_MS + 120_000 });
    expect(bulkTokenStatus(blocked, fixture.clock.now())).toBe('Blocked');
    // A second open site (another process: the CLI) sees the block at once.
    const other = await fixture.reopen();
    expect(await refusal(validateBulkToken(other, made.token))).toMatchObject({ code: 'CCMSIM_TOKEN_BLOCKED', httpStatus: 401 });
    unblockBulkToken(other, made.guid);
    expect((await validateBulkToken(fixture.site, made.token)).guid).toBe(made.guid);
  });

  it('blocking a GUID never issued is CCMSIM_TOKEN_UNKNOWN', async () => {
    fixture = await makeSite();
    expect(() => blockBulkToken(fixture!.site, '0b4a4b1e-1111-4222-8333-944445555666')).toThrow(expect.objectContaining({ code: 'CCMSIM_TOKEN_UNKNOWN' }));
    expect(() => unblockBulkToken(fixture!.site, 'not-a-guid')).toThrow(expect.objectContaining({ code: 'CCMSIM_BAD_ID' }));
  });

  it('a token signed by a retired token-signing certificate is refused', async () => {
    fixture = await makeSite();
    const made = await createBulkToken(fixture.site);
    await fixture.site.rotateTokenSigning();
    const r = await refusal(validateBulkToken(fixture.site, made.token));
    expect(r.code).toBe('CCMSIM_TOKEN_UNKNOWN_KEY');
    expect(r.message).toContain('retired');
  });
});
