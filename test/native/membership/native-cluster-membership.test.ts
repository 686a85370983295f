import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterMembershipEvent } from '../../../src/contracts/cluster-membership.js';
import { NativeClusterMembership } from '../../../src/native/membership/native-cluster-membership.js';
import { NativeP2PNetwork } from '../../../src/native/p2p/native-p2p-network.js';
import { SecureCodec } from '../../../src/native/transport/secure-codec.js';
import { createNodeRuntime } from '../../../src/runtime/node/node-runtime.js';
import type { NetworkAddress } from '../../../src/runtime/runtime.js';
import { clusterMembershipCompliance } from '../../../src/testing/compliance/cluster-membership.js';
import { thrownCode } from '../../../src/testing/compliance/error-code.js';
import { clusterKeyring } from '../p2p/support.js';

interface Member {
  readonly id: string;
  readonly membership: NativeClusterMembership;
  readonly network: NativeP2PNetwork;
  readonly address: NetworkAddress;
  readonly events: ClusterMembershipEvent[];
  /** Stops everything; `crash` skips the graceful leave. */
  stop(crash?: boolean): Promise<void>;
}

const FAST = { tickMs: 20, electionTicks: 10 } as const;

async function startMember(
  id: string,
  seeds: readonly NetworkAddress[] = [],
  options: { fastFailover?: boolean; join?: boolean } = {},
): Promise<Member> {
  const dataDir = mkdtempSync(join(tmpdir(), `dw-membership-${id}-`));
  const runtime = createNodeRuntime({ nodeId: id, dataDir });
  const network = new NativeP2PNetwork({
    runtime,
    localPeerId: id,
    listen: { host: '127.0.0.1', port: 0 },
    seeds,
    codec: new SecureCodec({ keyring: clusterKeyring(), localNodeId: id, random: runtime.random }),
  });
  await network.start();
  const membership = new NativeClusterMembership({
    runtime,
    network,
    seeds,
    raft: FAST,
    swimProfile: 'local',
    ...(options.fastFailover === undefined ? {} : { fastFailover: options.fastFailover }),
  });
  const events: ClusterMembershipEvent[] = [];
  membership.onMembershipChanged((event) => events.push(event));
  const address = network.listenAddress;
  if (options.join !== false) {
    await membership.join({
      nodeId: id,
      address: address.host,
      port: address.port,
      requestedRole: 'follower',
      metadata: { zone: 'z1' },
    });
  }
  let stopped = false;
  return {
    id,
    membership,
    network,
    address,
    events,
    stop: async (crash = false) => {
      if (stopped) return;
      stopped = true;
      if (crash) membership.close();
      else await membership.leave('test over');
      await network.close();
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const started: Member[] = [];
afterEach(async () => {
  for (const member of started.splice(0).reverse()) await member.stop(true);
});

async function member(...args: Parameters<typeof startMember>): Promise<Member> {
  const m = await startMember(...args);
  started.push(m);
  return m;
}

/** n1 founds; the others join through it; resolves once all agree on n1 leading three voters. */
async function threeMembers(): Promise<Member[]> {
  const n1 = await member('n1');
  await vi.waitFor(() => expect(n1.membership.getLeader()?.nodeId).toBe('n1'), { timeout: 10_000 });
  const n2 = await member('n2', [n1.address]);
  const n3 = await member('n3', [n1.address]);
  const all = [n1, n2, n3];
  await vi.waitFor(
    () => {
      for (const m of all) {
        expect(m.membership.raft.membership.voters).toEqual(['n1', 'n2', 'n3']);
        expect(m.membership.getLeader()?.nodeId).toBe('n1');
        expect(m.membership.getMembers().map((node) => node.status)).toEqual([
          'active',
          'active',
          'active',
        ]);
      }
    },
    { timeout: 15_000, interval: 50 },
  );
  return all;
}

clusterMembershipCompliance('NativeClusterMembership (one founding member)', async () => {
  const m = await startMember('solo');
  await vi.waitFor(() => expect(m.membership.getLeader()?.nodeId).toBe('solo'), {
    timeout: 10_000,
  });
  return { subject: m.membership, cleanup: () => m.stop(true) };
});

describe('NativeClusterMembership', () => {
  it('joins through a seed: the leader makes members voters, roles and metadata are reported', async () => {
    const [n1, n2] = await threeMembers();
    const fromN2 = n2?.membership.getMembers() ?? [];
    expect(fromN2.map((node) => [node.nodeId, node.role])).toEqual(
      expect.arrayContaining([
        ['n1', 'leader'],
        ['n2', 'follower'],
        ['n3', 'follower'],
      ]),
    );
    expect(fromN2.every((node) => node.metadata.zone === 'z1')).toBe(true);
    expect(fromN2.find((node) => node.nodeId === 'n1')?.port).toBe(n1?.address.port);
    expect(await n2?.membership.isHealthy('n3')).toBe(true);
    expect(
      n1?.events.filter((e) => e.eventType === 'node-joined').map((e) => e.node.nodeId),
    ).toEqual(expect.arrayContaining(['n2', 'n3']));
  });

  it('the configuration is replicated: written on a follower, read linearizably on another', async () => {
    const [, n2, n3] = await threeMembers();
    const written = await n2?.membership.config.put('tiers/hot', 'ssd');
    const read = await n3?.membership.config.get('tiers/hot');
    expect(read?.value).toBe('ssd');
    expect(read?.revision).toBe(written?.revision);
  });

  it('a crashed leader is replaced quickly, and the new leader serves reads and writes', async () => {
    const [n1, n2, n3] = await threeMembers();
    await n2?.membership.config.put('k', 'before');
    await n1?.stop(true); // its connections close without a goodbye, as a crash's do
    await vi.waitFor(
      () => {
        const leader = n2?.membership.getLeader()?.nodeId;
        expect(['n2', 'n3']).toContain(leader);
        expect(n3?.membership.getLeader()?.nodeId).toBe(leader);
      },
      { timeout: 10_000, interval: 10 },
    );
    expect((await n3?.membership.config.get('k'))?.value).toBe('before');
    await n3?.membership.config.put('k', 'after');
    expect((await n2?.membership.config.get('k'))?.value).toBe('after');
    // The failover came from the connection failure, not an election timeout.
    const hints =
      (n2?.membership.stats.failoverHints ?? 0) + (n3?.membership.stats.failoverHints ?? 0);
    expect(hints).toBeGreaterThan(0);
    const leaderChanged = n2?.events.filter((e) => e.eventType === 'leader-changed') ?? [];
    expect(leaderChanged.length).toBeGreaterThan(0);
  });

  it('a member that leaves is reported left and removed from Raft by the leader', async () => {
    const [n1, n2, n3] = await threeMembers();
    await n3?.stop();
    await vi.waitFor(
      () => {
        expect(n1?.membership.raft.membership.voters).toEqual(['n1', 'n2']);
        expect(
          n2?.membership
            .getMembers()
            .map((node) => node.nodeId)
            .sort(),
        ).toEqual(['n1', 'n2']);
      },
      { timeout: 10_000, interval: 20 },
    );
    const left = n2?.events.find((e) => e.eventType === 'node-left' && e.node.nodeId === 'n3');
    expect(left).toBeDefined();
  });

  it('a leader that leaves is succeeded on the news, and its successor removes it from Raft', async () => {
    const [n1, n2, n3] = await threeMembers();
    await n1?.stop(); // a graceful leave of the leader
    await vi.waitFor(
      () => {
        const leader = n2?.membership.raft.leaderId ?? '';
        expect(['n2', 'n3']).toContain(leader);
        expect(n3?.membership.raft.leaderId).toBe(leader);
        expect(n2?.membership.raft.membership.voters).toEqual(['n2', 'n3']);
      },
      { timeout: 10_000, interval: 20 },
    );
    const hints =
      (n2?.membership.stats.failoverHints ?? 0) + (n3?.membership.stats.failoverHints ?? 0);
    expect(hints).toBeGreaterThan(0);
  });

  it('refuses a join request for another node, a reserved metadata key and a second join', async () => {
    const m = await member('n9', [], { join: false });
    const base = {
      nodeId: 'n9',
      address: m.address.host,
      port: m.address.port,
      requestedRole: 'follower' as const,
      metadata: {},
    };
    await expect(m.membership.join({ ...base, nodeId: 'other' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      m.membership.join({ ...base, metadata: { 'dw.raft': 'voter' } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(m.membership.getSelf().status).toBe('joining');
    await m.membership.join(base);
    await expect(m.membership.join(base)).rejects.toMatchObject({ code: 'ALREADY_JOINED' });
    expect(
      thrownCode(
        () =>
          new NativeClusterMembership({
            runtime: createNodeRuntime({ nodeId: 'x' }),
            network: m.network,
            maxVoters: 0,
          }),
      ),
    ).toBe('INVALID_ARGUMENT');
  });

  it('a leave during a join ends it: the join fails with CLOSED and the membership stays left', async () => {
    const m = await member('n8', [{ host: '127.0.0.1', port: 9 }], { join: false });
    const joining = m.membership.join({
      nodeId: 'n8',
      address: m.address.host,
      port: m.address.port,
      requestedRole: 'follower',
      metadata: {},
    });
    await m.membership.leave('changed my mind');
    await expect(joining).rejects.toMatchObject({ code: 'CLOSED' });
    expect(m.membership.getSelf().status).toBe('leaving');
    expect(m.membership.getMembers()).toEqual([]);
  });

  it('a join with an unreachable seed fails with UNAVAILABLE and can be retried', async () => {
    const m = await startMember('lonely', [{ host: '127.0.0.1', port: 9 }], { join: false });
    started.push(m);
    const membership = new NativeClusterMembership({
      runtime: createNodeRuntime({ nodeId: 'lonely2' }),
      network: m.network,
      seeds: [{ host: '127.0.0.1', port: 9 }],
      joinTimeoutMs: 200,
    });
    try {
      await expect(
        membership.join({
          nodeId: 'lonely',
          address: '127.0.0.1',
          port: m.address.port,
          requestedRole: 'follower',
          metadata: {},
        }),
      ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(membership.getSelf().status).toBe('joining');
    } finally {
      membership.close();
    }
  });
});
