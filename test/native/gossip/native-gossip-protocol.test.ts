import { describe, expect, it } from 'vitest';
import type { Listener, Unsubscribe } from '../../../src/contracts/common.js';
import type {
  GossipMessage,
  GossipProtocol,
  P2PNetwork,
  PeerEvent,
  PeerMessage,
} from '../../../src/contracts/p2p-network.js';
import { createUnsubscribe } from '../../../src/core/events.js';
import {
  datagramGossipTransport,
  p2pGossipTransport,
} from '../../../src/native/gossip/gossip-transport.js';
import { NativeGossipProtocol } from '../../../src/native/gossip/native-gossip-protocol.js';
import type { NetworkAddress } from '../../../src/runtime/runtime.js';
import { gossipProtocolCompliance } from '../../../src/testing/compliance/p2p-network.js';
import { idleCluster, settle } from '../../runtime/sim/support.js';

const PORT = 7946;

/** Three simulated nodes gossiping over datagrams; returns node a's protocol and the sim. */
async function cluster(ids = ['a', 'b', 'c'], seed = 1) {
  const { sim, rt } = await idleCluster(ids, {
    seed,
    network: { latency: { baseMs: 1, jitterMs: 1 }, loss: 0.01 },
  });
  const table: Record<string, NetworkAddress> = Object.fromEntries(
    ids.map((id) => [id, { host: id, port: PORT }]),
  );
  const protocols = new Map<string, NativeGossipProtocol>();
  for (const id of ids) {
    const transport = await settle(
      sim,
      datagramGossipTransport(rt(id), { port: PORT, peerAddresses: table }),
    );
    protocols.set(id, new NativeGossipProtocol(rt(id), transport, { onListenerError: () => {} }));
  }
  return { sim, protocols, close: () => protocols.forEach((p) => p.close()) };
}

// Every call drives virtual time: the call settles, then a few gossip rounds run, so the
// suite's real-time polling (vi.waitFor) sees the simulated cluster make progress.
gossipProtocolCompliance('NativeGossipProtocol (3 simulated nodes)', async () => {
  const { sim, protocols, close } = await cluster();
  const inner = protocols.get('a')!;
  const drive = async <T>(promise: Promise<T>): Promise<T> => {
    const value = await settle(sim, promise);
    await sim.runFor(600);
    return value;
  };
  const subject: GossipProtocol = {
    spread: (message, options) => drive(inner.spread(message, options)),
    getPending: (options) => drive(inner.getPending(options)),
    onGossipReceived: (listener) => inner.onGossipReceived(listener),
  };
  return { subject, cleanup: close };
});

describe('NativeGossipProtocol', () => {
  it('delivers a message spread on one node to every node once', async () => {
    const { sim, protocols, close } = await cluster(['a', 'b', 'c', 'd', 'e'], 7);
    const heard = new Map<string, string[]>();
    for (const [id, p] of protocols) {
      heard.set(id, []);
      p.onGossipReceived((m) => heard.get(id)!.push(m.messageId));
    }
    const origin = protocols.get('c')!;
    const message = origin.createMessage(new Uint8Array([7]));
    expect(message.originNodeId).toBe('c');
    await settle(sim, origin.spread(message));
    await sim.runFor(5_000);
    for (const list of heard.values()) expect(list).toEqual([message.messageId]);
    for (const p of protocols.values()) expect(await settle(sim, p.getPending())).toEqual([]);
    expect(origin.stats.bytesOut).toBeGreaterThan(0);
    close();
  });

  it('counts and reports refused batches; they change nothing', async () => {
    const { sim, rt } = await idleCluster(['a', 'b']);
    const table = { a: { host: 'a', port: PORT }, b: { host: 'b', port: PORT } };
    const transport = await settle(
      sim,
      datagramGossipTransport(rt('a'), { port: PORT, peerAddresses: table }),
    );
    const refused: string[] = [];
    const gossip = new NativeGossipProtocol(rt('a'), transport, {
      onRejectedBatch: (from, reason) => refused.push(`${from}:${reason}`),
    });
    const b = await settle(
      sim,
      rt('b').network.bindDatagram({ host: '', port: 9 }, () => {}),
    );
    b.send(new Uint8Array([0x44, 0x57, 0x47, 7, 0, 0]), { host: 'a', port: PORT });
    b.send(new Uint8Array([1, 2, 3]), { host: 'a', port: PORT });
    await sim.runFor(100);
    expect(refused.sort()).toEqual(['b:9:malformed', 'b:9:unsupported-version']);
    expect(gossip.stats.rejectedBatches).toBe(2);
    expect(await settle(sim, gossip.getPending())).toEqual([]);
    gossip.close();
    await expect(
      settle(sim, gossip.spread(gossip.createMessage(new Uint8Array()))),
    ).rejects.toMatchObject({
      code: 'CLOSED',
    });
  });

  it('piggybacks: a batch taken within a budget is accepted by another node', async () => {
    const { sim, rt } = await idleCluster(['a', 'b']);
    const quiet = { peers: () => [], send: () => {}, onReceive: () => createUnsubscribe(() => {}) };
    // Rounds far apart: only the piggyback carries the message.
    const a = new NativeGossipProtocol(rt('a'), quiet, { gossipIntervalMs: 1e9 });
    const b = new NativeGossipProtocol(rt('b'), quiet, { gossipIntervalMs: 1e9 });
    const got: GossipMessage[] = [];
    b.onGossipReceived((m) => got.push(m));
    expect(a.takePiggyback(1_000)).toBeUndefined();
    const message = a.createMessage(new Uint8Array(40));
    await settle(sim, a.spread(message));
    expect(a.takePiggyback(50)).toBeUndefined(); // does not fit
    const batch = a.takePiggyback(200)!;
    expect(batch.length).toBeLessThanOrEqual(200);
    expect(b.receivePiggyback('a', batch).accepted).toBe(1);
    expect(b.receivePiggyback('a', batch).duplicates).toBe(1);
    await sim.runFor(1);
    expect(got.map((m) => m.messageId)).toEqual([message.messageId]);
    a.close();
    b.close();
  });
});

/** A tiny in-process P2PNetwork mesh, enough to drive p2pGossipTransport. */
function mesh(ids: readonly string[]): Map<string, P2PNetwork> {
  const listeners = new Map<string, Set<Listener<PeerMessage>>>();
  const networks = new Map<string, P2PNetwork>();
  for (const id of ids) {
    listeners.set(id, new Set());
    const peers = ids
      .filter((other) => other !== id)
      .map((peerId) => ({ peerId, address: peerId, port: 1, lastSeenAt: 0, metadata: {} }));
    networks.set(id, {
      localPeerId: id,
      onPeerEvent: (_listener: Listener<PeerEvent>): Unsubscribe => createUnsubscribe(() => {}),
      onMessage: (listener) => {
        listeners.get(id)!.add(listener);
        return createUnsubscribe(() => listeners.get(id)!.delete(listener));
      },
      setRequestHandler: () => createUnsubscribe(() => {}),
      discoverPeers: () => Promise.resolve(peers),
      sendToPeer: (peerId, data) => {
        const targets = listeners.get(peerId);
        if (targets === undefined) return Promise.reject(new Error('unknown peer'));
        setImmediate(() => {
          for (const l of targets) l({ fromPeerId: id, data: data.slice(), receivedAt: 0 });
        });
        return Promise.resolve();
      },
      broadcast: () => Promise.resolve(),
      requestFromPeer: () => Promise.reject(new Error('not used')),
    });
  }
  return networks;
}

describe('p2pGossipTransport', () => {
  it('gossips over any P2PNetwork and ignores non-gossip traffic', async () => {
    const { sim } = await idleCluster(['a', 'b', 'c']);
    const networks = mesh(['a', 'b', 'c']);
    const protocols = ['a', 'b', 'c'].map(
      (id) => new NativeGossipProtocol(sim.runtimeOf(id)!, p2pGossipTransport(networks.get(id)!)),
    );
    await new Promise((resolve) => setImmediate(resolve)); // discovery resolves
    const heard: string[] = [];
    protocols[2]!.onGossipReceived((m) => heard.push(m.messageId));
    const transport = p2pGossipTransport(networks.get('c')!);
    const raw: string[] = [];
    transport.onReceive((from) => raw.push(from));
    await networks.get('a')!.sendToPeer('c', new Uint8Array([1, 2, 3])); // not gossip
    await settle(sim, protocols[0]!.spread(protocols[0]!.createMessage(new Uint8Array([1]))));
    for (let i = 0; i < 20 && heard.length === 0; i++) {
      await sim.runFor(200);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(heard).toHaveLength(1);
    expect(raw.length).toBeGreaterThan(0);
    expect(protocols[2]!.stats.rejectedBatches).toBe(0);
    for (const p of protocols) p.close();
    transport.close();
  });
});
