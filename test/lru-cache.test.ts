import { describe, it, expect } from 'vitest';
import { LruCache } from '../src/lru-cache.js';

describe('LruCache', () => {
  it('keeps at most `max` entries and drops the least recently used, a read counting as a use', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1); // a is now the most recently used
    c.set('c', 3); // drops b
    expect([c.get('a'), c.get('b'), c.get('c'), c.size]).toEqual([1, undefined, 3, 2]);
    c.set('a', 10); // replacing a kept key drops nothing
    expect([c.get('a'), c.get('c'), c.size]).toEqual([10, 3, 2]);
  });

  it('getOrMake makes a value once, and keeps nothing when making throws', () => {
    const c = new LruCache<string, object>(4);
    let made = 0;
    const make = (): object => ({ n: ++made });
    const first = c.getOrMake('k', make);
    expect(c.getOrMake('k', make)).toBe(first);
    expect(made).toBe(1);
    expect(() => c.getOrMake('bad', () => { throw new Error('no'); })).toThrow('no');
    expect(c.size).toBe(1);
  });

  it('refuses a size below one', () => {
    expect(() => new LruCache(0)).toThrow(RangeError);
  });
});
