/**
 * The behavioural tests every {@link P2PNetwork} and {@link GossipProtocol} must pass.
 *
 * @packageDocumentation
 */

import { describe, expect, it, vi } from 'vitest';
import { DistributedError } from '../../contracts/errors.js';
import type {
  GossipMessage,
  GossipProtocol,
  P2PNetwork,
  PeerMessage,
} from '../../contracts/p2p-network.js';
import type { ComplianceFactory } from './factory.js';
import { rejectionCode } from './error-code.js';
import { withSubject } from './factory.js';

const UNKNOWN_PEER_ID = 'no-such-peer-5d2e';

/**
 * Registers the {@link P2PNetwork} compliance tests with Vitest. Call it inside a
 * test file; the factory gives each test a fresh network with no request handler.
 *
 * Tests of delivery to this node itself run only when the network lists itself
 * among its known peers (a loopback network); otherwise they are reported as skipped.
 *
 * @example
 * ```ts
 * p2pNetworkCompliance('InMemoryP2PNetwork', () => ({ subject: new InMemoryP2PNetwork() }));
 * ```
 *
 * @param name - The implementation's name, shown in test titles.
 * @param factory - Makes a fresh network for each test.
 * @since 2.0.0
 */
export function p2pNetworkCompliance(name: string, factory: ComplianceFactory<P2PNetwork>): void {
  const test = (title: string, body: (subject: P2PNetwork) => Promise<void> | void) => {
    it(title, () => withSubject(factory, body));
  };
  /** A test that needs this node to be one of its own known peers. */
  const loopbackTest = (title: string, body: (subject: P2PNetwork) => Promise<void> | void) => {
    it(`${title} (loopback)`, async (context) => {
      await withSubject(factory, async (network) => {
        const peers = await network.discoverPeers();
        if (!peers.some((peer) => peer.peerId === network.localPeerId)) {
          context.skip('this network does not list itself as a peer');
          return;
        }
        await body(network);
      });
    });
  };

  describe(`P2PNetwork compliance: ${name}`, () => {
    test('has a local peer id', (network) => {
      expect(typeof network.localPeerId).toBe('string');
      expect(network.localPeerId).not.toBe('');
    });

    test('discovers well-formed, distinct peers', async (network) => {
      const peers = await network.discoverPeers();
      const ids = peers.map((peer) => peer.peerId);
      expect(new Set(ids).size).toBe(ids.length);
      for (const peer of peers) {
        expect(peer.peerId).not.toBe('');
        expect(typeof peer.address).toBe('string');
        expect(Number.isInteger(peer.port) && peer.port >= 0 && peer.port <= 65_535).toBe(true);
        expect(Number.isFinite(peer.lastSeenAt)).toBe(true);
        expect(typeof peer.metadata).toBe('object');
      }
    });

    test('sending to an unknown peer is UNKNOWN_PEER', async (network) => {
      expect(await rejectionCode(network.sendToPeer(UNKNOWN_PEER_ID, new Uint8Array([1])))).toBe(
        'UNKNOWN_PEER',
      );
    });

    test('requesting from an unknown peer is UNKNOWN_PEER', async (network) => {
      network.setRequestHandler(() => Promise.resolve(new Uint8Array([9])));
      expect(
        await rejectionCode(network.requestFromPeer(UNKNOWN_PEER_ID, new Uint8Array([1]))),
      ).toBe('UNKNOWN_PEER');
    });

    test('broadcast resolves even when peers cannot be reached', async (network) => {
      await expect(network.broadcast(new Uint8Array([1, 2, 3]))).resolves.toBeUndefined();
    });

    test('an aborted signal rejects every async method with its reason', async (network) => {
      const reason = new Error('cancelled by test');
      const signal = AbortSignal.abort(reason);
      const data = new Uint8Array([1]);
      await expect(network.discoverPeers({ signal })).rejects.toBe(reason);
      await expect(network.sendToPeer(network.localPeerId, data, { signal })).rejects.toBe(reason);
      await expect(network.broadcast(data, { signal })).rejects.toBe(reason);
      await expect(network.requestFromPeer(network.localPeerId, data, { signal })).rejects.toBe(
        reason,
      );
    });

    test('disposers are callable twice and disposable', (network) => {
      const subscriptions = [
        network.onMessage(() => undefined),
        network.onPeerEvent(() => undefined),
        network.setRequestHandler(() => Promise.resolve(new Uint8Array())),
      ];
      for (const unsubscribe of subscriptions) {
        unsubscribe();
        unsubscribe();
        unsubscribe[Symbol.dispose]();
      }
    });

    loopbackTest('data sent to itself reaches its listeners as a copy', async (network) => {
      const heard: PeerMessage[] = [];
      network.onMessage((message) => heard.push(message));
      const data = new Uint8Array([1, 2, 3]);
      await network.sendToPeer(network.localPeerId, data);
      data[0] = 99;
      await vi.waitFor(() => {
        expect(heard).toHaveLength(1);
      });
      expect(heard[0]?.fromPeerId).toBe(network.localPeerId);
      expect([...(heard[0]?.data ?? [])]).toEqual([1, 2, 3]);
    });

    loopbackTest('an unsubscribed listener hears nothing', async (network) => {
      const kept: PeerMessage[] = [];
      const dropped: PeerMessage[] = [];
      network.onMessage((message) => dropped.push(message))();
      {
        using _disposed = network.onMessage((message) => dropped.push(message));
      }
      network.onMessage(() => {
        throw new Error('listener failure');
      });
      network.onMessage((message) => kept.push(message));
      await network.broadcast(new Uint8Array([7]));
      await vi.waitFor(() => {
        expect(kept).toHaveLength(1);
      });
      expect(dropped).toHaveLength(0);
    });

    loopbackTest('a request to itself is answered by its handler', async (network) => {
      expect(
        await rejectionCode(network.requestFromPeer(network.localPeerId, new Uint8Array([1]))),
      ).toBe('NO_REQUEST_HANDLER');
      const remove = network.setRequestHandler((request) =>
        Promise.resolve(new Uint8Array([...request.data].map((byte) => byte * 2))),
      );
      const reply = await network.requestFromPeer(network.localPeerId, new Uint8Array([1, 2]));
      expect([...reply]).toEqual([2, 4]);
      remove();
      expect(
        await rejectionCode(network.requestFromPeer(network.localPeerId, new Uint8Array([1]))),
      ).toBe('NO_REQUEST_HANDLER');
    });

    loopbackTest('a handler rejection keeps its code', async (network) => {
      network.setRequestHandler(() =>
        Promise.reject(new DistributedError('OBJECT_NOT_FOUND', 'no such object')),
      );
      expect(
        await rejectionCode(network.requestFromPeer(network.localPeerId, new Uint8Array([1]))),
      ).toBe('OBJECT_NOT_FOUND');
    });
  });
}

function message(messageId: string, payload: readonly number[] = [1, 2, 3]): GossipMessage {
  return {
    messageId,
    originNodeId: 'origin-node',
    payload: new Uint8Array(payload),
    generation: 0,
    timestamp: 1,
  };
}

/**
 * Registers the {@link GossipProtocol} compliance tests with Vitest. Call it
 * inside a test file; the factory gives each test a fresh node of its own (not
 * connected to others), whose subscribers are then the only recipients.
 *
 * @example
 * ```ts
 * gossipProtocolCompliance('InMemoryGossipProtocol', () => ({
 *   subject: new InMemoryGossipProtocol(),
 * }));
 * ```
 *
 * @param name - The implementation's name, shown in test titles.
 * @param factory - Makes a fresh gossip node for each test.
 * @since 2.0.0
 */
export function gossipProtocolCompliance(
  name: string,
  factory: ComplianceFactory<GossipProtocol>,
): void {
  const test = (title: string, body: (subject: GossipProtocol) => Promise<void> | void) => {
    it(title, () => withSubject(factory, body));
  };

  describe(`GossipProtocol compliance: ${name}`, () => {
    test('a spread message reaches local subscribers once, as a copy', async (gossip) => {
      const heard: GossipMessage[] = [];
      gossip.onGossipReceived((received) => heard.push(received));
      const original = message('m-1');
      await gossip.spread(original);
      await gossip.spread(message('m-1', [9]));
      original.payload[0] = 42;
      await vi.waitFor(() => {
        expect(heard).toHaveLength(1);
      });
      expect(heard[0]?.messageId).toBe('m-1');
      expect(heard[0]?.originNodeId).toBe('origin-node');
      expect([...(heard[0]?.payload ?? [])]).toEqual([1, 2, 3]);
      await vi.waitFor(async () => {
        expect(await gossip.getPending()).toHaveLength(0);
      });
      await gossip.spread(message('m-1'));
      expect((await gossip.getPending()).map((pending) => pending.messageId)).not.toContain('m-1');
    });

    test('each subscriber receives every message, in spread order', async (gossip) => {
      const first: string[] = [];
      const second: string[] = [];
      gossip.onGossipReceived((received) => first.push(received.messageId));
      gossip.onGossipReceived((received) => second.push(received.messageId));
      for (const id of ['m-1', 'm-2', 'm-3']) await gossip.spread(message(id));
      await vi.waitFor(() => {
        expect(second).toHaveLength(3);
      });
      expect(first).toEqual(['m-1', 'm-2', 'm-3']);
      expect(second).toEqual(['m-1', 'm-2', 'm-3']);
    });

    test('pending messages are well-formed and listed once', async (gossip) => {
      await gossip.spread(message('m-1'));
      await gossip.spread(message('m-1'));
      const pending = await gossip.getPending();
      // Pending until delivered: with no subscriber yet, nothing can have been delivered.
      expect(pending.filter((p) => p.messageId === 'm-1')).toHaveLength(1);
      for (const p of pending) {
        expect(p.messageId).not.toBe('');
        expect(p.payload).toBeInstanceOf(Uint8Array);
        expect(Number.isInteger(p.generation) && p.generation >= 0).toBe(true);
      }
    });

    test('an unsubscribed or throwing subscriber does not stop the others', async (gossip) => {
      const dropped: GossipMessage[] = [];
      const kept: GossipMessage[] = [];
      gossip.onGossipReceived((received) => dropped.push(received))();
      {
        using _disposed = gossip.onGossipReceived((received) => dropped.push(received));
      }
      gossip.onGossipReceived(() => {
        throw new Error('subscriber failure');
      });
      gossip.onGossipReceived((received) => kept.push(received));
      await gossip.spread(message('m-1'));
      await vi.waitFor(() => {
        expect(kept).toHaveLength(1);
      });
      expect(dropped).toHaveLength(0);
    });

    test('a malformed message is INVALID_ARGUMENT and not accepted', async (gossip) => {
      const invalid: GossipMessage[] = [
        message(''),
        { ...message('m-neg'), generation: -1 },
        { ...message('m-frac'), generation: 1.5 },
        { ...message('m-nan'), timestamp: Number.NaN },
        { ...message('m-origin'), originNodeId: '' },
        { ...message('m-payload'), payload: [1, 2] as unknown as Uint8Array },
        null as unknown as GossipMessage,
      ];
      for (const bad of invalid)
        expect(await rejectionCode(gossip.spread(bad))).toBe('INVALID_ARGUMENT');
      expect(await gossip.getPending()).toHaveLength(0);
    });

    test('an aborted signal rejects with its reason and accepts nothing', async (gossip) => {
      const reason = new Error('cancelled by test');
      const signal = AbortSignal.abort(reason);
      await expect(gossip.spread(message('m-1'), { signal })).rejects.toBe(reason);
      await expect(gossip.getPending({ signal })).rejects.toBe(reason);
      expect(await gossip.getPending()).toHaveLength(0);
      const heard: GossipMessage[] = [];
      gossip.onGossipReceived((received) => heard.push(received));
      await gossip.spread(message('m-1'));
      await vi.waitFor(() => {
        expect(heard.map((received) => received.messageId)).toEqual(['m-1']);
      });
    });
  });
}
