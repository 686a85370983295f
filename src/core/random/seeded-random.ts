/**
 * A small, fast, seeded pseudo-random generator (sfc32, seeded through
 * splitmix32), pure and deterministic: the same seed gives the same sequence on
 * every platform. It matches the runtime's `RandomSource` structurally, and
 * {@link SeededRandom.fork} derives independent streams (one per simulated
 * node, one for the network model, ...) from one seed.
 *
 * Not cryptographically strong: use it for simulation and reproducible tests,
 * never for keys or nonces that must be unpredictable.
 *
 * @packageDocumentation
 */

import { fmix32 } from '../load-balancing/hashing/hash.js';
import { DistributedError } from '../../contracts/errors.js';

/** 2^32 as a float, for turning a uint32 into [0, 1). */
const TWO_POW_32 = 4294967296;
/** 2^-53, for turning 53 random bits into [0, 1). */
const TWO_POW_MINUS_53 = 1 / 9007199254740992;
/**
 * The largest `bytes(length)` request, 64 MiB: a bound against a runaway
 * caller allocating unbounded memory.
 *
 * @since 2.0.0
 */
export const MAX_RANDOM_BYTES = 64 * 1024 * 1024;

/**
 * Hashes a string to 32 bits (FNV-1a over UTF-16 code units, then a murmur3
 * finaliser so that nearby strings give far-apart seeds).
 *
 * @param text - Any string.
 * @param basis - A 32-bit value mixed in first (lets `fork` chain labels).
 * @returns An unsigned 32-bit hash.
 * @since 2.0.0
 */
export function hashString32(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** Turns a numeric seed (any finite number) into 32 bits, keeping high bits of large integers. */
function numberSeed32(seed: number): number {
  if (!Number.isFinite(seed)) {
    throw new DistributedError('INVALID_ARGUMENT', `seed must be a finite number, got ${seed}`);
  }
  if (Number.isInteger(seed) && Math.abs(seed) <= Number.MAX_SAFE_INTEGER) {
    const low = seed >>> 0;
    const high = Math.floor(seed / TWO_POW_32) >>> 0;
    return fmix32(low ^ fmix32(high ^ 0x9e3779b9));
  }
  return hashString32(String(seed));
}

/**
 * A seeded generator: sfc32 state (128 bits) plus the 32-bit key it was made
 * from, which `fork` uses so that forking never consumes the parent's stream.
 *
 * @since 2.0.0
 */
export class SeededRandom {
  /** The 32-bit key this generator was seeded from; forks derive from it. */
  readonly key: number;
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /**
   * Prefer {@link createSeededRandom}, which also accepts strings.
   *
   * @param key - A 32-bit key (taken modulo 2^32).
   */
  constructor(key: number) {
    this.key = key >>> 0;
    // splitmix32 spreads the key over the 128-bit state.
    let s = this.key;
    const split = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = split();
    this.#b = split();
    this.#c = split();
    this.#d = 1;
    // Discard the first outputs: sfc32 needs a few rounds to mix a fresh state.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /**
   * The next uniform unsigned 32-bit integer; the generator's core step.
   *
   * @returns An integer in [0, 2^32).
   */
  nextUint32(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.#c = (r + t) | 0;
    return t >>> 0;
  }

  /**
   * A uniform number in [0, 1) with 53 bits of resolution.
   *
   * @returns A float in [0, 1).
   */
  next(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) * TWO_POW_MINUS_53;
  }

  /**
   * A uniform integer in [0, `maxExclusive`), without modulo bias.
   *
   * @param maxExclusive - A positive safe integer.
   * @returns An integer in [0, maxExclusive).
   * @throws DistributedError `INVALID_ARGUMENT` when `maxExclusive` is not a positive safe integer.
   */
  int(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `maxExclusive must be a positive safe integer, got ${maxExclusive}`,
      );
    }
    if (maxExclusive <= TWO_POW_32) {
      // Rejection sampling: reject the top sliver that would bias the modulo.
      const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
      for (;;) {
        const x = this.nextUint32();
        if (x < limit) return x % maxExclusive;
      }
    }
    // Larger ranges: 53 random bits, rejected above the largest multiple.
    const range = 9007199254740992;
    const limit = range - (range % maxExclusive);
    for (;;) {
      const x = (this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6);
      if (x < limit) return x % maxExclusive;
    }
  }

  /**
   * Uniform random bytes.
   *
   * @param length - How many bytes; an integer in [0, {@link MAX_RANDOM_BYTES}].
   * @returns A fresh array the caller owns.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad length.
   */
  bytes(length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 0 || length > MAX_RANDOM_BYTES) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `length must be an integer in [0, ${MAX_RANDOM_BYTES}], got ${length}`,
      );
    }
    const out = new Uint8Array(length);
    let i = 0;
    for (; i + 4 <= length; i += 4) {
      const x = this.nextUint32();
      out[i] = x & 0xff;
      out[i + 1] = (x >>> 8) & 0xff;
      out[i + 2] = (x >>> 16) & 0xff;
      out[i + 3] = x >>> 24;
    }
    if (i < length) {
      let x = this.nextUint32();
      for (; i < length; i++) {
        out[i] = x & 0xff;
        x >>>= 8;
      }
    }
    return out;
  }

  /**
   * An independent generator for a named sub-stream (e.g. `node:n3`). It is
   * derived from this generator's key and the label only, so it does not
   * consume or depend on draws already made here: forks are stable however the
   * parent has been used.
   *
   * @param label - Any string naming the sub-stream.
   * @returns A new generator.
   */
  fork(label: string): SeededRandom {
    return new SeededRandom(hashString32(label, fmix32(this.key ^ 0x2545f491)));
  }
}

/**
 * Creates a seeded generator. Integer seeds up to 2^53 and strings are both
 * accepted; the same seed always gives the same sequence.
 *
 * @example
 * ```ts
 * const random = createSeededRandom(42);
 * const nodeRandom = random.fork('node:n1');
 * nodeRandom.int(10);
 * ```
 *
 * @param seed - A finite number or any string.
 * @returns The generator.
 * @throws DistributedError `INVALID_ARGUMENT` for a non-finite numeric seed.
 * @since 2.0.0
 */
export function createSeededRandom(seed: number | string): SeededRandom {
  const key = typeof seed === 'string' ? hashString32(seed) : numberSeed32(seed);
  return new SeededRandom(key);
}
