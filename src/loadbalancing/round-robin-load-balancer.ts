/**
 * Round robin over the eligible nodes.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from '../contracts/cluster-membership.js';
import type { PoolView } from './node-pool.js';
import { at, PooledLoadBalancer } from './pooled-load-balancer.js';

/**
 * Each eligible node in turn, in node-id order (so callers listing the same
 * nodes in different orders share one fair rotation). Weights and slow start
 * are ignored; use `SmoothWeightedRoundRobinLoadBalancer` for those.
 *
 * @since 2.0.0
 */
export class RoundRobinLoadBalancer extends PooledLoadBalancer {
  /** Always `round-robin`. */
  readonly algorithm = 'round-robin';
  /** Always `round-robin`. */
  readonly algorithmName: string = 'round-robin';
  #counter = 0;

  /**
   * @param view - The candidates.
   * @returns The next one in rotation.
   */
  protected pick(view: PoolView): ClusterNode {
    const candidates = view.candidates;
    const index = this.#counter % candidates.length;
    // Wrapping keeps the counter a small integer; the rotation restarts once in 2^30 picks.
    this.#counter = this.#counter >= 0x3fffffff ? 0 : this.#counter + 1;
    return at(candidates, index);
  }
}
