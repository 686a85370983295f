/**
 * The load-balancing algorithms the SDK knows by name.
 *
 * @packageDocumentation
 */

/**
 * Every load-balancing algorithm.
 *
 * - `round-robin`: each node in turn.
 * - `least-connections`: the node with the fewest active connections or requests.
 * - `weighted-round-robin`: each node in turn, in proportion to its weight.
 * - `latency-based`: the node with the lowest observed latency.
 * - `consistent-hashing`: the same request key goes to the same node while membership is stable.
 * - `random`: a node chosen uniformly at random.
 * - `resource-aware`: the node with the most headroom in CPU, memory and connections.
 * - `adaptive`: switches among the others according to observed conditions.
 *
 * @since 2.0.0
 */
export const LOAD_BALANCING_ALGORITHMS = Object.freeze([
  'round-robin',
  'least-connections',
  'weighted-round-robin',
  'latency-based',
  'consistent-hashing',
  'random',
  'resource-aware',
  'adaptive',
] as const);

/**
 * A load-balancing algorithm; see {@link LOAD_BALANCING_ALGORITHMS}.
 *
 * @since 2.0.0
 */
export type LoadBalancingAlgorithm = (typeof LOAD_BALANCING_ALGORITHMS)[number];
