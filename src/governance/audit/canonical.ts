/**
 * The canonical encoding the audit trail hashes, and the hash and MAC over it.
 *
 * The canonical encoding of a value is its JSON text with no whitespace, object keys in
 * ascending UTF-16 code-unit order, strings escaped as `JSON.stringify` escapes them, and
 * numbers restricted to safe integers (written in decimal, no exponent, no `-0`). It is
 * RFC 8785 (JSON Canonicalization Scheme) restricted to integers, so one value has
 * exactly one encoding and any JCS implementation reproduces it. Hashes are SHA-256 of
 * the encoding's UTF-8 bytes, in lower-case hex.
 *
 * @packageDocumentation
 */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { DistributedError } from '../../contracts/errors.js';

/**
 * A value the canonical encoding accepts.
 *
 * @since 2.0.0
 */
export type CanonicalValue =
  | string
  | number
  | boolean
  | null
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue };

/**
 * The hash a chain starts from: the `prevHash` of the first entry ever appended.
 *
 * @since 2.0.0
 */
export const GENESIS_HASH = '0'.repeat(64);

/** Lower-case hex SHA-256 digests and MACs. */
const HEX_64 = /^[0-9a-f]{64}$/;

/**
 * Whether `value` is a lower-case hex SHA-256 digest (64 characters).
 *
 * @param value - Anything.
 * @since 2.0.0
 */
export function isHash(value: unknown): value is string {
  return typeof value === 'string' && HEX_64.test(value);
}

/**
 * The canonical encoding of `value` (see the module documentation).
 *
 * @param value - Strings, safe integers, booleans, null, arrays and plain objects.
 * @throws DistributedError `INVALID_ARGUMENT` for a number that is not a safe integer
 *   (or is `-0`) and for any other type.
 * @since 2.0.0
 */
export function canonicalJson(value: CanonicalValue): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `canonical numbers are safe integers, got ${String(value)}`,
      );
    }
    return String(value);
  }
  if (Array.isArray(value))
    return `[${value.map((item) => canonicalJson(item as CanonicalValue)).join(',')}]`;
  if (typeof value === 'object') {
    const record = value as { readonly [key: string]: CanonicalValue };
    const keys = Object.keys(record).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key] as CanonicalValue)}`).join(',')}}`;
  }
  throw new DistributedError('INVALID_ARGUMENT', `cannot encode a ${typeof value} canonically`);
}

/**
 * SHA-256 of the canonical encoding of `value`, lower-case hex.
 *
 * @param value - The value.
 * @since 2.0.0
 */
export function canonicalHash(value: CanonicalValue): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}

/**
 * HMAC-SHA-256 of `domain` and `hash` under `key`, lower-case hex. The domain (`entry`,
 * `head`, `checkpoint`) keeps a MAC of one kind of record from being replayed as
 * another's.
 *
 * @param key - The secret key.
 * @param domain - What kind of record the hash belongs to.
 * @param hash - The record's hash.
 * @since 2.0.0
 */
export function macOf(key: Uint8Array, domain: string, hash: string): string {
  return createHmac('sha256', key).update(`${domain}:${hash}`, 'utf8').digest('hex');
}

/**
 * Whether `mac` is the MAC of `domain` and `hash` under `key`, compared in constant
 * time.
 *
 * @param key - The secret key.
 * @param domain - What kind of record the hash belongs to.
 * @param hash - The record's hash.
 * @param mac - The stored MAC, possibly malformed.
 * @since 2.0.0
 */
export function macMatches(key: Uint8Array, domain: string, hash: string, mac: unknown): boolean {
  if (!isHash(mac)) return false;
  return timingSafeEqual(Buffer.from(macOf(key, domain, hash), 'hex'), Buffer.from(mac, 'hex'));
}
