/**
 * Moving averages of request latency: a time-decayed EWMA, and Finagle's
 * peak-sensitive EWMA that jumps to a new peak at once and decays afterwards.
 *
 * @packageDocumentation
 */

/**
 * A decayed average and when it was last updated.
 *
 * @since 2.0.0
 */
export interface DecayedAverage {
  /** The average, in the unit of the samples (milliseconds for latency). */
  readonly value: number;
  /** When it was last updated, in the caller's clock (milliseconds). */
  readonly at: number;
}

/**
 * The weight the old average keeps after `elapsedMs`: `exp(−elapsed/τ)`. With
 * a time constant instead of a fixed per-sample weight, bursts of samples and
 * long silences are weighed by the time they span, not by how many there are.
 *
 * @param elapsedMs - Time since the last update (negative counts as 0).
 * @param decayMs - The time constant τ; positive.
 * @returns A weight in (0, 1].
 * @since 2.0.0
 */
export function decayWeight(elapsedMs: number, decayMs: number): number {
  return Math.exp(-Math.max(elapsedMs, 0) / decayMs);
}

/**
 * Folds one sample into a time-decayed EWMA. The first sample becomes the average.
 *
 * The old value keeps weight `w = exp(−Δt/τ)`, but never more than
 * `1 − minSampleWeight`, so even back-to-back samples move the average.
 *
 * @param previous - The average so far, or `undefined` before the first sample.
 * @param sample - The new sample.
 * @param now - When it was observed.
 * @param decayMs - The time constant τ.
 * @param minSampleWeight - The least weight a sample gets, in [0, 1]; defaults to 0.05.
 * @returns The new average.
 * @since 2.0.0
 */
export function ewmaUpdate(
  previous: DecayedAverage | undefined,
  sample: number,
  now: number,
  decayMs: number,
  minSampleWeight = 0.05,
): DecayedAverage {
  if (previous === undefined) return { value: sample, at: now };
  const keep = Math.min(decayWeight(now - previous.at, decayMs), 1 - minSampleWeight);
  return { value: previous.value * keep + sample * (1 - keep), at: Math.max(now, previous.at) };
}

/**
 * Folds one sample into a peak-sensitive EWMA (Finagle's `PeakEwma`): a sample
 * above the average replaces it at once, so a node that turns slow is avoided
 * from its first slow response; a sample below it is averaged in with the
 * time-decayed weight, so recovery is gradual.
 *
 * @param previous - The average so far, or `undefined` before the first sample.
 * @param sample - The new sample.
 * @param now - When it was observed.
 * @param decayMs - The time constant τ.
 * @returns The new average.
 * @since 2.0.0
 */
export function peakEwmaUpdate(
  previous: DecayedAverage | undefined,
  sample: number,
  now: number,
  decayMs: number,
): DecayedAverage {
  if (previous === undefined || sample > previous.value) {
    return { value: sample, at: Math.max(now, previous?.at ?? now) };
  }
  const keep = decayWeight(now - previous.at, decayMs);
  return { value: previous.value * keep + sample * (1 - keep), at: Math.max(now, previous.at) };
}

/**
 * The value of a peak EWMA read at `now`, as if a zero sample were observed
 * (Finagle reads it this way): a node nobody has sent to for a while looks
 * cheaper and cheaper, so it is probed again instead of being avoided forever.
 *
 * @param average - The peak EWMA, or `undefined` before any sample (reads as 0).
 * @param now - The moment of reading.
 * @param decayMs - The time constant τ.
 * @returns The decayed value.
 * @since 2.0.0
 */
export function peakEwmaAt(
  average: DecayedAverage | undefined,
  now: number,
  decayMs: number,
): number {
  if (average === undefined) return 0;
  return average.value * decayWeight(now - average.at, decayMs);
}
