/**
 * The embedded {@link LoadBalancerStrategy}: round robin over the nodes it is given.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from '../contracts/cluster-membership.js';
import type { CallOptions } from '../contracts/common.js';
import { DistributedError } from '../contracts/errors.js';
import type { HealthStatus } from '../contracts/health.js';
import type {
  LoadBalancerContext,
  LoadBalancerStrategy,
  NodeHealthReport,
} from '../contracts/load-balancer.js';
import type { LoadBalancingAlgorithm } from '../contracts/load-balancing-algorithm.js';
import { healthReportProblem } from '../core/load-balancing/health-report.js';
import { eligibleNodes, roundRobinPick } from '../core/load-balancing/round-robin.js';
import type { EmbeddedOptions } from './options.js';

/**
 * Options for {@link InMemoryLoadBalancer}.
 *
 * @since 2.0.0
 */
export interface InMemoryLoadBalancerOptions extends EmbeddedOptions {
  /**
   * The most nodes whose latest health report is kept. When a report arrives for
   * a new node and the map is full, the node reported least recently is forgotten
   * (it becomes eligible again, as if never reported). Defaults to 10 000.
   */
  readonly maxTrackedNodes?: number;
}

/** The default of {@link InMemoryLoadBalancerOptions.maxTrackedNodes}. */
const DEFAULT_MAX_TRACKED_NODES = 10_000;

/**
 * Round-robin load balancing over the nodes of each {@link LoadBalancerContext}.
 *
 * Eligible nodes are those of `context.availableNodes` (duplicate ids counted
 * once) that are not `dead` by membership status and whose latest health report
 * is not `unhealthy`. The balancer keeps one counter and picks the eligible node
 * at `counter mod n`, with the eligible nodes sorted by `nodeId`; so over any
 * `k × n` picks from the same `n` eligible nodes each is picked exactly `k`
 * times, whatever order callers list them in, and a changing list just continues
 * the rotation. The request key and metadata are not used.
 *
 * @since 2.0.0
 */
export class InMemoryLoadBalancer implements LoadBalancerStrategy {
  /** Always `round-robin`. */
  readonly algorithm: LoadBalancingAlgorithm = 'round-robin';
  /** Always `round-robin`. */
  readonly algorithmName = 'round-robin';
  /** The most nodes whose latest health report is kept. */
  readonly maxTrackedNodes: number;
  // Insertion order doubles as recency order: a node's entry is re-inserted on every report.
  readonly #reports = new Map<string, NodeHealthReport>();
  #counter = 0;

  /**
   * @param options - Bounds; everything has a default.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` when `maxTrackedNodes` is not a positive integer.
   */
  constructor(options: InMemoryLoadBalancerOptions = {}) {
    const maxTrackedNodes = options.maxTrackedNodes ?? DEFAULT_MAX_TRACKED_NODES;
    if (!Number.isSafeInteger(maxTrackedNodes) || maxTrackedNodes < 1) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `maxTrackedNodes must be a positive integer, got ${String(maxTrackedNodes)}`,
      );
    }
    this.maxTrackedNodes = maxTrackedNodes;
  }

  /**
   * Picks the next eligible node in round-robin order.
   *
   * @param context - The candidate nodes.
   * @returns One of `context.availableNodes`.
   * @throws A {@link DistributedError}: `NO_NODES_AVAILABLE` when there are no candidates;
   *   `NO_HEALTHY_NODES` when every candidate is dead or reported unhealthy;
   *   `INVALID_ARGUMENT` when `context.availableNodes` is not an array.
   */
  selectNode(context: LoadBalancerContext): ClusterNode {
    const candidates: unknown = context.availableNodes;
    if (!Array.isArray(candidates)) {
      throw new DistributedError('INVALID_ARGUMENT', 'context.availableNodes must be an array');
    }
    if (context.availableNodes.length === 0) {
      throw new DistributedError(
        'NO_NODES_AVAILABLE',
        'no nodes to choose from: context.availableNodes is empty',
      );
    }
    const eligible = eligibleNodes(context.availableNodes, (nodeId) => this.#verdictOf(nodeId));
    if (eligible.length === 0) {
      throw new DistributedError(
        'NO_HEALTHY_NODES',
        `none of the ${context.availableNodes.length} candidate nodes may serve: ` +
          'each is dead or its latest health report is unhealthy',
      );
    }
    const chosen = roundRobinPick(eligible, this.#counter);
    // Wrapping keeps the counter a safe integer; the rotation restarts once in 2^53 picks.
    this.#counter = this.#counter >= Number.MAX_SAFE_INTEGER ? 0 : this.#counter + 1;
    return chosen;
  }

  /**
   * Same as {@link InMemoryLoadBalancer.selectNode}; nothing to wait for.
   *
   * @param context - The candidate nodes.
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
   * Records a node's latest report, replacing the previous one. A report without
   * `status` keeps the node's previous verdict.
   *
   * @param nodeId - The node the report is about.
   * @param report - Its load and, optionally, its verdict.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for an empty node id or a report
   *   with negative, non-finite or out-of-range figures; nothing is recorded then.
   */
  reportNodeHealth(nodeId: string, report: NodeHealthReport): void {
    if (typeof nodeId !== 'string' || nodeId === '') {
      throw new DistributedError('INVALID_ARGUMENT', 'nodeId must be a non-empty string');
    }
    const problem = healthReportProblem(report);
    if (problem !== undefined) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `invalid health report for '${nodeId}': ${problem}`,
      );
    }
    const status = report.status ?? this.#reports.get(nodeId)?.status;
    const stored: NodeHealthReport = Object.freeze({
      cpuUsage: report.cpuUsage,
      memoryUsage: report.memoryUsage,
      activeConnections: report.activeConnections,
      averageLatencyMs: report.averageLatencyMs,
      reportedAt: report.reportedAt,
      ...(status === undefined ? {} : { status }),
    });
    this.#reports.delete(nodeId);
    if (this.#reports.size >= this.maxTrackedNodes) {
      const leastRecent = this.#reports.keys().next();
      if (leastRecent.done !== true) this.#reports.delete(leastRecent.value);
    }
    this.#reports.set(nodeId, stored);
  }

  /**
   * The latest report recorded for a node. Its `status` is the latest verdict
   * reported for the node, carried over from an earlier report when the latest
   * one had none.
   *
   * @param nodeId - The node.
   * @returns The recorded report (frozen), or `undefined` when none is recorded.
   */
  getHealthReport(nodeId: string): NodeHealthReport | undefined {
    return this.#reports.get(nodeId);
  }

  #verdictOf(nodeId: string): HealthStatus | undefined {
    return this.#reports.get(nodeId)?.status;
  }
}
