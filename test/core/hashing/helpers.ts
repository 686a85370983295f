import fc from 'fast-check';
import { expect } from 'vitest';
import { thrownCode } from '../../../src/testing/compliance/error-code.js';
import type { HashMember } from '../../../src/core/load-balancing/hashing/ring.js';

/** Distinct member ids, short enough that ids share prefixes (a harder case for the hash). */
export const memberIds = (min: number, max: number) =>
  fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: min, maxLength: max });

/** Members of weight 1. */
export function equalMembers(ids: readonly string[]): HashMember[] {
  return ids.map((id) => ({ id, weight: 1 }));
}

/** A deterministic list of distinct keys. */
export function keys(count: number, prefix = 'key'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}:${i.toString(36)}`);
}

/** Counts how many keys each id receives. */
export function countBy(keysToCount: readonly string[], pick: (key: string) => string | undefined) {
  const counts = new Map<string, number>();
  for (const key of keysToCount) {
    const id = pick(key);
    if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Asserts that `build` throws a DistributedError with code INVALID_ARGUMENT. */
export function expectInvalid(build: () => unknown): void {
  expect(thrownCode(build)).toBe('INVALID_ARGUMENT');
}
