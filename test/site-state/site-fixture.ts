/**
 * Test fixture for the site-state tests: a fresh site directory under the OS temp dir, opened on a virtual clock with
 * the committed test keys (never generated), plus client certificates built from other test keys.
 */
import { afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../src/clock/clock.js';
import { Random } from '../../src/clock/random.js';
import { fixedKeys, type KeyProvider } from '../../src/crypto/key-provider.js';
import { createCertificate } from '../../src/crypto/certificate.js';
import { openSite, type OpenSiteOptions, type Site } from '../../src/site/site.js';
import { testKeyPair } from '../helpers/test-keys.js';

export const START_MS = Date.parse('2026-03-01T09:00:00Z');

/** Registers an afterEach that runs, and forgets, what a test pushed to the returned list (temp dirs, sites made). */
export function cleanupsAfterEach(): Array<() => void> {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  return cleanups;
}

/** Hands out test keys `first`, `first+1`, … (wrapping within 0..15). */
export function testKeys(first = 0): KeyProvider {
  return fixedKeys(Array.from({ length: 16 }, (_, k) => testKeyPair((first + k) % 16)));
}

export function tempDir(label = 'site'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `ccmsim-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface SiteFixture {
  site: Site;
  clock: VirtualClock;
  dir: string;
  reopen(options?: Partial<OpenSiteOptions>): Promise<Site>;
  cleanup(): void;
}

export async function makeSite(options: Partial<OpenSiteOptions> & { seed?: string } = {}): Promise<SiteFixture> {
  const { dir, cleanup } = tempDir();
  const clock = options.clock instanceof VirtualClock ? options.clock : new VirtualClock(START_MS);
  const opened: Site[] = [];
  const open = async (extra: Partial<OpenSiteOptions> = {}): Promise<Site> => {
    const s = await openSite({
      siteDir: dir,
      clock,
      random: new Random(`${options.seed ?? 'site-test'}/${opened.length}`),
      create: true,
      keys: testKeys(0),
      ...options,
      ...extra,
    });
    opened.push(s);
    return s;
  };
  const site = await open();
  return {
    site,
    clock,
    dir,
    reopen: open,
    cleanup: () => {
      for (const s of opened) s.close();
      cleanup();
    },
  };
}

/** A self-signed client certificate ("SMS Signing Certificate"-like) from test key `index`, as DER. */
const certCache = new Map<string, Buffer>();

export function clientCertDer(index: number, name = `CLIENT${index}`): Buffer {
  const cached = certCache.get(`${index}/${name}`);
  if (cached) return cached;
  const pair = testKeyPair(index);
  const cert = createCertificate({
    subject: [{ name: 'commonName', value: name }],
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
    serial: (index + 1).toString(16).padStart(2, '0'),
    notBefore: new Date(Date.UTC(2020, 0, 1)),
    notAfter: new Date(Date.UTC(2040, 0, 1)),
  });
  certCache.set(`${index}/${name}`, cert.der);
  return cert.der;
}
