import { describe, it, expect } from 'vitest';
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import {
  decodeJwtUnverified,
  jwtSignatureVerifies,
  looksLikeJwt,
  signJwt,
  tokenIssuer,
  x5tOf,
  type BulkTokenClaims,
  type ClientTokenClaims,
} from '../../src/protocol/tokens.js';
import { thumbprint } from '../../src/ids.js';
import { testKeyPair } from '../helpers/test-keys.js';

/** Microsoft's example from the product document (seed-token-auth-cmg.txt): its payload was corrupted on purpose. */
const MICROSOFT_EXAMPLE =
  'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik9Tbzh2Tmd5VldRUjlDYVh5T2lacHFlMDlXNCJ9.eyJTQ0NNVG9rZW5DYXRlZ29yeSI6IlN7Q01QcmVBdXRoVG9rZW4iLCJBdXRob3JpdHkiOiJTQ0NNIiwiTGljZW5zZSI6IlNDQ00iLCJUeXBlIjoiQnVsa1JlZ2lzdHJhdGlvbiIsIlRlbmFudElkIjoiQ0RDQzVFOTEtMEFERi00QTI0LTgyRDAtMTk2NjY3RjFDMDgxIiwiVW5pcXVlSWQiOiJkYjU5MWUzMy1wNmZkLTRjNWItODJmMy1iZjY3M2U1YmQwYTIiLCJpc3MiOiJ1cm46c2NjbTpvYXV0aDI6Y2RjYzVlOTEtMGFkZi00YTI0LTgyZDAtMTk2NjY3ZjFjMDgxIiwiYXVkIjoidXJuOnNjY206c2VydmljZSIsImV4cCI6MTU4MDQxNbUwNSwibmJmIjoxNTgwMTU2MzA1fQ.ZUJkxCX6lxHUZhMH_WhYXFm_tbXenEdpgnbIqI1h8hYIJw7xDk3wv625SCfNfsqxhAwRwJByfkXdVGgIpAcFshzArXUVPPvmiUGaxlbB83etUTQjrLIk-gvQQZiE5NSgJ63LCp5KtqFCZe8vlZxnOloErFIrebjFikxqAgwOO4i5ukJdl3KQ07YPRhwpuXmwxRf1vsiawXBvTMhy40SOeZ3mAyCRypQpQNa7NM3adCBwUtYKwHqiX3r1jQU0y57LvU_brBfLUL6JUpk3ri-LSpwPFarRXzZPJUu4-mQFIgrMmKCYbFk3AaEvvrJienfWSvFYLpIYA7lg-6EVYRcCAA';

const TENANT = 'CDCC5E91-0ADF-4A24-82D0-196667F1C081';
const TP = thumbprint('392A3CBCD832556411F42697C8E899A6A7B4F56E');
const bulk: BulkTokenClaims = {
  SCCMTokenCategory: 'SCCMPreAuthToken',
  Authority: 'SCCM',
  License: 'SCCM',
  Type: 'BulkRegistration',
  TenantId: TENANT,
  UniqueId: 'db591e33-a6fd-4c5b-82f3-bf673e5bd0a2',
  iss: tokenIssuer(TENANT),
  aud: 'urn:sccm:service',
  exp: 1580415505,
  nbf: 1580156305,
};

describe('x5t', () => {
  it('is base64url of the 20 thumbprint bytes (Microsoft example header: OSo8vNgyVWQR9CaXyOiZpqe09W4)', () => {
    expect(x5tOf(TP)).toBe('OSo8vNgyVWQR9CaXyOiZpqe09W4');
    expect(Buffer.from(x5tOf(TP), 'base64url')).toHaveLength(20);
    expect(() => x5tOf('abc')).toThrow(expect.objectContaining({ code: 'CCMSIM_BAD_ID' }));
  });
});

describe('signJwt', () => {
  it('signs RS256 with the header typ, alg, x5t in that order and keeps the claims', async () => {
    const { privateKey, publicKey } = testKeyPair(10);
    const token = await signJwt({ x5t: x5tOf(TP) }, bulk, privateKey);
    expect(token.split('.')[0]).toBe(Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5t: 'OSo8vNgyVWQR9CaXyOiZpqe09W4' })).toString('base64url'));
    expect(decodeProtectedHeader(token)).toEqual({ typ: 'JWT', alg: 'RS256', x5t: 'OSo8vNgyVWQR9CaXyOiZpqe09W4' });
    const verified = await compactVerify(token, publicKey);
    expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual(bulk);
    expect(Buffer.from(token.split('.')[2]!, 'base64url')).toHaveLength(256);
    await expect(compactVerify(token, testKeyPair(11).publicKey)).rejects.toThrow();
  });

  it('gives byte for byte the token jose gives for the same header, claims and key', async () => {
    const { privateKey } = testKeyPair(10);
    const ours = await signJwt({ x5t: x5tOf(TP) }, bulk, privateKey);
    const jose = await new CompactSign(new TextEncoder().encode(JSON.stringify(bulk)))
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: x5tOf(TP) })
      .sign(privateKey);
    expect(ours).toBe(jose);
  });

  it('issuer is urn:sccm:oauth2:<tenant in lower case>', () => {
    expect(tokenIssuer(TENANT)).toBe('urn:sccm:oauth2:cdcc5e91-0adf-4a24-82d0-196667f1c081');
  });
});

describe('decodeJwtUnverified', () => {
  it('decodes header and payload of a well-formed token without a key', async () => {
    const client: ClientTokenClaims = {
      SCCMTokenCategory: 'SCCMClientAuthToken',
      Authority: 'SCCM',
      Type: 'ClientAuthentication',
      TenantId: TENANT,
      DeviceId: 'GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED',
      CertThumbprint: TP,
      jti: '0f8fad5b-d9cb-469f-a165-70867728950e',
      iss: tokenIssuer(TENANT),
      aud: 'urn:sccm:service',
      iat: 1,
      nbf: 1,
      exp: 2,
    };
    const token = await signJwt({ x5t: x5tOf(TP) }, client, testKeyPair(10).privateKey);
    const decoded = decodeJwtUnverified(token);
    expect(decoded.header).toEqual({ typ: 'JWT', alg: 'RS256', x5t: x5tOf(TP) });
    expect(decoded.payload).toEqual(client);
    expect(decoded.signature).toHaveLength(256);
    expect(decoded.signingInput).toBe(token.split('.').slice(0, 2).join('.'));
  });

  it('decodes the same text once when it is asked for twice in a row (routing, then verification), frozen so neither reader can change it', () => {
    const h = Buffer.from('{"alg":"RS256","x5t":"abc"}').toString('base64url');
    const p = Buffer.from('{"jti":"0f8fad5b-d9cb-469f-a165-70867728950e"}').toString('base64url');
    const token = `${h}.${p}.${Buffer.alloc(256, 1).toString('base64url')}`;
    const first = decodeJwtUnverified(token);
    expect(decodeJwtUnverified(token)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.header) && Object.isFrozen(first.payload)).toBe(true);
    expect(() => {
      (first.payload as Record<string, unknown>)['jti'] = 'changed';
    }).toThrow(TypeError);
    // Another text is decoded afresh; a malformed one still throws after a good one was kept.
    const other = decodeJwtUnverified(`${h}.${p}.`);
    expect(other).not.toBe(first);
    expect(other.signature).toHaveLength(0);
    expect(() => decodeJwtUnverified(`${h}.${p}`)).toThrow(expect.objectContaining({ code: 'CCMSIM_TOKEN_MALFORMED' }));
  });

  it("refuses Microsoft's example token as malformed: its payload is not valid UTF-8 JSON", () => {
    expect(looksLikeJwt(MICROSOFT_EXAMPLE)).toBe(true);
    expect(() => decodeJwtUnverified(MICROSOFT_EXAMPLE)).toThrow(expect.objectContaining({ code: 'CCMSIM_TOKEN_MALFORMED', message: expect.stringMatching(/payload is not valid UTF-8/) }));
  });

  it('accepts an unsigned alg:none token shape so the verifier can refuse it by algorithm', () => {
    const h = Buffer.from('{"alg":"none"}').toString('base64url');
    const p = Buffer.from('{"a":1}').toString('base64url');
    expect(decodeJwtUnverified(`${h}.${p}.`).header.alg).toBe('none');
  });

  const enc = (s: string) => Buffer.from(s).toString('base64url');
  const bad: Array<[string, string, RegExp]> = [
    ['an empty string', '', /empty/],
    ['two parts', `${enc('{}')}.${enc('{}')}`, /2 dot-separated/],
    ['four parts', 'a.b.c.d', /4 dot-separated/],
    ['a header that is not base64url', `a+b.${enc('{}')}.x`, /header is not base64url/],
    ['a header that is not JSON', `${enc('nope')}.${enc('{}')}.x`, /header is not valid JSON/],
    ['a payload that is a JSON array', `${enc('{}')}.${enc('[1]')}.x`, /payload is not a JSON object/],
    ['an empty payload', `${enc('{}')}..x`, /payload is empty/],
    ['a signature that is not base64url', `${enc('{}')}.${enc('{}')}.a/b`, /signature is not base64url/],
  ];
  for (const [what, token, reason] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => decodeJwtUnverified(token)).toThrow(expect.objectContaining({ code: 'CCMSIM_TOKEN_MALFORMED', message: expect.stringMatching(reason) }));
    });
  }

  it('looksLikeJwt is a shape check only', () => {
    expect(looksLikeJwt('abc')).toBe(false);
    expect(looksLikeJwt('a.b')).toBe(false);
    expect(looksLikeJwt('a.b.c')).toBe(true);
    expect(looksLikeJwt('a.b.')).toBe(true);
    expect(looksLikeJwt('a b.c.d')).toBe(false);
  });
});

describe('jwtSignatureVerifies', () => {
  it('accepts a token jose signed with the key, and refuses another key, a changed payload and no signature', async () => {
    const { privateKey, publicKey } = testKeyPair(10);
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(bulk)))
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: x5tOf(TP) })
      .sign(privateKey);
    expect(jwtSignatureVerifies(decodeJwtUnverified(token), publicKey)).toBe(true);
    expect(jwtSignatureVerifies(decodeJwtUnverified(token), testKeyPair(11).publicKey)).toBe(false);
    const [h, , sig] = token.split('.');
    const changed = Buffer.from(JSON.stringify({ ...bulk, exp: bulk.exp + 1 })).toString('base64url');
    expect(jwtSignatureVerifies(decodeJwtUnverified(`${h}.${changed}.${sig}`), publicKey)).toBe(false);
    expect(jwtSignatureVerifies(decodeJwtUnverified(`${h}.${changed}.`), publicKey)).toBe(false);
  });
});
