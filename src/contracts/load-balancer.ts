/**
 * DIST-02: load balancing — a pluggable strategy that picks which cluster node
 * serves a request, informed by the nodes' reported load and health.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from './cluster-membership.js';
import type { CallOptions } from './common.js';
import type { HealthStatus } from './health.js';
import type { LoadBalancingAlgorithm } from './load-balancing-algorithm.js';

/**
 * What a strategy is asked to choose among: one request and the nodes that may
 * serve it.
 *
 * @since 2.0.0
 */
export interface LoadBalancerContext {
  /**
   * Identifies the request. `consistent-hashing` sends the same key to the same
   * node while the candidate nodes stay the same; other algorithms may ignore it.
   */
  readonly requestKey: string;
  /**
   * The nodes that may serve the request, usually the cluster's active members.
   * The chosen node is always one of these.
   */
  readonly availableNodes: readonly ClusterNode[];
  /** Free-form hints about the request, for example the client's `zone`. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * The load and health of one node, as reported to a strategy through
 * {@link LoadBalancerStrategy.reportNodeHealth}. The latest report for a node
 * replaces the previous one.
 *
 * @since 2.0.0
 */
export interface NodeHealthReport {
  /** CPU usage as a percentage, from 0 to 100. */
  readonly cpuUsage: number;
  /** Memory usage as a percentage, from 0 to 100. */
  readonly memoryUsage: number;
  /** How many connections or requests the node is currently serving. */
  readonly activeConnections: number;
  /** The node's recent average request latency, in milliseconds. */
  readonly averageLatencyMs: number;
  /** When the figures were measured, in epoch milliseconds. */
  readonly reportedAt: number;
  /**
   * The node's health verdict, when the reporter has one. A node whose latest
   * verdict is `unhealthy` is excluded from selection; `healthy` and `degraded`
   * nodes are eligible. When omitted, the report carries load figures only and
   * leaves the node's previous verdict (initially `healthy`) unchanged.
   */
  readonly status?: HealthStatus;
}

/**
 * DIST-02: a pluggable load-balancing strategy. Chooses the node that serves a
 * request from the candidates in a {@link LoadBalancerContext}, using the load
 * and health reported for each node.
 *
 * A node is excluded by health when the latest {@link NodeHealthReport} for it
 * has `status: 'unhealthy'`. When every candidate is excluded, a strategy either
 * throws `NO_HEALTHY_NODES` or, if it has a panic threshold, routes to one of the
 * candidates anyway (spreading load rather than failing every request); a
 * strategy with a panic threshold may also do so when most candidates are excluded.
 *
 * @since 2.0.0
 */
export interface LoadBalancerStrategy {
  /** A human-readable name of the strategy, for logs and diagnostics. */
  readonly algorithmName: string;

  /** The algorithm the strategy implements. */
  readonly algorithm: LoadBalancingAlgorithm;

  /**
   * Chooses the node that serves a request.
   *
   * @param context - The request and the candidate nodes.
   * @returns One of `context.availableNodes`.
   * @throws {@link DistributedError} `NO_NODES_AVAILABLE` when `context.availableNodes`
   *   is empty; `NO_HEALTHY_NODES` when every candidate is excluded by health
   *   (strategies without a panic threshold).
   */
  selectNode(context: LoadBalancerContext): ClusterNode;

  /**
   * Chooses the node that serves a request, for strategies that may need to
   * wait (for example to refresh load figures). Same rules as
   * {@link LoadBalancerStrategy.selectNode}.
   *
   * @param context - The request and the candidate nodes.
   * @param options - Cancellation.
   * @returns One of `context.availableNodes`.
   * @throws {@link DistributedError} `NO_NODES_AVAILABLE` when `context.availableNodes`
   *   is empty; `NO_HEALTHY_NODES` when every candidate is excluded by health.
   */
  selectNodeAsync(context: LoadBalancerContext, options?: CallOptions): Promise<ClusterNode>;

  /**
   * Records the latest load and health of a node, used by later selections.
   * A node may be reported before it appears in any context.
   *
   * @param nodeId - The node the report is about.
   * @param report - The node's load and, optionally, its health verdict.
   */
  reportNodeHealth(nodeId: string, report: NodeHealthReport): void;
}
