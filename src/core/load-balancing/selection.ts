/**
 * Index-picking algorithms shared by the strategies: smooth weighted round robin
 * (nginx), power-of-N-choices (Envoy's least request), and weighted random
 * choice. They work on positions in an array so the callers decide what a
 * position means.
 *
 * @packageDocumentation
 */

/**
 * The longest one-cycle schedule {@link SmoothWeightedRoundRobin} precomputes.
 *
 * @since 2.0.0
 */
export const MAX_SMOOTH_SCHEDULE = 65_536;

/**
 * Smooth weighted round robin, as in nginx: on every pick each position's
 * current value grows by its weight, the largest current value wins and gives
 * back the total weight. Heavy positions are interleaved with light ones
 * (weights 5, 1, 1 give a a b a c a a) instead of bunched, and over every cycle
 * of `sum(weights)` picks (integer weights) each position is picked exactly its
 * weight's number of times.
 *
 * For integer weights summing to at most {@link MAX_SMOOTH_SCHEDULE} the cycle is
 * precomputed once so each pick is O(1); otherwise each pick is O(n).
 *
 * @since 2.0.0
 */
export class SmoothWeightedRoundRobin {
  readonly #weights: Float64Array;
  readonly #current: Float64Array;
  readonly #total: number;
  readonly #integral: boolean;
  readonly #schedule: Uint32Array | undefined;
  #position = 0;

  /**
   * @param weights - One positive, finite weight per position; at least one.
   * @throws RangeError when `weights` is empty or a weight is not positive and finite.
   */
  constructor(weights: readonly number[]) {
    if (weights.length === 0) throw new RangeError('smooth weighted round robin needs a weight');
    let total = 0;
    let integral = true;
    for (const weight of weights) {
      if (!(weight > 0) || !Number.isFinite(weight)) {
        throw new RangeError(`weights must be positive and finite, got ${weight}`);
      }
      total += weight;
      if (!Number.isInteger(weight)) integral = false;
    }
    this.#weights = Float64Array.from(weights);
    this.#current = new Float64Array(weights.length);
    this.#total = total;
    this.#integral = integral;
    if (integral && total <= MAX_SMOOTH_SCHEDULE) {
      const schedule = new Uint32Array(total);
      for (let i = 0; i < total; i += 1) schedule[i] = this.#step();
      this.#schedule = schedule;
    }
  }

  /** How many picks one full cycle has, when the weights are integers; otherwise `undefined`. */
  get cycleLength(): number | undefined {
    return this.#integral ? this.#total : undefined;
  }

  /**
   * The next position.
   *
   * @returns An index into the weights.
   */
  next(): number {
    const schedule = this.#schedule;
    if (schedule === undefined) return this.#step();
    const index = schedule[this.#position] ?? 0;
    this.#position = this.#position + 1 === schedule.length ? 0 : this.#position + 1;
    return index;
  }

  #step(): number {
    const weights = this.#weights;
    const current = this.#current;
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < weights.length; i += 1) {
      const value = (current[i] ?? 0) + (weights[i] ?? 0);
      current[i] = value;
      // Strictly greater: ties go to the lower position, as in nginx.
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    current[best] = bestValue - this.#total;
    return best;
  }
}

/**
 * Power-of-N-choices: samples `choiceCount` distinct positions uniformly at
 * random and returns the one with the lowest cost; among equal costs, the one
 * with the lowest `tieBreakOf` (the first sampled when that is equal too). With
 * `choiceCount` ≥ `count` every position is compared. The chosen position is
 * never the costliest of its sample unless all sampled costs are equal.
 *
 * @param count - How many positions there are; positive.
 * @param choiceCount - How many to sample; at least 1.
 * @param costOf - The cost of a position; lower is better.
 * @param random - Uniform in [0, 1).
 * @param tieBreakOf - A secondary cost, consulted only between equal costs.
 * @returns The chosen position.
 * @since 2.0.0
 */
export function powerOfChoices(
  count: number,
  choiceCount: number,
  costOf: (index: number) => number,
  random: () => number,
  tieBreakOf?: (index: number) => number,
): number {
  if (count <= 1) return 0;
  if (choiceCount >= count) {
    // Start at a random position so ties do not always favour the first node.
    const offset = Math.floor(random() * count);
    let best = offset;
    let bestCost = costOf(offset);
    for (let step = 1; step < count; step += 1) {
      const index = (offset + step) % count;
      const cost = costOf(index);
      if (cost < bestCost || (cost === bestCost && winsTie(tieBreakOf, index, best))) {
        best = index;
        bestCost = cost;
      }
    }
    return best;
  }
  if (choiceCount <= 2) {
    const first = Math.floor(random() * count);
    if (choiceCount < 2) return first;
    // A second, distinct position: skip over the first.
    let second = Math.floor(random() * (count - 1));
    if (second >= first) second += 1;
    const firstCost = costOf(first);
    const secondCost = costOf(second);
    if (secondCost < firstCost) return second;
    return secondCost === firstCost && winsTie(tieBreakOf, second, first) ? second : first;
  }
  // Floyd's algorithm: choiceCount distinct samples without allocating O(count).
  const sampled = new Set<number>();
  let best = -1;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let j = count - choiceCount; j < count; j += 1) {
    const t = Math.floor(random() * (j + 1));
    const index = sampled.has(t) ? j : t;
    sampled.add(index);
    const cost = costOf(index);
    if (best === -1 || cost < bestCost || (cost === bestCost && winsTie(tieBreakOf, index, best))) {
      best = index;
      bestCost = cost;
    }
  }
  return best;
}

// Kept out of line and closure-free: selection runs millions of times a second.
function winsTie(
  tieBreakOf: ((index: number) => number) | undefined,
  challenger: number,
  holder: number,
): boolean {
  return tieBreakOf !== undefined && tieBreakOf(challenger) < tieBreakOf(holder);
}

/**
 * Running totals of weights, for {@link weightedRandomIndex}.
 *
 * @param weights - Non-negative weights.
 * @returns `cumulative[i] = weights[0] + … + weights[i]`.
 * @since 2.0.0
 */
export function cumulativeWeights(weights: readonly number[]): Float64Array {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i += 1) {
    total += Math.max(weights[i] ?? 0, 0);
    cumulative[i] = total;
  }
  return cumulative;
}

/**
 * A position chosen with probability proportional to its weight, by binary
 * search over running totals (O(log n)). When every weight is 0 the choice is uniform.
 *
 * @param cumulative - From {@link cumulativeWeights}; not empty.
 * @param random - Uniform in [0, 1).
 * @returns The chosen position.
 * @since 2.0.0
 */
export function weightedRandomIndex(cumulative: Float64Array, random: () => number): number {
  const count = cumulative.length;
  const total = cumulative[count - 1] ?? 0;
  if (!(total > 0)) return Math.floor(random() * count);
  const target = random() * total;
  let low = 0;
  let high = count - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((cumulative[middle] ?? 0) > target) high = middle;
    else low = middle + 1;
  }
  return low;
}
