import { describe, expect, it } from 'vitest';
import { PeerTable } from '../../../src/native/p2p/peer-table.js';

function table(maxPeers = 4): { peers: PeerTable; advance: (ms: number) => void } {
  let now = 0;
  const peers = new PeerTable({
    maxPeers,
    maxOutboundQueueBytes: 1_000,
    now: () => now,
    monotonic: () => now,
    flush: () => undefined,
  });
  return { peers, advance: (ms) => (now += ms) };
}

const address = { host: '127.0.0.1', port: 9 };

describe('PeerTable tombstones', () => {
  it('a lost peer stays lost to hearsay however long ago it was lost, until it is known again', () => {
    const { peers, advance } = table();
    const peer = peers.add('n5', address, {});
    expect(peer).toBeDefined();
    if (peer === undefined) return;
    expect(peers.wasLost('n5')).toBe(false);
    expect(peers.remove(peer)).toBe(true);
    advance(24 * 3_600_000);
    expect(peers.wasLost('n5')).toBe(true);
    peers.add('n5', address, {});
    expect(peers.wasLost('n5')).toBe(false);
  });

  it('keeps at most maxPeers tombstones, forgetting the oldest', () => {
    const { peers } = table(2);
    for (const id of ['a', 'b', 'c']) {
      const peer = peers.add(id, address, {});
      if (peer !== undefined) peers.remove(peer);
    }
    expect(['a', 'b', 'c'].map((id) => peers.wasLost(id))).toEqual([false, true, true]);
  });
});
