import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import { NativeP2PNetwork } from '../../../src/native/p2p/native-p2p-network.js';
import type { P2PRejectReason } from '../../../src/native/p2p/options.js';
import { keyringPreSharedKeys } from '../../../src/native/transport/tls-psk.js';
import { createNodeRuntime } from '../../../src/runtime/node/node-runtime.js';
import {
  createTlsPskRuntime,
  type TlsPskRuntime,
} from '../../../src/runtime/node/tls-psk-runtime.js';
import type { NetworkAddress } from '../../../src/runtime/runtime.js';
import { clusterKeyring, waitForPeers } from './support.js';
import type { Keyring } from '../../../src/native/transport/keyring.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface TlsNode {
  readonly runtime: TlsPskRuntime;
  readonly keyring: Keyring;
  readonly network: NativeP2PNetwork;
  readonly rejects: P2PRejectReason[];
  close(): Promise<void>;
}

async function startTlsNode(id: string, seeds: NetworkAddress[] = []): Promise<TlsNode> {
  const keyring = clusterKeyring();
  const runtime = createTlsPskRuntime({ nodeId: id, keys: keyringPreSharedKeys(keyring) });
  const rejects: P2PRejectReason[] = [];
  const network = new NativeP2PNetwork({
    runtime,
    localPeerId: id,
    listen: { host: '127.0.0.1', port: 0 },
    seeds,
    transportSecurity: 'tls-psk',
    // A sweep every 100 ms, so retired connections are recycled quickly.
    keepaliveIntervalMs: 200,
    onReject: (reason) => rejects.push(reason),
  });
  await network.start();
  return {
    runtime,
    keyring,
    network,
    rejects,
    close: async () => {
      await network.close();
      await runtime.close();
    },
  };
}

function invalid(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DistributedError);
    expect((error as DistributedError).code).toBe('INVALID_ARGUMENT');
    return;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('NativeP2PNetwork over TLS-PSK', () => {
  it('cannot be configured to send plaintext frames over plain sockets', async () => {
    const plain = createNodeRuntime({ nodeId: 'p' });
    const tls = createTlsPskRuntime({ nodeId: 't', keys: keyringPreSharedKeys(clusterKeyring()) });
    try {
      const base = { localPeerId: 'x', listen: { host: '127.0.0.1', port: 0 } };
      // tls-psk over a plain TCP runtime.
      invalid(
        () => new NativeP2PNetwork({ ...base, runtime: plain, transportSecurity: 'tls-psk' }),
      );
      // tls-psk with a codec of the caller's (it would be used instead of the built-in one).
      const { SecureCodec } = await import('../../../src/native/transport/secure-codec.js');
      const codec = new SecureCodec({ allowPlaintext: true, localNodeId: 'x', random: tls.random });
      invalid(
        () => new NativeP2PNetwork({ ...base, runtime: tls, transportSecurity: 'tls-psk', codec }),
      );
      // The default mode still needs a codec.
      invalid(() => new NativeP2PNetwork({ ...base, runtime: plain }));
    } finally {
      await plain.close();
      await tls.close();
    }
  });

  it('exchanges messages and requests; rotation install, use, remove loses nothing', async () => {
    const b = await startTlsNode('b');
    const a = await startTlsNode('a', [b.network.listenAddress]);
    try {
      await waitForPeers(a.network, ['b']);
      await waitForPeers(b.network, ['a']);
      const received: number[] = [];
      b.network.onMessage((message) => {
        received.push(new DataView(message.data.buffer, message.data.byteOffset).getUint32(0));
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
      await sleep(30);
      const k2 = new Uint8Array(32).fill(42);
      a.keyring.install('k2', k2);
      b.keyring.install('k2', k2.slice());
      await sleep(30);
      a.keyring.use('k2');
      b.keyring.use('k2');
      // The sweeps move the traffic to new k2 connections whenever the peer is not busy.
      await expect
        .poll(
          () => a.runtime.network.connectionsUsing('k1') + b.runtime.network.connectionsUsing('k1'),
          { timeout: 5_000 },
        )
        .toBe(0);
      expect(a.runtime.network.connectionsUsing('k2')).toBeGreaterThan(0);
      a.keyring.remove('k1');
      b.keyring.remove('k1');
      // Nothing is keyed with k1 any more: removal (which revokes) cuts nothing.
      const revoked = a.runtime.network.revokeRemovedKeys() + b.runtime.network.revokeRemovedKeys();
      await sleep(100);
      control.stop = true;
      await traffic;
      expect(revoked).toBe(0);
      expect(sent).toBeGreaterThan(10);
      expect(answered).toBe(sent);
      await expect.poll(() => received.length).toBe(sent);
      expect(received).toEqual(Array.from({ length: sent }, (_, i) => i));
      expect(a.rejects).toEqual([]);
      expect(b.rejects).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
