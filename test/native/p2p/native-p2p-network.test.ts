import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PeerEvent, PeerMessage } from '../../../src/contracts/p2p-network.js';
import { DistributedError } from '../../../src/contracts/errors.js';
import { NativeP2PNetwork } from '../../../src/native/p2p/native-p2p-network.js';
import { p2pNetworkCompliance } from '../../../src/testing/compliance/p2p-network.js';
import { rejectionCode } from '../../../src/testing/compliance/error-code.js';
import { startLoopbackNode, waitForPeers, type LoopbackNode } from './support.js';

// The contract suite, on real loopback sockets: the subject is one node of a connected pair.
p2pNetworkCompliance('NativeP2PNetwork (loopback TCP pair)', async () => {
  const b = await startLoopbackNode('b');
  const a = await startLoopbackNode('a', { seeds: [b.address] });
  await waitForPeers(a.network, ['b']);
  return {
    subject: a.network,
    cleanup: async () => {
      await a.close();
      await b.close();
    },
  };
});

describe('NativeP2PNetwork on loopback TCP', () => {
  const nodes: LoopbackNode[] = [];
  const start = async (...args: Parameters<typeof startLoopbackNode>): Promise<LoopbackNode> => {
    const node = await startLoopbackNode(...args);
    nodes.push(node);
    return node;
  };
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.close();
  });

  it('a trio finds everyone from one seed, and exchanges messages, broadcasts and requests', async () => {
    const hub = await start('hub');
    const x = await start('x', { seeds: [hub.address] });
    const y = await start('y', { seeds: [hub.address] });
    await waitForPeers(hub.network, ['x', 'y']);
    await waitForPeers(x.network, ['hub', 'y']);
    await waitForPeers(y.network, ['hub', 'x']);

    const heard = new Map<string, PeerMessage[]>();
    for (const node of [hub, x, y]) {
      heard.set(node.id, []);
      node.network.onMessage((message) => heard.get(node.id)?.push(message));
      node.network.setRequestHandler((request) =>
        Promise.resolve(
          new TextEncoder().encode(`${node.id}<-${request.fromPeerId}:${request.data[0]}`),
        ),
      );
    }
    const data = new Uint8Array([5, 6, 7]);
    await x.network.sendToPeer('y', data);
    data[0] = 0;
    await vi.waitFor(() => expect(heard.get('y')).toHaveLength(1));
    expect(heard.get('y')?.[0]?.fromPeerId).toBe('x');
    expect([...(heard.get('y')?.[0]?.data ?? [])]).toEqual([5, 6, 7]);

    await y.network.broadcast(new Uint8Array([9]));
    await vi.waitFor(() => {
      expect(heard.get('hub')).toHaveLength(1);
      expect(heard.get('x')).toHaveLength(1);
    });
    expect(heard.get('y')).toHaveLength(1); // a node does not hear its own broadcast

    const reply = await hub.network.requestFromPeer('x', new Uint8Array([42]));
    expect(new TextDecoder().decode(reply)).toBe('x<-hub:42');
    const fromY = await y.network.requestFromPeer('x', new Uint8Array([1]));
    expect(new TextDecoder().decode(fromY)).toBe('x<-y:1');
    const peers = await x.network.discoverPeers();
    expect(peers.find((peer) => peer.peerId === 'y')?.port).toBe(y.address.port);
    expect(peers.some((peer) => peer.peerId === 'x')).toBe(false);
  });

  it('request errors keep their codes; a missing handler is NO_REQUEST_HANDLER', async () => {
    const b = await start('b');
    const a = await start('a', { seeds: [b.address] });
    await waitForPeers(a.network, ['b']);
    expect(await rejectionCode(a.network.requestFromPeer('b', new Uint8Array([1])))).toBe(
      'NO_REQUEST_HANDLER',
    );
    b.network.setRequestHandler(() =>
      Promise.reject(new DistributedError('OBJECT_NOT_FOUND', 'nothing here')),
    );
    const error = await a.network
      .requestFromPeer('b', new Uint8Array([1]))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DistributedError);
    expect((error as DistributedError).code).toBe('OBJECT_NOT_FOUND');
    expect((error as Error).message).toContain('nothing here');
    b.network.setRequestHandler(() => Promise.reject(new Error('plain failure')));
    await expect(a.network.requestFromPeer('b', new Uint8Array([1]))).rejects.toThrow(
      'plain failure',
    );
    b.network.setRequestHandler(() => Promise.resolve('not bytes' as unknown as Uint8Array));
    expect(await rejectionCode(a.network.requestFromPeer('b', new Uint8Array([1])))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('a request times out, and an abort rejects with the reason', async () => {
    const b = await start('b');
    const a = await start('a', { seeds: [b.address], overrides: { requestTimeoutMs: 100 } });
    await waitForPeers(a.network, ['b']);
    b.network.setRequestHandler(() => new Promise<Uint8Array>(() => undefined));
    const timedOut = await a.network
      .requestFromPeer('b', new Uint8Array([1]))
      .catch((e: unknown) => e);
    expect((timedOut as DOMException).name).toBe('TimeoutError');
    const controller = new AbortController();
    const pending = a.network.requestFromPeer('b', new Uint8Array([1]), {
      signal: controller.signal,
    });
    const reason = new Error('changed my mind');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(a.network.stats.pendingRequests).toBe(0);
  });

  it('refuses sends past the outbound queue bound with CAPACITY_EXCEEDED, and skips in broadcast', async () => {
    const b = await start('b');
    const a = await start('a', {
      seeds: [b.address],
      overrides: { maxOutboundQueueBytes: 2_000, lostAfterMs: 60_000 },
    });
    await waitForPeers(a.network, ['b']);
    // b goes away without a goodbye: a keeps it known and queues while it redials.
    await b.runtime.close();
    await vi.waitFor(() => expect(a.network.stats.connections).toBe(0));
    await a.network.sendToPeer('b', new Uint8Array(1_000));
    expect(await rejectionCode(a.network.sendToPeer('b', new Uint8Array(1_000)))).toBe(
      'CAPACITY_EXCEEDED',
    );
    await a.network.broadcast(new Uint8Array(1_000));
    expect(a.network.stats.broadcastsSkipped).toBe(1);
    await b.network.close();
  });

  it('closes idle connections, keeps the peer, and dials again on demand', async () => {
    const b = await start('b', { overrides: { idleCloseMs: 60_000 } });
    const a = await start('a', { seeds: [b.address], overrides: { idleCloseMs: 100 } });
    await waitForPeers(a.network, ['b']);
    await vi.waitFor(() => {
      expect(a.network.stats.connections).toBe(0);
      expect(b.network.stats.connections).toBe(0);
    });
    expect((await a.network.discoverPeers()).map((peer) => peer.peerId)).toEqual(['b']);
    expect((await b.network.discoverPeers()).map((peer) => peer.peerId)).toEqual(['a']);
    const heard: PeerMessage[] = [];
    b.network.onMessage((message) => heard.push(message));
    await a.network.sendToPeer('b', new Uint8Array([3]));
    await vi.waitFor(() => expect(heard).toHaveLength(1));
  });

  it('reports a peer lost at once when it closes, and rediscovers it when it comes back', async () => {
    const hub = await start('hub');
    const events: PeerEvent[] = [];
    hub.network.onPeerEvent((event) => events.push(event));
    const leaver = await startLoopbackNode('leaver', { seeds: [hub.address] });
    await waitForPeers(hub.network, ['leaver']);
    await leaver.close();
    await waitForPeers(hub.network, []);
    expect(events.map((event) => event.eventType)).toEqual(['peer-discovered', 'peer-lost']);
    const again = await start('leaver', { seeds: [hub.address] });
    await waitForPeers(hub.network, ['leaver']);
    expect(events.at(-1)?.eventType).toBe('peer-discovered');
    expect(events.at(-1)?.peer.port).toBe(again.address.port);
  });

  it('reports a crashed peer lost once redials have failed for lostAfterMs', async () => {
    const victim = await startLoopbackNode('victim');
    const a = await start('a', {
      seeds: [victim.address],
      overrides: { lostAfterMs: 300, reconnect: { initialMs: 20, maxMs: 50 } },
    });
    await waitForPeers(a.network, ['victim']);
    const events: PeerEvent[] = [];
    a.network.onPeerEvent((event) => events.push(event));
    // The runtime closes its sockets without the network saying goodbye: a crash.
    await victim.runtime.close();
    await waitForPeers(a.network, []);
    expect(events.map((event) => event.eventType)).toEqual(['peer-lost']);
    await victim.network.close();
  });

  it('rejects bad arguments and refuses to work after close', async () => {
    const a = await start('a');
    expect(await rejectionCode(a.network.sendToPeer('a', new Uint8Array([1])))).toBe(
      'UNKNOWN_PEER',
    );
    expect(await rejectionCode(a.network.broadcast([1, 2] as unknown as Uint8Array))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(() => new NativeP2PNetwork({} as never)).toThrow(DistributedError);
    await a.network.close();
    expect(await rejectionCode(a.network.broadcast(new Uint8Array([1])))).toBe('CLOSED');
  });
});
