/**
 * The panic threshold: when too few candidates are healthy, sending all traffic
 * to the survivors would overload them, so traffic is spread over every candidate.
 *
 * @packageDocumentation
 */

/**
 * Whether selection should ignore health and spread over every candidate.
 *
 * Panic when no candidate is eligible at all (selection must still pick one),
 * or when the eligible fraction is below `threshold`.
 *
 * @param eligible - How many candidates are eligible.
 * @param total - How many distinct candidates there are; positive.
 * @param threshold - The smallest healthy fraction that is not panic, in [0, 1];
 *   0 means panic only when nothing is eligible.
 * @returns `true` to route in panic mode.
 * @since 2.0.0
 */
export function isPanic(eligible: number, total: number, threshold: number): boolean {
  if (eligible <= 0) return true;
  return eligible / total < threshold;
}
