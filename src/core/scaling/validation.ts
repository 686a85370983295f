/**
 * Checks on auto-scaling inputs, shared by every scaler and policy.
 *
 * @packageDocumentation
 */

import type {
  ScaleInRequest,
  ScaleOutRequest,
  ScalingContext,
  ScalingDecision,
  ScalingMetrics,
} from '../../contracts/auto-scaler.js';
import { SCALING_ACTIONS } from '../../contracts/auto-scaler.js';

const PERCENTAGES = ['cpuUsage', 'memoryUsage', 'storageUsage'] as const;
const COUNTS = ['activeConnections', 'queueDepth'] as const;

/** Describes a value of unknown type for an error message. */
function show(value: unknown): string {
  return typeof value === 'number' || typeof value === 'string' ? String(value) : typeof value;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Checks metrics: the usages are percentages in [0, 100]; connections and queue
 * depth are finite and non-negative; `collectedAt`, when present, is finite and
 * non-negative.
 *
 * @param metrics - The metrics to check (typed loosely: they may come from outside TypeScript).
 * @param label - How to name the metrics in the message, for example `metrics`.
 * @returns What is wrong, or `undefined` when the metrics are valid.
 * @since 2.0.0
 */
export function scalingMetricsProblem(
  metrics: ScalingMetrics,
  label = 'metrics',
): string | undefined {
  if (typeof metrics !== 'object' || (metrics as unknown) === null)
    return `${label} must be an object`;
  for (const field of PERCENTAGES) {
    const value: unknown = metrics[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
      return `${label}.${field} must be a percentage from 0 to 100, got ${String(value)}`;
    }
  }
  for (const field of COUNTS) {
    const value: unknown = metrics[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      return `${label}.${field} must be a finite, non-negative number, got ${String(value)}`;
    }
  }
  const collectedAt: unknown = metrics.collectedAt;
  if (
    collectedAt !== undefined &&
    (typeof collectedAt !== 'number' || !Number.isFinite(collectedAt) || collectedAt < 0)
  ) {
    return `${label}.collectedAt must be a finite, non-negative number, got ${show(collectedAt)}`;
  }
  return undefined;
}

/**
 * Checks a scaling context: valid metrics (and per-node metrics); node counts
 * and bounds that are non-negative integers with `minNodes <= maxNodes`.
 *
 * @param context - The context to check (typed loosely: it may come from outside TypeScript).
 * @returns What is wrong, or `undefined` when the context is valid.
 * @since 2.0.0
 */
export function scalingContextProblem(context: ScalingContext): string | undefined {
  if (typeof context !== 'object' || (context as unknown) === null)
    return 'the scaling context must be an object';
  for (const field of ['currentNodeCount', 'minNodes', 'maxNodes'] as const) {
    if (!isCount(context[field])) {
      return `${field} must be a non-negative integer, got ${String(context[field])}`;
    }
  }
  if (context.minNodes > context.maxNodes) {
    return `minNodes (${context.minNodes}) must not exceed maxNodes (${context.maxNodes})`;
  }
  const problem = scalingMetricsProblem(context.metrics);
  if (problem !== undefined) return problem;
  if (context.nodeMetrics !== undefined) {
    if (typeof context.nodeMetrics !== 'object' || (context.nodeMetrics as unknown) === null)
      return 'nodeMetrics must be an object';
    for (const [nodeId, metrics] of Object.entries(context.nodeMetrics)) {
      const nodeProblem = scalingMetricsProblem(metrics, `nodeMetrics['${nodeId}']`);
      if (nodeProblem !== undefined) return nodeProblem;
    }
  }
  return undefined;
}

/**
 * Checks a decision returned by a scaling policy: a known action, a reason, and
 * a target that is a non-negative integer.
 *
 * @param decision - The decision to check (typed loosely: policies are user code).
 * @returns What is wrong, or `undefined` when the decision is valid.
 * @since 2.0.0
 */
export function scalingDecisionProblem(decision: ScalingDecision): string | undefined {
  if (typeof decision !== 'object' || (decision as unknown) === null)
    return 'a decision must be an object';
  if (!SCALING_ACTIONS.includes(decision.action)) {
    return `action must be one of ${SCALING_ACTIONS.join(', ')}, got '${decision.action}'`;
  }
  if (typeof decision.reason !== 'string') return 'reason must be a string';
  if (!isCount(decision.targetNodeCount)) {
    return `targetNodeCount must be a non-negative integer, got ${String(decision.targetNodeCount)}`;
  }
  return undefined;
}

/**
 * Checks a scale-out request: `requestedNodes` is a positive integer, a reason
 * is given, and `nodes`, when present, has one entry per requested node, each
 * with an address and a port in 0–65535.
 *
 * @param request - The request to check (typed loosely: it may come from outside TypeScript).
 * @returns What is wrong, or `undefined` when the request is valid.
 * @since 2.0.0
 */
export function scaleOutRequestProblem(request: ScaleOutRequest): string | undefined {
  if (typeof request !== 'object' || (request as unknown) === null)
    return 'a scale-out request must be an object';
  if (!isCount(request.requestedNodes) || request.requestedNodes < 1) {
    return `requestedNodes must be a positive integer, got ${String(request.requestedNodes)}`;
  }
  if (typeof request.reason !== 'string') return 'reason must be a string';
  if (request.nodes !== undefined) {
    const nodes: unknown = request.nodes;
    if (!Array.isArray(nodes)) return 'nodes must be an array';
    if (request.nodes.length !== request.requestedNodes) {
      return `nodes has ${request.nodes.length} entries but requestedNodes is ${request.requestedNodes}`;
    }
    for (const [index, node] of request.nodes.entries()) {
      if (typeof node.address !== 'string' || node.address === '') {
        return `nodes[${index}].address must be a non-empty string`;
      }
      if (!isCount(node.port) || node.port > 65_535) {
        return `nodes[${index}].port must be 0–65535, got ${String(node.port)}`;
      }
      if (node.nodeId !== undefined && (typeof node.nodeId !== 'string' || node.nodeId === '')) {
        return `nodes[${index}].nodeId must be a non-empty string when given`;
      }
    }
  }
  return undefined;
}

/**
 * Checks a scale-in request: at least one node id, each a non-empty string and
 * none repeated; a reason; a `drainTimeoutMs`, when present, finite and non-negative.
 *
 * @param request - The request to check (typed loosely: it may come from outside TypeScript).
 * @returns What is wrong, or `undefined` when the request is valid.
 * @since 2.0.0
 */
export function scaleInRequestProblem(request: ScaleInRequest): string | undefined {
  if (typeof request !== 'object' || (request as unknown) === null)
    return 'a scale-in request must be an object';
  if (!Array.isArray(request.nodeIds) || request.nodeIds.length === 0) {
    return 'nodeIds must list at least one node';
  }
  const seen = new Set<string>();
  for (const nodeId of request.nodeIds) {
    if (typeof nodeId !== 'string' || nodeId === '')
      return 'every node id must be a non-empty string';
    if (seen.has(nodeId)) return `node '${nodeId}' is listed twice`;
    seen.add(nodeId);
  }
  if (typeof request.reason !== 'string') return 'reason must be a string';
  const drain: unknown = request.drainTimeoutMs;
  if (drain !== undefined && (typeof drain !== 'number' || !Number.isFinite(drain) || drain < 0)) {
    return `drainTimeoutMs must be a finite, non-negative number, got ${show(drain)}`;
  }
  return undefined;
}
