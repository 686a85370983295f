/**
 * Argument checks shared by the embedded defaults. Each throws
 * `DistributedError('INVALID_ARGUMENT')` naming the argument, before any state changes.
 */

import { DistributedError } from '../contracts/errors.js';

/** A non-empty string. */
export function requireNonEmpty(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new DistributedError('INVALID_ARGUMENT', `${name} must be a non-empty string`);
  }
}

/** A non-negative safe integer. */
export function requireCount(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new DistributedError('INVALID_ARGUMENT', `${name} must be a non-negative integer`);
  }
}

/** A finite, non-negative epoch-milliseconds time. */
export function requireTime(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `${name} must be a finite, non-negative number of epoch milliseconds`,
    );
  }
}

/** A plain object mapping names to strings. */
export function requireLabels(name: string, value: unknown): void {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    !Object.values(value).every((label) => typeof label === 'string')
  ) {
    throw new DistributedError('INVALID_ARGUMENT', `${name} must map names to strings`);
  }
}
