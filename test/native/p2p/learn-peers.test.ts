import { describe, expect, it } from 'vitest';
import { thrownCode } from '../../../src/testing/compliance/error-code.js';
import { startLoopbackNode, waitForPeers } from './support.js';

describe('NativeP2PNetwork.learnPeers (peers from the membership)', () => {
  it('makes a peer known without seeds, and a request reaches it', async () => {
    const a = await startLoopbackNode('a');
    const b = await startLoopbackNode('b');
    try {
      b.network.setRequestHandler(async (request) => Promise.resolve(request.data));
      a.network.learnPeers([
        { peerId: 'b', host: b.address.host, port: b.address.port },
        { peerId: 'a', host: a.address.host, port: a.address.port }, // itself: ignored
      ]);
      await waitForPeers(a.network, ['b']);
      const answer = await a.network.requestFromPeer('b', new TextEncoder().encode('hi'));
      expect(new TextDecoder().decode(answer)).toBe('hi');
      // b learns a from the hello of a's dial.
      await waitForPeers(b.network, ['a']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses a record without an id or with a bad port, learning nothing', async () => {
    const a = await startLoopbackNode('a');
    try {
      expect(
        thrownCode(() =>
          a.network.learnPeers([
            { peerId: 'ok', host: '127.0.0.1', port: 9 },
            { peerId: 'bad', host: '127.0.0.1', port: 0 },
          ]),
        ),
      ).toBe('INVALID_ARGUMENT');
      expect(thrownCode(() => a.network.learnPeers([{ peerId: '', host: 'h', port: 1 }]))).toBe(
        'INVALID_ARGUMENT',
      );
      expect(await a.network.discoverPeers()).toEqual([]);
    } finally {
      await a.close();
    }
    expect(thrownCode(() => a.network.learnPeers([]))).toBe('CLOSED');
  });
});
