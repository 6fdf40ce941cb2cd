/**
 * Owns where fleet agents' RSA keys come from. `--key-pool K`: K pairs made once (or given, in tests), and agent i
 * takes pairs (2i) mod K and (2i+1) mod K — fixed by its index, not by who asked first. `--unique-keys`: fresh pairs
 * generated ahead of need on libuv's thread pool, so both cores work while the event loop runs the agents (a
 * generation that waited for an agent's turn would serialise behind the virtual clock).
 */
import { generateRsaKeyPair, type RsaKeyPair } from '../crypto/rsa-keys.js';
import type { KeySource } from '../agent/client-certificates.js';

export interface FleetKeys {
  /** The key source of agent `index` (the ccmsetup flow asks it for the signing, then the encryption pair). */
  forAgent(index: number): KeySource;
  /** Pairs generated so far by this fleet (the pool's, or every unique one). */
  readonly generated: number;
}

export function pooledKeys(pairs: readonly RsaKeyPair[]): FleetKeys {
  if (pairs.length === 0) throw new RangeError('a key pool needs at least one pair');
  return {
    forAgent(index) {
      let n = 0;
      return { next: () => Promise.resolve(pairs[(2 * index + n++) % pairs.length]!) };
    },
    generated: pairs.length,
  };
}

export async function makeKeyPool(size: number, generator: () => Promise<RsaKeyPair> = generateRsaKeyPair): Promise<RsaKeyPair[]> {
  return Promise.all(Array.from({ length: size }, () => generator()));
}

/**
 * Unique keys: the `total` pairs the run needs (two per agent) are generated from the start, `inFlight` at a time on
 * libuv's thread pool, and handed out in order. Generation runs ahead of the agents instead of waiting for each
 * agent's turn, so key making and agent work overlap and the key rate approaches the machine's native one.
 */
export function uniqueKeys(total: number, inFlight = 4, generator: () => Promise<RsaKeyPair> = generateRsaKeyPair): FleetKeys & { stop(): void } {
  const made: Array<Promise<RsaKeyPair>> = [];
  const resolvers: Array<{ resolve(p: RsaKeyPair): void; reject(e: unknown): void }> = [];
  let started = 0;
  let taken = 0;
  let stopped = false;
  for (let i = 0; i < total; i++) {
    made.push(
      new Promise<RsaKeyPair>((resolve, reject) => {
        resolvers.push({ resolve, reject });
      }),
    );
    // Avoid an unhandled rejection for a pair nobody takes; the taker sees the error.
    made[i]!.catch(() => undefined);
  }
  const startOne = (): void => {
    if (stopped || started >= total) return;
    const i = started++;
    generator().then(
      (pair) => {
        resolvers[i]!.resolve(pair);
        startOne();
      },
      (err: unknown) => {
        resolvers[i]!.reject(err);
        startOne();
      },
    );
  };
  for (let i = 0; i < inFlight; i++) startOne();
  const take = (): Promise<RsaKeyPair> => {
    // More takers than planned (should not happen): make one on demand.
    if (taken >= total) return generator();
    return made[taken++]!;
  };
  return {
    forAgent() {
      return { next: take };
    },
    get generated() {
      return started;
    },
    stop() {
      stopped = true;
    },
  };
}
