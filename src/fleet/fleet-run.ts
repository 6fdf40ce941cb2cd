/**
 * Owns one complete fleet run with real agents: the output directory, the clock, the keys, the engine with the real
 * driver, and the files written at the end. The CLI, the bench and the integration tests all go through here.
 * Against a remote site (--site-url) it connects before making the clock: the run starts at the site's clock.
 */
import type { RsaKeyPair } from '../crypto/rsa-keys.js';
import type { KeyProvider } from '../crypto/key-provider.js';
import { VirtualClock } from '../clock/clock.js';
import { runFleet, type FleetProgress, type FleetRunResult } from './fleet-engine.js';
import { makeKeyPool, pooledKeys, uniqueKeys, type FleetKeys } from './fleet-keys.js';
import { startOnSiteClock, type FleetOptions } from './fleet-options.js';
import { prepareOutDir, writeFleetOutputs } from './fleet-output.js';
import { createRealDriver } from './fleet-real-driver.js';
import { connectFleetSite, type FleetSite } from './fleet-site.js';
import type { FleetSummary } from './fleet-summary.js';

export interface FleetRunDeps {
  /** Real elapsed ms (fractional), e.g. performance.now: latency and agents per second. */
  wallNow(): number;
  /** Pairs for --key-pool instead of generating them (tests: the committed keys). */
  poolKeys?: readonly RsaKeyPair[];
  /** Keys for the new embedded site (tests: fixed keys). */
  siteKeys?: KeyProvider;
  regtoken?: string;
  /** Run the embedded site in a worker thread when the built JavaScript allows it (default true). */
  siteThread?: boolean;
  onProgress?: (p: FleetProgress) => void;
  /** Called once the options have passed every check (the remote site's clock included) and --out is made, before the keys. */
  onChecked?: () => void;
  /** Called once the keys are ready and the run starts (so a progress bar does not count key generation). */
  onStart?: () => void;
}

export interface FleetRunOutput {
  summary: FleetSummary;
  run: FleetRunResult;
  clock: VirtualClock;
  /** Wall ms spent making the key pool before the run. */
  keySetupMs: number;
}

export async function runFleetToDir(requested: FleetOptions, deps: FleetRunDeps): Promise<FleetRunOutput> {
  let options = requested;
  // A remote site keeps its own clock and checks request times against it: it is read first, so a --start too far
  // from it is refused before anything is made. A real-clock site's clock moves on while the keys are made (about a
  // second for a pool of 16), well inside its 15-minute check; a virtual-clock site's stands still.
  let remote: FleetSite | undefined;
  let remoteTaken = false;
  if (options.siteUrl !== undefined) {
    remote = await connectFleetSite(options.siteUrl);
    try {
      options = startOnSiteClock(options, remote.remote!.siteNowMs);
      prepareOutDir(options.out);
    } catch (err) {
      await remote.close();
      throw err;
    }
  } else {
    prepareOutDir(options.out);
  }
  deps.onChecked?.();
  const t0 = deps.wallNow();
  let keys: FleetKeys & { stop?: () => void };
  try {
    if (options.keys.kind === 'pool') {
      const pairs = deps.poolKeys ? deps.poolKeys.slice(0, options.keys.size) : await makeKeyPool(options.keys.size);
      keys = pooledKeys(pairs);
    } else {
      // Two pairs per agent of this shard (signing and encryption certificates).
      keys = uniqueKeys(2 * Math.ceil((options.agents - options.shard.index) / options.shard.count));
    }
  } catch (err) {
    await remote?.close();
    throw err;
  }
  const keySetupMs = deps.wallNow() - t0;
  const clock = new VirtualClock(options.startMs, { batch: true, tickMs: options.tickMs });
  deps.onStart?.();
  try {
    const run = await runFleet(options, {
      clock,
      wallNow: deps.wallNow,
      ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
      createDriver: (services) => {
        remoteTaken = true;
        return createRealDriver({
          options,
          clock,
          services,
          keys,
          ...(remote ? { remoteSite: remote } : {}),
          ...(deps.siteKeys ? { siteKeys: deps.siteKeys } : {}),
          ...(deps.regtoken !== undefined ? { regtoken: deps.regtoken } : {}),
          siteThread: deps.siteThread ?? true,
        });
      },
    });
    const summary = await writeFleetOutputs(options.out, run);
    return { summary, run, clock, keySetupMs };
  } finally {
    keys.stop?.();
    if (!remoteTaken) await remote?.close();
  }
}
