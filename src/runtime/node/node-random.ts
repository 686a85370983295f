/**
 * The Node runtime's random source: `node:crypto`, or a seeded generator for
 * reproducible runs.
 *
 * @packageDocumentation
 */

import { randomFillSync } from 'node:crypto';
import { DistributedError } from '../../contracts/errors.js';
import { createSeededRandom, MAX_RANDOM_BYTES } from '../../core/random/seeded-random.js';
import type { RandomSource } from '../runtime.js';

/** 2^32 and 2^53 as floats. */
const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/**
 * How many random bytes are fetched from the kernel at once for `next` and
 * `int`: one `randomFillSync` call per 512 numbers instead of one each.
 */
const POOL_BYTES = 4096;

/**
 * A cryptographically strong {@link RandomSource} over `node:crypto`. `next`
 * and `int` draw from a pool refilled in 4 KiB blocks; `bytes` fills a fresh
 * array straight from the kernel's generator.
 *
 * @since 2.0.0
 */
export class CryptoRandom implements RandomSource {
  readonly #pool = new Uint8Array(POOL_BYTES);
  readonly #view = new DataView(this.#pool.buffer);
  #offset = POOL_BYTES;

  /** A uniform number in [0, 1), with 53 bits of resolution. */
  next(): number {
    return this.#next53() / TWO_POW_53;
  }

  /**
   * A uniform integer in [0, `maxExclusive`), without modulo bias.
   *
   * @param maxExclusive - A positive safe integer.
   * @throws DistributedError `INVALID_ARGUMENT` when it is not one.
   */
  int(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `maxExclusive must be a positive safe integer, got ${String(maxExclusive)}`,
      );
    }
    if (maxExclusive <= TWO_POW_32) {
      const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
      for (;;) {
        const x = this.#nextUint32();
        if (x < limit) return x % maxExclusive;
      }
    }
    const limit = TWO_POW_53 - (TWO_POW_53 % maxExclusive);
    for (;;) {
      const x = this.#next53();
      if (x < limit) return x % maxExclusive;
    }
  }

  /**
   * Uniform random bytes from the kernel's generator.
   *
   * @param length - An integer in [0, 64 Mi] (`MAX_RANDOM_BYTES` of `core/random`).
   * @returns A fresh array the caller owns.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad length.
   */
  bytes(length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 0 || length > MAX_RANDOM_BYTES) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `length must be an integer in [0, ${MAX_RANDOM_BYTES}], got ${String(length)}`,
      );
    }
    return randomFillSync(new Uint8Array(length));
  }

  #nextUint32(): number {
    if (this.#offset + 4 > POOL_BYTES) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const value = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return value;
  }

  #next53(): number {
    return (this.#nextUint32() >>> 5) * 67108864 + (this.#nextUint32() >>> 6);
  }
}

/**
 * Options of {@link createNodeRandom}.
 *
 * @since 2.0.0
 */
export interface NodeRandomOptions {
  /**
   * Makes the source reproducible: the same seed and label give the same
   * sequence (see `createSeededRandom` in `core/random`). Not
   * cryptographically strong, so only for tests and reproducible experiments.
   * Absent by default: the source is then `node:crypto`.
   */
  readonly seed?: number | string;
  /**
   * Names this source's sub-stream of the seed, so that several nodes given one
   * seed do not draw identical numbers. Ignored without a seed. The Node
   * runtime passes `node:<nodeId>`. Default: none (the seed's own stream).
   */
  readonly label?: string;
}

/**
 * Makes the Node runtime's random source: {@link CryptoRandom} by default, a
 * seeded generator when `seed` is given.
 *
 * @param options - The optional seed and sub-stream label.
 * @throws DistributedError `INVALID_ARGUMENT` for a non-finite numeric seed.
 * @since 2.0.0
 */
export function createNodeRandom(options: NodeRandomOptions = {}): RandomSource {
  if (options.seed === undefined) return new CryptoRandom();
  const seeded = createSeededRandom(options.seed);
  return options.label === undefined ? seeded : seeded.fork(options.label);
}
