/**
 * The argument checks every `ClusterConfigStore` makes before it does
 * anything: one definition, so the embedded, etcd and Raft stores refuse the
 * same input in the same words.
 *
 * @packageDocumentation
 */

import type { ConfigExpectation } from '../../contracts/cluster-config.js';
import { DistributedError } from '../../contracts/errors.js';

/**
 * Size limits of keys and values, in UTF-8 bytes.
 *
 * @since 2.0.0
 */
export interface ConfigArgumentLimits {
  /** Longest key. */
  readonly maxKeyBytes: number;
  /** Largest value. */
  readonly maxValueBytes: number;
}

const utf8 = new TextEncoder();

function invalid(message: string): DistributedError {
  return new DistributedError('INVALID_ARGUMENT', message);
}

/**
 * Checks a key: a non-empty string of at most `maxKeyBytes` UTF-8 bytes.
 *
 * @param key - The key as given.
 * @param limits - The store's limits.
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` otherwise.
 * @since 2.0.0
 */
export function checkConfigKey(key: unknown, limits: ConfigArgumentLimits): asserts key is string {
  if (typeof key !== 'string' || key === '') throw invalid('key must be a non-empty string');
  if (utf8.encode(key).length > limits.maxKeyBytes) {
    throw invalid(`key is over ${String(limits.maxKeyBytes)} UTF-8 bytes`);
  }
}

/**
 * Checks a value: a string of at most `maxValueBytes` UTF-8 bytes.
 *
 * @param value - The value as given.
 * @param limits - The store's limits.
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` otherwise.
 * @since 2.0.0
 */
export function checkConfigValue(
  value: unknown,
  limits: ConfigArgumentLimits,
): asserts value is string {
  if (typeof value !== 'string') throw invalid('value must be a string');
  if (utf8.encode(value).length > limits.maxValueBytes) {
    throw invalid(`value is over ${String(limits.maxValueBytes)} UTF-8 bytes`);
  }
}

/**
 * Checks a compare-and-set expectation: `{ revision }` with a non-negative
 * integer, or `{ value }` with a valid value or `undefined`.
 *
 * @param expected - The expectation as given.
 * @param limits - The store's limits.
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` otherwise.
 * @since 2.0.0
 */
export function checkConfigExpectation(
  expected: unknown,
  limits: ConfigArgumentLimits,
): asserts expected is ConfigExpectation {
  if (typeof expected !== 'object' || expected === null) {
    throw invalid('expected must be { revision } or { value }');
  }
  if ('revision' in expected) {
    const { revision } = expected;
    if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
      throw invalid('expected.revision must be a non-negative integer');
    }
    return;
  }
  if ('value' in expected) {
    const { value } = expected;
    if (value !== undefined) checkConfigValue(value, limits);
    return;
  }
  throw invalid('expected must be { revision } or { value }');
}
