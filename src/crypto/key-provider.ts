/**
 * Owns where an agent's (or the site's) RSA key pairs come from: fresh ones per request, a shared pool that is
 * generated lazily and then reused round-robin (for fleets: keys are shared, certificates are still per agent),
 * or a fixed list (tests, with the committed test keys).
 */
import { CcmsimError } from '../errors.js';
import { generateRsaKeyPair, type RsaKeyPair } from './rsa-keys.js';

export interface KeyProvider {
  readonly kind: 'fresh' | 'pool' | 'fixed';
  next(): Promise<RsaKeyPair>;
}

export type KeyGenerator = () => Promise<RsaKeyPair>;

/** A new RSA-2048 pair on every call. */
export function freshKeys(generator: KeyGenerator = generateRsaKeyPair): KeyProvider {
  return { kind: 'fresh', next: () => generator() };
}

/**
 * Up to `size` pairs, generated on demand (the first `size` calls each get a new pair), then handed out
 * round-robin. Concurrent callers during the fill each get their own generation, never a half-made pair.
 */
export function keyPool(size: number, generator: KeyGenerator = generateRsaKeyPair): KeyProvider {
  if (!Number.isInteger(size) || size < 1) throw new CcmsimError('CCMSIM_USAGE', `key pool size must be a positive integer, got ${size}`);
  const pairs: Promise<RsaKeyPair>[] = [];
  let cursor = 0;
  return {
    kind: 'pool',
    next(): Promise<RsaKeyPair> {
      if (pairs.length < size) {
        const made = generator();
        // A failed generation must not poison the pool: drop it so a later call retries.
        const slot = pairs.length;
        pairs.push(made);
        made.catch(() => {
          if (pairs[slot] === made) pairs.splice(slot, 1);
        });
        return made;
      }
      const pair = pairs[cursor % size]!;
      cursor = (cursor + 1) % size;
      return pair;
    },
  };
}

/** The given pairs in order, starting over after the last one. */
export function fixedKeys(list: readonly RsaKeyPair[]): KeyProvider {
  if (list.length === 0) throw new CcmsimError('CCMSIM_USAGE', 'fixedKeys needs at least one key pair');
  const pairs = [...list];
  let cursor = 0;
  return {
    kind: 'fixed',
    next(): Promise<RsaKeyPair> {
      const pair = pairs[cursor]!;
      cursor = (cursor + 1) % pairs.length;
      return Promise.resolve(pair);
    },
  };
}
