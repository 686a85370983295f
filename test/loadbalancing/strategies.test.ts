import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterNode, ClusterNodeStatus } from '../../src/contracts/cluster-membership.js';
import type { LoadBalancerContext, NodeHealthReport } from '../../src/contracts/load-balancer.js';
import { HashRing } from '../../src/core/load-balancing/hashing/ring.js';
import { AdaptiveLoadBalancer } from '../../src/loadbalancing/adaptive-load-balancer.js';
import { ConsistentHashingLoadBalancer } from '../../src/loadbalancing/consistent-hashing-load-balancer.js';
import { createLoadBalancer } from '../../src/loadbalancing/factory.js';
import { LatencyBasedLoadBalancer } from '../../src/loadbalancing/latency-based-load-balancer.js';
import { LeastRequestLoadBalancer } from '../../src/loadbalancing/least-request-load-balancer.js';
import { ResourceAwareLoadBalancer } from '../../src/loadbalancing/resource-aware-load-balancer.js';
import { RoundRobinLoadBalancer } from '../../src/loadbalancing/round-robin-load-balancer.js';
import { SmoothWeightedRoundRobinLoadBalancer } from '../../src/loadbalancing/weighted-round-robin-load-balancer.js';

function node(
  nodeId: string,
  status: ClusterNodeStatus = 'active',
  metadata: Record<string, string> = {},
): ClusterNode {
  return { nodeId, address: 'h', port: 1, role: 'follower', status, joinedAt: 0, metadata };
}

function context(nodes: readonly ClusterNode[], requestKey = 'k'): LoadBalancerContext {
  return { requestKey, availableNodes: nodes, metadata: {} };
}

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

function report(fields: Partial<NodeHealthReport> = {}): NodeHealthReport {
  return {
    cpuUsage: 10,
    memoryUsage: 10,
    activeConnections: 0,
    averageLatencyMs: 5,
    reportedAt: 0,
    ...fields,
  };
}

function counts(picks: readonly string[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const id of picks) result[id] = (result[id] ?? 0) + 1;
  return result;
}

const ids = (n: number) =>
  Array.from({ length: n }, (_, i) => node(`n${String(i).padStart(2, '0')}`));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('health and churn (NodePool, through the strategies)', () => {
  it('skips nodes that are not active', () => {
    const balancer = new RoundRobinLoadBalancer();
    const nodes = [node('a'), node('b', 'joining'), node('c', 'suspected'), node('d')];
    const picked = new Set(
      Array.from({ length: 20 }, () => balancer.selectNode(context(nodes)).nodeId),
    );
    expect([...picked].sort()).toEqual(['a', 'd']);
  });

  it('routes in panic mode over the non-dead nodes when too few are healthy', () => {
    const balancer = new RoundRobinLoadBalancer({ panicThreshold: 0.5 });
    const nodes = [node('a'), node('b'), node('c'), node('d', 'dead')];
    balancer.reportNodeHealth('a', report({ status: 'unhealthy' }));
    balancer.reportNodeHealth('b', report({ status: 'unhealthy' }));
    const picked = counts(
      Array.from({ length: 30 }, () => balancer.selectNode(context(nodes)).nodeId),
    );
    expect(picked).toEqual({ a: 10, b: 10, c: 10 });
    expect(balancer.snapshot().panic).toBe(true);
    balancer.reportNodeHealth('a', report({ status: 'healthy' }));
    expect(
      new Set(Array.from({ length: 10 }, () => balancer.selectNode(context(nodes)).nodeId)),
    ).toEqual(new Set(['a', 'c']));
    expect(balancer.snapshot().panic).toBe(false);
  });

  it('ejects a node after consecutive failures and lets it back after the ejection', () => {
    let now = 1000;
    const balancer = new RoundRobinLoadBalancer({
      now: () => now,
      outlierDetection: { consecutiveFailures: 2, baseEjectionMs: 100, maxEjectionMs: 1000 },
    });
    const nodes = ids(4);
    balancer.selectNode(context(nodes));
    balancer.recordRequestEnd('n01', { latencyMs: 1, success: false });
    balancer.recordRequestEnd('n01', { latencyMs: 1, success: false });
    const during = new Set(
      Array.from({ length: 12 }, () => balancer.selectNode(context(nodes)).nodeId),
    );
    expect(during.has('n01')).toBe(false);
    expect(balancer.snapshot().nodes.find((n) => n.nodeId === 'n01')).toMatchObject({
      ejected: true,
      ejections: 1,
    });
    now += 100;
    const after = new Set(
      Array.from({ length: 12 }, () => balancer.selectNode(context(nodes)).nodeId),
    );
    expect(after.has('n01')).toBe(true);
    // A second ejection lasts twice as long.
    balancer.recordRequestEnd('n01', { latencyMs: 1, success: false });
    balancer.recordRequestEnd('n01', { latencyMs: 1, success: false });
    expect(balancer.snapshot().nodes.find((n) => n.nodeId === 'n01')?.ejectedUntil).toBe(now + 200);
  });

  it('ramps a newly joined node up over the slow-start window', () => {
    let now = 0;
    const balancer = new SmoothWeightedRoundRobinLoadBalancer({
      now: () => now,
      slowStartWindowMs: 1000,
      slowStartMinFactor: 0.1,
    });
    const initial = ids(3);
    balancer.selectNode(context(initial));
    now = 10;
    const grown = [...initial, node('new')];
    const share = () => {
      const picks = Array.from({ length: 310 }, () => balancer.selectNode(context(grown)).nodeId);
      return (counts(picks)['new'] ?? 0) / picks.length;
    };
    const early = share();
    now = 500;
    const middle = share();
    now = 2000;
    const late = share();
    expect(early).toBeLessThan(0.06);
    expect(middle).toBeGreaterThan(early);
    expect(late).toBeGreaterThan(middle);
    expect(late).toBeCloseTo(0.25, 1);
  });

  it('validates request outcomes', () => {
    const balancer = new RoundRobinLoadBalancer();
    expect(() => balancer.recordRequestEnd('a', { latencyMs: -1, success: true })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => balancer.recordRequestStart('')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('snapshots per-node load, latency and reports', () => {
    const balancer = createLoadBalancer('least-request', { now: () => 5 });
    balancer.reportNodeHealth('a', report({ cpuUsage: 42, status: 'degraded' }));
    balancer.recordRequestStart('a');
    balancer.recordRequestStart('a');
    balancer.recordRequestEnd('a', { latencyMs: 12, success: true });
    const snapshot = balancer.snapshot();
    expect(snapshot).toMatchObject({
      algorithm: 'least-connections',
      algorithmName: 'least-connections/p2c',
      takenAt: 5,
    });
    expect(snapshot.nodes).toEqual([
      expect.objectContaining({
        nodeId: 'a',
        activeRequests: 1,
        latencyEwmaMs: 12,
        verdict: 'degraded',
        cpuUsage: 42,
      }),
    ]);
    expect(Object.isFrozen(snapshot.nodes[0])).toBe(true);
  });
});

describe('weighted strategies', () => {
  it('smooth weighted round robin takes weights from metadata or options, exactly per cycle', () => {
    const nodes = [
      node('a', 'active', { weight: '5' }),
      node('b'),
      node('c', 'active', { weight: 'x' }),
    ];
    const balancer = new SmoothWeightedRoundRobinLoadBalancer();
    expect(
      Array.from({ length: 7 }, () => balancer.selectNode(context(nodes)).nodeId).join(''),
    ).toBe('aabacaa');
    const overridden = new SmoothWeightedRoundRobinLoadBalancer({ weights: { b: 2 } });
    expect(
      counts(Array.from({ length: 8 }, () => overridden.selectNode(context(nodes)).nodeId)),
    ).toEqual({ a: 5, b: 2, c: 1 });
  });

  it('weighted random honours weights within 5 %', () => {
    const balancer = createLoadBalancer('weighted-random', {
      random: seeded(3),
      weights: { a: 3, b: 1 },
    });
    const nodes = [node('a'), node('b')];
    const share =
      (counts(Array.from({ length: 20_000 }, () => balancer.selectNode(context(nodes)).nodeId))[
        'a'
      ] ?? 0) / 20_000;
    expect(Math.abs(share - 0.75)).toBeLessThan(0.05 * 0.75);
  });
});

describe('least request and latency', () => {
  it('least request never picks the more loaded of two', () => {
    const balancer = new LeastRequestLoadBalancer({ random: seeded(1) });
    const nodes = [node('a'), node('b')];
    for (let i = 0; i < 5; i += 1) balancer.recordRequestStart('a');
    for (let i = 0; i < 20; i += 1) expect(balancer.selectNode(context(nodes)).nodeId).toBe('b');
    balancer.reportNodeHealth('b', report({ activeConnections: 50 }));
    for (let i = 0; i < 20; i += 1) expect(balancer.selectNode(context(nodes)).nodeId).toBe('a');
  });

  it('latency-based (both variants) avoids a slow node once it has been observed', () => {
    for (const variant of ['ewma', 'peak-ewma'] as const) {
      const now = 0;
      const balancer = new LatencyBasedLoadBalancer({ variant, random: seeded(9), now: () => now });
      const nodes = [node('fast1'), node('fast2'), node('slow')];
      for (const candidate of nodes) {
        balancer.recordRequestStart(candidate.nodeId);
        balancer.recordRequestEnd(candidate.nodeId, {
          latencyMs: candidate.nodeId === 'slow' ? 100 : 10,
          success: true,
        });
      }
      const picked = counts(
        Array.from({ length: 100 }, () => balancer.selectNode(context(nodes)).nodeId),
      );
      expect([variant, picked['slow'] ?? 0]).toEqual([variant, 0]);
    }
  });

  it('peak EWMA probes an avoided node again after it decays', () => {
    let now = 0;
    const balancer = new LatencyBasedLoadBalancer({
      variant: 'peak-ewma',
      random: seeded(2),
      now: () => now,
      latencyDecayMs: 1000,
    });
    const nodes = [node('a'), node('b')];
    balancer.recordRequestEnd('a', { latencyMs: 10, success: true });
    now = 1;
    balancer.recordRequestEnd('b', { latencyMs: 1000, success: true });
    expect(balancer.selectNode(context(nodes)).nodeId).toBe('a');
    // a keeps being refreshed at 10 ms, b's peak decays towards 0.
    for (let t = 0; t < 10; t += 1) {
      now += 1000;
      balancer.recordRequestEnd('a', { latencyMs: 10, success: true });
    }
    expect(balancer.selectNode(context(nodes)).nodeId).toBe('b');
  });
});

describe('consistent hashing', () => {
  for (const variant of ['ring', 'maglev', 'bounded-load'] as const) {
    it(`${variant}: same key, same node; an unhealthy node moves only its own keys`, () => {
      const balancer = new ConsistentHashingLoadBalancer({ variant });
      const nodes = ids(10);
      const keys = Array.from({ length: 2000 }, (_, i) => `key-${i}`);
      const before = keys.map((key) => balancer.selectNode(context(nodes, key)).nodeId);
      expect(
        keys.map((key) => balancer.selectNode(context([...nodes].reverse(), key)).nodeId),
      ).toEqual(before);
      balancer.reportNodeHealth('n03', report({ status: 'unhealthy' }));
      const after = keys.map((key) => balancer.selectNode(context(nodes, key)).nodeId);
      keys.forEach((_key, i) => {
        if (before[i] !== 'n03') expect(after[i]).toBe(before[i]);
        else expect(after[i]).not.toBe('n03');
      });
      balancer.reportNodeHealth('n03', report({ status: 'healthy' }));
      expect(keys.map((key) => balancer.selectNode(context(nodes, key)).nodeId)).toEqual(before);
    });
  }

  it('does not rebuild the ring for repeated selections or health changes over the same membership', () => {
    const build = vi.spyOn(HashRing, 'build');
    const balancer = new ConsistentHashingLoadBalancer({ variant: 'ring' });
    const nodes = ids(5);
    for (let i = 0; i < 50; i += 1) balancer.selectNode(context(nodes, `k${i}`));
    balancer.selectNode(context([...nodes], 'again'));
    balancer.reportNodeHealth('n01', report({ status: 'unhealthy' }));
    balancer.selectNode(context(nodes, 'x'));
    expect(build).toHaveBeenCalledTimes(1);
    balancer.selectNode(context([...nodes, node('n99')], 'x'));
    expect(build).toHaveBeenCalledTimes(2);
  });

  it('preferredNodes gives N distinct eligible nodes, the first being the selection', () => {
    const balancer = new ConsistentHashingLoadBalancer({ variant: 'maglev' });
    const nodes = ids(8);
    for (let i = 0; i < 50; i += 1) {
      const ctx = context(nodes, `key-${i}`);
      const preferred = balancer.preferredNodes(ctx, 3).map((n) => n.nodeId);
      expect(new Set(preferred).size).toBe(3);
      expect(preferred[0]).toBe(balancer.selectNode(ctx).nodeId);
    }
    balancer.reportNodeHealth('n00', report({ status: 'unhealthy' }));
    expect(balancer.preferredNodes(context(nodes, 'z'), 8).map((n) => n.nodeId)).not.toContain(
      'n00',
    );
    expect(() => balancer.preferredNodes(context([]), 1)).toThrow(
      expect.objectContaining({ code: 'NO_NODES_AVAILABLE' }),
    );
  });

  it('bounded-load keeps every node within ceil(c × mean) requests in flight', () => {
    const balancer = new ConsistentHashingLoadBalancer({
      variant: 'bounded-load',
      loadFactor: 1.25,
    });
    const nodes = ids(10);
    for (let i = 0; i < 1000; i += 1)
      balancer.recordRequestStart(balancer.selectNode(context(nodes, 'hot-key')).nodeId);
    const loads = balancer.snapshot().nodes.map((n) => n.activeRequests);
    expect(Math.max(...loads)).toBeLessThanOrEqual(Math.ceil((1.25 * 1000) / 10));
  });
});

describe('resource-aware', () => {
  it('excludes nodes over the thresholds and prefers headroom', () => {
    const balancer = new ResourceAwareLoadBalancer({ random: seeded(5) });
    const nodes = [node('idle'), node('busy'), node('hot')];
    balancer.reportNodeHealth('idle', report({ cpuUsage: 5, memoryUsage: 10 }));
    balancer.reportNodeHealth(
      'busy',
      report({ cpuUsage: 80, memoryUsage: 80, activeConnections: 200 }),
    );
    balancer.reportNodeHealth('hot', report({ cpuUsage: 95 }));
    const picked = counts(
      Array.from({ length: 2000 }, () => balancer.selectNode(context(nodes)).nodeId),
    );
    expect(picked['hot']).toBeUndefined();
    expect(picked['idle']!).toBeGreaterThan(2 * picked['busy']!);
  });

  it('falls back to all eligible nodes when every one is over a limit', () => {
    const balancer = new ResourceAwareLoadBalancer();
    const nodes = [node('a'), node('b')];
    balancer.reportNodeHealth('a', report({ cpuUsage: 99 }));
    balancer.reportNodeHealth('b', report({ memoryUsage: 99 }));
    expect(['a', 'b']).toContain(balancer.selectNode(context(nodes)).nodeId);
  });
});

describe('adaptive', () => {
  it('switches to latency-based when one node is much slower, and reports why', () => {
    let now = 0;
    const balancer = new AdaptiveLoadBalancer({
      now: () => now,
      random: seeded(4),
      evaluationIntervalMs: 10,
      adaptivePolicy: { confirmations: 2, minDwellMs: 0 },
    });
    const nodes = ids(5);
    expect(balancer.snapshot().activeStrategy?.algorithmName).toBe('round-robin');
    for (let i = 0; i < 200; i += 1) {
      now += 5;
      const chosen = balancer.selectNode(context(nodes)).nodeId;
      balancer.recordRequestStart(chosen);
      balancer.recordRequestEnd(chosen, { latencyMs: chosen === 'n04' ? 200 : 10, success: true });
    }
    const active = balancer.snapshot().activeStrategy;
    expect(active?.algorithmName).toBe('latency-based/peak-ewma');
    expect(active?.reason).toMatch(/latency spread/);
    expect(balancer.decision?.mode).toBe('latency-based');
  });
});
