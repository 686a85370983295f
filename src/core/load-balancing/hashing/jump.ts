/**
 * Jump consistent hash (Lamping and Veach, "A Fast, Minimal Memory, Consistent
 * Hash Algorithm", 2014) over string keys.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../../contracts/errors.js';
import { hashString } from './hash.js';

/**
 * The bucket in `[0, buckets)` a key belongs to, by jump consistent hash: when
 * `buckets` grows from n to n + 1, exactly the keys that move go to the new bucket
 * n (about 1/(n + 1) of them), and each bucket receives about 1/n of the keys. It
 * needs no table and no rebuild, but buckets are numbers, not ids: only the last
 * bucket can be removed, so it suits numbered shards rather than arbitrary
 * membership.
 *
 * What differs from the paper: the paper draws its jump lengths from a 64-bit
 * linear congruential generator seeded with a 64-bit key. JavaScript has no fast
 * 64-bit integer (BigInt in the loop is about 20× slower), so this version seeds a
 * 32-bit counter-based generator (a SplitMix-style Weyl sequence through the
 * MurmurHash3 finalizer, all `Math.imul`) with {@link hashString}, and computes
 * each jump in floating point: `j = floor((b + 1) / r)` with r uniform in (0, 1].
 * The algorithm's guarantees need only that the sequence of r is a fixed function
 * of the key, so they hold unchanged; the bucket numbers differ from other
 * implementations. The 32-bit resolution of r is ample below about 10^8 buckets.
 * Expected cost: one string hash plus ln(buckets) + 1 steps.
 *
 * @param key - Any string.
 * @param buckets - The number of buckets: an integer from 1 to 2^31.
 * @returns The bucket index.
 * @throws DistributedError `INVALID_ARGUMENT` when `buckets` is not an integer in [1, 2^31].
 * @since 2.0.0
 */
export function jumpHash(key: string, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 2 ** 31) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `jumpHash: buckets must be an integer from 1 to 2^31, got ${String(buckets)}`,
    );
  }
  let state = hashString(key);
  let bucket = 0;
  let candidate = 0;
  while (candidate < buckets) {
    bucket = candidate;
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    // r = ((z >>> 0) + 1) / 2^32 in (0, 1]; the next bucket at which this key jumps.
    candidate = Math.floor(((bucket + 1) * 4294967296) / ((z >>> 0) + 1));
  }
  return bucket;
}
