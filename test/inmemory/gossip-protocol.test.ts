import { setImmediate as nextTurn } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../src/contracts/errors.js';
import type { GossipMessage } from '../../src/contracts/p2p-network.js';
import { BoundedIdSet } from '../../src/core/gossip/gossip-message.js';
import { InMemoryGossipProtocol } from '../../src/inmemory/in-memory-gossip-protocol.js';
import { gossipProtocolCompliance } from '../../src/testing/compliance/p2p-network.js';

gossipProtocolCompliance('InMemoryGossipProtocol', () => ({
  subject: new InMemoryGossipProtocol({ onListenerError: () => undefined }),
}));

function message(messageId: string): GossipMessage {
  return {
    messageId,
    originNodeId: 'node-a',
    payload: new Uint8Array([1]),
    generation: 0,
    timestamp: 1,
  };
}

async function ids(gossip: InMemoryGossipProtocol): Promise<string[]> {
  return (await gossip.getPending()).map((pending) => pending.messageId);
}

describe('InMemoryGossipProtocol', () => {
  it('keeps messages pending while nobody subscribes, then delivers them to the first subscriber', async () => {
    const gossip = new InMemoryGossipProtocol();
    await gossip.spread(message('m-1'));
    await gossip.spread(message('m-2'));
    await nextTurn();
    expect(await ids(gossip)).toEqual(['m-1', 'm-2']);
    const heard: string[] = [];
    gossip.onGossipReceived((received) => heard.push(received.messageId));
    expect(heard).toEqual([]); // delivery is asynchronous
    await nextTurn();
    expect(heard).toEqual(['m-1', 'm-2']);
    expect(await ids(gossip)).toEqual([]);
  });

  it('does not deliver inside spread', async () => {
    const gossip = new InMemoryGossipProtocol();
    const heard: string[] = [];
    gossip.onGossipReceived((received) => heard.push(received.messageId));
    await gossip.spread(message('m-1'));
    expect(heard).toEqual([]);
    expect(await ids(gossip)).toEqual(['m-1']);
    await nextTurn();
    expect(heard).toEqual(['m-1']);
  });

  it('keeps a message pending when its only subscriber leaves before delivery', async () => {
    const gossip = new InMemoryGossipProtocol();
    const unsubscribe = gossip.onGossipReceived(() => undefined);
    await gossip.spread(message('m-1'));
    unsubscribe();
    await nextTurn();
    expect(await ids(gossip)).toEqual(['m-1']);
  });

  it('rejects with CAPACITY_EXCEEDED when maxPending messages wait, keeping them all', async () => {
    const gossip = new InMemoryGossipProtocol({ maxPending: 2 });
    await gossip.spread(message('m-1'));
    await gossip.spread(message('m-2'));
    const failure: unknown = await gossip.spread(message('m-3')).catch((error: unknown) => error);
    expect((failure as DistributedError).code).toBe('CAPACITY_EXCEEDED');
    expect(await ids(gossip)).toEqual(['m-1', 'm-2']);
    // The refused message was not remembered, so it can be spread once there is room.
    const heard: string[] = [];
    gossip.onGossipReceived((received) => heard.push(received.messageId));
    await nextTurn();
    await gossip.spread(message('m-3'));
    await nextTurn();
    expect(heard).toEqual(['m-1', 'm-2', 'm-3']);
  });

  it('a duplicate of a pending message is ignored even when the room is full', async () => {
    const gossip = new InMemoryGossipProtocol({ maxPending: 1 });
    await gossip.spread(message('m-1'));
    await expect(gossip.spread(message('m-1'))).resolves.toBeUndefined();
  });

  it('forgets the oldest seen ids beyond maxSeenIds', async () => {
    const gossip = new InMemoryGossipProtocol({ maxSeenIds: 2 });
    const heard: string[] = [];
    gossip.onGossipReceived((received) => heard.push(received.messageId));
    for (const id of ['m-1', 'm-2', 'm-3', 'm-1']) {
      await gossip.spread(message(id));
      await nextTurn();
    }
    expect(heard).toEqual(['m-1', 'm-2', 'm-3', 'm-1']);
    await gossip.spread(message('m-3'));
    await nextTurn();
    expect(heard).toHaveLength(4);
  });

  it('getPending returns copies', async () => {
    const gossip = new InMemoryGossipProtocol();
    await gossip.spread(message('m-1'));
    const [first] = await gossip.getPending();
    if (first) first.payload[0] = 99;
    const [again] = await gossip.getPending();
    expect([...(again?.payload ?? [])]).toEqual([1]);
  });

  it('createMessage numbers generations from this node', () => {
    const gossip = new InMemoryGossipProtocol({ nodeId: 'node-a', now: () => 42 });
    const first = gossip.createMessage(new Uint8Array([1]));
    const second = gossip.createMessage(new Uint8Array([2]));
    expect(first).toMatchObject({ originNodeId: 'node-a', generation: 0, timestamp: 42 });
    expect(second.generation).toBe(1);
    expect(second.messageId).not.toBe(first.messageId);
  });

  it('rejects bad options', () => {
    expect(() => new InMemoryGossipProtocol({ nodeId: '' })).toThrow(DistributedError);
    expect(() => new InMemoryGossipProtocol({ maxPending: 0 })).toThrow(DistributedError);
    expect(() => new InMemoryGossipProtocol({ maxSeenIds: -1 })).toThrow(DistributedError);
  });
});

describe('BoundedIdSet (core)', () => {
  it('remembers exactly the last `capacity` distinct ids added', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'), {
          maxLength: 40,
        }),
        (capacity, added) => {
          const set = new BoundedIdSet(capacity);
          // Model: insertion order of first adds since last eviction; re-adding a remembered id does not refresh it.
          const model: string[] = [];
          for (const id of added) {
            set.add(id);
            if (!model.includes(id)) {
              if (model.length >= capacity) model.shift();
              model.push(id);
            }
          }
          expect(set.size).toBe(model.length);
          expect(set.size).toBeLessThanOrEqual(capacity);
          for (const id of 'abcdefghij') expect(set.has(id)).toBe(model.includes(id));
        },
      ),
    );
  });
});
