/**
 * How a replicated store settles concurrent writes to the same key.
 *
 * @packageDocumentation
 */

/**
 * Every replication-wide conflict resolution mode.
 *
 * - `last-writer-wins`: the write with the latest timestamp survives.
 * - `vector-clock`: causally newer writes win; truly concurrent ones are kept as siblings.
 * - `crdt`: values are conflict-free replicated data types and merge deterministically.
 * - `custom-resolver`: an application-supplied function decides.
 * - `manual`: conflicts are surfaced to an operator and held until resolved.
 *
 * This is the store-wide setting; {@link ConflictResolutionStrategy} is the
 * per-conflict outcome reported by {@link ReplicationSync}.
 *
 * @since 2.0.0
 */
export const CONFLICT_RESOLUTIONS = Object.freeze([
  'last-writer-wins',
  'vector-clock',
  'crdt',
  'custom-resolver',
  'manual',
] as const);

/**
 * A replication-wide conflict resolution mode; see {@link CONFLICT_RESOLUTIONS}.
 *
 * @since 2.0.0
 */
export type ConflictResolution = (typeof CONFLICT_RESOLUTIONS)[number];
