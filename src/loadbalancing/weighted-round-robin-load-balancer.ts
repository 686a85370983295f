/**
 * Smooth weighted round robin (nginx) over the eligible nodes.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from '../contracts/cluster-membership.js';
import { SmoothWeightedRoundRobin } from '../core/load-balancing/selection.js';
import type { PoolView } from './node-pool.js';
import { at, PooledLoadBalancer } from './pooled-load-balancer.js';

/**
 * Weighted round robin that interleaves heavy nodes with light ones (weights
 * 5, 1, 1 give a a b a c a a, not a a a a a b c). Over each cycle of
 * `sum(weights)` picks with integer weights, every node is picked exactly its
 * weight's number of times.
 *
 * A node's weight comes from the `weights` option, else `metadata.weight`,
 * else 1 (see `NodePoolOptions.weights`), times its slow-start factor.
 * When the eligible set or a weight changes, the rotation starts a new cycle.
 *
 * @since 2.0.0
 */
export class SmoothWeightedRoundRobinLoadBalancer extends PooledLoadBalancer {
  /** Always `weighted-round-robin`. */
  readonly algorithm = 'weighted-round-robin';
  /** Always `weighted-round-robin/smooth`. */
  readonly algorithmName: string = 'weighted-round-robin/smooth';
  #view: PoolView | undefined;
  #signature = '';
  #rotation: SmoothWeightedRoundRobin | undefined;

  /**
   * @param view - The candidates and weights.
   * @returns The next node of the smooth rotation.
   */
  protected pick(view: PoolView): ClusterNode {
    let rotation = this.#rotation;
    if (rotation === undefined || this.#view !== view) {
      // A new view with the same nodes and weights keeps the rotation where it is.
      const signature = candidateSignature(view);
      if (rotation === undefined || signature !== this.#signature) {
        rotation = new SmoothWeightedRoundRobin(view.weights);
        this.#rotation = rotation;
        this.#signature = signature;
      }
      this.#view = view;
    }
    return at(view.candidates, rotation.next());
  }
}

function candidateSignature(view: PoolView): string {
  return view.candidates
    .map((node, index) => `${node.nodeId}\u0000${view.weights[index] ?? 1}`)
    .join('\u0001');
}
