import { thrownCode } from '../../src/testing/compliance/error-code.js';
import { describe, expect, it } from 'vitest';
import type { ClusterNode, ClusterNodeStatus } from '../../src/contracts/cluster-membership.js';
import type { LoadBalancerContext, NodeHealthReport } from '../../src/contracts/load-balancer.js';
import { InMemoryLoadBalancer } from '../../src/inmemory/in-memory-load-balancer.js';
import { loadBalancerStrategyCompliance } from '../../src/testing/compliance/load-balancer.js';

loadBalancerStrategyCompliance('InMemoryLoadBalancer', () => ({
  subject: new InMemoryLoadBalancer(),
}));

function node(nodeId: string, status: ClusterNodeStatus = 'active'): ClusterNode {
  return {
    nodeId,
    address: '127.0.0.1',
    port: 7000,
    role: 'follower',
    status,
    joinedAt: 0,
    metadata: {},
  };
}

function context(nodes: readonly ClusterNode[]): LoadBalancerContext {
  return { requestKey: 'k', availableNodes: nodes, metadata: {} };
}

const report: NodeHealthReport = {
  cpuUsage: 50,
  memoryUsage: 60,
  activeConnections: 4,
  averageLatencyMs: 12,
  reportedAt: 1000,
};

describe('InMemoryLoadBalancer', () => {
  it('is round robin by name and algorithm', () => {
    const balancer = new InMemoryLoadBalancer();
    expect(balancer.algorithm).toBe('round-robin');
    expect(balancer.algorithmName).toBe('round-robin');
  });

  it('rotates over the nodes sorted by id, whatever order they are listed in', () => {
    const balancer = new InMemoryLoadBalancer();
    const picks = [
      balancer.selectNode(context([node('c'), node('a'), node('b')])),
      balancer.selectNode(context([node('b'), node('c'), node('a')])),
      balancer.selectNode(context([node('a'), node('b'), node('c')])),
      balancer.selectNode(context([node('c'), node('b'), node('a')])),
    ].map((picked) => picked.nodeId);
    expect(picks).toEqual(['a', 'b', 'c', 'a']);
  });

  it('returns the very node object it was given', () => {
    const balancer = new InMemoryLoadBalancer();
    const only = node('a');
    expect(balancer.selectNode(context([only]))).toBe(only);
  });

  it('counts a node listed twice once', () => {
    const balancer = new InMemoryLoadBalancer();
    const nodes = [node('a'), node('a'), node('b')];
    const picks = Array.from({ length: 4 }, () => balancer.selectNode(context(nodes)).nodeId);
    expect(picks).toEqual(['a', 'b', 'a', 'b']);
  });

  it('skips dead nodes, and says why when nothing is left', () => {
    const balancer = new InMemoryLoadBalancer();
    const picks = Array.from(
      { length: 4 },
      () =>
        balancer.selectNode(context([node('a', 'dead'), node('b'), node('c', 'suspected')])).nodeId,
    );
    expect(picks).not.toContain('a');
    expect(new Set(picks)).toEqual(new Set(['b', 'c']));
    expect(thrownCode(() => balancer.selectNode(context([node('a', 'dead')])))).toBe(
      'NO_HEALTHY_NODES',
    );
  });

  it('keeps degraded nodes eligible', () => {
    const balancer = new InMemoryLoadBalancer();
    balancer.reportNodeHealth('a', { ...report, status: 'degraded' });
    expect(balancer.selectNode(context([node('a')])).nodeId).toBe('a');
  });

  it('records reports, carrying the verdict over reports without one', () => {
    const balancer = new InMemoryLoadBalancer();
    expect(balancer.getHealthReport('a')).toBeUndefined();
    balancer.reportNodeHealth('a', { ...report, status: 'unhealthy' });
    balancer.reportNodeHealth('a', { ...report, cpuUsage: 70 });
    const recorded = balancer.getHealthReport('a');
    expect(recorded).toEqual({ ...report, cpuUsage: 70, status: 'unhealthy' });
    expect(Object.isFrozen(recorded)).toBe(true);
  });

  it('rejects a report with an unknown status or a percentage above 100', () => {
    const balancer = new InMemoryLoadBalancer();
    const unknownStatus = { ...report, status: 'great' } as unknown as NodeHealthReport;
    expect(thrownCode(() => balancer.reportNodeHealth('a', unknownStatus))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(thrownCode(() => balancer.reportNodeHealth('a', { ...report, cpuUsage: 101 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(balancer.getHealthReport('a')).toBeUndefined();
  });

  it('forgets the least recently reported node when maxTrackedNodes is reached', () => {
    const balancer = new InMemoryLoadBalancer({ maxTrackedNodes: 2 });
    balancer.reportNodeHealth('a', { ...report, status: 'unhealthy' });
    balancer.reportNodeHealth('b', report);
    balancer.reportNodeHealth('a', { ...report, status: 'unhealthy' }); // a is now the most recent
    balancer.reportNodeHealth('c', report);
    expect(balancer.getHealthReport('b')).toBeUndefined();
    expect(balancer.getHealthReport('a')?.status).toBe('unhealthy');
    expect(balancer.getHealthReport('c')).toBeDefined();
  });

  it('rejects a maxTrackedNodes that is not a positive integer', () => {
    expect(thrownCode(() => new InMemoryLoadBalancer({ maxTrackedNodes: 0 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(thrownCode(() => new InMemoryLoadBalancer({ maxTrackedNodes: 1.5 }))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});
