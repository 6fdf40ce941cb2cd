import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `ccmsim logs parse x.log | head`: when the reader goes away, the three bins stop writing quietly (no Node stack
// trace about an unhandled 'error' event) and exit with the code the command itself returned.

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = (name: string): string => `${root}dist/cli/${name}.js`;
const LOG = `${root}fixtures/rollover-history-3/NOMAD-51EE/Windows/ccmsetup/Logs/ccmsetup.log`;

/** Runs a built bin with its stdout (and optionally stderr) closed by the reader before the bin writes anything. */
function runWithClosedPipes(name: string, args: string[], closeStderr = false): Promise<{ code: number | null; signal: string | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
    child.stdout.destroy();
    let err = '';
    if (closeStderr) child.stderr.destroy();
    else child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, err }));
  });
}

// The children run the built bins (`npm ci` builds them through `prepare`; locally: npx tsc -p tsconfig.build.json).
describe.runIf(existsSync(bin('ccmsim')))('the bins on a closed pipe', () => {
  it.each([
    ['ccmsim', ['logs', 'parse', LOG], 0],
    ['ccmsim', ['fixtures', '--list'], 0],
    ['ccmsim', ['fleet', '--help'], 0],
    ['ccmsetup-sim', ['/?'], 0],
    ['bulkregtoken-sim', ['/?'], 0],
  ])('%s %j exits quietly with its own exit code', async (name, args, expected) => {
    const r = await runWithClosedPipes(name, args);
    expect(r.err).not.toMatch(/Unhandled|EPIPE|\n\s+at /);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(expected);
  });

  it.each([
    ['ccmsim', ['fixtures', '--list', '--bogus'], 2],
    ['bulkregtoken-sim', [], 2],
    ['ccmsetup-sim', ['/retry:abc', '--parse-only'], 6],
  ])('%s %j keeps its exit code when stderr is closed too', async (name, args, expected) => {
    const r = await runWithClosedPipes(name, args, true);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(expected);
  });
});
