import { failureOf } from '../support/failures.js';
import { describe, expect, it } from 'vitest';
import type { CallOptions } from '../../src/contracts/common.js';
import { DistributedError } from '../../src/contracts/errors.js';
import type { PeerEvent, PeerMessage, PeerRequest } from '../../src/contracts/p2p-network.js';
import { InMemoryP2PNetwork } from '../../src/inmemory/in-memory-p2p-network.js';
import { p2pNetworkCompliance } from '../../src/testing/compliance/p2p-network.js';

p2pNetworkCompliance('InMemoryP2PNetwork', () => ({
  subject: new InMemoryP2PNetwork({ onListenerError: () => undefined }),
}));

describe('InMemoryP2PNetwork', () => {
  it('knows exactly one peer: itself, as configured', async () => {
    let clock = 100;
    const network = new InMemoryP2PNetwork({
      peerId: 'peer-a',
      address: '10.0.0.1',
      port: 7946,
      metadata: { zone: 'z1' },
      now: () => clock,
    });
    expect(network.localPeerId).toBe('peer-a');
    expect(await network.discoverPeers()).toEqual([
      {
        peerId: 'peer-a',
        address: '10.0.0.1',
        port: 7946,
        lastSeenAt: 100,
        metadata: { zone: 'z1' },
      },
    ]);
    clock = 200;
    const [self] = await network.discoverPeers();
    expect(self?.lastSeenAt).toBe(200);
    expect(Object.isFrozen(self)).toBe(true);
  });

  it('emits no peer events: its peers never change', async () => {
    const network = new InMemoryP2PNetwork();
    const events: PeerEvent[] = [];
    network.onPeerEvent((event) => events.push(event));
    await network.discoverPeers();
    await network.sendToPeer(network.localPeerId, new Uint8Array([1]));
    expect(events).toEqual([]);
  });

  it('delivers before sendToPeer resolves, but not synchronously', async () => {
    const network = new InMemoryP2PNetwork({ peerId: 'peer-a', now: () => 7 });
    const heard: PeerMessage[] = [];
    network.onMessage((message) => heard.push(message));
    const sending = network.sendToPeer('peer-a', new Uint8Array([5]));
    expect(heard).toHaveLength(0);
    await sending;
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ fromPeerId: 'peer-a', receivedAt: 7 });
  });

  it('broadcast reaches every local listener', async () => {
    const network = new InMemoryP2PNetwork();
    const first: number[] = [];
    const second: number[] = [];
    network.onMessage((message) => first.push(...message.data));
    network.onMessage((message) => second.push(...message.data));
    await network.broadcast(new Uint8Array([1, 2]));
    expect(first).toEqual([1, 2]);
    expect(second).toEqual([1, 2]);
  });

  it('names the only known peer when a peer is unknown, delivering nothing', async () => {
    const network = new InMemoryP2PNetwork({ peerId: 'peer-a' });
    const heard: PeerMessage[] = [];
    network.onMessage((message) => heard.push(message));
    const failure = await failureOf(network.sendToPeer('peer-b', new Uint8Array([1])));
    expect(failure.code).toBe('UNKNOWN_PEER');
    expect(failure.message).toContain("'peer-b'");
    expect(failure.message).toContain("'peer-a'");
    expect(heard).toHaveLength(0);
  });

  it('refuses messages and requests larger than maxMessageBytes', async () => {
    const network = new InMemoryP2PNetwork({ maxMessageBytes: 4 });
    const heard: PeerMessage[] = [];
    network.onMessage((message) => heard.push(message));
    network.setRequestHandler(() => Promise.resolve(new Uint8Array()));
    const big = new Uint8Array(5);
    expect((await failureOf(network.sendToPeer(network.localPeerId, big))).code).toBe(
      'INVALID_ARGUMENT',
    );
    expect((await failureOf(network.broadcast(big))).code).toBe('INVALID_ARGUMENT');
    expect((await failureOf(network.requestFromPeer(network.localPeerId, big))).code).toBe(
      'INVALID_ARGUMENT',
    );
    await network.broadcast(new Uint8Array(4));
    expect(heard).toHaveLength(1);
  });

  it('defaults maxMessageBytes to 1 MiB', () => {
    expect(new InMemoryP2PNetwork().maxMessageBytes).toBe(1024 * 1024);
  });

  it('rejects data that is not a Uint8Array', async () => {
    const network = new InMemoryP2PNetwork();
    const notBytes = [1, 2] as unknown as Uint8Array;
    expect((await failureOf(network.broadcast(notBytes))).code).toBe('INVALID_ARGUMENT');
  });

  it('gives the handler a copy of the request and the caller a copy of the response', async () => {
    const network = new InMemoryP2PNetwork({ peerId: 'peer-a', now: () => 9 });
    const kept = new Uint8Array([7, 7]);
    let seen: PeerRequest | undefined;
    network.setRequestHandler((request) => {
      seen = request;
      return Promise.resolve(kept);
    });
    const request = new Uint8Array([1]);
    const reply = await network.requestFromPeer('peer-a', request);
    request[0] = 2;
    reply[0] = 0;
    expect(seen).toMatchObject({ fromPeerId: 'peer-a', receivedAt: 9 });
    expect([...(seen?.data ?? [])]).toEqual([1]);
    expect([...kept]).toEqual([7, 7]);
  });

  it('a new handler replaces the old; the old disposer then leaves it installed', async () => {
    const network = new InMemoryP2PNetwork();
    const removeFirst = network.setRequestHandler(() => Promise.resolve(new Uint8Array([1])));
    network.setRequestHandler(() => Promise.resolve(new Uint8Array([2])));
    removeFirst();
    expect([...(await network.requestFromPeer(network.localPeerId, new Uint8Array()))]).toEqual([
      2,
    ]);
  });

  it('cancelling a request rejects at once and aborts the handler signal', async () => {
    const network = new InMemoryP2PNetwork();
    let handlerOptions: CallOptions | undefined;
    network.setRequestHandler((_request, options) => {
      handlerOptions = options;
      return new Promise<Uint8Array>(() => undefined); // never answers
    });
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const pending = network.requestFromPeer(network.localPeerId, new Uint8Array([1]), {
      signal: controller.signal,
    });
    await Promise.resolve();
    await Promise.resolve();
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(handlerOptions?.signal?.aborted).toBe(true);
  });

  it('a handler resolving with something other than bytes is INVALID_ARGUMENT', async () => {
    const network = new InMemoryP2PNetwork();
    network.setRequestHandler(() => Promise.resolve('text' as unknown as Uint8Array));
    expect(
      (await failureOf(network.requestFromPeer(network.localPeerId, new Uint8Array()))).code,
    ).toBe('INVALID_ARGUMENT');
  });

  it('rejects bad options', () => {
    expect(() => new InMemoryP2PNetwork({ peerId: '' })).toThrow(DistributedError);
    expect(() => new InMemoryP2PNetwork({ port: 70_000 })).toThrow(DistributedError);
    expect(() => new InMemoryP2PNetwork({ maxMessageBytes: 0 })).toThrow(DistributedError);
  });
});
