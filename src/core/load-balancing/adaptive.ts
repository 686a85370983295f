/**
 * The adaptive controller: watches load imbalance and latency spread across the
 * nodes and decides which strategy should be in use, with hysteresis so it does
 * not flap.
 *
 * @packageDocumentation
 */

/**
 * The strategies the adaptive controller switches between.
 *
 * - `round-robin`: load is even and latencies similar; the cheapest choice.
 * - `least-request`: some nodes hold far more requests in flight than the mean.
 * - `latency-based`: some node answers far slower than the median (peak EWMA).
 *
 * @since 2.0.0
 */
export type AdaptiveMode = 'round-robin' | 'least-request' | 'latency-based';

/**
 * What the controller observes at one evaluation.
 *
 * @since 2.0.0
 */
export interface AdaptiveObservation {
  /** Requests in flight, one entry per candidate node. */
  readonly activeRequests: readonly number[];
  /** Latency averages (ms), one entry per candidate node that has one. */
  readonly latencies: readonly number[];
}

/**
 * Thresholds and hysteresis of the controller. Each condition has an enter
 * threshold and a lower exit threshold, and a change of mode must be wanted for
 * `confirmations` evaluations in a row and not come sooner than `minDwellMs`
 * after the previous change.
 *
 * @since 2.0.0
 */
export interface AdaptivePolicy {
  /** Imbalance (max/mean requests in flight) at which `least-request` is wanted. */
  readonly imbalanceEnter: number;
  /** Imbalance below which `least-request` is no longer wanted. */
  readonly imbalanceExit: number;
  /** Latency spread (see {@link AdaptivePolicy.spreadPercentile}) at which `latency-based` is wanted. */
  readonly spreadEnter: number;
  /** Latency spread below which `latency-based` is no longer wanted. */
  readonly spreadExit: number;
  /**
   * The upper percentile of the spread, in (0.5, 1]: spread = that percentile of
   * the nodes' latency averages over their median. 1 (the maximum) by default,
   * because a p90 would hide a single slow node among ten or more.
   */
  readonly spreadPercentile: number;
  /** Mean requests in flight below which imbalance is not judged (too little load to tell). */
  readonly minMeanActive: number;
  /** How many consecutive evaluations must want the same new mode before switching. */
  readonly confirmations: number;
  /** The least time between two switches, in milliseconds. */
  readonly minDwellMs: number;
}

/**
 * The defaults of {@link AdaptivePolicy}: imbalance 1.5 in / 1.2 out, spread
 * (max/median) 2 in / 1.5 out, judged from a mean of 1 request in flight, 3 confirmations, 5 s dwell.
 *
 * @since 2.0.0
 */
export const DEFAULT_ADAPTIVE_POLICY: AdaptivePolicy = Object.freeze({
  imbalanceEnter: 1.5,
  imbalanceExit: 1.2,
  spreadEnter: 2,
  spreadExit: 1.5,
  spreadPercentile: 1,
  minMeanActive: 1,
  confirmations: 3,
  minDwellMs: 5_000,
});

/**
 * The outcome of one evaluation.
 *
 * @since 2.0.0
 */
export interface AdaptiveDecision {
  /** The mode in use after the evaluation. */
  readonly mode: AdaptiveMode;
  /** Why that mode is in use, in words. */
  readonly reason: string;
  /** Whether this evaluation switched mode. */
  readonly switched: boolean;
  /** The imbalance observed (1 when not judged). */
  readonly imbalance: number;
  /** The latency spread observed (1 when not judged). */
  readonly spread: number;
}

/**
 * Max over mean of requests in flight; 1 when the mean is below `minMeanActive`.
 *
 * @param activeRequests - Requests in flight per node.
 * @param minMeanActive - The least mean worth judging.
 * @returns The imbalance, at least 1.
 * @since 2.0.0
 */
export function loadImbalance(activeRequests: readonly number[], minMeanActive: number): number {
  if (activeRequests.length === 0) return 1;
  let max = 0;
  let sum = 0;
  for (const value of activeRequests) {
    sum += value;
    if (value > max) max = value;
  }
  const mean = sum / activeRequests.length;
  if (mean <= 0 || mean < minMeanActive) return 1;
  return max / mean;
}

/**
 * An upper percentile over the median (nearest rank) of latency averages; 1
 * with fewer than two values or a zero median.
 *
 * @param latencies - Latency averages.
 * @param percentile - The upper percentile, in (0.5, 1]; defaults to 1 (the maximum).
 * @returns The spread, at least 1 in practice.
 * @since 2.0.0
 */
export function latencySpread(latencies: readonly number[], percentile = 1): number {
  if (latencies.length < 2) return 1;
  const sorted = [...latencies].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(Math.ceil(p * sorted.length) - 1, 0)] ?? 0;
  const median = rank(0.5);
  if (!(median > 0)) return 1;
  return rank(percentile) / median;
}

/**
 * Decides the adaptive mode from successive observations. Deterministic: time
 * is passed in.
 *
 * @since 2.0.0
 */
export class AdaptiveController {
  /** The thresholds in force. */
  readonly policy: AdaptivePolicy;
  #mode: AdaptiveMode = 'round-robin';
  #reason = 'initial mode: no observations yet';
  #since: number;
  #pending: AdaptiveMode | undefined;
  #pendingCount = 0;

  /**
   * @param policy - Thresholds; defaults to {@link DEFAULT_ADAPTIVE_POLICY}.
   * @param startedAt - When the controller starts (the dwell of the initial mode counts from it).
   */
  constructor(policy: AdaptivePolicy = DEFAULT_ADAPTIVE_POLICY, startedAt = 0) {
    this.policy = policy;
    this.#since = startedAt;
  }

  /** The mode in use. */
  get mode(): AdaptiveMode {
    return this.#mode;
  }

  /** Why the mode in use was chosen. */
  get reason(): string {
    return this.#reason;
  }

  /** When the mode in use was chosen. */
  get since(): number {
    return this.#since;
  }

  /**
   * Evaluates one observation.
   *
   * @param observation - Load and latency across the candidates.
   * @param now - The moment of evaluation.
   * @returns The mode in use afterwards and why.
   */
  evaluate(observation: AdaptiveObservation, now: number): AdaptiveDecision {
    const policy = this.policy;
    const imbalance = loadImbalance(observation.activeRequests, policy.minMeanActive);
    const spread = latencySpread(observation.latencies, policy.spreadPercentile);
    const current = this.#mode;
    const spreadThreshold = current === 'latency-based' ? policy.spreadExit : policy.spreadEnter;
    const imbalanceThreshold =
      current === 'least-request' ? policy.imbalanceExit : policy.imbalanceEnter;
    let wanted: AdaptiveMode;
    let why: string;
    if (spread >= spreadThreshold) {
      wanted = 'latency-based';
      why = `latency spread (p${policy.spreadPercentile * 100}/p50) ${spread.toFixed(2)} ≥ ${spreadThreshold}`;
    } else if (imbalance >= imbalanceThreshold) {
      wanted = 'least-request';
      why = `load imbalance max/mean ${imbalance.toFixed(2)} ≥ ${imbalanceThreshold}`;
    } else {
      wanted = 'round-robin';
      why =
        `load even (imbalance ${imbalance.toFixed(2)} < ${imbalanceThreshold}) and ` +
        `latencies close (spread ${spread.toFixed(2)} < ${spreadThreshold})`;
    }
    let switched = false;
    if (wanted === current) {
      this.#pending = undefined;
      this.#pendingCount = 0;
    } else {
      this.#pendingCount = this.#pending === wanted ? this.#pendingCount + 1 : 1;
      this.#pending = wanted;
      if (this.#pendingCount >= policy.confirmations && now - this.#since >= policy.minDwellMs) {
        this.#mode = wanted;
        this.#reason = `${why} for ${this.#pendingCount} evaluations`;
        this.#since = now;
        this.#pending = undefined;
        this.#pendingCount = 0;
        switched = true;
      }
    }
    return Object.freeze({ mode: this.#mode, reason: this.#reason, switched, imbalance, spread });
  }
}
