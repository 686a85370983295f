import { describe, expect, it } from 'vitest';
import type { ClusterMembershipEvent } from '../../src/contracts/cluster-membership.js';
import { DistributedError } from '../../src/contracts/errors.js';
import { InMemoryClusterMembership } from '../../src/inmemory/in-memory-cluster-membership.js';
import { clusterMembershipCompliance } from '../../src/testing/compliance/cluster-membership.js';

const quietListenerErrors = { onListenerError: () => undefined };

clusterMembershipCompliance('InMemoryClusterMembership', () => ({
  subject: new InMemoryClusterMembership(quietListenerErrors),
}));

describe('InMemoryClusterMembership', () => {
  const request = {
    nodeId: 'node-b',
    address: '127.0.0.2',
    port: 7946,
    requestedRole: 'follower',
    metadata: {},
  } as const;

  it('is its own leader, with the identity it was given', () => {
    const membership = new InMemoryClusterMembership({
      nodeId: 'node-a',
      port: 7000,
      metadata: { zone: 'z1' },
      now: () => 1234,
    });
    expect(membership.getSelf()).toEqual({
      nodeId: 'node-a',
      address: '127.0.0.1',
      port: 7000,
      role: 'leader',
      status: 'active',
      joinedAt: 1234,
      metadata: { zone: 'z1' },
    });
    expect(membership.getLeader()?.nodeId).toBe('node-a');
    expect(membership.getMembers()).toHaveLength(1);
  });

  it('refuses to join with JOIN_NOT_SUPPORTED and a reason, changing nothing', async () => {
    const membership = new InMemoryClusterMembership({ nodeId: 'node-a' });
    const events: ClusterMembershipEvent[] = [];
    membership.onMembershipChanged((event) => events.push(event));
    const failure = await membership.join(request).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DistributedError);
    expect((failure as DistributedError).code).toBe('JOIN_NOT_SUPPORTED');
    expect((failure as DistributedError).message).toMatch(/single-node/);
    expect(membership.getMembers().map((member) => member.nodeId)).toEqual(['node-a']);
    expect(events).toHaveLength(0);
  });

  it('after leave: no members, no leader, self leaving, leader-changed emitted', async () => {
    const membership = new InMemoryClusterMembership({ nodeId: 'node-a', now: () => 5 });
    const events: ClusterMembershipEvent[] = [];
    membership.onMembershipChanged((event) => events.push(event));
    await membership.leave('shutdown');
    expect(membership.getMembers()).toEqual([]);
    expect(membership.getLeader()).toBeUndefined();
    expect(membership.getSelf().status).toBe('leaving');
    expect(membership.getFederationNode('node-a')).toBeUndefined();
    expect(events.map((event) => event.eventType)).toEqual(['node-left', 'leader-changed']);
    expect(events[0]).toMatchObject({ timestamp: 5, reason: 'shutdown' });
  });

  it('refuses an empty node id or address and an out-of-range port', () => {
    for (const bad of [
      { nodeId: '' },
      { address: '' },
      { port: -5 },
      { port: 70_000 },
      { port: 1.5 },
    ]) {
      expect(() => new InMemoryClusterMembership(bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });

  it('reports listener errors to the configured hook', async () => {
    const reported: unknown[] = [];
    const failure = new Error('listener failure');
    const membership = new InMemoryClusterMembership({
      onListenerError: (error) => reported.push(error),
    });
    membership.onMembershipChanged(() => {
      throw failure;
    });
    await membership.leave('bye');
    expect(reported).toEqual([failure, failure]);
  });
});
