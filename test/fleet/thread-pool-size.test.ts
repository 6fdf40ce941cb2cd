// thread-pool-size.cts is CommonJS that acts on load (it must run before any ES module), so it is tested as built and
// preloaded, as the `ccmsim` launcher and `npm run bench` use it (`npm ci` builds dist/).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const builtPreload = fileURLToPath(new URL('../../dist/fleet/thread-pool-size.cjs', import.meta.url));

function runModule(script: string, options: { preload: boolean; poolSize?: string }): string {
  const env = { ...process.env };
  delete env['UV_THREADPOOL_SIZE'];
  if (options.poolSize !== undefined) env['UV_THREADPOOL_SIZE'] = options.poolSize;
  const args = [...(options.preload ? ['--require', builtPreload] : []), '--input-type=module', '-e', script];
  const run = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return run.stdout.trim();
}

/** Threads an ES module entry gains by keeping libuv's pool busy. */
const POOL_THREADS = `
  import { sign, generateKeyPairSync } from 'node:crypto';
  import { readdirSync } from 'node:fs';
  const before = readdirSync('/proc/self/task').length;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  await Promise.all(Array.from({ length: 32 }, () => new Promise((done) => sign('sha256', Buffer.alloc(1 << 20), privateKey, done))));
  console.log(readdirSync('/proc/self/task').length - before);`;

describe.skipIf(!existsSync(builtPreload))("sizing libuv's thread pool for a fleet run", () => {
  it('asks for one thread per core, at least two, and keeps a size the user chose', () => {
    const show = 'console.log(process.env.UV_THREADPOOL_SIZE)';
    expect(runModule(show, { preload: true })).toBe(String(Math.max(2, availableParallelism())));
    expect(runModule(show, { preload: true, poolSize: '6' })).toBe('6');
  });

  // libuv sizes its pool once, at first use, and Node's ES module loader uses it to read the entry module: only a
  // CommonJS preload is early enough. Without it the pool has Node's default 4 threads.
  it.skipIf(process.platform !== 'linux')('takes effect before an ES module entry: the pool has that many threads', () => {
    expect(runModule(POOL_THREADS, { preload: false })).toBe('4');
    expect(runModule(POOL_THREADS, { preload: true })).toBe(String(Math.max(2, availableParallelism())));
  });
});
