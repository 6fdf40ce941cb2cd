import { describe, it, expect } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { buildSitePki } from '../../src/site/site-pki.js';
import { Random } from '../../src/clock/random.js';
import type { KeyProvider } from '../../src/crypto/key-provider.js';
import type { RsaKeyPair } from '../../src/crypto/rsa-keys.js';
import { testKeyPair } from '../helpers/test-keys.js';

/** A provider whose pairs arrive only when the test releases them, recording how many were asked for meanwhile. */
function heldKeys(): { keys: KeyProvider; asked: () => number; releaseAll: () => void } {
  const waiting: Array<() => void> = [];
  let asked = 0;
  return {
    keys: {
      kind: 'fresh',
      next(): Promise<RsaKeyPair> {
        const pair = testKeyPair(asked++);
        return new Promise((resolve) => waiting.push(() => resolve(pair)));
      },
    },
    asked: () => asked,
    releaseAll: () => waiting.splice(0).forEach((release) => release()),
  };
}

describe('a new site PKI', () => {
  it('asks for its three key pairs at once, so fresh ones are generated side by side', async () => {
    const held = heldKeys();
    const built = buildSitePki({ keys: held.keys, random: new Random(1), cmgHost: 'CONTOSO.CLOUDAPP.NET' });
    // Nothing has been handed out yet, and all three pairs are already asked for.
    expect(held.asked()).toBe(3);
    held.releaseAll();
    const certs = await built;
    expect(certs.map((c) => c.role)).toEqual(['issuing-root', 'token-signing', 'cmg-server']);
    // In the order asked: the root has the first pair, the token-signing certificate the second, the CMG the third.
    certs.forEach((c, i) => expect(new X509Certificate(c.certificate.pem).publicKey.equals(testKeyPair(i).publicKey)).toBe(true));
    const root = new X509Certificate(certs[0]!.certificate.pem);
    expect(new X509Certificate(certs[1]!.certificate.pem).checkIssued(root)).toBe(true);
    expect(new X509Certificate(certs[2]!.certificate.pem).checkIssued(root)).toBe(true);
  });
});
