import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterMembershipEvent } from '../../src/contracts/cluster-membership.js';
import { EtcdClusterMembership } from '../../src/adapters/etcd/etcd-cluster-membership.js';
import { decodeMemberRecord } from '../../src/adapters/etcd/member-record.js';
import { EtcdConfigStore } from '../../src/adapters/etcd/etcd-config-store.js';
import { clusterConfigCompliance } from '../../src/testing/compliance/cluster-config.js';
import { clusterMembershipCompliance } from '../../src/testing/compliance/cluster-membership.js';
import { rejectionCode } from '../../src/testing/compliance/error-code.js';
import { startEtcdCluster, type EtcdCluster } from '../support/etcd-cluster.js';
import { waitFor } from '../support/wait-for.js';

// One three-member etcd cluster on loopback for the file; each test uses its own key prefix.
let etcd: EtcdCluster;
beforeAll(async () => {
  etcd = await startEtcdCluster(3);
}, 60_000);
afterAll(async () => {
  await etcd.stop();
});

const fresh = (nodeId: string, prefix: string, ttl = 2): EtcdClusterMembership =>
  new EtcdClusterMembership({
    endpoints: etcd.endpoints,
    nodeId,
    prefix,
    leaseTtlSeconds: ttl,
    retryDelayMs: 200,
    onListenerError: () => undefined,
  });

const joined = async (
  nodeId: string,
  prefix: string,
  role: 'follower' | 'observer' = 'follower',
) => {
  const membership = fresh(nodeId, prefix);
  await membership.join({
    nodeId,
    address: '127.0.0.1',
    port: 7000,
    requestedRole: role,
    metadata: { zone: 'a' },
  });
  return membership;
};

const newPrefix = (): string => `/dw-test-${randomUUID().slice(0, 8)}/`;

clusterMembershipCompliance('EtcdClusterMembership', async () => {
  const membership = await joined('n1', newPrefix());
  return { subject: membership, cleanup: () => membership.close() };
});

clusterConfigCompliance('EtcdConfigStore', () => {
  const client = new Etcd3({ hosts: [...etcd.endpoints] });
  const store = new EtcdConfigStore(client, { prefix: `${newPrefix()}config/` });
  return {
    subject: store,
    cleanup: async () => {
      await store.close();
      client.close();
    },
  };
});

describe('EtcdClusterMembership', () => {
  it('three members see each other and agree on exactly one leader', async () => {
    const prefix = newPrefix();
    const members = [
      await joined('a', prefix),
      await joined('b', prefix),
      await joined('c', prefix),
    ];
    try {
      await waitFor(() => members.every((member) => member.getMembers().length === 3));
      await waitFor(() => members.every((member) => member.getLeader() !== undefined));
      const leaders = new Set(members.map((member) => member.getLeader()?.nodeId));
      expect(leaders.size).toBe(1);
      const leaderId = [...leaders][0];
      for (const member of members) {
        const roles = member.getMembers().map((node) => [node.nodeId, node.role]);
        expect(roles.filter(([, role]) => role === 'leader')).toEqual([[leaderId, 'leader']]);
      }
    } finally {
      await Promise.all(members.map((member) => member.close()));
    }
  });

  it('an observer never leads', async () => {
    const prefix = newPrefix();
    const observer = await joined('watcher', prefix, 'observer');
    const voter = await joined('voter', prefix);
    try {
      await waitFor(() => observer.getLeader()?.nodeId === 'voter');
      expect(observer.getSelf().role).toBe('observer');
      await voter.leave('done');
      await waitFor(() => observer.getLeader() === undefined);
      await waitFor(() => observer.getMembers().length === 1);
      expect(observer.getMembers().map((node) => node.nodeId)).toEqual(['watcher']);
    } finally {
      await observer.close();
      await voter.close();
    }
  });

  it('a graceful leave is node-left with the reason, and leadership moves', async () => {
    const prefix = newPrefix();
    const first = await joined('first', prefix);
    await waitFor(() => first.getLeader()?.nodeId === 'first');
    const second = await joined('second', prefix);
    const heard: ClusterMembershipEvent[] = [];
    second.onMembershipChanged((event) => heard.push(event));
    try {
      await first.leave('rolling upgrade');
      await waitFor(() => heard.some((event) => event.eventType === 'node-left'));
      const left = heard.find((event) => event.eventType === 'node-left');
      expect(left?.node.nodeId).toBe('first');
      expect(left?.reason).toBe('rolling upgrade');
      await waitFor(() => second.getLeader()?.nodeId === 'second');
      expect(
        heard.some(
          (event) => event.eventType === 'leader-changed' && event.node.nodeId === 'second',
        ),
      ).toBe(true);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('a SIGKILLed member is reported dead once its lease expires, and a new leader is elected', async () => {
    const prefix = newPrefix();
    const script = fileURLToPath(new URL('../fixtures/etcd-member.mjs', import.meta.url));
    const child = spawn(
      process.execPath,
      [script, etcd.endpoints.join(','), prefix, 'doomed', '1'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('joined')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`member exited with ${String(code)}`)));
    });
    const survivor = await joined('survivor', prefix);
    const heard: ClusterMembershipEvent[] = [];
    survivor.onMembershipChanged((event) => heard.push(event));
    try {
      await waitFor(() => survivor.getLeader()?.nodeId === 'doomed');
      child.kill('SIGKILL');
      await exited;
      await waitFor(() => heard.some((event) => event.eventType === 'node-dead'), 20_000);
      expect(heard.find((event) => event.eventType === 'node-dead')?.node.nodeId).toBe('doomed');
      expect(await survivor.isHealthy('doomed')).toBe(false);
      await waitFor(() => survivor.getLeader()?.nodeId === 'survivor', 20_000);
    } finally {
      child.kill('SIGKILL');
      await survivor.close();
    }
  });

  it('ignores and counts a malformed member record written to etcd', async () => {
    const prefix = newPrefix();
    const member = await joined('good', prefix);
    const raw = new Etcd3({ hosts: [...etcd.endpoints] });
    try {
      await raw.put(`${prefix}members/bad`).value('{not json');
      await raw.put(`${prefix}members/liar`).value(JSON.stringify({ nodeId: 'other' }));
      await waitFor(() => member.stats.rejectedRecords === 2);
      expect(member.getMembers().map((node) => node.nodeId)).toEqual(['good']);
    } finally {
      raw.close();
      await member.close();
    }
  });

  it('refuses a bad join, a second join and a join after leave, changing nothing', async () => {
    const prefix = newPrefix();
    const member = fresh('x', prefix);
    try {
      expect(
        await rejectionCode(
          member.join({
            nodeId: 'y',
            address: 'h',
            port: 1,
            requestedRole: 'follower',
            metadata: {},
          }),
        ),
      ).toBe('INVALID_ARGUMENT');
      expect(member.getSelf().status).toBe('joining');
      await member.join({
        nodeId: 'x',
        address: 'h',
        port: 1,
        requestedRole: 'follower',
        metadata: {},
      });
      expect(
        await rejectionCode(
          member.join({
            nodeId: 'x',
            address: 'h',
            port: 1,
            requestedRole: 'follower',
            metadata: {},
          }),
        ),
      ).toBe('ALREADY_JOINED');
      await member.leave('bye');
      expect(
        await rejectionCode(
          member.join({
            nodeId: 'x',
            address: 'h',
            port: 1,
            requestedRole: 'follower',
            metadata: {},
          }),
        ),
      ).toBe('CLOSED');
    } finally {
      await member.close();
    }
  });

  it('reports UNAVAILABLE when etcd cannot be reached, and stays unjoined', async () => {
    const member = new EtcdClusterMembership({
      endpoints: ['http://127.0.0.1:1'],
      nodeId: 'lonely',
      dialTimeoutMs: 500,
    });
    try {
      expect(
        await rejectionCode(
          member.join({
            nodeId: 'lonely',
            address: 'h',
            port: 1,
            requestedRole: 'follower',
            metadata: {},
          }),
        ),
      ).toBe('UNAVAILABLE');
      expect(member.getSelf().status).toBe('joining');
      expect(member.getMembers()).toEqual([]);
    } finally {
      await member.close();
    }
  });

  it('the configuration: put, get, list, compare-and-set and delete, seen by every member', async () => {
    const prefix = newPrefix();
    const one = await joined('one', prefix);
    const two = await joined('two', prefix);
    const seen: string[] = [];
    two.config.onConfigChanged((change) => seen.push(`${change.type} ${change.key}`));
    try {
      await new Promise((resolve) => setTimeout(resolve, 200)); // the watch opens asynchronously
      const written = await one.config.put('policies/p1', '{"v":1}');
      expect(await two.config.get('policies/p1')).toEqual(written);
      const stale = await two.config.compareAndSet(
        'policies/p1',
        { revision: written.revision - 1 },
        'x',
      );
      expect(stale.succeeded).toBe(false);
      expect(stale.current?.value).toBe('{"v":1}');
      const swapped = await two.config.compareAndSet(
        'policies/p1',
        { revision: written.revision },
        '{"v":2}',
      );
      expect(swapped.succeeded).toBe(true);
      expect((await one.config.get('policies/p1'))?.value).toBe('{"v":2}');
      expect(
        (await one.config.compareAndSet('policies/p2', { value: undefined }, 'new')).succeeded,
      ).toBe(true);
      expect(
        (await one.config.compareAndSet('policies/p2', { value: undefined }, 'again')).succeeded,
      ).toBe(false);
      expect((await one.config.list('policies/')).map((entry) => entry.key)).toEqual([
        'policies/p1',
        'policies/p2',
      ]);
      expect(await one.config.delete('policies/p1')).toBe(true);
      expect(await one.config.delete('policies/p1')).toBe(false);
      expect(await two.config.get('policies/p1')).toBeUndefined();
      await waitFor(() => seen.includes('delete policies/p1'));
      expect(seen).toContain('put policies/p2');
      expect(await rejectionCode(one.config.put('', 'x'))).toBe('INVALID_ARGUMENT');
    } finally {
      await one.close();
      await two.close();
    }
  });
});

describe('EtcdClusterMembership when the etcd leader dies', () => {
  it('keeps its members, its leader and a working configuration', async () => {
    const prefix = newPrefix();
    const members = [fresh('k1', prefix, 5), fresh('k2', prefix, 5)];
    for (const [index, member] of members.entries()) {
      const nodeId = `k${String(index + 1)}`;
      await member.join({
        nodeId,
        address: '127.0.0.1',
        port: 1,
        requestedRole: 'follower',
        metadata: {},
      });
    }
    const heard: ClusterMembershipEvent[] = [];
    for (const member of members) member.onMembershipChanged((event) => heard.push(event));
    const [k1, k2] = members as [EtcdClusterMembership, EtcdClusterMembership];
    try {
      await waitFor(() => k2.getLeader() !== undefined && k2.getMembers().length === 2);
      const leaderBefore = k2.getLeader()?.nodeId;
      await k1.config.put('before', '1');
      const etcdLeader = await etcd.leaderName();
      expect(etcdLeader).toBeDefined();
      await etcd.kill(etcdLeader ?? '');
      // Writes and reads go on once the two remaining etcd members elect a new leader.
      await waitFor(async () => {
        try {
          await k2.config.put('after', '2');
          return true;
        } catch {
          return false;
        }
      }, 30_000);
      expect((await k1.config.get('before'))?.value).toBe('1');
      expect((await k1.config.get('after'))?.value).toBe('2');
      expect(await k1.isHealthy('k2')).toBe(true);
      expect(await k2.isHealthy('k2')).toBe(true);
      expect(k1.getLeader()?.nodeId).toBe(leaderBefore);
      expect(heard.filter((event) => event.eventType === 'node-dead')).toEqual([]);
    } finally {
      await Promise.all(members.map((member) => member.close()));
    }
  }, 60_000);
});

describe('member record decoder', () => {
  it('accepts only well-formed records and throws a plain Error otherwise', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          const record = decodeMemberRecord(bytes, 'n');
          expect(record.nodeId).toBe('n');
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          decodeMemberRecord(new TextEncoder().encode(JSON.stringify(value)), 'n');
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
      }),
    );
  });
});
