#!/usr/bin/env node
// Benchmark of one ccmsetup-sim install against the embedded site (issue 4: "well under two seconds"), on the real
// clock with fresh RSA keys, as a tester's run. Needs `npm run build`. Usage: node scripts/bench-install.mjs [N] [intranet|internet]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RealClock } from '../dist/clock/clock.js';
import { Random } from '../dist/clock/random.js';
import { freshKeys } from '../dist/crypto/key-provider.js';
import { createBulkToken } from '../dist/site/bulk-tokens.js';
import { startEmbeddedSite } from '../dist/embedded/embedded-site.js';
import { runCcmsetup } from '../dist/agent/ccmsetup-flow.js';
import { parseCcmsetupCommandLine } from '../dist/agent/command-line.js';

const n = Number(process.argv[2] ?? 20);
const mode = process.argv[3] ?? 'internet';
const dir = mkdtempSync(join(tmpdir(), 'ccmsim-bench-'));
const clock = new RealClock();
const conn = await startEmbeddedSite({ siteDir: join(dir, 'site'), clock, random: new Random('bench-site') });
const cmg = 'CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500';
const times = [];
try {
  for (let i = 0; i < n; i++) {
    const line =
      mode === 'intranet'
        ? '/mp:MP01.CONTOSO.COM SMSSITECODE=ABC'
        : `/mp:https://${cmg} CCMHOSTNAME=${cmg} SMSSiteCode=ABC /regtoken:${(await createBulkToken(conn.site)).token}`;
    const name = `PC-BENCH-${String(i).padStart(4, '0')}`;
    const t0 = performance.now();
    const out = await runCcmsetup({
      commandLine: parseCcmsetupCommandLine(line),
      machineDir: join(dir, name),
      computerName: name,
      timeZone: 'UTC',
      clock,
      random: new Random(`bench/${i}`),
      keys: freshKeys(),
      site: conn.client,
      siteNames: conn.siteNames,
    });
    times.push(performance.now() - t0);
    if (out.exitCode !== 0) throw new Error(`install ${i} returned ${out.exitCode}: ${out.error?.message}`);
  }
} finally {
  await conn.close();
  rmSync(dir, { recursive: true, force: true });
}
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(0);
const mean = (times.reduce((a, b) => a + b, 0) / times.length).toFixed(0);
console.log(`${n} ${mode} installs, embedded site, real clock, fresh RSA keys: mean ${mean} ms, p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${pct(100)} ms`);
