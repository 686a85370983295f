import { failureOf } from '../support/failures.js';
import { describe, expect, it } from 'vitest';
import type {
  ScalingDecision,
  ScalingEvent,
  ScalingMetrics,
  ScalingPolicy,
} from '../../src/contracts/auto-scaler.js';
import type { CallOptions } from '../../src/contracts/common.js';
import { DistributedError } from '../../src/contracts/errors.js';
import { InMemoryAutoScaler } from '../../src/inmemory/in-memory-auto-scaler.js';
import { ThresholdScalingPolicy } from '../../src/inmemory/threshold-scaling-policy.js';
import { autoScalerCompliance } from '../../src/testing/compliance/auto-scaler.js';

autoScalerCompliance('InMemoryAutoScaler (no policies)', () => ({
  subject: new InMemoryAutoScaler({ onListenerError: () => undefined }),
}));

autoScalerCompliance('InMemoryAutoScaler (threshold policy)', () => ({
  subject: new InMemoryAutoScaler({
    onListenerError: () => undefined,
    policies: [
      new ThresholdScalingPolicy({
        scaleOutAbove: { cpuUsage: 30 },
        scaleInBelow: { queueDepth: 5 },
        currentNodeCount: 3,
      }),
    ],
  }),
}));

const metrics: ScalingMetrics = {
  cpuUsage: 50,
  memoryUsage: 50,
  storageUsage: 50,
  activeConnections: 10,
  queueDepth: 3,
};

function fixed(policyName: string, decision: Omit<ScalingDecision, 'policyName'>): ScalingPolicy {
  return { policyName, shouldScale: () => Promise.resolve(decision) };
}

describe('InMemoryAutoScaler', () => {
  const context = { metrics, currentNodeCount: 2, minNodes: 1, maxNodes: 10 };

  it('starts as one idle node', () => {
    expect(new InMemoryAutoScaler().getCurrentState()).toEqual({
      currentNodeCount: 1,
      targetNodeCount: 1,
      isScaling: false,
    });
  });

  it('with no policies decides no-action, saying why', async () => {
    const scaler = new InMemoryAutoScaler();
    expect(await scaler.evaluate(context)).toEqual({
      action: 'no-action',
      reason: 'no scaling policies registered',
      targetNodeCount: 2,
    });
  });

  it('recommends a scale-out from a threshold policy, naming the metric', async () => {
    const scaler = new InMemoryAutoScaler({ now: () => 77 });
    scaler.registerPolicy(
      new ThresholdScalingPolicy({
        name: 'cpu',
        scaleOutAbove: { cpuUsage: 40 },
        currentNodeCount: 2,
      }),
    );
    const events: ScalingEvent[] = [];
    scaler.onScalingEvent((event) => events.push(event));
    const decision = await scaler.evaluate(context);
    expect(decision).toMatchObject({ action: 'scale-out', targetNodeCount: 3, policyName: 'cpu' });
    expect(decision.reason).toContain('cpuUsage 50 is above 40');
    expect(scaler.getCurrentState().lastDecision).toEqual(decision);
    expect(scaler.getCurrentState().currentNodeCount).toBe(1); // evaluating changes nothing
    expect(events).toEqual([
      { eventType: 'evaluated', action: 'scale-out', timestamp: 77, detail: decision.reason },
    ]);
  });

  it('any scale-out wins, with the highest target', async () => {
    const scaler = new InMemoryAutoScaler({
      policies: [
        fixed('in', { action: 'scale-in', reason: 'idle', targetNodeCount: 1 }),
        fixed('out-3', { action: 'scale-out', reason: 'busy', targetNodeCount: 3 }),
        fixed('out-5', { action: 'scale-out', reason: 'very busy', targetNodeCount: 5 }),
      ],
    });
    expect(await scaler.evaluate(context)).toMatchObject({
      action: 'scale-out',
      targetNodeCount: 5,
      policyName: 'out-5',
    });
  });

  it('scales in only when every policy agrees, to the most conservative target', async () => {
    const agree = new InMemoryAutoScaler({
      policies: [
        fixed('a', { action: 'scale-in', reason: 'idle', targetNodeCount: 3 }),
        fixed('b', { action: 'scale-in', reason: 'idle', targetNodeCount: 5 }),
      ],
    });
    expect(await agree.evaluate({ ...context, currentNodeCount: 6 })).toMatchObject({
      action: 'scale-in',
      targetNodeCount: 5,
      policyName: 'b',
    });
    const disagree = new InMemoryAutoScaler({
      policies: [
        fixed('a', { action: 'scale-in', reason: 'idle', targetNodeCount: 3 }),
        fixed('b', { action: 'no-action', reason: 'memory is busy', targetNodeCount: 6 }),
      ],
    });
    const decision = await disagree.evaluate({ ...context, currentNodeCount: 6 });
    expect(decision).toMatchObject({ action: 'no-action', targetNodeCount: 6 });
    expect(decision.reason).toContain('memory is busy');
  });

  it('clamps the target to maxNodes and says so', async () => {
    const scaler = new InMemoryAutoScaler({
      policies: [fixed('out', { action: 'scale-out', reason: 'busy', targetNodeCount: 50 })],
    });
    const decision = await scaler.evaluate({ ...context, maxNodes: 4 });
    expect(decision).toMatchObject({ action: 'scale-out', targetNodeCount: 4 });
    expect(decision.reason).toContain('limited to maxNodes 4');
    const atMax = await scaler.evaluate({ ...context, currentNodeCount: 4, maxNodes: 4 });
    expect(atMax).toMatchObject({ action: 'no-action', targetNodeCount: 4 });
  });

  it('passes a frozen copy of the metrics and the signal to each policy', async () => {
    let seen: { metrics: ScalingMetrics; options: CallOptions | undefined } | undefined;
    const scaler = new InMemoryAutoScaler({
      policies: [
        {
          policyName: 'spy',
          shouldScale: (received, options) => {
            seen = { metrics: received, options };
            return Promise.resolve({ action: 'no-action', reason: 'ok', targetNodeCount: 2 });
          },
        },
      ],
    });
    const signal = new AbortController().signal;
    await scaler.evaluate(context, { signal });
    expect(seen?.metrics).toEqual(metrics);
    expect(seen?.metrics).not.toBe(metrics);
    expect(Object.isFrozen(seen?.metrics)).toBe(true);
    expect(seen?.options?.signal).toBe(signal);
  });

  it('a malformed policy decision is INVALID_ARGUMENT and records nothing', async () => {
    const scaler = new InMemoryAutoScaler({
      policies: [fixed('bad', { action: 'scale-out', reason: 'x', targetNodeCount: -2 })],
    });
    const failure = await failureOf(scaler.evaluate(context));
    expect(failure.code).toBe('INVALID_ARGUMENT');
    expect(failure.message).toContain("'bad'");
    expect(scaler.getCurrentState().lastDecision).toBeUndefined();
  });

  it('a policy rejection is passed on', async () => {
    const boom = new Error('metrics store down');
    const scaler = new InMemoryAutoScaler({
      policies: [{ policyName: 'p', shouldScale: () => Promise.reject(boom) }],
    });
    await expect(scaler.evaluate(context)).rejects.toBe(boom);
  });

  it('registers and removes policies, bounded by maxPolicies', async () => {
    const scaler = new InMemoryAutoScaler({ maxPolicies: 2 });
    const remove = scaler.registerPolicy(
      fixed('a', { action: 'no-action', reason: '', targetNodeCount: 2 }),
    );
    scaler.registerPolicy(fixed('b', { action: 'no-action', reason: '', targetNodeCount: 2 }));
    expect(scaler.getPolicyNames()).toEqual(['a', 'b']);
    const same = fixed('a', { action: 'no-action', reason: '', targetNodeCount: 2 });
    expect(() => scaler.registerPolicy(same)).toThrow(
      expect.objectContaining({ code: 'POLICY_EXISTS' }),
    );
    const extra = fixed('c', { action: 'no-action', reason: '', targetNodeCount: 2 });
    expect(() => scaler.registerPolicy(extra)).toThrow(
      expect.objectContaining({ code: 'CAPACITY_EXCEEDED' }),
    );
    remove();
    expect(scaler.removePolicy('b')).toBe(true);
    expect(scaler.removePolicy('b')).toBe(false);
    expect(scaler.getPolicyNames()).toEqual([]);
    expect((await scaler.evaluate(context)).reason).toBe('no scaling policies registered');
    const invalid = { policyName: '', shouldScale: 'no' } as unknown as ScalingPolicy;
    expect(() => scaler.registerPolicy(invalid)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('scaleOut says no actuator is configured and what a person must do', async () => {
    const scaler = new InMemoryAutoScaler({ now: () => 500 });
    const events: ScalingEvent[] = [];
    scaler.onScalingEvent((event) => events.push(event));
    const result = await scaler.scaleOut({
      requestedNodes: 1,
      reason: 'approved proposal',
      nodes: [{ nodeId: 'node-new', address: '10.0.0.5', port: 7000 }],
    });
    expect(result).toMatchObject({
      success: false,
      action: 'scale-out',
      errorCode: 'NO_ACTUATOR',
      nodesAffected: [],
      previousNodeCount: 1,
      newNodeCount: 1,
    });
    expect(result.errorMessage).toMatch(/^no actuator configured: .*A person must start/);
    expect(events).toEqual([
      {
        eventType: 'scaling-failed',
        action: 'scale-out',
        timestamp: 500,
        detail: result.errorMessage,
        nodeIds: ['node-new'],
      },
    ]);
    expect(scaler.getCurrentState()).toEqual({
      currentNodeCount: 1,
      targetNodeCount: 1,
      isScaling: false,
      lastAction: 'scale-out',
      lastActionAt: 500,
    });
  });

  it('scaleIn says no actuator is configured, naming the nodes kept', async () => {
    const scaler = new InMemoryAutoScaler();
    const events: ScalingEvent[] = [];
    scaler.onScalingEvent((event) => events.push(event));
    const result = await scaler.scaleIn({ nodeIds: ['node-b'], reason: 'idle' });
    expect(result).toMatchObject({ success: false, action: 'scale-in', errorCode: 'NO_ACTUATOR' });
    expect(result.errorMessage).toContain('node-b was not removed');
    expect(events.map((event) => [event.eventType, event.nodeIds])).toEqual([
      ['scaling-failed', ['node-b']],
    ]);
    expect(scaler.getCurrentState().lastAction).toBe('scale-in');
  });

  it('a malformed request records and emits nothing', async () => {
    const scaler = new InMemoryAutoScaler();
    const events: ScalingEvent[] = [];
    scaler.onScalingEvent((event) => events.push(event));
    const attempts = [
      scaler.scaleOut({ requestedNodes: 1.5, reason: 'x' }),
      scaler.scaleOut({ requestedNodes: 1, reason: 'x', nodes: [{ address: '', port: 1 }] }),
      scaler.scaleIn({ nodeIds: ['a', 'a'], reason: 'x' }),
      scaler.scaleIn({ nodeIds: ['a'], reason: 'x', drainTimeoutMs: -1 }),
    ];
    for (const attempt of attempts) {
      await expect(attempt).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(events).toEqual([]);
    expect(scaler.getCurrentState().lastAction).toBeUndefined();
  });

  it('rejects a maxPolicies that is not a positive integer', () => {
    expect(() => new InMemoryAutoScaler({ maxPolicies: 0 })).toThrow(DistributedError);
  });
});

describe('ThresholdScalingPolicy', () => {
  const rules = {
    scaleOutAbove: { cpuUsage: 80, queueDepth: 100 },
    scaleInBelow: { cpuUsage: 20, activeConnections: 5 },
    currentNodeCount: 4,
    step: 2,
  };

  it('scales out when any metric is above, naming every one', async () => {
    const policy = new ThresholdScalingPolicy(rules);
    const decision = await policy.shouldScale({ ...metrics, cpuUsage: 90, queueDepth: 150 });
    expect(decision).toEqual({
      action: 'scale-out',
      reason: 'cpuUsage 90 is above 80; queueDepth 150 is above 100',
      targetNodeCount: 6,
      policyName: 'threshold',
    });
  });

  it('scales in only when every scale-in metric is below', async () => {
    const policy = new ThresholdScalingPolicy(rules);
    const low = await policy.shouldScale({ ...metrics, cpuUsage: 10, activeConnections: 2 });
    expect(low).toMatchObject({ action: 'scale-in', targetNodeCount: 2 });
    expect(low.reason).toBe('cpuUsage 10 is below 20; activeConnections 2 is below 5');
    const mixed = await policy.shouldScale({ ...metrics, cpuUsage: 10, activeConnections: 9 });
    expect(mixed).toMatchObject({ action: 'no-action', targetNodeCount: 4 });
  });

  it('asks a function for the current size at each decision', async () => {
    let size = 1;
    const policy = new ThresholdScalingPolicy({
      scaleOutAbove: { cpuUsage: 10 },
      currentNodeCount: () => size,
    });
    expect((await policy.shouldScale(metrics)).targetNodeCount).toBe(2);
    size = 7;
    expect((await policy.shouldScale(metrics)).targetNodeCount).toBe(8);
    size = -1;
    expect((await failureOf(policy.shouldScale(metrics))).code).toBe('INVALID_ARGUMENT');
  });

  it('refuses contradictory or empty rules and invalid metrics', async () => {
    const bad = [
      { scaleOutAbove: {}, currentNodeCount: 1 },
      { scaleOutAbove: { cpuUsage: 50 }, scaleInBelow: { cpuUsage: 60 }, currentNodeCount: 1 },
      { scaleOutAbove: { cpuUsage: -1 }, currentNodeCount: 1 },
      { scaleOutAbove: { cpuUsage: 50 }, step: 0, currentNodeCount: 1 },
      { scaleOutAbove: { cpu: 50 } as never, currentNodeCount: 1 },
      { scaleOutAbove: { cpuUsage: 50 }, currentNodeCount: -3 },
    ];
    for (const options of bad) {
      expect(() => new ThresholdScalingPolicy(options)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
    const policy = new ThresholdScalingPolicy(rules);
    expect((await failureOf(policy.shouldScale({ ...metrics, storageUsage: 120 }))).code).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('an aborted signal rejects with its reason', async () => {
    const reason = new Error('cancelled');
    const policy = new ThresholdScalingPolicy(rules);
    await expect(policy.shouldScale(metrics, { signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
  });
});
