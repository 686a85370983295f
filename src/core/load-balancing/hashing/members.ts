/**
 * The members a consistent-hashing structure is built from, and the one
 * validation every structure of this folder applies to them.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../../contracts/errors.js';

/**
 * A member of a consistent-hashing structure: a node id and its weight.
 *
 * @since 2.0.0
 */
export interface HashMember {
  /** The member's id (for example a node id); unique within one structure. */
  readonly id: string;
  /**
   * The member's relative capacity: a finite number greater than 0, where 1 is
   * a normal member and 2 takes about twice the keys.
   */
  readonly weight: number;
}

/**
 * Validates members and puts them in a canonical order (by id, in UTF-16
 * code-unit order), so that a structure built from the same members listed in
 * any order is identical, and so that ties between equal hash values are broken
 * the same way whatever else is in the structure.
 *
 * @param members - The members as the caller listed them.
 * @param structure - The structure's name, for error messages.
 * @returns Frozen copies of the members, sorted by id.
 * @throws DistributedError `INVALID_ARGUMENT` when an id is not a string, an id
 *   appears twice, or a weight is not a finite number greater than 0.
 * @since 2.0.0
 */
export function canonicalMembers(
  members: readonly HashMember[],
  structure: string,
): readonly HashMember[] {
  const seen = new Set<string>();
  const copies: HashMember[] = [];
  for (const member of members) {
    const { id, weight } = member;
    if (typeof id !== 'string') {
      throw new DistributedError('INVALID_ARGUMENT', `${structure}: a member id must be a string`);
    }
    if (seen.has(id)) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `${structure}: member id '${id}' is listed twice; ids must be unique`,
      );
    }
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `${structure}: member '${id}' has weight ${String(weight)}; a weight must be a finite number greater than 0`,
      );
    }
    seen.add(id);
    copies.push(Object.freeze({ id, weight }));
  }
  copies.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return Object.freeze(copies);
}

/**
 * Checks that a count argument (`count` of `preferred`) is a non-negative integer.
 *
 * @param count - The value to check.
 * @param structure - The structure's name, for error messages.
 * @throws DistributedError `INVALID_ARGUMENT` otherwise.
 * @since 2.0.0
 */
export function assertCount(count: number, structure: string): void {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `${structure}: count must be a non-negative integer, got ${String(count)}`,
    );
  }
}
