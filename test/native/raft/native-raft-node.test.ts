import { describe, expect, it } from 'vitest';
import {
  decodeRaftEntry,
  decodeRaftHardState,
  decodeRaftMessage,
  decodeRaftSnapshot,
  isRaftMessage,
} from '../../../src/core/raft/message-codec.js';
import {
  datagramGossipTransport,
  type GossipTransport,
} from '../../../src/native/gossip/gossip-transport.js';
import {
  NativeRaftNode,
  type NativeRaftNodeOptions,
} from '../../../src/native/raft/native-raft-node.js';
import { RaftError } from '../../../src/native/raft/raft-error.js';
import type { NetworkAddress, Runtime } from '../../../src/runtime/runtime.js';
import { Simulation } from '../../../src/runtime/sim/simulation.js';

const PORT = 7400;

interface Cluster {
  sim: Simulation;
  nodes: Map<string, NativeRaftNode>;
  violations: string[];
  leader(): NativeRaftNode | undefined;
}

/** A simulated cluster; `wrap` may decorate each member's transport. */
function cluster(
  ids: readonly string[],
  options: Partial<NativeRaftNodeOptions> = {},
  wrap?: (id: string, transport: GossipTransport) => GossipTransport,
  seed = 1,
  perNode: (id: string) => Partial<NativeRaftNodeOptions> = () => ({}),
): Cluster {
  const sim = new Simulation({ seed, traceCapacity: 0 });
  const table: Record<string, NetworkAddress> = Object.fromEntries(
    ids.map((id) => [id, { host: id, port: PORT }]),
  );
  const nodes = new Map<string, NativeRaftNode>();
  const violations: string[] = [];
  for (const id of ids) {
    sim.addNode(id, async (runtime: Runtime) => {
      const raw = await datagramGossipTransport(runtime, { port: PORT, peerAddresses: table });
      const transport = wrap?.(id, raw) ?? raw;
      nodes.set(
        id,
        new NativeRaftNode(runtime, transport, {
          initialVoters: ids,
          tickMs: 20,
          onFatalError: (error) => violations.push(String(error)),
          ...options,
          ...perNode(id),
        }),
      );
    });
  }
  return {
    sim,
    nodes,
    violations,
    leader: () =>
      [...nodes.entries()].find(([id, n]) => sim.isAlive(id) && n.role === 'leader')?.[1],
  };
}

async function untilLeader(c: Cluster, maxMs = 10_000): Promise<NativeRaftNode> {
  await c.sim.runUntil(() => c.leader() !== undefined, maxMs);
  const leader = c.leader();
  if (leader === undefined) throw new Error('no leader');
  return leader;
}

/** Runs the simulation until the promise settles. */
async function settle<T>(c: Cluster, promise: Promise<T>, maxMs = 10_000): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  tracked.catch(() => undefined);
  await c.sim.runUntil(() => done, maxMs);
  return tracked;
}

describe('NativeRaftNode', () => {
  it('serves the configuration: put, cas, delete, linearizable reads anywhere', async () => {
    const c = cluster(['n1', 'n2', 'n3']);
    const leader = await untilLeader(c);
    const put = await settle(c, leader.put('tier/hot', 'ssd'));
    expect(put).toMatchObject({ ok: true, current: { key: 'tier/hot', value: 'ssd' } });
    const rev = put.revision;
    expect((await settle(c, leader.cas('tier/hot', { revision: rev }, 'nvme'))).ok).toBe(true);
    expect((await settle(c, leader.cas('tier/hot', { revision: rev }, 'hdd'))).ok).toBe(false);
    expect(
      (await settle(c, leader.cas('tier/hot', { value: 'nvme' }, new Uint8Array([1])))).ok,
    ).toBe(true);
    for (const node of c.nodes.values()) {
      const entry = await settle(c, node.read('tier/hot'));
      expect(entry?.value).toEqual(new Uint8Array([1]));
    }
    expect((await settle(c, leader.delete('tier/hot'))).ok).toBe(true);
    const follower = [...c.nodes.values()].find((n) => n !== leader);
    expect(await settle(c, follower!.read('tier/hot'))).toBeUndefined();
    expect(await settle(c, follower!.keys(''))).toEqual([]);
    expect(c.violations).toEqual([]);
  });

  it('reports roles and leader changes, and refuses proposals off the leader with its id', async () => {
    const c = cluster(['n1', 'n2', 'n3']);
    const changes: string[] = [];
    await c.sim.runFor(1);
    for (const [id, node] of c.nodes) {
      node.onLeaderChange((e) => changes.push(`${id}:${e.leaderId}@${e.term}`));
    }
    const leader = await untilLeader(c);
    await c.sim.runFor(200);
    const follower = [...c.nodes.values()].find((n) => n !== leader)!;
    expect(follower.role).toBe('follower');
    expect(follower.leaderId).toBe(leader.nodeId);
    expect(changes).toContain(`${follower.nodeId}:${leader.nodeId}@${leader.term}`);
    const error = await follower.put('k', 'v').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RaftError);
    expect(error).toMatchObject({
      reason: 'not-leader',
      code: 'NOT_LEADER',
      leaderId: leader.nodeId,
    });
    await expect(leader.put('', 'v')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const aborted = AbortSignal.abort(new Error('stop'));
    await expect(leader.put('k', 'v', { signal: aborted })).rejects.toThrow('stop');
    leader.close();
    await expect(leader.read('k')).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('fsync discipline: no vote or append acknowledgement leaves before what it promises is synced', async () => {
    const problems: string[] = [];
    let checked = 0;
    const c: Cluster = cluster(['n1', 'n2', 'n3'], { snapshotEntries: 5 }, (id, transport) => ({
      peers: () => transport.peers(),
      onReceive: (handler) => transport.onReceive(handler),
      send: (to, bytes) => {
        if (isRaftMessage(bytes)) {
          const m = decodeRaftMessage(bytes);
          const durable = c.sim.durable(id, 'raft');
          const hs = durable.get('hs');
          const state = hs === undefined ? undefined : decodeRaftHardState(hs);
          if (m.type === 'vote-response' && !m.reject) {
            checked++;
            if (state?.term !== m.term || state.vote !== m.to)
              problems.push(`${id} voted unsynced`);
          }
          if (m.type === 'append-response' && !m.reject && m.index > 0) {
            checked++;
            const snap = durable.get('snap');
            const snapIndex = snap === undefined ? 0 : decodeRaftSnapshot(snap).meta.index;
            if (m.index > snapIndex) {
              const key = `e/${String(m.index).padStart(16, '0')}`;
              const entry = durable.get(key);
              if (entry === undefined || decodeRaftEntry(entry).index !== m.index) {
                problems.push(`${id} acknowledged ${m.index} unsynced`);
              }
            }
          }
        }
        transport.send(to, bytes);
      },
    }));
    const leader = await untilLeader(c);
    for (let i = 0; i < 12; i++) await settle(c, leader.put(`k${i}`, `v${i}`));
    expect(checked).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });

  it('what was acknowledged survives every member crashing at once', async () => {
    const c = cluster(['n1', 'n2', 'n3'], { snapshotEntries: 4 });
    let leader = await untilLeader(c);
    for (let i = 0; i < 10; i++) await settle(c, leader.put(`k${i}`, `v${i}`));
    const term = leader.term;
    for (const id of ['n1', 'n2', 'n3']) c.sim.crash(id);
    await c.sim.runFor(100);
    for (const id of ['n1', 'n2', 'n3']) c.sim.restart(id);
    await c.sim.runFor(50); // the restarted programs bind and replace the old instances
    leader = await untilLeader(c);
    expect(leader.term).toBeGreaterThan(term);
    for (const node of c.nodes.values()) {
      expect((await settle(c, node.read('k9')))?.value).toBe('v9');
      expect((await settle(c, node.read('k0')))?.value).toBe('v0');
    }
    expect(leader.snapshotIndex).toBeGreaterThan(0);
  });

  it('adds a joining member as observer, promotes it, and removes a voter', async () => {
    const ids = ['n1', 'n2', 'n3', 'n4'];
    // n4 starts empty (joining): it knows no voters and never campaigns.
    const c = cluster(ids, {}, undefined, 3, (id) => ({
      initialVoters: id === 'n4' ? [] : ['n1', 'n2', 'n3'],
    }));
    const leader = await untilLeader(c);
    await settle(c, leader.put('a', '1'));
    const afterAdd = await settle(c, leader.addObserver('n4'));
    expect(afterAdd.observers).toEqual(['n4']);
    await c.sim.runFor(500);
    const n4 = c.nodes.get('n4')!;
    expect(n4.role).toBe('observer');
    expect((await settle(c, n4.read('a', { linearizable: false })))?.value).toBe('1');
    const promoted = await settle(c, leader.addVoter('n4'));
    expect(promoted.voters).toEqual(['n1', 'n2', 'n3', 'n4']);
    const other = ['n1', 'n2', 'n3'].find((id) => id !== leader.nodeId)!;
    const removed = await settle(c, leader.removeVoter(other));
    expect(removed.voters).not.toContain(other);
    await c.sim.runFor(500);
    expect(n4.role).toBe('follower');
    expect(n4.membership.voters).toEqual(removed.voters);
  });

  it('refuses forged and malformed messages without changing state', async () => {
    const c = cluster(['n1', 'n2', 'n3']);
    const leader = await untilLeader(c);
    await c.sim.runFor(100);
    const term = leader.term;
    const runtime = c.sim.runtimeOf('n1')!;
    const endpoint = await runtime.network.bindDatagram({ host: '', port: 9999 }, () => undefined);
    const target = leader.nodeId;
    const garbage = new Uint8Array([0x44, 0x57, 0x52, 1, 0, 0, 1]);
    endpoint.send(garbage, { host: target, port: PORT });
    await c.sim.runFor(50);
    expect(leader.stats.rejected.truncated).toBeGreaterThan(0);
    expect(leader.term).toBe(term);
    expect(leader.role).toBe('leader');
  });
});
