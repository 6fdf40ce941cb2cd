/**
 * Test harness for agent integration tests: an embedded site on loopback with the committed test keys (never new RSA
 * keys), a VirtualClock shared by site and agents, and helpers to install, read logs and scan directories.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../src/clock/clock.js';
import { Random } from '../../src/clock/random.js';
import { fixedKeys } from '../../src/crypto/key-provider.js';
import { parseCmLog, type ParsedRecord } from '../../src/log/reader.js';
import { runCcmsetup, type RunCcmsetupOptions } from '../../src/agent/ccmsetup-flow.js';
import { parseCcmsetupCommandLine } from '../../src/agent/command-line.js';
import type { CcmsetupOutcome } from '../../src/agent/outcome.js';
import { runOnClock } from '../../src/agent/run-on-clock.js';
import { startEmbeddedSite, type SiteConnection } from '../../src/embedded/embedded-site.js';
import { testKeyPair } from '../helpers/test-keys.js';

export const START = Date.UTC(2026, 2, 2, 9, 0, 0);
export const CMG = 'CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500';
/** Microsoft's documented command line (deploy-clients-cmg-token), token appended by the caller. */
export const MS_LINE = `/mp:https://${CMG} CCMHOSTNAME=${CMG} SMSSiteCode=ABC /regtoken:`;

export interface TestWorld {
  dir: string;
  clock: VirtualClock;
  conn: SiteConnection;
  install(line: string, options?: Partial<Omit<RunCcmsetupOptions, 'commandLine'>> & { name?: string }): Promise<CcmsetupOutcome>;
  close(): Promise<void>;
}

let clientKeyIndex = 3;

export async function startWorld(): Promise<TestWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'ccmsim-agent-'));
  const clock = new VirtualClock(START);
  const conn = await startEmbeddedSite({
    siteDir: join(dir, 'site'),
    clock,
    random: new Random('test-site'),
    keys: fixedKeys([testKeyPair(0), testKeyPair(1), testKeyPair(2)]),
  });
  let n = 0;
  return {
    dir,
    clock,
    conn,
    async install(line, options = {}) {
      const name = options.name ?? `PC-TEST-${String(++n).padStart(3, '0')}`;
      // Two committed keys per client; the pool of 13 is reused round-robin (tests never make RSA keys).
      const pairs = [testKeyPair(clientKeyIndex), testKeyPair(clientKeyIndex + 1 > 15 ? 3 : clientKeyIndex + 1)];
      clientKeyIndex = clientKeyIndex + 2 > 15 ? 3 : clientKeyIndex + 2;
      return runOnClock(clock, () =>
        runCcmsetup({
          commandLine: parseCcmsetupCommandLine(line),
          machineDir: join(dir, name),
          computerName: name,
          timeZone: 'Europe/Paris',
          clock,
          random: new Random(`agent/${name}`),
          keys: fixedKeys(pairs),
          site: conn.client,
          siteNames: conn.siteNames,
          ...options,
        }),
      );
    },
    async close() {
      await conn.close();
    },
  };
}

export function readLog(path: string): ParsedRecord[] {
  const parsed = parseCmLog(readFileSync(path));
  if (parsed.malformed.length > 0) throw new Error(`${path}: malformed records ${JSON.stringify(parsed.malformed)}`);
  return parsed.records;
}

export function messages(path: string): string[] {
  return readLog(path).map((r) => r.message);
}

/** Asserts that each pattern matches a line, in this order (other lines may come between). */
export function inOrder(lines: string[], patterns: Array<string | RegExp>): void {
  let at = 0;
  for (const p of patterns) {
    const i = lines.findIndex((l, k) => k >= at && (typeof p === 'string' ? l.includes(p) : p.test(l)));
    if (i < 0) throw new Error(`no line matching ${String(p)} after line ${at}:\n${lines.slice(at).join('\n')}`);
    at = i + 1;
  }
}

export function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}
