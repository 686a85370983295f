import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AdaptiveController,
  DEFAULT_ADAPTIVE_POLICY,
  latencySpread,
  loadImbalance,
} from '../../src/core/load-balancing/adaptive.js';
import { ewmaUpdate, peakEwmaAt, peakEwmaUpdate } from '../../src/core/load-balancing/latency.js';
import {
  INITIAL_OUTLIER_STATE,
  ejectionDuration,
  isEjected,
  recordOutcome,
  type OutlierPolicy,
} from '../../src/core/load-balancing/outlier.js';
import { isPanic } from '../../src/core/load-balancing/panic.js';
import {
  DEFAULT_RESOURCE_POLICY,
  headroomScore,
  resourceExclusion,
} from '../../src/core/load-balancing/resource.js';
import { slowStartFactor } from '../../src/core/load-balancing/slow-start.js';

const policy: OutlierPolicy = { consecutiveFailures: 3, baseEjectionMs: 1000, maxEjectionMs: 8000 };

describe('outlier ejection', () => {
  it('ejects after N consecutive failures, not N − 1, and a success resets the streak', () => {
    let state = INITIAL_OUTLIER_STATE;
    state = recordOutcome(state, false, 0, policy);
    state = recordOutcome(state, false, 1, policy);
    state = recordOutcome(state, true, 2, policy);
    state = recordOutcome(state, false, 3, policy);
    state = recordOutcome(state, false, 4, policy);
    expect(isEjected(state, 5)).toBe(false);
    state = recordOutcome(state, false, 5, policy);
    expect(isEjected(state, 5)).toBe(true);
    expect(isEjected(state, 1004)).toBe(true);
    expect(isEjected(state, 1005)).toBe(false);
  });

  it('backs off exponentially up to the cap, and forgives after a quiet max-ejection period', () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => ejectionDuration(policy, n))).toEqual([
      1000, 2000, 4000, 8000, 8000, 8000,
    ]);
    let state = INITIAL_OUTLIER_STATE;
    let now = 0;
    const ejectOnce = () => {
      for (let i = 0; i < 3; i += 1) state = recordOutcome(state, false, now, policy);
      const length = state.ejectedUntil - now;
      now = state.ejectedUntil;
      return length;
    };
    expect([ejectOnce(), ejectOnce(), ejectOnce(), ejectOnce(), ejectOnce()]).toEqual([
      1000, 2000, 4000, 8000, 8000,
    ]);
    // Healthy for a full max-ejection period: the backoff starts over.
    state = recordOutcome(state, true, now + 8000, policy);
    now += 8000;
    expect(state.ejections).toBe(0);
    expect(ejectOnce()).toBe(1000);
  });

  it('failures while ejected do not extend the ejection', () => {
    let state = INITIAL_OUTLIER_STATE;
    for (let i = 0; i < 3; i += 1) state = recordOutcome(state, false, 0, policy);
    const until = state.ejectedUntil;
    for (let i = 0; i < 10; i += 1) state = recordOutcome(state, false, 10 + i, policy);
    expect(state.ejectedUntil).toBe(until);
  });

  it('is never ejected longer than the cap (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 5000 }))), (steps) => {
        let state = INITIAL_OUTLIER_STATE;
        let now = 0;
        for (const [success, gap] of steps) {
          now += gap;
          state = recordOutcome(state, success, now, policy);
          expect(state.ejectedUntil - now).toBeLessThanOrEqual(policy.maxEjectionMs);
        }
      }),
    );
  });
});

describe('slow start', () => {
  it('ramps linearly from the minimum factor to 1 over the window', () => {
    expect(slowStartFactor(0, 1000, 0.1)).toBeCloseTo(0.1);
    expect(slowStartFactor(500, 1000, 0.1)).toBeCloseTo(0.55);
    expect(slowStartFactor(1000, 1000, 0.1)).toBe(1);
    expect(slowStartFactor(-5, 1000, 0.1)).toBeCloseTo(0.1);
    expect(slowStartFactor(0, 0, 0.1)).toBe(1);
  });

  it('never decreases with age and stays within [min, 1]', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 10_000 }),
        fc.nat({ max: 10_000 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (a, b, min) => {
          const [young, old] = a < b ? [a, b] : [b, a];
          const f = slowStartFactor(young, 5000, min);
          expect(f).toBeLessThanOrEqual(slowStartFactor(old, 5000, min));
          expect(f).toBeGreaterThanOrEqual(min - 1e-12);
          expect(f).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});

describe('panic threshold', () => {
  it('panics below the healthy fraction, and always with nothing eligible', () => {
    expect(isPanic(0, 3, 0)).toBe(true);
    expect(isPanic(1, 3, 0.5)).toBe(true);
    expect(isPanic(2, 4, 0.5)).toBe(false);
    expect(isPanic(1, 10, 0)).toBe(false);
  });
});

describe('latency averages', () => {
  it('EWMA moves towards samples and weighs by elapsed time', () => {
    let average = ewmaUpdate(undefined, 100, 0, 1000);
    expect(average.value).toBe(100);
    average = ewmaUpdate(average, 0, 1000, 1000);
    expect(average.value).toBeCloseTo(100 * Math.exp(-1));
    const quick = ewmaUpdate({ value: 100, at: 0 }, 0, 0, 1000);
    expect(quick.value).toBeCloseTo(95); // the minimum sample weight
  });

  it('peak EWMA jumps to a peak at once and decays afterwards, also when read', () => {
    let peak = peakEwmaUpdate(undefined, 10, 0, 1000);
    peak = peakEwmaUpdate(peak, 200, 10, 1000);
    expect(peak.value).toBe(200);
    peak = peakEwmaUpdate(peak, 10, 1010, 1000);
    expect(peak.value).toBeCloseTo(200 * Math.exp(-1) + 10 * (1 - Math.exp(-1)));
    expect(peakEwmaAt(peak, 1010, 1000)).toBeCloseTo(peak.value);
    expect(peakEwmaAt(peak, 1010 + 5000, 1000)).toBeLessThan(peak.value / 100);
  });
});

describe('resource score', () => {
  it('excludes nodes over a limit and scores idle above busy', () => {
    const idle = { cpuUsage: 5, memoryUsage: 10, activeConnections: 0, averageLatencyMs: 1 };
    const busy = { cpuUsage: 80, memoryUsage: 85, activeConnections: 300, averageLatencyMs: 400 };
    expect(resourceExclusion(idle, DEFAULT_RESOURCE_POLICY)).toBeUndefined();
    expect(resourceExclusion({ ...busy, cpuUsage: 95 }, DEFAULT_RESOURCE_POLICY)).toMatch(/cpu/);
    expect(headroomScore(idle, DEFAULT_RESOURCE_POLICY)).toBeGreaterThan(
      headroomScore(busy, DEFAULT_RESOURCE_POLICY),
    );
  });
});

describe('adaptive controller', () => {
  const even = { activeRequests: [4, 4, 4, 4], latencies: [10, 10, 11, 10] };
  const skewed = { activeRequests: [16, 1, 1, 2], latencies: [10, 10, 11, 10] };
  const slow = { activeRequests: [4, 4, 4, 4], latencies: [10, 10, 10, 100] };

  it('measures imbalance and spread', () => {
    expect(loadImbalance([4, 4, 4, 4], 1)).toBe(1);
    expect(loadImbalance([16, 0, 0, 0], 1)).toBe(4);
    expect(loadImbalance([1, 0, 0, 0], 1)).toBe(1); // mean below the floor: not judged
    expect(latencySpread([10, 10, 10, 100])).toBe(10);
    expect(latencySpread([10])).toBe(1);
  });

  it('switches only after K confirmations and the dwell time, and says why', () => {
    const controller = new AdaptiveController(
      { ...DEFAULT_ADAPTIVE_POLICY, confirmations: 3, minDwellMs: 0 },
      0,
    );
    expect(controller.evaluate(slow, 1).mode).toBe('round-robin');
    expect(controller.evaluate(slow, 2).mode).toBe('round-robin');
    const decision = controller.evaluate(slow, 3);
    expect(decision).toMatchObject({ mode: 'latency-based', switched: true });
    expect(decision.reason).toMatch(/latency spread/);
    for (let t = 4; t < 7; t += 1) controller.evaluate(skewed, t);
    expect(controller.mode).toBe('least-request');
    expect(controller.reason).toMatch(/imbalance/);
  });

  it('respects the minimum dwell time', () => {
    const controller = new AdaptiveController(
      { ...DEFAULT_ADAPTIVE_POLICY, confirmations: 1, minDwellMs: 1000 },
      0,
    );
    expect(controller.evaluate(slow, 500).mode).toBe('round-robin');
    expect(controller.evaluate(slow, 1000).mode).toBe('latency-based');
    expect(controller.evaluate(even, 1500).mode).toBe('latency-based');
    expect(controller.evaluate(even, 2000).mode).toBe('round-robin');
  });

  it('does not flap on alternating inputs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 10, max: 200 }),
        (confirmations, rounds) => {
          const controller = new AdaptiveController(
            { ...DEFAULT_ADAPTIVE_POLICY, confirmations, minDwellMs: 0 },
            0,
          );
          let switches = 0;
          for (let t = 0; t < rounds; t += 1) {
            if (controller.evaluate(t % 2 === 0 ? slow : even, t).switched) switches += 1;
          }
          expect(switches).toBe(0);
        },
      ),
    );
  });

  it('switch times are at least the dwell apart, whatever the inputs (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(even, skewed, slow), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 4 }),
        (inputs, confirmations) => {
          const dwell = 5;
          const controller = new AdaptiveController(
            { ...DEFAULT_ADAPTIVE_POLICY, confirmations, minDwellMs: dwell },
            0,
          );
          let last = 0;
          inputs.forEach((input, t) => {
            if (controller.evaluate(input, t + 1).switched) {
              expect(t + 1 - last).toBeGreaterThanOrEqual(dwell);
              last = t + 1;
            }
          });
        },
      ),
    );
  });

  it('hysteresis: stays latency-based while the spread is between exit and enter', () => {
    const controller = new AdaptiveController(
      { ...DEFAULT_ADAPTIVE_POLICY, confirmations: 1, minDwellMs: 0 },
      0,
    );
    controller.evaluate(slow, 1);
    expect(controller.mode).toBe('latency-based');
    const between = { activeRequests: [4, 4, 4, 4], latencies: [10, 10, 10, 17] }; // spread 1.7
    for (let t = 2; t < 10; t += 1)
      expect(controller.evaluate(between, t).mode).toBe('latency-based');
  });
});
