import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import { jumpHash } from '../../../src/core/load-balancing/hashing/jump.js';
import { keys } from './helpers.js';

describe('jumpHash', () => {
  it('returns a bucket in range, the same every time', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 2 ** 31 }), (key, buckets) => {
        const bucket = jumpHash(key, buckets);
        expect(Number.isInteger(bucket) && bucket >= 0 && bucket < buckets).toBe(true);
        expect(jumpHash(key, buckets)).toBe(bucket);
      }),
      { numRuns: 200 },
    );
  });

  it('growing from n to n + 1 buckets moves keys only to the new bucket', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 1000 }), (key, buckets) => {
        const before = jumpHash(key, buckets);
        const after = jumpHash(key, buckets + 1);
        expect(after === before || after === buckets).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('spreads keys evenly and moves about 1/(n + 1) of them when growing', () => {
    const sample = keys(50_000);
    const counts = new Array<number>(10).fill(0);
    let moved = 0;
    for (const key of sample) {
      const bucket = jumpHash(key, 10);
      counts[bucket]! += 1;
      if (jumpHash(key, 11) !== bucket) moved += 1;
    }
    for (const count of counts) expect(Math.abs(count / 5000 - 1)).toBeLessThan(0.06);
    expect(Math.abs(moved / sample.length - 1 / 11)).toBeLessThan(0.01);
  });

  it('rejects a bucket count that is not an integer in [1, 2^31]', () => {
    for (const buckets of [0, -1, 1.5, Number.NaN, 2 ** 31 + 1]) {
      expect(() => jumpHash('k', buckets)).toThrow(DistributedError);
    }
  });
});
