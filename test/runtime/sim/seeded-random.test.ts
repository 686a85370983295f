import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import { createSeededRandom } from '../../../src/core/random/seeded-random.js';

describe('createSeededRandom', () => {
  it('gives the same sequence for the same seed, numeric or string', () => {
    for (const seed of [0, 1, 42, 2 ** 40 + 3, 'abc', '']) {
      const a = createSeededRandom(seed);
      const b = createSeededRandom(seed);
      const xs = Array.from({ length: 50 }, () => [a.next(), a.int(1000), ...a.bytes(3)]);
      const ys = Array.from({ length: 50 }, () => [b.next(), b.int(1000), ...b.bytes(3)]);
      expect(xs).toEqual(ys);
    }
  });

  it('gives different sequences for nearby seeds', () => {
    const first = (seed: number | string) => createSeededRandom(seed).next();
    const values = new Set([0, 1, 2, 3, 4, 'a', 'b', 2 ** 32, 2 ** 33].map(first));
    expect(values.size).toBe(9);
  });

  it('forks independent, stable streams that do not consume the parent', () => {
    const parent = createSeededRandom(7);
    const before = parent.fork('node:a').next();
    parent.next();
    parent.next();
    expect(parent.fork('node:a').next()).toBe(before);
    expect(parent.fork('node:b').next()).not.toBe(before);
    const fresh = createSeededRandom(7);
    fresh.fork('x');
    expect(fresh.next()).toBe(createSeededRandom(7).next());
  });

  it('next() is in [0, 1) and roughly uniform', () => {
    const random = createSeededRandom(99);
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = random.next();
      if (!(x >= 0 && x < 1)) outside += 1;
      else buckets[Math.floor(x * 10)]! += 1;
    }
    expect(outside).toBe(0);
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(600);
  });

  it('int(max) stays in range, including above 2^32', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        (seed, max) => {
          const value = createSeededRandom(seed).int(max);
          return Number.isInteger(value) && value >= 0 && value < max;
        },
      ),
    );
  });

  it('bytes(n) returns n bytes and varies', () => {
    const random = createSeededRandom('bytes');
    for (const n of [0, 1, 3, 4, 5, 33]) expect(random.bytes(n).length).toBe(n);
    expect(random.bytes(16)).not.toEqual(random.bytes(16));
  });

  it('rejects bad arguments with INVALID_ARGUMENT', () => {
    const random = createSeededRandom(1);
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 60]) {
      expect(() => random.int(bad)).toThrow(DistributedError);
    }
    expect(() => random.bytes(-1)).toThrow(DistributedError);
    expect(() => createSeededRandom(Number.POSITIVE_INFINITY)).toThrow(DistributedError);
  });
});
