/**
 * Outlier ejection as a pure state machine: consecutive failures eject a node
 * for a while, and repeat offenders stay out exponentially longer.
 *
 * @packageDocumentation
 */

/**
 * When a node is ejected and for how long.
 *
 * @since 2.0.0
 */
export interface OutlierPolicy {
  /** Consecutive failed requests that eject a node; a positive integer. */
  readonly consecutiveFailures: number;
  /** How long the first ejection lasts, in milliseconds. */
  readonly baseEjectionMs: number;
  /**
   * The longest an ejection lasts, in milliseconds; the n-th ejection lasts
   * `min(baseEjectionMs × 2^(n−1), maxEjectionMs)`. A node that has served
   * without being ejected again for this long since its last return starts
   * over at `baseEjectionMs`.
   */
  readonly maxEjectionMs: number;
}

/**
 * The defaults of {@link OutlierPolicy}: 5 consecutive failures, 30 s doubling up to 5 min
 * (Envoy's consecutive-5xx detector uses the same figures).
 *
 * @since 2.0.0
 */
export const DEFAULT_OUTLIER_POLICY: OutlierPolicy = Object.freeze({
  consecutiveFailures: 5,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
});

/**
 * One node's outlier-detection state. Plain and immutable: every transition
 * returns a new value.
 *
 * @since 2.0.0
 */
export interface OutlierState {
  /** Failed requests since the last success. */
  readonly consecutiveFailures: number;
  /** How many times the node was ejected since its record was last cleared. */
  readonly ejections: number;
  /**
   * Until when the node is ejected, in the caller's clock; the node is ejected
   * while `now < ejectedUntil`. 0 when it was never ejected.
   */
  readonly ejectedUntil: number;
}

/**
 * The state of a node nothing is known about.
 *
 * @since 2.0.0
 */
export const INITIAL_OUTLIER_STATE: OutlierState = Object.freeze({
  consecutiveFailures: 0,
  ejections: 0,
  ejectedUntil: 0,
});

/**
 * How long the `ejection`-th ejection (1-based) lasts under a policy.
 *
 * @param policy - The policy.
 * @param ejection - Which ejection, from 1.
 * @returns The duration in milliseconds.
 * @since 2.0.0
 */
export function ejectionDuration(policy: OutlierPolicy, ejection: number): number {
  // The exponent is capped so the power never overflows to Infinity before the min.
  const doubled = policy.baseEjectionMs * 2 ** Math.min(Math.max(ejection - 1, 0), 52);
  return Math.min(doubled, policy.maxEjectionMs);
}

/**
 * Whether a node is ejected at a moment.
 *
 * @param state - Its state.
 * @param now - The moment, in the same clock as the outcomes.
 * @returns `true` while the ejection lasts.
 * @since 2.0.0
 */
export function isEjected(state: OutlierState, now: number): boolean {
  return now < state.ejectedUntil;
}

/**
 * The state after one request outcome.
 *
 * - A success clears the failure streak; if the node has been back for at least
 *   `maxEjectionMs`, its ejection count is cleared too (the backoff forgives).
 * - A failure extends the streak; reaching `consecutiveFailures` while not
 *   ejected ejects the node for {@link ejectionDuration} and clears the streak.
 *   Outcomes of requests that were in flight when the node was ejected do not
 *   extend the ejection.
 *
 * @param state - The node's state before the outcome.
 * @param success - Whether the request succeeded.
 * @param now - When the outcome was observed.
 * @param policy - The ejection policy.
 * @returns The new state (the same object when nothing changed).
 * @since 2.0.0
 */
export function recordOutcome(
  state: OutlierState,
  success: boolean,
  now: number,
  policy: OutlierPolicy,
): OutlierState {
  if (success) {
    const forgiven =
      state.ejections > 0 &&
      !isEjected(state, now) &&
      now - state.ejectedUntil >= policy.maxEjectionMs;
    if (state.consecutiveFailures === 0 && !forgiven) return state;
    return Object.freeze({
      consecutiveFailures: 0,
      ejections: forgiven ? 0 : state.ejections,
      ejectedUntil: state.ejectedUntil,
    });
  }
  if (isEjected(state, now)) return state;
  const failures = state.consecutiveFailures + 1;
  if (failures < policy.consecutiveFailures) {
    return Object.freeze({ ...state, consecutiveFailures: failures });
  }
  const ejections = state.ejections + 1;
  return Object.freeze({
    consecutiveFailures: 0,
    ejections,
    ejectedUntil: now + ejectionDuration(policy, ejections),
  });
}
