import { createSocket } from 'node:dgram';
import { freeUdpPort } from '../../support/free-ports.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigChange } from '../../../src/contracts/cluster-config.js';
import { DEFAULT_CONFIG_LIMITS } from '../../../src/core/raft/config-state-machine.js';
import {
  datagramGossipTransport,
  type ClosableGossipTransport,
} from '../../../src/native/gossip/gossip-transport.js';
import { NativeRaftNode } from '../../../src/native/raft/native-raft-node.js';
import { RaftClusterConfig } from '../../../src/native/raft/raft-cluster-config.js';
import {
  decodeForwardMessage,
  encodeForwardFailure,
  encodeForwardOutcome,
  encodeForwardRequest,
} from '../../../src/native/raft/raft-forward-codec.js';
import { encodeConfigCommand } from '../../../src/core/raft/config-state-machine.js';
import type { NetworkAddress } from '../../../src/runtime/runtime.js';
import { createNodeRuntime, type NodeRuntime } from '../../../src/runtime/node/node-runtime.js';
import { clusterConfigCompliance } from '../../../src/testing/compliance/cluster-config.js';
import { rejectionCode } from '../../../src/testing/compliance/error-code.js';
import { waitFor } from '../../support/wait-for.js';

interface Member {
  readonly id: string;
  readonly runtime: NodeRuntime;
  readonly transport: ClosableGossipTransport;
  readonly raft: NativeRaftNode;
  readonly store: RaftClusterConfig;
}

interface Cluster {
  readonly members: readonly Member[];
  readonly table: Readonly<Record<string, NetworkAddress>>;
  leader(): Member;
  followers(): Member[];
  close(): Promise<void>;
}

/** Three members on the Node runtime over loopback UDP, each with a store; resolves once every member knows the leader. */
async function startCluster(forwarding = true): Promise<Cluster> {
  const ids = ['n1', 'n2', 'n3'];
  const table: Record<string, NetworkAddress> = {};
  for (const id of ids) table[id] = { host: '127.0.0.1', port: await freeUdpPort() };
  const members: Member[] = [];
  for (const id of ids) {
    const runtime = createNodeRuntime({ nodeId: id });
    const transport = await datagramGossipTransport(runtime, {
      host: '127.0.0.1',
      port: table[id]?.port ?? 0,
      peerAddresses: table,
    });
    const raft = new NativeRaftNode(runtime, transport, { initialVoters: ids, tickMs: 20 });
    const store = new RaftClusterConfig(
      raft,
      forwarding ? { transport, clock: runtime.clock } : {},
    );
    members.push({ id, runtime, transport, raft, store });
  }
  const cluster: Cluster = {
    members,
    table,
    leader: () => {
      const leader = members.find((m) => m.raft.role === 'leader');
      if (leader === undefined) throw new Error('no leader');
      return leader;
    },
    followers: () => members.filter((m) => m.raft.role !== 'leader'),
    close: async () => {
      for (const member of members) {
        member.store.close();
        member.raft.close();
        member.transport.close();
        await member.runtime.close();
      }
    },
  };
  try {
    await waitFor(() => {
      const leader = members.find((m) => m.raft.role === 'leader');
      return leader !== undefined && members.every((m) => m.raft.leaderId === leader.id);
    }, 20_000);
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return cluster;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function cluster(forwarding = true): Promise<Cluster> {
  const started = await startCluster(forwarding);
  cleanups.push(() => started.close());
  return started;
}

clusterConfigCompliance('RaftClusterConfig (leader)', async () => {
  const started = await startCluster();
  return { subject: started.leader().store, cleanup: () => started.close() };
});

clusterConfigCompliance('RaftClusterConfig (follower, forwarding)', async () => {
  const started = await startCluster();
  const follower = started.followers()[0];
  if (follower === undefined) throw new Error('no follower');
  return { subject: follower.store, cleanup: () => started.close() };
});

describe('RaftClusterConfig on three members (UDP on loopback)', () => {
  it('a write on one member is read linearizably on every other', async () => {
    const c = await cluster();
    const [a, b] = c.followers();
    const leader = c.leader();
    if (a === undefined || b === undefined) throw new Error('two followers expected');
    const written = await a.store.put('tier/hot', 'ssd');
    expect(a.store.stats.forwarded).toBe(1);
    expect(leader.store.stats.served).toBe(1);
    // The revision is the log index of the entry that wrote it, on every member.
    expect(leader.raft.termAt(written.revision)).toBeDefined();
    expect(await b.store.get('tier/hot')).toEqual(written);
    expect(await leader.store.get('tier/hot')).toEqual(written);
    const cas = await b.store.compareAndSet('tier/hot', { revision: written.revision }, 'nvme');
    expect(cas.succeeded).toBe(true);
    expect((await a.store.list('tier/')).map((e) => e.value)).toEqual(['nvme']);
    expect(await leader.store.delete('tier/hot')).toBe(true);
    expect(await a.store.get('tier/hot')).toBeUndefined();
  }, 30_000);

  it('watchers on every member hear the same changes in the same order', async () => {
    const c = await cluster();
    const heard = new Map<string, ConfigChange[]>();
    for (const member of c.members) {
      const log: ConfigChange[] = [];
      heard.set(member.id, log);
      member.store.onConfigChanged((change) => log.push(change));
    }
    const writers = c.members;
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i += 1) {
      const writer = writers[i % writers.length];
      if (writer === undefined) continue;
      writes.push(
        i % 4 === 3
          ? writer.store.delete(`k${(i - 1) % 5}`)
          : writer.store.put(`k${i % 5}`, `v${i}`),
      );
    }
    await Promise.all(writes);
    const expected = (heard.get(c.leader().id) ?? []).length;
    expect(expected).toBeGreaterThanOrEqual(9);
    await waitFor(() => [...heard.values()].every((log) => log.length === expected), 20_000);
    const [first, ...rest] = [...heard.values()];
    for (const log of rest) expect(log).toEqual(first);
    const revisions = (first ?? []).map((change) => change.revision);
    expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
    expect(new Set(revisions).size).toBe(revisions.length);
  }, 30_000);

  it('without a transport a follower refuses writes with NOT_LEADER and the leader id', async () => {
    const c = await cluster(false);
    const follower = c.followers()[0];
    if (follower === undefined) throw new Error('no follower');
    const error: unknown = await follower.store.put('k', 'v').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOT_LEADER', leaderId: c.leader().id });
    // Reads still work on a follower.
    expect(await follower.store.get('k')).toBeUndefined();
  }, 30_000);

  it('refuses bad input before proposing anything', async () => {
    const c = await cluster();
    const leader = c.leader();
    const before = leader.raft.lastIndex;
    expect(await rejectionCode(leader.store.put('k', 'v'.repeat(49 * 1024)))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await rejectionCode(leader.store.compareAndSet('k', { revision: 1.5 }, 'x'))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      await rejectionCode(leader.store.compareAndSet('k', {} as { revision: number }, 'x')),
    ).toBe('INVALID_ARGUMENT');
    expect(await rejectionCode(leader.store.get(''))).toBe('INVALID_ARGUMENT');
    expect(leader.raft.lastIndex).toBe(before);
  }, 30_000);

  it('ignores forwarded writes from non-members and malformed forward messages', async () => {
    const c = await cluster();
    const leader = c.leader();
    const before = leader.raft.lastIndex;
    const command = encodeConfigCommand({ op: 'put', key: 'evil', value: 'x' });
    // Delivered as if from a peer outside the membership, and garbage with the forward magic.
    const stranger = createSocket('udp4');
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', resolve));
    const port = c.table[leader.id]?.port ?? 0;
    stranger.send(encodeForwardRequest(1, command), port, '127.0.0.1');
    stranger.send(new Uint8Array([0x44, 0x57, 0x46, 1, 9, 9]), port, '127.0.0.1');
    await waitFor(() => leader.store.stats.ignored >= 2, 20_000);
    stranger.close();
    expect(leader.raft.lastIndex).toBe(before);
    expect(await leader.store.get('evil')).toBeUndefined();
  }, 30_000);
});

describe('the forward codec', () => {
  it('round-trips requests, outcomes and failures', () => {
    const command = encodeConfigCommand({ op: 'cas', key: 'k', expectRevision: 3, value: 'v' });
    expect(decodeForwardMessage(encodeForwardRequest(7, command), DEFAULT_CONFIG_LIMITS)).toEqual({
      kind: 'request',
      id: 7,
      command: { op: 'cas', key: 'k', expectRevision: 3, value: 'v' },
    });
    const outcome = {
      ok: false,
      revision: 12,
      existed: true,
      current: { key: 'k', value: 'é', revision: 9 },
    };
    expect(decodeForwardMessage(encodeForwardOutcome(8, outcome), DEFAULT_CONFIG_LIMITS)).toEqual({
      kind: 'reply',
      id: 8,
      outcome,
    });
    const failure = { reason: 'not-leader' as const, message: 'go away', leaderId: 'n2' };
    expect(decodeForwardMessage(encodeForwardFailure(9, failure), DEFAULT_CONFIG_LIMITS)).toEqual({
      kind: 'reply',
      id: 9,
      failure,
    });
  });

  it('refuses truncated and trailing bytes', () => {
    const bytes = encodeForwardFailure(1, { reason: 'closed', message: 'x', leaderId: '' });
    expect(() =>
      decodeForwardMessage(bytes.subarray(0, bytes.length - 1), DEFAULT_CONFIG_LIMITS),
    ).toThrow();
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => decodeForwardMessage(longer, DEFAULT_CONFIG_LIMITS)).toThrow();
  });
});
