import { describe, expect, it } from 'vitest';
import { Random, pickSeed } from '../../src/clock/random.js';

describe('Random', () => {
  it('repeats exactly for the same seed', () => {
    const a = new Random(42);
    const b = new Random(42);
    const draws = (r: Random) => [r.nextUint32(), r.int(1, 6), r.uuid(), r.hex(4)];
    expect(draws(a)).toEqual(draws(b));
  });

  it('differs between seeds and between forked streams', () => {
    expect(new Random(1).nextUint32()).not.toBe(new Random(2).nextUint32());
    const root = new Random(7);
    expect(root.fork('agent-1').uuid()).not.toBe(root.fork('agent-2').uuid());
    // A fork depends on the seed and label only, not on draws made before.
    const other = new Random(7);
    other.next();
    expect(other.fork('agent-1').uuid()).toBe(new Random(7).fork('agent-1').uuid());
  });

  it('draws integers within bounds and roughly uniformly', () => {
    const r = new Random('uniform');
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 60_000; i++) counts[r.int(0, 5)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(600);
  });

  it('makes version-4 UUIDs', () => {
    const id = new Random(3).uuid();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('picks a printable seed when none is given', () => {
    const seed = pickSeed();
    expect(Number.isInteger(seed)).toBe(true);
    expect(seed).toBeGreaterThan(0);
  });
});
