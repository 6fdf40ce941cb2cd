/**
 * Owns `LruCache`: a Map kept to a fixed number of entries, the least recently used dropped first. The site and the
 * agent keep parsed keys, certificates and verified signatures this way; a Map's insertion order is the use order.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`an LruCache holds at least one entry, not ${max}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value kept for `key` (now the most recently used), or undefined. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Keeps `value` for `key` as the most recently used, dropping the least recently used entry when full. */
  set(key: K, value: V): void {
    if (!this.entries.delete(key) && this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, value);
  }

  /** The value kept for `key`, else `make()` kept and returned (a throwing `make` keeps nothing). */
  getOrMake(key: K, make: () => V): V {
    let value = this.get(key);
    if (value === undefined) {
      value = make();
      this.set(key, value);
    }
    return value;
  }
}
