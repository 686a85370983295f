import { describe, expect, it } from 'vitest';
import { startLoopbackNode, waitForPeers } from './support.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('NativeP2PNetwork keyring rotation', () => {
  it('install everywhere, switch the primary, remove the old key: nothing lost', async () => {
    const b = await startLoopbackNode('b');
    const a = await startLoopbackNode('a', { seeds: [b.address] });
    try {
      await waitForPeers(a.network, ['b']);
      await waitForPeers(b.network, ['a']);
      const received: number[] = [];
      b.network.onMessage((message) => {
        received.push(new DataView(message.data.buffer).getUint32(0));
      });
      a.network.setRequestHandler((request) => Promise.resolve(request.data));

      const control = { stop: false };
      let sent = 0;
      let answered = 0;
      const traffic = (async () => {
        while (!control.stop) {
          const data = new Uint8Array(4);
          new DataView(data.buffer).setUint32(0, sent);
          await a.network.sendToPeer('b', data);
          sent += 1;
          const echo = await b.network.requestFromPeer('a', data);
          expect([...echo]).toEqual([...data]);
          answered += 1;
          await sleep(1);
        }
      })();

      const roundTrip = async () => {
        await b.network.requestFromPeer('a', new Uint8Array(4));
        await a.network.requestFromPeer('b', new Uint8Array(4)).catch(() => undefined);
      };
      await sleep(30);
      const k2 = new Uint8Array(32).fill(42);
      a.keyring.install('k2', k2);
      b.keyring.install('k2', k2.slice());
      await sleep(30);
      a.keyring.use('k2');
      await sleep(30);
      b.keyring.use('k2');
      // Everything sealed with k1 was written before this round trip, so it has arrived.
      await roundTrip();
      a.keyring.remove('k1');
      b.keyring.remove('k1');
      await sleep(50);
      control.stop = true;
      await traffic;

      expect(sent).toBeGreaterThan(10);
      expect(answered).toBe(sent);
      await expect.poll(() => received.length).toBe(sent);
      expect(received).toEqual(Array.from({ length: sent }, (_, i) => i));
      expect(a.rejects).toEqual([]);
      expect(b.rejects).toEqual([]);
      expect(a.keyring.list().map((key) => key.keyId)).toEqual(['k2']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
