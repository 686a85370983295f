/**
 * DIST-04: auto-scaling — deciding from load metrics whether the cluster needs
 * more or fewer nodes, and adding or removing them.
 *
 * @packageDocumentation
 */

import type { CallOptions, Listener, Unsubscribe } from './common.js';
import type { ErrorCode } from './errors.js';

/**
 * Every scaling action.
 *
 * - `no-action`: keep the current number of nodes.
 * - `scale-out`: add nodes.
 * - `scale-in`: remove nodes.
 *
 * @since 2.0.0
 */
export const SCALING_ACTIONS = Object.freeze(['no-action', 'scale-out', 'scale-in'] as const);

/**
 * A scaling action; see {@link SCALING_ACTIONS}.
 *
 * @since 2.0.0
 */
export type ScalingAction = (typeof SCALING_ACTIONS)[number];

/**
 * Every kind of scaling event.
 *
 * - `evaluated`: the scaler reached a decision (which may be `no-action`).
 * - `scale-out-started`: adding nodes began.
 * - `scale-out-completed`: adding nodes succeeded.
 * - `scale-in-started`: removing nodes began.
 * - `scale-in-completed`: removing nodes succeeded.
 * - `scaling-failed`: adding or removing nodes failed.
 *
 * @since 2.0.0
 */
export const SCALING_EVENT_TYPES = Object.freeze([
  'evaluated',
  'scale-out-started',
  'scale-out-completed',
  'scale-in-started',
  'scale-in-completed',
  'scaling-failed',
] as const);

/**
 * A kind of scaling event; see {@link SCALING_EVENT_TYPES}.
 *
 * @since 2.0.0
 */
export type ScalingEventType = (typeof SCALING_EVENT_TYPES)[number];

/**
 * Load figures a scaling decision is based on, for the whole cluster or for one node.
 *
 * @since 2.0.0
 */
export interface ScalingMetrics {
  /** CPU usage as a percentage, from 0 to 100. */
  readonly cpuUsage: number;
  /** Memory usage as a percentage, from 0 to 100. */
  readonly memoryUsage: number;
  /** Storage usage as a percentage, from 0 to 100. */
  readonly storageUsage: number;
  /** How many connections or requests are currently being served. */
  readonly activeConnections: number;
  /** How many requests or jobs are waiting to be served. */
  readonly queueDepth: number;
  /** When the figures were collected, in epoch milliseconds, when known. */
  readonly collectedAt?: number;
}

/**
 * The outcome of evaluating whether to scale.
 *
 * @since 2.0.0
 */
export interface ScalingDecision {
  /** What to do. */
  readonly action: ScalingAction;
  /** Why, in words a person can act on (for example which threshold was crossed). */
  readonly reason: string;
  /** How many nodes the cluster should have after the action. */
  readonly targetNodeCount: number;
  /** The {@link ScalingPolicy.policyName} of the policy that decided, when a policy did. */
  readonly policyName?: string;
}

/**
 * What an {@link AutoScaler} evaluates: the cluster's metrics, its size and the
 * bounds it must stay within.
 *
 * @since 2.0.0
 */
export interface ScalingContext {
  /** The cluster-wide metrics. */
  readonly metrics: ScalingMetrics;
  /** How many nodes the cluster has now. */
  readonly currentNodeCount: number;
  /** The fewest nodes the cluster may have. */
  readonly minNodes: number;
  /** The most nodes the cluster may have. */
  readonly maxNodes: number;
  /**
   * The metrics of each node, keyed by node id, when known; lets the scaler
   * choose which nodes to remove or spot a single overloaded node.
   */
  readonly nodeMetrics?: Readonly<Record<string, ScalingMetrics>>;
}

/**
 * The details of one node to add, as a person supplies them when approving a
 * proposed scale-out, so the node can be deployed and joined to the cluster.
 *
 * @since 2.0.0
 */
export interface NewNodeSpec {
  /** The id the new node will have; when omitted, the implementation assigns one. */
  readonly nodeId?: string;
  /** The new node's network address (host name or IP). */
  readonly address: string;
  /** The new node's cluster port. */
  readonly port: number;
  /** Free-form labels for the new node, for example `zone`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * A request to add nodes to the cluster.
 *
 * @since 2.0.0
 */
export interface ScaleOutRequest {
  /** How many nodes to add; a positive integer. */
  readonly requestedNodes: number;
  /** Why the nodes are added, passed on in scaling events. */
  readonly reason: string;
  /**
   * The id of the scaling proposal this request approves, when the scale-out was
   * proposed (for example by an evaluation) and then approved by a person.
   */
  readonly proposalId?: string;
  /**
   * The details of each node to add, one entry per requested node
   * (`nodes.length` equals `requestedNodes`). When omitted, the implementation
   * provisions the nodes itself, if it can.
   */
  readonly nodes?: readonly NewNodeSpec[];
}

/**
 * A request to remove nodes from the cluster.
 *
 * @since 2.0.0
 */
export interface ScaleInRequest {
  /** The ids of the nodes to remove. */
  readonly nodeIds: readonly string[];
  /** Why the nodes are removed, passed on in scaling events. */
  readonly reason: string;
  /**
   * How long each node may take to finish its work and hand off its data before
   * it is removed, in milliseconds. When omitted, the implementation's default applies.
   */
  readonly drainTimeoutMs?: number;
}

/**
 * The outcome of a scale-out or scale-in. Build it with `ScalingResult.ok`
 * or `ScalingResult.error`.
 *
 * @since 2.0.0
 */
export interface ScalingResult {
  /** Whether the action succeeded. */
  readonly success: boolean;
  /** The action that was attempted. */
  readonly action: ScalingAction;
  /** The ids of the nodes added or removed (on failure, those affected before it failed). */
  readonly nodesAffected: readonly string[];
  /** How many nodes the cluster had before the action. */
  readonly previousNodeCount: number;
  /** How many nodes the cluster has after the action. */
  readonly newNodeCount: number;
  /** How long the action took, in milliseconds. */
  readonly durationMs: number;
  /** What went wrong, present when `success` is `false`. */
  readonly errorMessage?: string;
  /** The stable code of what went wrong, present when `success` is `false`. */
  readonly errorCode?: ErrorCode;
}

/**
 * Helpers that build `ScalingResult` values (the interface of the same name).
 *
 * @example
 * ```ts
 * ScalingResult.ok({
 *   action: 'scale-out',
 *   nodesAffected: ['node-4'],
 *   previousNodeCount: 3,
 *   newNodeCount: 4,
 *   durationMs: 1200,
 * });
 * ScalingResult.error('NO_ACTUATOR', 'no way to provision nodes is configured', {
 *   action: 'scale-out',
 *   previousNodeCount: 3,
 * });
 * ```
 *
 * @since 2.0.0
 */
export const ScalingResult = Object.freeze({
  /**
   * Builds a successful result.
   *
   * @param fields - What was done and how the cluster's size changed.
   * @returns A result with `success: true` and no error fields.
   *
   * @since 2.0.0
   */
  ok(fields: Omit<ScalingResult, 'success' | 'errorMessage' | 'errorCode'>): ScalingResult {
    return {
      success: true,
      action: fields.action,
      nodesAffected: fields.nodesAffected,
      previousNodeCount: fields.previousNodeCount,
      newNodeCount: fields.newNodeCount,
      durationMs: fields.durationMs,
    };
  },

  /**
   * Builds a failed result.
   *
   * @param code - The stable code of what went wrong.
   * @param message - What went wrong, in words a person can act on.
   * @param fields - The action attempted and the cluster's size before it; optionally
   *   the nodes affected before the failure (default none), the size after it
   *   (default unchanged) and how long it took (default 0).
   * @returns A result with `success: false`, `errorCode` and `errorMessage`.
   *
   * @since 2.0.0
   */
  error(
    code: ErrorCode,
    message: string,
    fields: Pick<ScalingResult, 'action' | 'previousNodeCount'> &
      Partial<Pick<ScalingResult, 'nodesAffected' | 'newNodeCount' | 'durationMs'>>,
  ): ScalingResult {
    return {
      success: false,
      action: fields.action,
      nodesAffected: fields.nodesAffected ?? [],
      previousNodeCount: fields.previousNodeCount,
      newNodeCount: fields.newNodeCount ?? fields.previousNodeCount,
      durationMs: fields.durationMs ?? 0,
      errorMessage: message,
      errorCode: code,
    };
  },
});

/**
 * Something the auto-scaler decided or did.
 *
 * @since 2.0.0
 */
export interface ScalingEvent {
  /** What happened. */
  readonly eventType: ScalingEventType;
  /** The action decided (for `evaluated`) or attempted. */
  readonly action: ScalingAction;
  /** When it happened, in epoch milliseconds. */
  readonly timestamp: number;
  /** More about what happened, for example the decision's reason or the error message. */
  readonly detail?: string;
  /** The nodes concerned, when known (nodes added or removed). */
  readonly nodeIds?: readonly string[];
}

/**
 * A snapshot of the auto-scaler's state.
 *
 * @since 2.0.0
 */
export interface ScalingState {
  /** How many nodes the cluster has now. */
  readonly currentNodeCount: number;
  /** How many nodes the scaler is working towards; equals `currentNodeCount` when idle. */
  readonly targetNodeCount: number;
  /** Whether a scale-out or scale-in is in progress. */
  readonly isScaling: boolean;
  /** The last scale-out or scale-in attempted, if any, whether or not it succeeded. */
  readonly lastAction?: ScalingAction;
  /** When the last action finished, in epoch milliseconds, if any. */
  readonly lastActionAt?: number;
  /** The last decision {@link AutoScaler.evaluate} reached, if any. */
  readonly lastDecision?: ScalingDecision;
}

/**
 * DIST-04: a scaling policy — one rule that decides from metrics whether the
 * cluster should grow or shrink (for example a CPU threshold).
 *
 * The policy sees only metrics; a policy that needs the cluster's size to set
 * {@link ScalingDecision.targetNodeCount} gets it from its own configuration or
 * dependencies. The {@link AutoScaler} keeps the final target within its bounds.
 *
 * @since 2.0.0
 */
export interface ScalingPolicy {
  /** The policy's name, reported as {@link ScalingDecision.policyName}. */
  readonly policyName: string;

  /**
   * Decides whether the cluster should scale.
   *
   * @param metrics - The cluster-wide metrics.
   * @param options - Cancellation.
   * @returns The policy's decision; `no-action` when no change is needed.
   */
  shouldScale(metrics: ScalingMetrics, options?: CallOptions): Promise<ScalingDecision>;
}

/**
 * DIST-04: an auto-scaler. Evaluates whether the cluster should grow or shrink,
 * adds and removes nodes, and reports what it does.
 *
 * Evaluating never changes the cluster; only {@link AutoScaler.scaleOut} and
 * {@link AutoScaler.scaleIn} do. Those report failure in the returned
 * {@link ScalingResult} (with an `errorCode`, for example `NO_ACTUATOR` when
 * nothing can add or remove nodes) rather than by rejecting. They reject only
 * when cancelled, or with a {@link DistributedError} `INVALID_ARGUMENT` for a
 * malformed request, which changes nothing and emits nothing (the same rule as
 * {@link ReplicationSync.sync} and {@link AutoTier.migrate}).
 *
 * @since 2.0.0
 */
export interface AutoScaler {
  /**
   * Subscribes to scaling events.
   *
   * @param listener - Called with every event.
   * @returns A disposer that removes the listener.
   */
  onScalingEvent(listener: Listener<ScalingEvent>): Unsubscribe;

  /**
   * Decides whether the cluster should scale, and emits an `evaluated` event.
   * The decision is remembered as {@link ScalingState.lastDecision}.
   *
   * @param context - The cluster's metrics, size and bounds.
   * @param options - Cancellation.
   * @returns A decision whose `targetNodeCount` is between `context.minNodes` and
   *   `context.maxNodes`; `no-action` when it equals `context.currentNodeCount`.
   */
  evaluate(context: ScalingContext, options?: CallOptions): Promise<ScalingDecision>;

  /**
   * Adds nodes to the cluster. Emits `scale-out-started`, then
   * `scale-out-completed` or `scaling-failed`.
   *
   * @param request - How many nodes to add, why, and optionally their details.
   * @param options - Cancellation.
   * @returns The outcome; on success `nodesAffected` holds the ids of the nodes added.
   */
  scaleOut(request: ScaleOutRequest, options?: CallOptions): Promise<ScalingResult>;

  /**
   * Removes nodes from the cluster, draining each first. Emits `scale-in-started`,
   * then `scale-in-completed` or `scaling-failed`.
   *
   * @param request - Which nodes to remove, why, and how long to drain them.
   * @param options - Cancellation.
   * @returns The outcome; on success `nodesAffected` holds the ids of the nodes removed.
   */
  scaleIn(request: ScaleInRequest, options?: CallOptions): Promise<ScalingResult>;

  /**
   * The auto-scaler's current state.
   *
   * @returns A snapshot; later changes do not alter it.
   */
  getCurrentState(): ScalingState;
}
