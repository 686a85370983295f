/**
 * Slow start: a newly joined node's weight ramps up over a window instead of
 * receiving its full share of traffic at once (cold caches, JIT, pools).
 *
 * @packageDocumentation
 */

/**
 * The fraction of its weight a node gets `ageMs` after it joined: rising linearly
 * from `minFactor` to 1 over `windowMs`, then 1.
 *
 * @param ageMs - How long ago the node joined (negative counts as 0).
 * @param windowMs - The ramp's length; 0 or less disables slow start (always 1).
 * @param minFactor - The factor at age 0, in (0, 1]; keeps a new node reachable.
 * @returns A factor in [minFactor, 1].
 * @since 2.0.0
 */
export function slowStartFactor(ageMs: number, windowMs: number, minFactor: number): number {
  if (!(windowMs > 0) || ageMs >= windowMs) return 1;
  const progress = Math.max(ageMs, 0) / windowMs;
  return minFactor + (1 - minFactor) * progress;
}

/**
 * The number of steps the ramp is cut into: factors are recomputed at most
 * `SLOW_START_STEPS` times per window, so cached selection state stays valid
 * between steps.
 *
 * @since 2.0.0
 */
export const SLOW_START_STEPS = 20;
