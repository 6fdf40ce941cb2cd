/**
 * Owns sizing libuv's thread pool for the fleet: one thread per core (at least 2), where the agents' and the site's
 * RSA signatures run. Node's default of 4 oversubscribed a 2-core machine: four signing threads competed with the
 * agents' and the site's threads, and a 10,000-agent run took ~3.5 % longer (docs/fleet.md).
 *
 * CommonJS on purpose: libuv reads UV_THREADPOOL_SIZE once, at the pool's first use, and Node's ES module loader
 * already uses the pool to read the entry module. So this runs before any ES module is loaded: required by the
 * `ccmsim` launcher (`src/cli/ccmsim-launch.cts`) and preloaded by `npm run bench` (`node --require`). Loading it
 * sizes the pool; a size the user set is kept.
 */
import os = require('node:os');

function sizeThreadPoolToCores(env: NodeJS.ProcessEnv = process.env, cores: number = os.availableParallelism()): number | undefined {
  if (env['UV_THREADPOOL_SIZE'] !== undefined && env['UV_THREADPOOL_SIZE'] !== '') return undefined;
  const size = Math.max(2, cores);
  env['UV_THREADPOOL_SIZE'] = String(size);
  return size;
}

sizeThreadPoolToCores();

export = { sizeThreadPoolToCores };
