/**
 * The consistency guarantees a read or a sync can ask for.
 *
 * @packageDocumentation
 */

/**
 * Every consistency level, weakest first.
 *
 * - `eventual`: replicas converge once updates stop; a read may return stale data.
 * - `read-your-writes`: a client always sees its own writes.
 * - `causal`: writes that are causally related are seen in causal order everywhere.
 * - `bounded-staleness`: a read is at most a configured lag behind the latest write.
 * - `strong`: every read sees the latest acknowledged write (linearizable).
 *
 * @since 2.0.0
 */
export const CONSISTENCY_LEVELS = Object.freeze([
  'eventual',
  'read-your-writes',
  'causal',
  'bounded-staleness',
  'strong',
] as const);

/**
 * A consistency guarantee; see {@link CONSISTENCY_LEVELS}.
 *
 * @since 2.0.0
 */
export type ConsistencyLevel = (typeof CONSISTENCY_LEVELS)[number];
