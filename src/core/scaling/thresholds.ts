/**
 * Threshold scaling: scale out when a metric is too high, scale in when every
 * watched metric is low.
 *
 * @packageDocumentation
 */

import type { ScalingDecision, ScalingMetrics } from '../../contracts/auto-scaler.js';

/**
 * The metrics a threshold can watch.
 *
 * @since 2.0.0
 */
export const THRESHOLD_METRICS = Object.freeze([
  'cpuUsage',
  'memoryUsage',
  'storageUsage',
  'queueDepth',
  'activeConnections',
] as const);

/**
 * A metric a threshold can watch; see {@link THRESHOLD_METRICS}.
 *
 * @since 2.0.0
 */
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number];

/**
 * A threshold per watched metric; metrics left out are not watched.
 *
 * @since 2.0.0
 */
export type MetricThresholds = Readonly<Partial<Record<ThresholdMetric, number>>>;

/**
 * The thresholds of a threshold policy.
 *
 * @since 2.0.0
 */
export interface ThresholdRules {
  /** Scale out when any of these metrics is strictly above its threshold. */
  readonly scaleOutAbove: MetricThresholds;
  /** Scale in when every one of these metrics is strictly below its threshold (none: never). */
  readonly scaleInBelow: MetricThresholds;
  /** How many nodes to add or remove at a time; a positive integer. */
  readonly step: number;
}

function entries(thresholds: MetricThresholds): [ThresholdMetric, number][] {
  const result: [ThresholdMetric, number][] = [];
  for (const metric of THRESHOLD_METRICS) {
    const value = thresholds[metric];
    if (value !== undefined) result.push([metric, value]);
  }
  return result;
}

/**
 * Checks threshold rules: thresholds finite and non-negative, at least one in
 * all, a positive integer step, and for a metric watched both ways a scale-in
 * threshold below the scale-out one (otherwise the policy could flip between
 * the two on the same figures).
 *
 * @param rules - The rules to check (typed loosely: they may come from outside TypeScript).
 * @returns What is wrong, or `undefined` when the rules are valid.
 * @since 2.0.0
 */
export function thresholdRulesProblem(rules: ThresholdRules): string | undefined {
  for (const [side, thresholds] of [
    ['scaleOutAbove', rules.scaleOutAbove],
    ['scaleInBelow', rules.scaleInBelow],
  ] as const) {
    if (typeof thresholds !== 'object') return `${side} must be an object`;
    for (const key of Object.keys(thresholds)) {
      if (!(THRESHOLD_METRICS as readonly string[]).includes(key)) {
        return `${side}.${key} is not a metric; use ${THRESHOLD_METRICS.join(', ')}`;
      }
    }
    for (const [metric, value] of entries(thresholds)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        return `${side}.${metric} must be a finite, non-negative number, got ${String(value)}`;
      }
    }
  }
  if (entries(rules.scaleOutAbove).length + entries(rules.scaleInBelow).length === 0) {
    return 'configure at least one threshold in scaleOutAbove or scaleInBelow';
  }
  if (!Number.isSafeInteger(rules.step) || rules.step < 1) {
    return `step must be a positive integer, got ${String(rules.step)}`;
  }
  for (const [metric, below] of entries(rules.scaleInBelow)) {
    const above = rules.scaleOutAbove[metric];
    if (above !== undefined && below >= above) {
      return `scaleInBelow.${metric} (${below}) must be lower than scaleOutAbove.${metric} (${above})`;
    }
  }
  return undefined;
}

/**
 * Decides by thresholds. `scale-out` to `currentNodeCount + step` when any
 * `scaleOutAbove` metric is strictly above its threshold (the reason names each
 * one with its value); otherwise `scale-in` to `currentNodeCount - step` (not
 * below 0) when `scaleInBelow` watches at least one metric and every one is
 * strictly below its threshold; otherwise `no-action` at the current size. A
 * scale-in that cannot remove a node (the cluster has none) is `no-action`.
 *
 * @param metrics - Valid metrics.
 * @param rules - Valid rules (see {@link thresholdRulesProblem}).
 * @param currentNodeCount - How many nodes the cluster has now; a non-negative integer.
 * @returns The decision, without `policyName`.
 * @since 2.0.0
 */
export function decideByThresholds(
  metrics: ScalingMetrics,
  rules: ThresholdRules,
  currentNodeCount: number,
): ScalingDecision {
  const over = entries(rules.scaleOutAbove).filter(([metric, limit]) => metrics[metric] > limit);
  if (over.length > 0) {
    const details = over.map(([metric, limit]) => `${metric} ${metrics[metric]} is above ${limit}`);
    return Object.freeze({
      action: 'scale-out',
      reason: details.join('; '),
      targetNodeCount: currentNodeCount + rules.step,
    });
  }
  const watchedLow = entries(rules.scaleInBelow);
  const allLow =
    watchedLow.length > 0 && watchedLow.every(([metric, limit]) => metrics[metric] < limit);
  if (allLow) {
    const details = watchedLow.map(
      ([metric, limit]) => `${metric} ${metrics[metric]} is below ${limit}`,
    );
    const target = Math.max(0, currentNodeCount - rules.step);
    if (target < currentNodeCount) {
      return Object.freeze({
        action: 'scale-in',
        reason: details.join('; '),
        targetNodeCount: target,
      });
    }
    return Object.freeze({
      action: 'no-action',
      reason: `${details.join('; ')}, but the cluster has no node to remove`,
      targetNodeCount: currentNodeCount,
    });
  }
  return Object.freeze({
    action: 'no-action',
    reason: 'every watched metric is within its thresholds',
    targetNodeCount: currentNodeCount,
  });
}
