/**
 * A built-in {@link ScalingPolicy} that scales on metric thresholds.
 *
 * @packageDocumentation
 */

import type { ScalingDecision, ScalingMetrics, ScalingPolicy } from '../contracts/auto-scaler.js';
import type { CallOptions } from '../contracts/common.js';
import { DistributedError } from '../contracts/errors.js';
import {
  decideByThresholds,
  thresholdRulesProblem,
  type MetricThresholds,
  type ThresholdRules,
} from '../core/scaling/thresholds.js';
import { scalingMetricsProblem } from '../core/scaling/validation.js';

/**
 * Options for {@link ThresholdScalingPolicy}.
 *
 * @since 2.0.0
 */
export interface ThresholdScalingPolicyOptions {
  /** The policy's name. Defaults to `threshold`. */
  readonly name?: string;
  /** Scale out when any of these metrics is strictly above its threshold. */
  readonly scaleOutAbove: MetricThresholds;
  /**
   * Scale in when every one of these metrics is strictly below its threshold.
   * Defaults to none: the policy never scales in.
   */
  readonly scaleInBelow?: MetricThresholds;
  /** How many nodes to add or remove at a time. Defaults to 1. */
  readonly step?: number;
  /**
   * The cluster's current size, used to compute targets: a number, or a function
   * asked at each decision (for example reading the membership's member count).
   */
  readonly currentNodeCount: number | (() => number);
}

/**
 * Scales on thresholds: `scale-out` by `step` when any `scaleOutAbove` metric
 * is above its threshold, `scale-in` by `step` when every `scaleInBelow` metric
 * is below its threshold, otherwise `no-action`. Reasons name each metric with
 * its value and threshold. See `decideByThresholds` in the core for the exact rules.
 *
 * @example
 * ```ts
 * const policy = new ThresholdScalingPolicy({
 *   scaleOutAbove: { cpuUsage: 80, queueDepth: 100 },
 *   scaleInBelow: { cpuUsage: 20 },
 *   currentNodeCount: () => membership.getMembers().length,
 * });
 * ```
 *
 * @since 2.0.0
 */
export class ThresholdScalingPolicy implements ScalingPolicy {
  /** The policy's name. */
  readonly policyName: string;
  readonly #rules: ThresholdRules;
  readonly #currentNodeCount: () => number;

  /**
   * @param options - The thresholds and how to learn the cluster's size.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for an empty name, no
   *   thresholds, negative or non-finite thresholds, a scale-in threshold not
   *   below the scale-out one for the same metric, or a step that is not a
   *   positive integer.
   */
  constructor(options: ThresholdScalingPolicyOptions) {
    const name = options.name ?? 'threshold';
    if (typeof name !== 'string' || name === '') {
      throw new DistributedError('INVALID_ARGUMENT', 'name must be a non-empty string');
    }
    const rules: ThresholdRules = Object.freeze({
      scaleOutAbove: Object.freeze({ ...options.scaleOutAbove }),
      scaleInBelow: Object.freeze({ ...options.scaleInBelow }),
      step: options.step ?? 1,
    });
    const problem = thresholdRulesProblem(rules);
    if (problem !== undefined) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `invalid threshold policy '${name}': ${problem}`,
      );
    }
    const count = options.currentNodeCount;
    if (typeof count === 'number') {
      checkCount(count);
      this.#currentNodeCount = () => count;
    } else if (typeof count === 'function') {
      this.#currentNodeCount = count;
    } else {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'currentNodeCount must be a number or a function returning one',
      );
    }
    this.policyName = name;
    this.#rules = rules;
  }

  /**
   * Decides by the thresholds.
   *
   * @param metrics - The cluster-wide metrics.
   * @param options - Cancellation.
   * @returns The decision, with this policy's name.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for invalid metrics, or when
   *   the `currentNodeCount` function returns something other than a non-negative integer.
   */
  async shouldScale(metrics: ScalingMetrics, options?: CallOptions): Promise<ScalingDecision> {
    options?.signal?.throwIfAborted();
    const problem = scalingMetricsProblem(metrics);
    if (problem !== undefined) throw new DistributedError('INVALID_ARGUMENT', problem);
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    const current = this.#currentNodeCount();
    checkCount(current);
    return Object.freeze({
      ...decideByThresholds(metrics, this.#rules, current),
      policyName: this.policyName,
    });
  }
}

function checkCount(count: unknown): void {
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `currentNodeCount must be a non-negative integer, got ${String(count)}`,
    );
  }
}
