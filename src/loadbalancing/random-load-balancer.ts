/**
 * Random choice over the eligible nodes, uniform or weighted.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from '../contracts/cluster-membership.js';
import { cumulativeWeights, weightedRandomIndex } from '../core/load-balancing/selection.js';
import type { PoolView } from './node-pool.js';
import { at, PooledLoadBalancer, type PooledLoadBalancerOptions } from './pooled-load-balancer.js';

/**
 * Options of {@link RandomLoadBalancer}.
 *
 * @since 2.0.0
 */
export interface RandomLoadBalancerOptions extends PooledLoadBalancerOptions {
  /**
   * Choose with probability proportional to each node's weight (see
   * `NodePoolOptions.weights`) times its slow-start factor, instead of
   * uniformly. Defaults to `false`.
   */
  readonly weighted?: boolean;
}

/**
 * A node chosen at random from the eligible ones: uniformly (`random`), or in
 * proportion to weight (`random/weighted`, O(log n) by binary search over
 * running totals cached per view).
 *
 * @since 2.0.0
 */
export class RandomLoadBalancer extends PooledLoadBalancer {
  /** Always `random`. */
  readonly algorithm = 'random';
  /** `random` or `random/weighted`. */
  readonly algorithmName: string;
  /** Whether the choice is weighted. */
  readonly weighted: boolean;
  #view: PoolView | undefined;
  #cumulative: Float64Array = new Float64Array(0);

  /**
   * @param options - Pool options, the random source and `weighted`.
   */
  constructor(options: RandomLoadBalancerOptions = {}) {
    super(options);
    this.weighted = options.weighted ?? false;
    this.algorithmName = this.weighted ? 'random/weighted' : 'random';
  }

  /**
   * @param view - The candidates and weights.
   * @returns A random candidate.
   */
  protected pick(view: PoolView): ClusterNode {
    const candidates = view.candidates;
    if (!this.weighted) return at(candidates, Math.floor(this.random() * candidates.length));
    if (this.#view !== view) {
      this.#cumulative = cumulativeWeights(view.weights);
      this.#view = view;
    }
    return at(candidates, weightedRandomIndex(this.#cumulative, this.random));
  }
}
