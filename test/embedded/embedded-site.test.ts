// The embedded site as ccmsetup-sim starts it: what the agent trusts comes from the site database, not from the
// root certificate exported beside it for people.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../src/clock/clock.js';
import { Random } from '../../src/clock/random.js';
import { fixedKeys } from '../../src/crypto/key-provider.js';
import { startEmbeddedSite } from '../../src/embedded/embedded-site.js';
import { activeCertificate } from '../../src/site/site-pki.js';
import { testKeyPair } from '../helpers/test-keys.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function options(siteDir: string) {
  return { siteDir, clock: new VirtualClock(Date.UTC(2026, 2, 2)), random: new Random('embedded'), keys: fixedKeys([testKeyPair(0), testKeyPair(1), testKeyPair(2)]) };
}

describe('startEmbeddedSite', () => {
  it('trusts the root the database holds, so a deleted sms-issuing-root.cer.pem export does not stop the site', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embedded-site-'));
    dirs.push(dir);
    const first = await startEmbeddedSite(options(join(dir, 'site')));
    const rootPath = first.site!.paths.rootCertificate;
    await first.close();
    rmSync(rootPath);
    const again = await startEmbeddedSite(options(join(dir, 'site')));
    try {
      expect(again.endpoints.trustedRootPem).toBe(activeCertificate(again.site!.db, 'issuing-root').pem);
      expect(again.endpoints.trustedRootPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    } finally {
      await again.close();
    }
  });
});
