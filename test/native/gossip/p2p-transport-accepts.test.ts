import { afterEach, describe, expect, it } from 'vitest';
import { isRaftMessage } from '../../../src/core/raft/message-codec.js';
import { isSwimPacket } from '../../../src/core/swim/codec.js';
import {
  p2pGossipTransport,
  type ClosableGossipTransport,
} from '../../../src/native/gossip/gossip-transport.js';
import { NativeRaftNode } from '../../../src/native/raft/native-raft-node.js';
import { RaftClusterConfig } from '../../../src/native/raft/raft-cluster-config.js';
import { isForwardMessage } from '../../../src/native/raft/raft-forward-codec.js';
import { startLoopbackNode, waitForPeers, type LoopbackNode } from '../p2p/support.js';
import { waitFor } from '../../support/wait-for.js';

const text = new TextEncoder();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(id: string, seeds: LoopbackNode[] = []): Promise<LoopbackNode> {
  const node = await startLoopbackNode(id, { seeds: seeds.map((s) => s.address) });
  cleanups.push(() => node.close());
  return node;
}

function transports(
  node: LoopbackNode,
): Record<'gossip' | 'raft' | 'swim', ClosableGossipTransport> {
  const made = {
    gossip: p2pGossipTransport(node.network),
    // Raft and the configuration store's forwarded writes share one transport.
    raft: p2pGossipTransport(node.network, {
      accepts: (bytes) => isRaftMessage(bytes) || isForwardMessage(bytes),
    }),
    swim: p2pGossipTransport(node.network, { accepts: isSwimPacket }),
  };
  cleanups.push(() => {
    for (const transport of Object.values(made)) transport.close();
  });
  return made;
}

describe('p2pGossipTransport accepts: several protocols over one encrypted network', () => {
  it('gossip, Raft and SWIM transports each receive only their own messages', async () => {
    const b = await start('b');
    const a = await start('a', [b]);
    await waitForPeers(a.network, ['b']);
    await waitForPeers(b.network, ['a']);
    const sender = transports(a);
    const receiver = transports(b);
    const heard: Record<string, string[]> = { gossip: [], raft: [], swim: [] };
    for (const [name, transport] of Object.entries(receiver)) {
      transport.onReceive((from, bytes) => {
        heard[name]?.push(`${from}:${new TextDecoder().decode(bytes)}`);
      });
    }
    await waitFor(() => sender.raft.peers().includes('b'), 20_000);
    sender.gossip.send('b', text.encode('DWG gossip'));
    sender.raft.send('b', text.encode('DWR raft'));
    sender.swim.send('b', text.encode('DWS swim'));
    // Another protocol's bytes on a transport's send are still delivered to their own receiver.
    sender.gossip.send('b', text.encode('DWR raft again'));
    sender.raft.send('b', text.encode('XYZ nobody'));
    await waitFor(
      () =>
        (heard.gossip?.length ?? 0) + (heard.raft?.length ?? 0) + (heard.swim?.length ?? 0) >= 4,
      20_000,
    );
    // Anything late would arrive in order after the last one sent on the same connection.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).toEqual({
      gossip: ['a:DWG gossip'],
      raft: ['a:DWR raft', 'a:DWR raft again'],
      swim: ['a:DWS swim'],
    });
    expect(receiver.gossip.stats.received).toBe(1);
    expect(receiver.raft.stats.received).toBe(2);
    expect(receiver.swim.stats.received).toBe(1);
  }, 30_000);

  it('a Raft cluster runs over the P2P network beside a gossip transport', async () => {
    const hub = await start('r1');
    const x = await start('r2', [hub]);
    const y = await start('r3', [hub]);
    await waitForPeers(hub.network, ['r2', 'r3']);
    await waitForPeers(x.network, ['r1', 'r3']);
    await waitForPeers(y.network, ['r1', 'r2']);
    const ids = ['r1', 'r2', 'r3'];
    const gossipHeard: Uint8Array[] = [];
    const nodes = [hub, x, y].map((node) => {
      const made = transports(node);
      made.gossip.onReceive((_from, bytes) => gossipHeard.push(bytes));
      const raft = new NativeRaftNode(node.runtime, made.raft, {
        nodeId: node.id,
        initialVoters: ids,
        tickMs: 20,
      });
      const store = new RaftClusterConfig(raft, {
        transport: made.raft,
        clock: node.runtime.clock,
      });
      cleanups.push(() => {
        store.close();
        raft.close();
      });
      return { raft, store };
    });
    await waitFor(() => {
      const leader = nodes.find((n) => n.raft.role === 'leader');
      return leader !== undefined && nodes.every((n) => n.raft.leaderId === leader.raft.nodeId);
    }, 20_000);
    const [first, second] = nodes.filter((n) => n.raft.role !== 'leader');
    // A write on a follower, forwarded to the leader over the P2P network, read on the other one.
    const written = await first?.store.put('tier/hot', 'ssd');
    expect(first?.store.stats.forwarded).toBe(1);
    expect(await second?.store.get('tier/hot')).toEqual(written);
    // The gossip transports saw none of the Raft traffic.
    expect(gossipHeard).toEqual([]);
  }, 30_000);
});
