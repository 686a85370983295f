import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SmoothWeightedRoundRobin,
  cumulativeWeights,
  powerOfChoices,
  weightedRandomIndex,
} from '../../src/core/load-balancing/selection.js';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('smooth weighted round robin', () => {
  it('interleaves weights 5, 1, 1 as nginx does: a a b a c a a', () => {
    const rotation = new SmoothWeightedRoundRobin([5, 1, 1]);
    const names = 'abc';
    const picks = Array.from({ length: 14 }, () => names[rotation.next()]).join('');
    expect(picks).toBe('aabacaaaabacaa');
  });

  it('picks each position exactly its weight per cycle, and never bunches a light one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 3 }),
        (weights, cycles) => {
          const rotation = new SmoothWeightedRoundRobin(weights);
          const total = weights.reduce((a, b) => a + b, 0);
          expect(rotation.cycleLength).toBe(total);
          for (let cycle = 0; cycle < cycles; cycle += 1) {
            const counts = new Array<number>(weights.length).fill(0);
            for (let i = 0; i < total; i += 1) counts[rotation.next()]! += 1;
            expect(counts).toEqual(weights);
          }
        },
      ),
    );
  });

  it('never bunches: every prefix of picks stays within 2 of each exact share', () => {
    // Bunched round robin (a a a a a b c) drifts by up to w_max·(1 − w_max/total) from the share.
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 2, maxLength: 10 }),
        (weights) => {
          const rotation = new SmoothWeightedRoundRobin(weights);
          const total = weights.reduce((a, b) => a + b, 0);
          const counts = new Array<number>(weights.length).fill(0);
          for (let k = 1; k <= 2 * total; k += 1) {
            counts[rotation.next()]! += 1;
            weights.forEach((weight, i) => {
              expect(Math.abs(counts[i]! - (k * weight) / total)).toBeLessThan(2);
            });
          }
        },
      ),
    );
  });

  it('handles fractional weights (no precomputed cycle) in proportion', () => {
    const rotation = new SmoothWeightedRoundRobin([0.5, 1.5]);
    expect(rotation.cycleLength).toBeUndefined();
    const counts = [0, 0];
    for (let i = 0; i < 400; i += 1) counts[rotation.next()]! += 1;
    expect(counts).toEqual([100, 300]);
  });

  it('rejects empty, zero and non-finite weights', () => {
    expect(() => new SmoothWeightedRoundRobin([])).toThrow(RangeError);
    expect(() => new SmoothWeightedRoundRobin([1, 0])).toThrow(RangeError);
    expect(() => new SmoothWeightedRoundRobin([Number.NaN])).toThrow(RangeError);
  });
});

describe('power of N choices', () => {
  it('never picks the costliest of its sample (unless all sampled costs are equal)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 30 }),
        fc.integer({ min: 2, max: 6 }),
        fc.integer(),
        (costs, choiceCount, seed) => {
          const base = seeded(seed);
          const sampled: number[] = [];
          const cost = (i: number) => {
            sampled.push(i);
            return costs[i]!;
          };
          const chosen = powerOfChoices(costs.length, choiceCount, cost, base);
          const sample = [...new Set(sampled)];
          expect(sample).toContain(chosen);
          expect(sample.length).toBe(Math.min(choiceCount, costs.length));
          const sampleCosts = sample.map((i) => costs[i]!);
          expect(costs[chosen]).toBe(Math.min(...sampleCosts));
        },
      ),
    );
  });

  it('samples distinct positions, uniformly enough', () => {
    const random = seeded(7);
    const counts = new Array<number>(4).fill(0);
    for (let i = 0; i < 8000; i += 1) counts[powerOfChoices(4, 2, () => 0, random)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(1600);
  });
});

describe('weighted random', () => {
  it('honours weights within 5 % over 40 000 draws', () => {
    const weights = [1, 2, 3, 4];
    const cumulative = cumulativeWeights(weights);
    const random = seeded(11);
    const counts = [0, 0, 0, 0];
    const draws = 40_000;
    for (let i = 0; i < draws; i += 1) counts[weightedRandomIndex(cumulative, random)]! += 1;
    weights.forEach((weight, i) => {
      const expected = (draws * weight) / 10;
      expect(Math.abs(counts[i]! - expected) / expected).toBeLessThan(0.05);
    });
  });

  it('never picks a zero-weight position while another has weight', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 10 }),
        fc.integer(),
        (weights, seed) => {
          const cumulative = cumulativeWeights(weights);
          const random = seeded(seed);
          for (let i = 0; i < 20; i += 1) {
            const index = weightedRandomIndex(cumulative, random);
            expect(index).toBeGreaterThanOrEqual(0);
            expect(index).toBeLessThan(weights.length);
            if (weights.some((w) => w > 0)) expect(weights[index]).toBeGreaterThan(0);
          }
        },
      ),
    );
  });
});

describe('powerOfChoices tie-break', () => {
  it('breaks equal costs by the secondary cost, and never overrides a lower primary cost', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 3 }), { minLength: 2, maxLength: 12 }),
        fc.array(fc.nat({ max: 100 }), { minLength: 12, maxLength: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 32, maxLength: 32 }),
        (costs, tieBreaks, choiceCount, draws) => {
          let next = 0;
          const random = () => draws[next++ % draws.length] ?? 0;
          const chosen = powerOfChoices(
            costs.length,
            choiceCount,
            (i) => costs[i] ?? 0,
            random,
            (i) => tieBreaks[i] ?? 0,
          );
          if (choiceCount >= costs.length) {
            const lowest = Math.min(...costs);
            expect(costs[chosen]).toBe(lowest);
            const tied = costs.flatMap((cost, i) => (cost === lowest ? [tieBreaks[i] ?? 0] : []));
            expect(tieBreaks[chosen]).toBe(Math.min(...tied));
          }
        },
      ),
    );
  });
});
