/**
 * The base every strategy of this folder extends: contract plumbing (argument
 * checks, the async variant, health reports, request outcomes, snapshots) over
 * a {@link NodePool}, so a strategy only says how it picks from a view.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from '../contracts/cluster-membership.js';
import type { CallOptions } from '../contracts/common.js';
import { DistributedError } from '../contracts/errors.js';
import type { LoadBalancerContext, NodeHealthReport } from '../contracts/load-balancer.js';
import type { LoadBalancingAlgorithm } from '../contracts/load-balancing-algorithm.js';
import { NodePool, type NodePoolOptions, type PoolView } from './node-pool.js';
import type {
  ActiveStrategy,
  LoadBalancerSnapshot,
  ObservedLoadBalancer,
  RequestOutcome,
} from './observed-load-balancer.js';

/**
 * Options every strategy of this folder accepts.
 *
 * @since 2.0.0
 */
export interface PooledLoadBalancerOptions extends NodePoolOptions {
  /** The random source, uniform in [0, 1). Defaults to `Math.random`; tests and benchmarks pass a seeded one. */
  readonly random?: () => number;
  /**
   * A pool to share with other balancers (the adaptive strategy shares one among
   * its sub-strategies). When given, the {@link NodePoolOptions} here are ignored.
   */
  readonly pool?: NodePool;
}

/**
 * A {@link ObservedLoadBalancer} over a {@link NodePool}.
 *
 * `selectNode` never throws for a non-empty node list: when too few nodes are
 * eligible it routes in panic mode (see {@link NodePoolOptions.panicThreshold}).
 * An empty list is `NO_NODES_AVAILABLE`; a non-array is `INVALID_ARGUMENT`.
 *
 * @since 2.0.0
 */
export abstract class PooledLoadBalancer implements ObservedLoadBalancer {
  /** The algorithm, as the contract names it. */
  abstract readonly algorithm: LoadBalancingAlgorithm;
  /** The precise algorithm, for example `consistent-hashing/maglev`. */
  abstract readonly algorithmName: string;
  /** The shared per-node state. */
  readonly pool: NodePool;
  /** The random source. */
  protected readonly random: () => number;

  /**
   * @param options - Pool options, or a shared pool, and the random source.
   */
  constructor(options: PooledLoadBalancerOptions = {}) {
    this.pool = options.pool ?? new NodePool(options);
    this.random = options.random ?? Math.random;
  }

  /**
   * Chooses the node that serves a request.
   *
   * @param context - The request and the candidates.
   * @returns One of `context.availableNodes`.
   * @throws A {@link DistributedError}: `NO_NODES_AVAILABLE` for an empty list,
   *   `INVALID_ARGUMENT` when `availableNodes` is not an array.
   */
  selectNode(context: LoadBalancerContext): ClusterNode {
    const nodes: unknown = context.availableNodes;
    if (!Array.isArray(nodes)) {
      throw new DistributedError('INVALID_ARGUMENT', 'context.availableNodes must be an array');
    }
    if (nodes.length === 0) {
      throw new DistributedError(
        'NO_NODES_AVAILABLE',
        'no nodes to choose from: context.availableNodes is empty',
      );
    }
    const now = this.pool.now();
    return this.pick(this.pool.view(context.availableNodes, now), context, now);
  }

  /**
   * Same as {@link PooledLoadBalancer.selectNode}; nothing to wait for.
   *
   * @param context - The request and the candidates.
   * @param options - Cancellation.
   * @returns One of `context.availableNodes`.
   */
  async selectNodeAsync(context: LoadBalancerContext, options?: CallOptions): Promise<ClusterNode> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    return this.selectNode(context);
  }

  /**
   * Records a node's latest health report; see {@link NodePool.report}.
   *
   * @param nodeId - The node.
   * @param report - Its figures and, optionally, its verdict.
   */
  reportNodeHealth(nodeId: string, report: NodeHealthReport): void {
    this.pool.report(nodeId, report);
  }

  /**
   * Records that a request was sent to a node.
   *
   * @param nodeId - The node.
   */
  recordRequestStart(nodeId: string): void {
    this.pool.recordRequestStart(nodeId);
  }

  /**
   * Records that a request sent to a node ended.
   *
   * @param nodeId - The node.
   * @param outcome - Latency and success.
   */
  recordRequestEnd(nodeId: string, outcome: RequestOutcome): void {
    this.pool.recordRequestEnd(nodeId, outcome);
  }

  /**
   * What the balancer knows about each node.
   *
   * @returns A frozen snapshot.
   */
  snapshot(): LoadBalancerSnapshot {
    const now = this.pool.now();
    const activeStrategy = this.activeStrategy();
    return Object.freeze({
      algorithm: this.algorithm,
      algorithmName: this.algorithmName,
      takenAt: now,
      panic: this.pool.lastPanic,
      ...(activeStrategy === undefined ? {} : { activeStrategy: Object.freeze(activeStrategy) }),
      nodes: Object.freeze(this.pool.snapshotNodes(now)),
    });
  }

  /**
   * Picks from a view; `view.candidates` is never empty.
   *
   * @param view - The candidates and their weights.
   * @param context - The request.
   * @param now - The current time.
   * @returns One of `view.candidates`.
   */
  protected abstract pick(view: PoolView, context: LoadBalancerContext, now: number): ClusterNode;

  /**
   * For strategies that delegate (adaptive): which one is in use and why.
   *
   * @returns `undefined` for strategies that do not delegate.
   */
  protected activeStrategy(): ActiveStrategy | undefined {
    return undefined;
  }
}

/**
 * The element of `items` at `index`, which the caller knows exists.
 *
 * @param items - A list.
 * @param index - A valid index.
 * @returns The element.
 * @since 2.0.0
 */
export function at<T>(items: readonly T[], index: number): T {
  return items[index] as T;
}
