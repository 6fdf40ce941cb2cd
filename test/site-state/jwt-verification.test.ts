// A token's RSA signature is verified once per exact text and signer: the fleet's bulk token is presented thousands
// of times. Tampering, a rotation and a block are still seen on every use.
import { describe, it, expect, afterEach, vi } from 'vitest';
import { makeSite, type SiteFixture } from './site-fixture.js';
import { blockBulkToken, createBulkToken, validateBulkToken } from '../../src/site/bulk-tokens.js';
import * as tokens from '../../src/protocol/tokens.js';

vi.mock('../../src/protocol/tokens.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/protocol/tokens.js')>();
  return { ...original, jwtSignatureVerifies: vi.fn(original.jwtSignatureVerifies) };
});

let fixture: SiteFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
  vi.mocked(tokens.jwtSignatureVerifies).mockClear();
});

const verifications = (): number => vi.mocked(tokens.jwtSignatureVerifies).mock.calls.length;

describe('site JWT signatures', () => {
  it('a bulk token presented again is not verified again, but every use still checks its record', async () => {
    fixture = await makeSite({ seed: 'verified-once' });
    const bulk = await createBulkToken(fixture.site);
    for (let i = 0; i < 3; i++) expect((await validateBulkToken(fixture.site, bulk.token)).guid).toBe(bulk.guid);
    expect(verifications()).toBe(1);
    blockBulkToken(fixture.site, bulk.guid);
    await expect(validateBulkToken(fixture.site, bulk.token)).rejects.toMatchObject({ code: 'CCMSIM_TOKEN_BLOCKED' });
  });

  it('a tampered token is verified (and refused) every time', async () => {
    fixture = await makeSite();
    const bulk = await createBulkToken(fixture.site);
    await validateBulkToken(fixture.site, bulk.token);
    const [h, p, s] = bulk.token.split('.');
    const flipped = `${h}.${p}.${s!.slice(0, -2)}${s!.endsWith('AA') ? 'BA' : 'AA'}`;
    const before = verifications();
    for (let i = 0; i < 2; i++) await expect(validateBulkToken(fixture.site, flipped)).rejects.toMatchObject({ code: 'CCMSIM_TOKEN_SIGNATURE' });
    expect(verifications() - before).toBe(2);
  });

  it('a token whose signer was retired since is refused at its next use', async () => {
    fixture = await makeSite();
    const bulk = await createBulkToken(fixture.site);
    await validateBulkToken(fixture.site, bulk.token);
    await fixture.site.rotateTokenSigning();
    await expect(validateBulkToken(fixture.site, bulk.token)).rejects.toMatchObject({ code: 'CCMSIM_TOKEN_UNKNOWN_KEY' });
  });
});
