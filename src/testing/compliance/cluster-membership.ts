/**
 * The behavioural tests every {@link ClusterMembership} must pass.
 *
 * @packageDocumentation
 */

import { describe, expect, it } from 'vitest';
import type {
  ClusterMembership,
  ClusterMembershipEvent,
} from '../../contracts/cluster-membership.js';
import { CLUSTER_NODE_ROLES, CLUSTER_NODE_STATUSES } from '../../contracts/cluster-membership.js';
import type { ComplianceFactory } from './factory.js';
import { withSubject } from './factory.js';

/**
 * Registers the {@link ClusterMembership} compliance tests with Vitest. Call it
 * inside a test file; the factory gives each test a fresh, started member.
 *
 * @example
 * ```ts
 * clusterMembershipCompliance('InMemoryClusterMembership', () => ({
 *   subject: new InMemoryClusterMembership(),
 * }));
 * ```
 *
 * @param name - The implementation's name, shown in test titles.
 * @param factory - Makes a fresh membership for each test.
 * @since 2.0.0
 */
export function clusterMembershipCompliance(
  name: string,
  factory: ComplianceFactory<ClusterMembership>,
): void {
  const test = (title: string, body: (subject: ClusterMembership) => Promise<void> | void) => {
    it(title, () => withSubject(factory, body));
  };

  describe(`ClusterMembership compliance: ${name}`, () => {
    test('self is an active member with valid role and status', (membership) => {
      const self = membership.getSelf();
      expect(self.nodeId).not.toBe('');
      expect(CLUSTER_NODE_ROLES).toContain(self.role);
      expect(CLUSTER_NODE_STATUSES).toContain(self.status);
      expect(self.status).toBe('active');
      expect(membership.getMembers().map((member) => member.nodeId)).toContain(self.nodeId);
    });

    test('the leader, when there is one, is a member', (membership) => {
      // No leader is allowed (an election may be under way); a leader that is not a member is not.
      const leader = membership.getLeader();
      const memberIds = membership.getMembers().map((member) => member.nodeId);
      expect(leader === undefined || memberIds.includes(leader.nodeId)).toBe(true);
      expect(leader === undefined || leader.role === 'leader').toBe(true);
    });

    test('self is healthy and an unknown node is not', async (membership) => {
      expect(await membership.isHealthy(membership.getSelf().nodeId)).toBe(true);
      expect(await membership.isHealthy('no-such-node-6f1c')).toBe(false);
    });

    test('reaches its own federation node, and none for an unknown id', async (membership) => {
      const self = membership.getSelf();
      const federation = membership.getFederationNode(self.nodeId);
      expect(federation?.nodeId).toBe(self.nodeId);
      expect((await federation?.handshake())?.nodeId).toBe(self.nodeId);
      expect(membership.getFederationNode('no-such-node-6f1c')).toBeUndefined();
    });

    test('leave emits node-left with the reason and ends participation', async (membership) => {
      const events: ClusterMembershipEvent[] = [];
      membership.onMembershipChanged((event) => events.push(event));
      const selfId = membership.getSelf().nodeId;
      await membership.leave('maintenance');
      const left = events.find((event) => event.eventType === 'node-left');
      expect(left?.node.nodeId).toBe(selfId);
      expect(left?.reason).toBe('maintenance');
      expect(membership.getMembers().map((member) => member.nodeId)).not.toContain(selfId);
      expect(await membership.isHealthy(selfId)).toBe(false);
    });

    test('leaving twice is harmless and emits node-left once', async (membership) => {
      const events: ClusterMembershipEvent[] = [];
      membership.onMembershipChanged((event) => events.push(event));
      await membership.leave('first');
      await membership.leave('second');
      expect(events.filter((event) => event.eventType === 'node-left')).toHaveLength(1);
    });

    test('an unsubscribed listener hears nothing, via call or dispose', async (membership) => {
      const heard: ClusterMembershipEvent[] = [];
      const unsubscribe = membership.onMembershipChanged((event) => heard.push(event));
      unsubscribe();
      {
        using _disposed = membership.onMembershipChanged((event) => heard.push(event));
      }
      await membership.leave('gone');
      expect(heard).toHaveLength(0);
    });

    test('a throwing listener does not stop the others', async (membership) => {
      const heard: string[] = [];
      membership.onMembershipChanged(() => {
        throw new Error('listener failure');
      });
      membership.onMembershipChanged((event) => heard.push(event.eventType));
      await membership.leave('gone');
      expect(heard).toContain('node-left');
    });

    test('an aborted signal rejects with its reason and changes nothing', async (membership) => {
      const reason = new Error('cancelled by test');
      const signal = AbortSignal.abort(reason);
      const selfId = membership.getSelf().nodeId;
      await expect(membership.leave('never', { signal })).rejects.toBe(reason);
      await expect(membership.isHealthy(selfId, { signal })).rejects.toBe(reason);
      expect(membership.getMembers().map((member) => member.nodeId)).toContain(selfId);
    });
  });
}
