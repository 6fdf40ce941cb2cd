#!/usr/bin/env node
// The `ccmsim` bin. CommonJS so that it runs before Node's ES module loader first uses libuv's thread pool: it sizes
// the pool to the machine's cores (thread-pool-size.cts), then loads the ES module bin, which hands over to main().
require('../fleet/thread-pool-size.cjs');
void import('./ccmsim.js');
