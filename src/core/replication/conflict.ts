/**
 * The built-in conflict rules of replication sync (DIST-05): validating a conflict,
 * choosing between the two values for `local-wins`, `remote-wins` and `latest-wins`,
 * and the version a settled value is stored under.
 *
 * Pure and deterministic: every node that settles the same conflict with the same rule
 * ends with the same value and version.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import type { ConflictResolutionStrategy, SyncConflict } from '../../contracts/replication-sync.js';
import { VectorClock } from '../../contracts/vector-clock.js';

/**
 * The strategies settled by a fixed rule, with no registered resolver.
 *
 * @since 2.0.0
 */
export const BUILT_IN_CONFLICT_STRATEGIES = Object.freeze([
  'local-wins',
  'remote-wins',
  'latest-wins',
] as const);

/**
 * A strategy settled by a fixed rule; see {@link BUILT_IN_CONFLICT_STRATEGIES}.
 *
 * @since 2.0.0
 */
export type BuiltInConflictStrategy = (typeof BUILT_IN_CONFLICT_STRATEGIES)[number];

/**
 * Whether a strategy is settled by a fixed rule rather than a registered resolver.
 *
 * @param strategy - The strategy to check.
 * @returns `true` for `local-wins`, `remote-wins` and `latest-wins`.
 * @since 2.0.0
 */
export function isBuiltInConflictStrategy(
  strategy: ConflictResolutionStrategy,
): strategy is BuiltInConflictStrategy {
  return (BUILT_IN_CONFLICT_STRATEGIES as readonly string[]).includes(strategy);
}

/**
 * Which side of a conflict a rule kept.
 *
 * @since 2.0.0
 */
export type ConflictSide = 'local' | 'remote';

/**
 * Compares two byte strings in unsigned byte-by-byte order; a value that is a prefix of
 * the other is the smaller.
 *
 * @param a - The first value.
 * @param b - The second value.
 * @returns A negative number when `a` sorts first, positive when `b` does, `0` when equal.
 * @since 2.0.0
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const common = Math.min(a.byteLength, b.byteLength);
  for (let index = 0; index < common; index += 1) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.byteLength - b.byteLength;
}

/**
 * Chooses the side a built-in strategy keeps.
 *
 * `latest-wins` keeps the later timestamp; at equal timestamps the value greater in
 * {@link compareBytes} order, so two nodes that see the conflict from opposite sides keep
 * the same value. Versions do not take part: a conflict is two values the store already
 * decided conflict, and the contract defines `latest-wins` by timestamp alone. When the
 * values are identical either side is the same value; `local` is reported.
 *
 * @param conflict - A valid conflict (see {@link validateSyncConflict}).
 * @param strategy - The rule to apply.
 * @returns The side whose value is kept.
 * @since 2.0.0
 */
export function chooseConflictSide(
  conflict: SyncConflict,
  strategy: BuiltInConflictStrategy,
): ConflictSide {
  switch (strategy) {
    case 'local-wins':
      return 'local';
    case 'remote-wins':
      return 'remote';
    case 'latest-wins': {
      if (conflict.localTimestamp !== conflict.remoteTimestamp) {
        return conflict.localTimestamp > conflict.remoteTimestamp ? 'local' : 'remote';
      }
      return compareBytes(conflict.localValue, conflict.remoteValue) >= 0 ? 'local' : 'remote';
    }
  }
}

/**
 * The version a settled value is stored under: the merge of both versions when the
 * conflict carries both, so it supersedes each and is the same on every node.
 *
 * @param conflict - A valid conflict.
 * @returns The merged version, or `undefined` when either version is absent.
 * @since 2.0.0
 */
export function resolvedConflictVersion(conflict: SyncConflict): VectorClock | undefined {
  if (conflict.localVersion === undefined || conflict.remoteVersion === undefined) {
    return undefined;
  }
  return conflict.localVersion.merge(conflict.remoteVersion);
}

/**
 * Checks that a conflict is well-formed: a non-empty key, two `Uint8Array` values,
 * finite non-negative timestamps, and versions (when present) that are `VectorClock`s.
 *
 * @param conflict - The conflict to check, from an untrusted caller.
 * @throws A {@link DistributedError} with code `INVALID_ARGUMENT`, naming the first malformed field.
 * @since 2.0.0
 */
export function validateSyncConflict(conflict: SyncConflict): void {
  const invalid = (message: string): never => {
    throw new DistributedError('INVALID_ARGUMENT', `malformed conflict: ${message}`);
  };
  // Callers may be untyped JavaScript: check the shape, not only the values.
  if (typeof conflict !== 'object' || (conflict as unknown) === null) {
    invalid('a conflict must be an object');
  }
  if (typeof conflict.key !== 'string' || conflict.key.length === 0) {
    invalid('key must be a non-empty string');
  }
  if (!(conflict.localValue instanceof Uint8Array)) invalid('localValue must be a Uint8Array');
  if (!(conflict.remoteValue instanceof Uint8Array)) invalid('remoteValue must be a Uint8Array');
  for (const field of ['localTimestamp', 'remoteTimestamp'] as const) {
    const value = conflict[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      invalid(`${field} must be a finite, non-negative number of epoch milliseconds`);
    }
  }
  for (const field of ['localVersion', 'remoteVersion'] as const) {
    const value = conflict[field];
    if (value !== undefined && !(value instanceof VectorClock)) {
      invalid(`${field} must be a VectorClock when present`);
    }
  }
}
