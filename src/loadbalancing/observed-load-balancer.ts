/**
 * The interface every strategy of this folder implements: a
 * {@link LoadBalancerStrategy} that also learns from the requests it routes and
 * can describe the per-node load it sees.
 *
 * @packageDocumentation
 */

import type { HealthStatus } from '../contracts/health.js';
import type { ClusterNode } from '../contracts/cluster-membership.js';
import type { CallOptions } from '../contracts/common.js';
import type { LoadBalancerContext, LoadBalancerStrategy } from '../contracts/load-balancer.js';

/**
 * How a request routed to a node ended.
 *
 * @since 2.0.0
 */
export interface RequestOutcome {
  /** How long the request took, in milliseconds; finite and non-negative. */
  readonly latencyMs: number;
  /**
   * Whether it succeeded. Failures count towards outlier ejection and are left
   * out of the latency averages (a fast failure must not make a node look fast).
   */
  readonly success: boolean;
}

/**
 * What a balancer knows about one node.
 *
 * @since 2.0.0
 */
export interface NodeLoadSnapshot {
  /** The node. */
  readonly nodeId: string;
  /** Requests routed to it that have started and not ended. */
  readonly activeRequests: number;
  /** The time-decayed EWMA of its successful request latencies (ms), once there is one. */
  readonly latencyEwmaMs?: number;
  /** The peak-sensitive EWMA of its latencies (ms) as of the snapshot, once there is one. */
  readonly peakEwmaMs?: number;
  /** Its latest health verdict, once one was reported. */
  readonly verdict?: HealthStatus;
  /** Its latest reported CPU usage (%), once reported. */
  readonly cpuUsage?: number;
  /** Its latest reported memory usage (%), once reported. */
  readonly memoryUsage?: number;
  /** Its latest reported connection count, once reported. */
  readonly reportedActiveConnections?: number;
  /** Its latest reported average latency (ms), once reported. */
  readonly reportedLatencyMs?: number;
  /** Failed requests since its last success. */
  readonly consecutiveFailures: number;
  /** Whether outlier detection has ejected it right now. */
  readonly ejected: boolean;
  /** Until when it is ejected, while it is. */
  readonly ejectedUntil?: number;
  /** How many times it was ejected (drives the backoff). */
  readonly ejections: number;
  /** The fraction of its weight slow start currently gives it (1 when ramped up). */
  readonly slowStartFactor: number;
}

/**
 * Which strategy a delegating balancer (`adaptive`) uses, and why.
 *
 * @since 2.0.0
 */
export interface ActiveStrategy {
  /** The precise name of the strategy in use, for example `latency-based/peak-ewma`. */
  readonly algorithmName: string;
  /** Why it is in use, in words. */
  readonly reason: string;
  /** Since when, in the balancer's clock. */
  readonly since: number;
}

/**
 * A balancer's view of the load it routes, for diagnostics and dashboards
 * (the `dw` node's "per-node load it sees").
 *
 * @since 2.0.0
 */
export interface LoadBalancerSnapshot {
  /** The balancer's {@link LoadBalancerStrategy.algorithm}. */
  readonly algorithm: LoadBalancerStrategy['algorithm'];
  /** The balancer's precise {@link LoadBalancerStrategy.algorithmName}. */
  readonly algorithmName: string;
  /** When the snapshot was taken, in the balancer's clock. */
  readonly takenAt: number;
  /** Whether the latest selection was routed in panic mode (too few healthy nodes). */
  readonly panic: boolean;
  /** For `adaptive`: the strategy in use and why. */
  readonly activeStrategy?: ActiveStrategy;
  /** Every node the balancer tracks, sorted by id. */
  readonly nodes: readonly NodeLoadSnapshot[];
}

/**
 * A {@link LoadBalancerStrategy} that is told when the requests it routed start
 * and end, and uses that (requests in flight, latency, failures) in later selections.
 *
 * Callers that can, should call {@link ObservedLoadBalancer.recordRequestStart}
 * when they send a request to the chosen node and
 * {@link ObservedLoadBalancer.recordRequestEnd} exactly once when it ends.
 * Strategies that ignore load still track it, for outlier ejection and
 * {@link ObservedLoadBalancer.snapshot}.
 *
 * @since 2.0.0
 */
export interface ObservedLoadBalancer extends LoadBalancerStrategy {
  /**
   * Chooses the node that serves a request. Never throws for a non-empty list:
   * when too few candidates are eligible it routes in panic mode.
   *
   * @param context - The request and the candidate nodes.
   * @returns One of `context.availableNodes`.
   * @throws A `DistributedError`: `NO_NODES_AVAILABLE` when `context.availableNodes` is empty.
   */
  selectNode(context: LoadBalancerContext): ClusterNode;

  /**
   * Same as {@link ObservedLoadBalancer.selectNode}, after checking the signal.
   *
   * @param context - The request and the candidate nodes.
   * @param options - Cancellation.
   * @returns One of `context.availableNodes`.
   */
  selectNodeAsync(context: LoadBalancerContext, options?: CallOptions): Promise<ClusterNode>;

  /**
   * Records that a request was sent to a node.
   *
   * @param nodeId - The node; a non-empty string.
   * @throws `DistributedError` `INVALID_ARGUMENT` for an empty node id.
   */
  recordRequestStart(nodeId: string): void;

  /**
   * Records that a request sent to a node ended.
   *
   * @param nodeId - The node; a non-empty string.
   * @param outcome - Its latency and whether it succeeded.
   * @throws `DistributedError` `INVALID_ARGUMENT` for an empty node id or a
   *   negative or non-finite latency; nothing is recorded then.
   */
  recordRequestEnd(nodeId: string, outcome: RequestOutcome): void;

  /**
   * What the balancer currently knows about each node.
   *
   * @returns A frozen snapshot.
   */
  snapshot(): LoadBalancerSnapshot;
}

/**
 * Whether a strategy is an {@link ObservedLoadBalancer}.
 *
 * @param strategy - Any strategy.
 * @returns `true` when it accepts request outcomes.
 * @since 2.0.0
 */
export function isObservedLoadBalancer(
  strategy: LoadBalancerStrategy,
): strategy is ObservedLoadBalancer {
  const candidate = strategy as Partial<ObservedLoadBalancer>;
  return (
    typeof candidate.recordRequestStart === 'function' &&
    typeof candidate.recordRequestEnd === 'function' &&
    typeof candidate.snapshot === 'function'
  );
}
