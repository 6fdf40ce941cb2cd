// Keeping tokens out of what is printed: a secret shows at most 8 leading characters and its length, never a whole part.
import { describe, it, expect } from 'vitest';
import { isJwtShaped, maskJwtsIn, maskSecret, maskSecretsIn } from '../../src/args/masking.js';

const PARTS = ['eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9', 'eyJUeXBlIjoiQnVsa1JlZ2lzdHJhdGlvbiJ9', 'c2lnbmF0dXJlLXNpZ25hdHVyZQ'];
const JWT = PARTS.join('.');

describe('maskSecret', () => {
  it('shows the first 8 characters and the length', () => {
    expect(maskSecret(JWT)).toBe(`eyJ0eXAi…(${JWT.length} chars)`);
  });
  it('shows less of a short value and never a whole dot-separated part', () => {
    expect(maskSecret('aaa.bbb.ccc')).toBe('aa…(11 chars)');
    expect(maskSecret('a.b.c')).toBe('…(5 chars)');
    expect(maskSecret('secret')).toBe('s…(6 chars)');
  });
});

describe('maskJwtsIn', () => {
  it('masks every JWT inside a text and leaves host names alone', () => {
    const text = `ccmsetup.exe /mp:https://MP01.CONTOSO.COM /regtoken:${JWT} REGTOKEN=${JWT} SMSMP=mp01.contoso.com`;
    const masked = maskJwtsIn(text);
    for (const p of PARTS) expect(masked).not.toContain(p);
    expect(masked).toContain('MP01.CONTOSO.COM');
    expect(masked).toContain('SMSMP=mp01.contoso.com');
    expect(masked.match(/eyJ0eXAi…\(\d+ chars\)/g)).toHaveLength(2);
  });
  it('masks given secrets even when they do not look like a JWT', () => {
    expect(maskSecretsIn('/regtoken:aaa.bbb.ccc x', ['aaa.bbb.ccc'])).toBe('/regtoken:aa…(11 chars) x');
  });
});

describe('isJwtShaped', () => {
  it('accepts three base64url parts and refuses anything else', () => {
    expect(isJwtShaped(JWT)).toBe(true);
    expect(isJwtShaped('aaa.bbb.ccc')).toBe(true);
    expect(isJwtShaped('aaa.bbb')).toBe(false);
    expect(isJwtShaped('aaa.bbb.')).toBe(false);
    expect(isJwtShaped('aa a.bbb.ccc')).toBe(false);
    expect(isJwtShaped('a+a.b/b.cc')).toBe(false);
  });
});
