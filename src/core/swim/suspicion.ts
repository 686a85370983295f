/**
 * Lifeguard's dynamic suspicion timeout (memberlist's `suspicion.go`), as
 * pure arithmetic over times passed in. A suspicion starts at its maximum
 * timeout and shrinks towards its minimum as independent members confirm it:
 * with n of the k expected confirmations the timeout is
 * `max − (max − min) · log(n + 1) / log(k + 1)`. A member that is really dead
 * is soon confirmed by others, so it is declared dead nearly as fast as with a
 * short fixed timeout; a member suspected by one slow accuser alone keeps the
 * long timeout, with time to refute.
 *
 * @packageDocumentation
 */

/**
 * One running suspicion of one member.
 *
 * @since 2.0.0
 */
export class Suspicion {
  /** When the suspicion started (monotonic ms). */
  readonly startedAt: number;
  /** Confirmations expected; 0 means the timeout is `minMs` from the start. */
  readonly k: number;
  /** The shortest timeout, reached with k confirmations. */
  readonly minMs: number;
  /** The timeout with no confirmation. */
  readonly maxMs: number;
  readonly #confirmedBy = new Set<string>();
  #confirmations = 0;
  #deadline: number;

  /**
   * @param from - The first accuser (its own later messages do not count as confirmations).
   * @param startedAt - Now.
   * @param k - Confirmations expected (a non-negative integer).
   * @param minMs - The shortest timeout.
   * @param maxMs - The longest timeout (at least `minMs`).
   */
  constructor(from: string, startedAt: number, k: number, minMs: number, maxMs: number) {
    this.startedAt = startedAt;
    this.k = Math.max(0, Math.trunc(k));
    this.minMs = minMs;
    this.maxMs = Math.max(minMs, maxMs);
    this.#confirmedBy.add(from);
    this.#deadline = startedAt + (this.k < 1 ? this.minMs : this.maxMs);
  }

  /** Independent confirmations so far. */
  get confirmations(): number {
    return this.#confirmations;
  }

  /** When the member is declared dead unless it refutes first (monotonic ms). */
  get deadline(): number {
    return this.#deadline;
  }

  /**
   * Records a confirmation from `from`.
   *
   * @param from - The member confirming.
   * @returns Whether it was new (then the suspicion is worth re-gossiping), and
   *   the deadline moved earlier.
   */
  confirm(from: string): boolean {
    if (this.#confirmations >= this.k || this.#confirmedBy.has(from)) return false;
    this.#confirmedBy.add(from);
    this.#confirmations += 1;
    this.#deadline =
      this.startedAt + suspicionTimeoutAfter(this.#confirmations, this.k, this.minMs, this.maxMs);
    return true;
  }
}

/**
 * The whole suspicion timeout after `n` of `k` confirmations:
 * `max − (max − min) · log(n + 1) / log(k + 1)`, floored to whole ms and never
 * below `min`.
 *
 * @param n - Confirmations so far.
 * @param k - Confirmations expected.
 * @param minMs - The shortest timeout.
 * @param maxMs - The longest timeout.
 * @returns Milliseconds from the start of the suspicion.
 * @since 2.0.0
 */
export function suspicionTimeoutAfter(n: number, k: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs;
  const fraction = Math.log(n + 1) / Math.log(k + 1);
  const raw = Math.floor(maxMs - fraction * (maxMs - minMs));
  return Math.max(minMs, raw);
}
