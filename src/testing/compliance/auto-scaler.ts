/**
 * The behavioural tests every {@link AutoScaler} must pass.
 *
 * @packageDocumentation
 */

import { describe, expect, it } from 'vitest';
import type {
  AutoScaler,
  ScalingContext,
  ScalingEvent,
  ScalingMetrics,
} from '../../contracts/auto-scaler.js';
import { SCALING_ACTIONS } from '../../contracts/auto-scaler.js';
import { DistributedError } from '../../contracts/errors.js';
import type { ComplianceFactory } from './factory.js';
import { withSubject } from './factory.js';

const calm: ScalingMetrics = {
  cpuUsage: 40,
  memoryUsage: 40,
  storageUsage: 40,
  activeConnections: 10,
  queueDepth: 0,
};

function scalingContext(overrides: Partial<ScalingContext> = {}): ScalingContext {
  return { metrics: calm, currentNodeCount: 3, minNodes: 1, maxNodes: 5, ...overrides };
}

/**
 * Registers the {@link AutoScaler} compliance tests with Vitest. Call it inside a
 * test file; the factory gives each test a fresh scaler. The tests never expect
 * a scale-out or scale-in to succeed, but check that whatever happens is reported
 * consistently; they may call `scaleOut` and `scaleIn`, so give them a scaler
 * whose actuator (if any) is safe to exercise.
 *
 * @example
 * ```ts
 * autoScalerCompliance('InMemoryAutoScaler', () => ({ subject: new InMemoryAutoScaler() }));
 * ```
 *
 * @param name - The implementation's name, shown in test titles.
 * @param factory - Makes a fresh auto-scaler for each test.
 * @since 2.0.0
 */
export function autoScalerCompliance(name: string, factory: ComplianceFactory<AutoScaler>): void {
  const test = (title: string, body: (subject: AutoScaler) => Promise<void> | void) => {
    it(title, () => withSubject(factory, body));
  };

  describe(`AutoScaler compliance: ${name}`, () => {
    test('reports a well-formed state', (scaler) => {
      const state = scaler.getCurrentState();
      expect(Number.isInteger(state.currentNodeCount) && state.currentNodeCount >= 0).toBe(true);
      expect(Number.isInteger(state.targetNodeCount) && state.targetNodeCount >= 0).toBe(true);
      expect(typeof state.isScaling).toBe('boolean');
      if (!state.isScaling) expect(state.targetNodeCount).toBe(state.currentNodeCount);
    });

    test('evaluate returns a decision within bounds, remembers it and emits evaluated', async (scaler) => {
      const events: ScalingEvent[] = [];
      scaler.onScalingEvent((event) => events.push(event));
      const decision = await scaler.evaluate(scalingContext());
      expect(SCALING_ACTIONS).toContain(decision.action);
      expect(typeof decision.reason).toBe('string');
      expect(decision.targetNodeCount).toBeGreaterThanOrEqual(1);
      expect(decision.targetNodeCount).toBeLessThanOrEqual(5);
      expect(decision.action === 'no-action').toBe(decision.targetNodeCount === 3);
      expect(scaler.getCurrentState().lastDecision).toEqual(decision);
      const evaluated = events.filter((event) => event.eventType === 'evaluated');
      expect(evaluated).toHaveLength(1);
      expect(evaluated[0]?.action).toBe(decision.action);
    });

    test('a cluster outside its bounds is brought back within them', async (scaler) => {
      const below = await scaler.evaluate(scalingContext({ currentNodeCount: 0, minNodes: 2 }));
      expect(below.targetNodeCount).toBeGreaterThanOrEqual(2);
      expect(below.action).toBe('scale-out');
      const above = await scaler.evaluate(scalingContext({ currentNodeCount: 9, maxNodes: 4 }));
      expect(above.targetNodeCount).toBeLessThanOrEqual(4);
      expect(above.action).toBe('scale-in');
    });

    test('an invalid context is INVALID_ARGUMENT and changes nothing', async (scaler) => {
      const events: ScalingEvent[] = [];
      scaler.onScalingEvent((event) => events.push(event));
      const invalid: ScalingContext[] = [
        scalingContext({ minNodes: 6, maxNodes: 5 }),
        scalingContext({ currentNodeCount: -1 }),
        scalingContext({ maxNodes: 2.5 }),
        scalingContext({ metrics: { ...calm, cpuUsage: -5 } }),
        scalingContext({ metrics: { ...calm, memoryUsage: Number.NaN } }),
        scalingContext({ metrics: { ...calm, queueDepth: -1 } }),
        // Callers in plain JavaScript, or decoding JSON, can pass anything.
        null as unknown as ScalingContext,
        scalingContext({ metrics: null as unknown as ScalingContext['metrics'] }),
      ];
      for (const bad of invalid) {
        const failure: unknown = await scaler.evaluate(bad).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(DistributedError);
        expect((failure as DistributedError).code).toBe('INVALID_ARGUMENT');
      }
      expect(events).toHaveLength(0);
      expect(scaler.getCurrentState().lastDecision).toBeUndefined();
    });

    test('a malformed scale request rejects with INVALID_ARGUMENT and emits nothing', async (scaler) => {
      const events: ScalingEvent[] = [];
      scaler.onScalingEvent((event) => events.push(event));
      const before = scaler.getCurrentState();
      const malformed = [
        scaler.scaleOut({ requestedNodes: 0, reason: 'test' }),
        scaler.scaleOut({
          requestedNodes: 2,
          reason: 'test',
          nodes: [{ address: '10.0.0.9', port: 7000 }],
        }),
        scaler.scaleIn({ nodeIds: [], reason: 'test' }),
      ];
      for (const attempt of malformed) {
        await expect(attempt).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }
      expect(events).toEqual([]);
      expect(scaler.getCurrentState()).toEqual(before);
    });

    test('scale results and events agree', async (scaler) => {
      const events: ScalingEvent[] = [];
      scaler.onScalingEvent((event) => events.push(event));
      const result = await scaler.scaleOut({ requestedNodes: 1, reason: 'compliance test' });
      expect(result.action).toBe('scale-out');
      if (result.success) {
        expect(result.nodesAffected).toHaveLength(1);
        expect(events.map((event) => event.eventType)).toContain('scale-out-completed');
      } else {
        expect(result.errorCode).toBeDefined();
        expect(result.errorMessage).toBeTruthy();
        expect(result.newNodeCount).toBe(result.previousNodeCount);
        expect(events.map((event) => event.eventType)).toContain('scaling-failed');
      }
    });

    test('an aborted signal rejects with its reason and changes nothing', async (scaler) => {
      const reason = new Error('cancelled by test');
      const signal = AbortSignal.abort(reason);
      const events: ScalingEvent[] = [];
      scaler.onScalingEvent((event) => events.push(event));
      const before = scaler.getCurrentState();
      await expect(scaler.evaluate(scalingContext(), { signal })).rejects.toBe(reason);
      await expect(scaler.scaleOut({ requestedNodes: 1, reason: 'x' }, { signal })).rejects.toBe(
        reason,
      );
      await expect(scaler.scaleIn({ nodeIds: ['n-1'], reason: 'x' }, { signal })).rejects.toBe(
        reason,
      );
      expect(events).toHaveLength(0);
      expect(scaler.getCurrentState()).toEqual(before);
    });

    test('an unsubscribed listener hears nothing; a throwing one stops no other', async (scaler) => {
      const dropped: ScalingEvent[] = [];
      const kept: ScalingEvent[] = [];
      scaler.onScalingEvent((event) => dropped.push(event))();
      {
        using _disposed = scaler.onScalingEvent((event) => dropped.push(event));
      }
      scaler.onScalingEvent(() => {
        throw new Error('listener failure');
      });
      scaler.onScalingEvent((event) => kept.push(event));
      await scaler.evaluate(scalingContext());
      expect(dropped).toHaveLength(0);
      expect(kept.map((event) => event.eventType)).toEqual(['evaluated']);
    });
  });
}
