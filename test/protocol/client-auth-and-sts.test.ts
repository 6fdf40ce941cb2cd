import { describe, it, expect } from 'vitest';
import { sign } from 'node:crypto';
import {
  bearerOf,
  buildClientAuthHeaders,
  buildClientAuthHeadersAsync,
  parseClientAuthHeaders,
  verifyClientAuth,
  verifyClientAuthSignature,
} from '../../src/protocol/client-auth.js';
import { buildStsRefusal, buildStsRequest, buildStsResponse, parseStsRequest, parseStsResponse } from '../../src/protocol/sts.js';
import { testKeyPair } from '../helpers/test-keys.js';

const NOW = Date.UTC(2026, 10, 29, 4, 5, 6);
const SMS_ID = 'GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED';
const mine = testKeyPair(12);
const other = testKeyPair(13);

/** Node's http lower-cases incoming header names. */
function asReceived(headers: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined).map(([k, v]) => [k.toLowerCase(), v!]));
}

describe('client-auth headers (docs/protocol.md "Ours" 1–2)', () => {
  it('carry the bearer token, the ClientToken text and its reversed signature over UTF-16LE + 00 00', () => {
    const h = buildClientAuthHeaders({ token: 'a.b.c', smsId: SMS_ID.toLowerCase(), signingKey: mine.privateKey, now: new Date(NOW) });
    expect(h.Authorization).toBe('Bearer a.b.c');
    expect(h.ClientToken).toBe('GUID:3358674C-7C33-44F2-8496-1A5D3116F7ED;2026-11-29T04:05:06Z;2');
    const expected = Buffer.from(sign('sha256', Buffer.concat([Buffer.from(h.ClientToken, 'utf16le'), Buffer.from([0, 0])]), mine.privateKey)).reverse().toString('hex').toUpperCase();
    expect(h.ClientTokenSignature).toBe(expected);
  });

  it('have no Authorization header without a token', () => {
    const h = buildClientAuthHeaders({ smsId: SMS_ID, signingKey: mine.privateKey, now: NOW });
    expect('Authorization' in h).toBe(false);
  });

  it('parse back (any header case) and verify with the right key only', () => {
    const parsed = parseClientAuthHeaders(asReceived(buildClientAuthHeaders({ token: 'x.y.z', smsId: SMS_ID, signingKey: mine.privateKey, now: NOW })));
    expect(parsed).toMatchObject({ bearer: 'x.y.z', smsId: SMS_ID, timestamp: '2026-11-29T04:05:06Z', timestampMs: NOW, signedText: `${SMS_ID};2026-11-29T04:05:06Z;2` });
    expect(verifyClientAuthSignature(parsed!, mine.publicKey)).toBe(true);
    expect(verifyClientAuthSignature(parsed!, other.publicKey)).toBe(false);
    expect(() => verifyClientAuth(parsed!, mine.publicKey, NOW + 14 * 60_000)).not.toThrow();
  });

  it('refuse a copied token presented with another machine key, and a stale timestamp', () => {
    const copied = parseClientAuthHeaders(asReceived(buildClientAuthHeaders({ token: 'x.y.z', smsId: SMS_ID, signingKey: other.privateKey, now: NOW })))!;
    expect(() => verifyClientAuth(copied, mine.publicKey, NOW)).toThrow(expect.objectContaining({ code: 'CCMSIM_SIGNATURE_INVALID', httpStatus: 403 }));
    const parsed = parseClientAuthHeaders(asReceived(buildClientAuthHeaders({ smsId: SMS_ID, signingKey: mine.privateKey, now: NOW })))!;
    expect(() => verifyClientAuth(parsed, mine.publicKey, NOW + 16 * 60_000)).toThrow(/16 minutes/);
    expect(() => verifyClientAuth(parsed, mine.publicKey, NOW - 5 * 60_000, 60_000)).toThrow(expect.objectContaining({ code: 'CCMSIM_SIGNATURE_INVALID' }));
  });

  it('detect a ClientToken altered after signing', () => {
    const h = asReceived(buildClientAuthHeaders({ smsId: SMS_ID, signingKey: mine.privateKey, now: NOW }));
    h['clienttoken'] = h['clienttoken']!.replace('04:05:06', '04:05:07');
    expect(verifyClientAuthSignature(parseClientAuthHeaders(h)!, mine.publicKey)).toBe(false);
  });

  it('are absent (undefined) without a ClientToken header; malformed ones are named', () => {
    expect(parseClientAuthHeaders({ authorization: 'Bearer a.b.c' })).toBeUndefined();
    expect(bearerOf({ Authorization: 'Bearer a.b.c' })).toBe('a.b.c');
    expect(bearerOf({ authorization: 'Basic abc' })).toBeUndefined();
    const m = (h: Record<string, string>, reason: RegExp) =>
      expect(() => parseClientAuthHeaders(h)).toThrow(expect.objectContaining({ code: 'CCMSIM_PROTOCOL_MALFORMED', message: expect.stringMatching(reason) }));
    m({ clienttoken: `${SMS_ID};2026-11-29T04:05:06Z;2` }, /without a ClientTokenSignature/);
    m({ clienttoken: `${SMS_ID};2026-11-29T04:05:06Z;2`, clienttokensignature: 'zz' }, /not hex/);
    m({ clienttoken: 'nonsense', clienttokensignature: 'AA' }, /not GUID:<id>;<time>;2/);
    m({ clienttoken: 'GUID:1234;2026-11-29T04:05:06Z;2', clienttokensignature: 'AA' }, /malformed SMS GUID/);
    m({ clienttoken: `${SMS_ID};11/29/2026 04:05:06;2`, clienttokensignature: 'AA' }, /timestamp/);
  });
});

describe('CCM_STS bodies (docs/protocol.md "Ours" 4)', () => {
  it('request round-trips', () => {
    const xml = buildStsRequest({ smsId: SMS_ID, purpose: 'Renew' });
    expect(xml).toBe(`<CcmTokenRequest SchemaVersion="1.0"><SMSID>${SMS_ID}</SMSID><Purpose>Renew</Purpose></CcmTokenRequest>`);
    expect(parseStsRequest(xml)).toEqual({ smsId: SMS_ID, purpose: 'Renew' });
  });

  it('refuses malformed requests with the reason', () => {
    expect(() => parseStsRequest('<CcmTokenRequest><Purpose>Issue</Purpose></CcmTokenRequest>')).toThrow(/no <SMSID>/);
    expect(() => parseStsRequest(`<CcmTokenRequest><SMSID>${SMS_ID}</SMSID><Purpose>Steal</Purpose></CcmTokenRequest>`)).toThrow(/Purpose/);
    expect(() => parseStsRequest('<CcmTokenRequest><SMSID>GUID:1</SMSID><Purpose>Issue</Purpose></CcmTokenRequest>')).toThrow(/malformed SMSID/);
    expect(() => parseStsRequest('<CcmTokenRequest>')).toThrow(expect.objectContaining({ code: 'CCMSIM_PROTOCOL_MALFORMED' }));
  });

  it('response round-trips', () => {
    const expiresAt = new Date(Date.UTC(2027, 1, 27, 4, 5, 6));
    const xml = buildStsResponse({ token: 'a.b.c', tokenId: '0f8fad5b-d9cb-469f-a165-70867728950e', expiresAt });
    expect(xml).toBe('<CcmTokenResponse SchemaVersion="1.0" Status="0"><Token>a.b.c</Token><TokenId>0f8fad5b-d9cb-469f-a165-70867728950e</TokenId><ExpiresAt>2027-02-27T04:05:06Z</ExpiresAt></CcmTokenResponse>');
    expect(parseStsResponse(xml)).toEqual({ token: 'a.b.c', tokenId: '0f8fad5b-d9cb-469f-a165-70867728950e', expiresAt });
    // The token is taken as its raw text (a stop node): surrounding whitespace is trimmed, markup inside is not parsed.
    const spaced = xml.replace('<Token>a.b.c</Token>', '<Token>\r\n  a.b.c \r\n</Token>');
    expect(parseStsResponse(spaced).token).toBe('a.b.c');
    const nested = xml.replace('<Token>a.b.c</Token>', '<Token>a.<b>x</b>.c</Token>');
    expect(parseStsResponse(nested).token).toBe('a.<b>x</b>.c');
  });

  it('a refusal body comes back as a CcmsimError with its own code', () => {
    const xml = buildStsRefusal({ code: 'CCMSIM_TOKEN_BLOCKED', message: 'the bulk registration token is blocked <here>' });
    expect(() => parseStsResponse(xml)).toThrow(expect.objectContaining({ code: 'CCMSIM_TOKEN_BLOCKED', message: 'the bulk registration token is blocked <here>' }));
    expect(() => parseStsResponse('<CcmTokenResponse Status="7"/>')).toThrow(expect.objectContaining({ code: 'CCMSIM_PROTOCOL_MALFORMED' }));
    expect(() => parseStsResponse('<CcmTokenResponse Status="0"><Token>t</Token><TokenId>i</TokenId></CcmTokenResponse>')).toThrow(/ExpiresAt/);
  });
});

describe('client-auth headers signed off the main thread (the agent’s form)', () => {
  it('are the same headers as the synchronous builder gives, and verify', async () => {
    const options = { token: 'a.b.c', smsId: SMS_ID, signingKey: mine.privateKey, now: NOW };
    const h = await buildClientAuthHeadersAsync(options);
    expect(h).toEqual(buildClientAuthHeaders(options));
    const parsed = parseClientAuthHeaders(asReceived(h))!;
    expect(verifyClientAuthSignature(parsed, mine.publicKey)).toBe(true);
    expect(verifyClientAuthSignature(parsed, other.publicKey)).toBe(false);
  });
});
