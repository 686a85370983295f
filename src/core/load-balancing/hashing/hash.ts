/**
 * The string hash every consistent-hashing algorithm of this folder uses.
 *
 * @packageDocumentation
 */

/**
 * A fast non-cryptographic 32-bit hash of a string: MurmurHash3 (x86, 32-bit)
 * of the string's UTF-16LE encoding, computed straight from the UTF-16 code
 * units (two per 32-bit block) without encoding the string first.
 *
 * Because it equals MurmurHash3_x86_32 over `Buffer.from(key, 'utf16le')`, any
 * other implementation can reproduce it. Lone surrogates are hashed as the code
 * units they are. Not for security: an adversary who knows the seed can craft
 * collisions.
 *
 * @param key - The string to hash.
 * @param seed - Selects one of many independent-looking hash functions; any
 *   number, used as its low 32 bits. Defaults to 0.
 * @returns An unsigned 32-bit integer.
 * @since 2.0.0
 */
export function hashString(key: string, seed = 0): number {
  let h = seed | 0;
  const length = key.length;
  const pairs = length & ~1;
  let i = 0;
  while (i < pairs) {
    let k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16);
    i += 2;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < length) {
    // The odd last code unit is a 2-byte tail of the UTF-16LE encoding.
    let k = key.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= length * 2; // the length in bytes, as the reference algorithm mixes it
  return fmix32(h);
}

/**
 * The MurmurHash3 finalizer: a bijection on 32-bit integers in which every
 * input bit affects every output bit (avalanche). Used to derive further
 * well-mixed values from a hash without hashing the string again.
 *
 * @param value - Any number; its low 32 bits are mixed.
 * @returns An unsigned 32-bit integer.
 * @since 2.0.0
 */
export function fmix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
