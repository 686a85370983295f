import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fmix32, hashString } from '../../../src/core/load-balancing/hashing/hash.js';

/** MurmurHash3_x86_32 over bytes, written from the reference algorithm. */
function murmur3Bytes(bytes: Uint8Array, seed: number): number {
  let h = seed | 0;
  const blocks = bytes.length & ~3;
  const mix = (k0: number) => {
    let k = Math.imul(k0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    return Math.imul(k, 0x1b873593);
  };
  for (let i = 0; i < blocks; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h ^= mix(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = bytes.length & 3;
  if (rest > 0) {
    let tail = 0;
    if (rest === 3) tail ^= bytes[blocks + 2]! << 16;
    if (rest >= 2) tail ^= bytes[blocks + 1]! << 8;
    tail ^= bytes[blocks]!;
    h ^= mix(tail);
  }
  h ^= bytes.length;
  return fmix32(h);
}

describe('hashString', () => {
  it('the byte reference reproduces published MurmurHash3_x86_32 vectors', () => {
    const ascii = (text: string) => new TextEncoder().encode(text);
    expect(murmur3Bytes(ascii(''), 0)).toBe(0);
    expect(murmur3Bytes(ascii(''), 1)).toBe(0x514e28b7);
    expect(murmur3Bytes(ascii('test'), 0)).toBe(0xba6bd213);
    expect(murmur3Bytes(ascii('Hello, world!'), 0)).toBe(0xc0363e43);
    expect(murmur3Bytes(ascii('The quick brown fox jumps over the lazy dog'), 0)).toBe(0x2e4ff723);
  });

  it('equals MurmurHash3_x86_32 of the UTF-16LE encoding, for any string and seed', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
        (key, seed) => {
          const bytes = new Uint8Array(Buffer.from(key, 'utf16le'));
          expect(hashString(key, seed)).toBe(murmur3Bytes(bytes, seed >>> 0));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns an unsigned 32-bit integer and defaults the seed to 0', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (key) => {
        const hash = hashString(key);
        expect(Number.isInteger(hash) && hash >= 0 && hash < 2 ** 32).toBe(true);
        expect(hashString(key, 0)).toBe(hash);
      }),
      { numRuns: 100 },
    );
  });

  it('spreads sequential keys evenly over 256 buckets (chi-square below the 99.9% point)', () => {
    const buckets = new Array<number>(256).fill(0);
    const total = 256 * 400;
    for (let i = 0; i < total; i += 1) buckets[hashString(`user:${i}`) >>> 24]! += 1;
    const expected = total / 256;
    const chiSquare = buckets.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(330); // 99.9th percentile of χ² with 255 degrees of freedom
  });

  it('flips about half the output bits when one input bit flips (avalanche)', () => {
    let flipped = 0;
    let trials = 0;
    for (let i = 0; i < 2000; i += 1) {
      const key = `k${i}x`;
      const changed = key.slice(0, -1) + String.fromCharCode(key.charCodeAt(key.length - 1) ^ 1);
      let diff = hashString(key) ^ hashString(changed);
      while (diff !== 0) {
        flipped += diff & 1;
        diff >>>= 1;
      }
      trials += 32;
    }
    expect(flipped / trials).toBeGreaterThan(0.47);
    expect(flipped / trials).toBeLessThan(0.53);
  });
});
