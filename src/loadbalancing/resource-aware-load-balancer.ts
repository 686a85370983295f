/**
 * Resource-aware selection: weighted random choice by headroom, computed from
 * the CPU, memory, connection and latency figures nodes report.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from '../contracts/cluster-membership.js';
import { DistributedError } from '../contracts/errors.js';
import {
  DEFAULT_RESOURCE_POLICY,
  headroomScore,
  resourceExclusion,
  type ResourceFigures,
  type ResourcePolicy,
} from '../core/load-balancing/resource.js';
import { cumulativeWeights, weightedRandomIndex } from '../core/load-balancing/selection.js';
import type { PoolView } from './node-pool.js';
import { at, PooledLoadBalancer, type PooledLoadBalancerOptions } from './pooled-load-balancer.js';

/**
 * Options of {@link ResourceAwareLoadBalancer}.
 *
 * @since 2.0.0
 */
export interface ResourceAwareLoadBalancerOptions extends PooledLoadBalancerOptions {
  /** Exclusion limits and score weights; each defaults to {@link DEFAULT_RESOURCE_POLICY}. */
  readonly resourcePolicy?: Partial<ResourcePolicy>;
  /**
   * The figures assumed for a node that has not reported yet. Defaults to 50 %
   * CPU and memory, no connections, no latency: middling, so a new node gets
   * traffic (and so reports) without being preferred over idle known ones.
   */
  readonly unreportedFigures?: ResourceFigures;
}

const DEFAULT_UNREPORTED: ResourceFigures = Object.freeze({
  cpuUsage: 50,
  memoryUsage: 50,
  activeConnections: 0,
  averageLatencyMs: 0,
});

/**
 * Excludes eligible nodes over any limit of the policy, then chooses among the
 * rest at random with probability proportional to
 * `headroom × weight × slow-start factor` (see {@link headroomScore}).
 * A node's connection figure is the larger of its report and the requests in
 * flight recorded here. When every eligible node is over a limit, the choice is
 * made among all of them by headroom rather than failing (they are overloaded,
 * not broken).
 *
 * The weights are recomputed when a report or a request start/end changes
 * them; between changes each selection is O(log n).
 *
 * @since 2.0.0
 */
export class ResourceAwareLoadBalancer extends PooledLoadBalancer {
  /** Always `resource-aware`. */
  readonly algorithm = 'resource-aware';
  /** Always `resource-aware/headroom`. */
  readonly algorithmName: string = 'resource-aware/headroom';
  /** The policy in force. */
  readonly resourcePolicy: ResourcePolicy;
  readonly #unreported: ResourceFigures;
  #view: PoolView | undefined;
  #loadVersion = -1;
  #indices: number[] = [];
  #cumulative: Float64Array = new Float64Array(0);

  /**
   * @param options - Pool options, the random source, the policy.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for a negative limit or weight.
   */
  constructor(options: ResourceAwareLoadBalancerOptions = {}) {
    super(options);
    const policy: ResourcePolicy = { ...DEFAULT_RESOURCE_POLICY, ...options.resourcePolicy };
    for (const [field, value] of Object.entries(policy)) {
      if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
        throw new DistributedError(
          'INVALID_ARGUMENT',
          `resourcePolicy.${field} must be a non-negative number, got ${String(value)}`,
        );
      }
    }
    this.resourcePolicy = Object.freeze(policy);
    this.#unreported = options.unreportedFigures ?? DEFAULT_UNREPORTED;
  }

  /**
   * @param view - The candidates and weights.
   * @returns A candidate chosen by headroom.
   */
  protected pick(view: PoolView): ClusterNode {
    if (this.#view !== view || this.#loadVersion !== this.pool.loadVersion) this.#rescore(view);
    const chosen = weightedRandomIndex(this.#cumulative, this.random);
    return at(view.candidates, at(this.#indices, chosen));
  }

  #rescore(view: PoolView): void {
    const policy = this.resourcePolicy;
    const figures = view.candidates.map((node) => this.#figuresOf(node.nodeId));
    let indices = figures.flatMap((entry, index) =>
      resourceExclusion(entry, policy) === undefined ? [index] : [],
    );
    if (indices.length === 0) indices = figures.map((_entry, index) => index);
    this.#indices = indices;
    this.#cumulative = cumulativeWeights(
      indices.map((index) => headroomScore(at(figures, index), policy) * at(view.weights, index)),
    );
    this.#view = view;
    this.#loadVersion = this.pool.loadVersion;
  }

  #figuresOf(nodeId: string): ResourceFigures {
    const report = this.pool.healthReport(nodeId) ?? this.#unreported;
    const inFlight = this.pool.activeRequests(nodeId);
    if (inFlight <= report.activeConnections) return report;
    return { ...report, activeConnections: inFlight };
  }
}
