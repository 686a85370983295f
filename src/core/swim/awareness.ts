/**
 * Lifeguard's local health awareness (memberlist's `awareness.go`): a member
 * that notices signs of its own slowness — probes that fail while the members
 * it asked to help send no nacks, having to refute suspicion of itself —
 * raises a health score, and stretches its own probe interval and timeout by
 * `score + 1`. A slow member then accuses others less often and gives their
 * answers more time, instead of spreading false suspicions.
 *
 * @packageDocumentation
 */

/**
 * The health score of one member: 0 (healthy) up to `maxMultiplier − 1`.
 *
 * @since 2.0.0
 */
export class Awareness {
  /** The largest multiplier; the score stays below it. */
  readonly maxMultiplier: number;
  #score = 0;

  /**
   * @param maxMultiplier - The largest multiplier; a positive integer.
   * @throws RangeError when `maxMultiplier` is not a positive integer.
   */
  constructor(maxMultiplier: number) {
    if (!Number.isSafeInteger(maxMultiplier) || maxMultiplier < 1) {
      throw new RangeError(`maxMultiplier must be a positive integer, got ${maxMultiplier}`);
    }
    this.maxMultiplier = maxMultiplier;
  }

  /** The score: 0 is healthy. */
  get score(): number {
    return this.#score;
  }

  /** What timeouts are multiplied by: `score + 1`. */
  get multiplier(): number {
    return this.#score + 1;
  }

  /**
   * Adds `delta` to the score, clamped to `[0, maxMultiplier − 1]`.
   *
   * @param delta - Positive when something suggests this member is slow, −1 after a clean probe.
   * @returns The score after the change.
   */
  apply(delta: number): number {
    if (!Number.isFinite(delta)) return this.#score;
    this.#score = Math.min(this.maxMultiplier - 1, Math.max(0, this.#score + Math.trunc(delta)));
    return this.#score;
  }

  /**
   * Stretches a timeout by the current multiplier.
   *
   * @param timeoutMs - The configured timeout.
   * @returns `timeoutMs · (score + 1)`.
   */
  scale(timeoutMs: number): number {
    return timeoutMs * (this.#score + 1);
  }
}
