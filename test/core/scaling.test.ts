import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScalingAction, ScalingMetrics } from '../../src/contracts/auto-scaler.js';
import {
  NO_POLICIES_REASON,
  combineScalingDecisions,
  type PolicyVote,
} from '../../src/core/scaling/combine.js';
import { THRESHOLD_METRICS, decideByThresholds } from '../../src/core/scaling/thresholds.js';

const bounds = fc
  .tuple(fc.nat({ max: 50 }), fc.nat({ max: 50 }), fc.nat({ max: 60 }))
  .map(([a, b, current]) => ({
    minNodes: Math.min(a, b),
    maxNodes: Math.max(a, b),
    currentNodeCount: current,
  }));

const vote = fc.record({
  policyName: fc.string({ minLength: 1, maxLength: 6 }),
  decision: fc.record({
    action: fc.constantFrom<ScalingAction>('no-action', 'scale-out', 'scale-in'),
    reason: fc.string({ maxLength: 10 }),
    targetNodeCount: fc.nat({ max: 80 }),
  }),
});

describe('combineScalingDecisions (core)', () => {
  it('keeps the target within bounds, with no-action exactly when it equals the current size', () => {
    fc.assert(
      fc.property(fc.array(vote, { maxLength: 6 }), bounds, (votes, b) => {
        const decision = combineScalingDecisions(votes, b);
        expect(decision.targetNodeCount).toBeGreaterThanOrEqual(b.minNodes);
        expect(decision.targetNodeCount).toBeLessThanOrEqual(b.maxNodes);
        const expectedAction =
          decision.targetNodeCount > b.currentNodeCount
            ? 'scale-out'
            : decision.targetNodeCount < b.currentNodeCount
              ? 'scale-in'
              : 'no-action';
        expect(decision.action).toBe(expectedAction);
      }),
    );
  });

  it('never shrinks when some policy asks to grow, never moves against a unanimous vote', () => {
    fc.assert(
      fc.property(fc.array(vote, { minLength: 1, maxLength: 6 }), bounds, (votes, b) => {
        // Only within bounds: out-of-bounds clusters are pulled back regardless of votes.
        fc.pre(b.currentNodeCount >= b.minNodes && b.currentNodeCount <= b.maxNodes);
        const decision = combineScalingDecisions(votes, b);
        const actions = votes.map((v) => v.decision.action);
        if (actions.includes('scale-out')) expect(decision.action).not.toBe('scale-in');
        else if (actions.every((a) => a === 'scale-in'))
          expect(decision.action).not.toBe('scale-out');
        else expect(decision.action).toBe('no-action');
      }),
    );
  });

  it('a scale-out goes to the highest target asked for, when the bounds allow it', () => {
    fc.assert(
      fc.property(fc.array(vote, { minLength: 1, maxLength: 6 }), (votes) => {
        const b = { currentNodeCount: 5, minNodes: 0, maxNodes: 1000 };
        const outs = votes.filter((v) => v.decision.action === 'scale-out');
        fc.pre(outs.length > 0);
        const highest = Math.max(6, ...outs.map((v) => v.decision.targetNodeCount));
        expect(combineScalingDecisions(votes, b).targetNodeCount).toBe(highest);
      }),
    );
  });

  it('an all-scale-in vote goes to the highest (most conservative) target', () => {
    const votes: PolicyVote[] = [
      { policyName: 'a', decision: { action: 'scale-in', reason: '', targetNodeCount: 2 } },
      { policyName: 'b', decision: { action: 'scale-in', reason: '', targetNodeCount: 4 } },
    ];
    const decision = combineScalingDecisions(votes, {
      currentNodeCount: 6,
      minNodes: 1,
      maxNodes: 9,
    });
    expect(decision).toMatchObject({ action: 'scale-in', targetNodeCount: 4, policyName: 'b' });
  });

  it('with no votes keeps the size and says no policies are registered', () => {
    expect(combineScalingDecisions([], { currentNodeCount: 2, minNodes: 1, maxNodes: 3 })).toEqual({
      action: 'no-action',
      reason: NO_POLICIES_REASON,
      targetNodeCount: 2,
    });
    expect(
      combineScalingDecisions([], { currentNodeCount: 0, minNodes: 1, maxNodes: 3 }),
    ).toMatchObject({
      action: 'scale-out',
      targetNodeCount: 1,
    });
  });
});

const metricsArb = fc.record({
  cpuUsage: fc.integer({ min: 0, max: 100 }),
  memoryUsage: fc.integer({ min: 0, max: 100 }),
  storageUsage: fc.integer({ min: 0, max: 100 }),
  activeConnections: fc.nat({ max: 1000 }),
  queueDepth: fc.nat({ max: 1000 }),
});

describe('decideByThresholds (core)', () => {
  it('scales out exactly when some metric is above its scale-out threshold', () => {
    fc.assert(
      fc.property(
        metricsArb,
        fc.dictionary(fc.constantFrom(...THRESHOLD_METRICS), fc.nat({ max: 1000 })),
        fc.nat({ max: 20 }),
        fc.integer({ min: 1, max: 3 }),
        (metrics: ScalingMetrics, above, current, step) => {
          const decision = decideByThresholds(
            metrics,
            { scaleOutAbove: above, scaleInBelow: {}, step },
            current,
          );
          const over = THRESHOLD_METRICS.some((m) => {
            const limit = above[m];
            return limit !== undefined && metrics[m] > limit;
          });
          expect(decision.action).toBe(over ? 'scale-out' : 'no-action');
          expect(decision.targetNodeCount).toBe(over ? current + step : current);
        },
      ),
    );
  });
});
