/**
 * Latency-based selection: EWMA of observed latency, or Finagle's peak EWMA.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from '../contracts/cluster-membership.js';
import { DistributedError } from '../contracts/errors.js';
import { powerOfChoices } from '../core/load-balancing/selection.js';
import { validChoiceCount } from './least-request-load-balancer.js';
import type { PoolView } from './node-pool.js';
import { at, PooledLoadBalancer, type PooledLoadBalancerOptions } from './pooled-load-balancer.js';

/**
 * The two latency estimators.
 *
 * - `ewma`: time-decayed EWMA of successful request latencies (the node's
 *   reported `averageLatencyMs` until a request is recorded). Cost = EWMA / weight.
 * - `peak-ewma`: Finagle's peak EWMA, which jumps to a new peak at once and
 *   decays towards 0 while a node is not used (so it is probed again), times the
 *   requests in flight plus one. Cost = peak EWMA × (in flight + 1) / weight.
 *
 * @since 2.0.0
 */
export type LatencyVariant = 'ewma' | 'peak-ewma';

/**
 * Options of {@link LatencyBasedLoadBalancer}.
 *
 * @since 2.0.0
 */
export interface LatencyBasedLoadBalancerOptions extends PooledLoadBalancerOptions {
  /** The estimator; defaults to `ewma`. */
  readonly variant?: LatencyVariant;
  /** How many random candidates to compare per selection; defaults to 2. */
  readonly choiceCount?: number;
}

/**
 * Picks the candidate with the lowest latency cost among `choiceCount` sampled
 * at random (power of two choices by default, so one fast node is not
 * stampeded). A node with no latency known costs 0, so new nodes are tried.
 * Ties on latency go to fewer requests in flight.
 *
 * The latency time constant is `NodePoolOptions.latencyDecayMs`.
 *
 * @since 2.0.0
 */
export class LatencyBasedLoadBalancer extends PooledLoadBalancer {
  /** Always `latency-based`. */
  readonly algorithm = 'latency-based';
  /** `latency-based/ewma` or `latency-based/peak-ewma`. */
  readonly algorithmName: string;
  /** The estimator. */
  readonly variant: LatencyVariant;
  /** How many candidates each selection compares. */
  readonly choiceCount: number;

  /**
   * @param options - Pool options, the random source, `variant` and `choiceCount`.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for an unknown variant or a bad choice count.
   */
  constructor(options: LatencyBasedLoadBalancerOptions = {}) {
    super(options);
    const variant: unknown = options.variant ?? 'ewma';
    if (variant !== 'ewma' && variant !== 'peak-ewma') {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `latency variant must be 'ewma' or 'peak-ewma', got ${String(variant)}`,
      );
    }
    this.variant = variant;
    this.choiceCount = validChoiceCount(options.choiceCount);
    this.algorithmName = `latency-based/${variant}`;
  }

  /**
   * @param view - The candidates and weights.
   * @param _context - Unused.
   * @param now - The current time (peak EWMA decays with it).
   * @returns The cheapest of a random sample.
   */
  protected pick(view: PoolView, _context: unknown, now: number): ClusterNode {
    const { candidates, weights } = view;
    const pool = this.pool;
    const costOf =
      this.variant === 'peak-ewma'
        ? (i: number) => {
            const id = at(candidates, i).nodeId;
            return (pool.peakEwma(id, now) * (pool.activeRequests(id) + 1)) / at(weights, i);
          }
        : (i: number) => {
            const id = at(candidates, i).nodeId;
            // The small in-flight term breaks ties (equal or unknown latency) by load.
            return ((pool.latencyEwma(id) ?? 0) + pool.activeRequests(id) * 1e-6) / at(weights, i);
          };
    return at(candidates, powerOfChoices(candidates.length, this.choiceCount, costOf, this.random));
  }
}
