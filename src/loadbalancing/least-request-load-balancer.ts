/**
 * Least request with power-of-N-choices, Envoy's take on least connections.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from '../contracts/cluster-membership.js';
import { DistributedError } from '../contracts/errors.js';
import { powerOfChoices } from '../core/load-balancing/selection.js';
import type { PoolView } from './node-pool.js';
import { at, PooledLoadBalancer, type PooledLoadBalancerOptions } from './pooled-load-balancer.js';

/**
 * Options of {@link LeastRequestLoadBalancer}.
 *
 * @since 2.0.0
 */
export interface LeastRequestLoadBalancerOptions extends PooledLoadBalancerOptions {
  /**
   * How many random candidates to compare per selection; a positive integer.
   * 2 (the default) avoids the herding of a full scan (every client sending to
   * the same least-loaded node) at almost the same balance; a value at or above
   * the number of candidates compares them all.
   */
  readonly choiceCount?: number;
}

/**
 * Samples `choiceCount` eligible nodes and picks the one with the least load
 * per unit of weight: `(load + 1) / weight`, where load is the larger of the
 * requests in flight recorded through {@link PooledLoadBalancer.recordRequestStart}
 * and the `activeConnections` last reported (the report already includes this
 * balancer's own requests), and weight includes slow start. Between equal loads
 * the node with the lower latency EWMA wins (Envoy picks at random there; with
 * uneven nodes at low load, most comparisons are such ties).
 *
 * @since 2.0.0
 */
export class LeastRequestLoadBalancer extends PooledLoadBalancer {
  /** Always `least-connections`. */
  readonly algorithm = 'least-connections';
  /** `least-connections/p2c` (with the choice count in place of 2). */
  readonly algorithmName: string;
  /** How many candidates each selection compares. */
  readonly choiceCount: number;

  /**
   * @param options - Pool options, the random source and `choiceCount`.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` when `choiceCount` is not a positive integer.
   */
  constructor(options: LeastRequestLoadBalancerOptions = {}) {
    super(options);
    this.choiceCount = validChoiceCount(options.choiceCount);
    this.algorithmName = `least-connections/p${this.choiceCount}c`;
  }

  /**
   * @param view - The candidates and weights.
   * @returns The least loaded of a random sample.
   */
  protected pick(view: PoolView): ClusterNode {
    const { candidates, weights } = view;
    const pool = this.pool;
    const index = powerOfChoices(
      candidates.length,
      this.choiceCount,
      (i) => (pool.load(at(candidates, i).nodeId) + 1) / at(weights, i),
      this.random,
      // At low load most comparisons are ties (both idle); a random pick then sends a
      // slow node its full share. The lower latency EWMA breaks the tie instead.
      (i) => pool.latencyEwma(at(candidates, i).nodeId) ?? 0,
    );
    return at(candidates, index);
  }
}

/**
 * Checks a choice count option.
 *
 * @param choiceCount - The option, or `undefined` for the default 2.
 * @returns The count.
 * @throws A {@link DistributedError}: `INVALID_ARGUMENT` when not a positive integer.
 * @since 2.0.0
 */
export function validChoiceCount(choiceCount: number | undefined): number {
  const value = choiceCount ?? 2;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `choiceCount must be a positive integer, got ${String(choiceCount)}`,
    );
  }
  return value;
}
