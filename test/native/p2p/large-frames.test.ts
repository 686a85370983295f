import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PeerMessage } from '../../../src/contracts/p2p-network.js';
import { NativeP2PNetwork } from '../../../src/native/p2p/native-p2p-network.js';
import { SecureCodec } from '../../../src/native/transport/secure-codec.js';
import { createNodeRuntime } from '../../../src/runtime/node/node-runtime.js';
import type { NetworkAddress } from '../../../src/runtime/runtime.js';
import { startLoopbackNode, waitForPeers } from './support.js';

interface Node {
  readonly network: NativeP2PNetwork;
  readonly address: NetworkAddress;
  readonly rejects: string[];
  close(): Promise<void>;
}

/** A node sealing with the cluster keyring, or (development flag) sending plaintext. */
async function startNode(
  id: string,
  mode: 'sealed' | 'plaintext',
  seeds: NetworkAddress[] = [],
): Promise<Node> {
  if (mode === 'sealed') {
    const node = await startLoopbackNode(id, { seeds });
    return { ...node, rejects: node.rejects.map((r) => r.reason), close: () => node.close() };
  }
  const runtime = createNodeRuntime({ nodeId: id });
  const rejects: string[] = [];
  const network = new NativeP2PNetwork({
    runtime,
    localPeerId: id,
    listen: { host: '127.0.0.1', port: 0 },
    seeds,
    codec: new SecureCodec({ allowPlaintext: true, localNodeId: id, random: runtime.random }),
    onReject: (reason) => rejects.push(reason),
  });
  await network.start();
  return {
    network,
    address: network.listenAddress,
    rejects,
    close: async () => {
      await network.close();
      await runtime.close();
    },
  };
}

/** Bytes that tell payloads apart anywhere inside them. */
function payload(size: number, tag: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 97) bytes[i] = (tag + i) & 0xff;
  bytes.fill(tag & 0xff, 0, Math.min(size, 8));
  return bytes;
}

function checksum(bytes: Uint8Array): number {
  let sum = bytes.length;
  for (let i = 0; i < bytes.length; i += 97) sum = (sum * 31 + (bytes[i] as number)) >>> 0;
  return sum;
}

describe.each(['sealed', 'plaintext'] as const)('NativeP2PNetwork with large %s frames', (mode) => {
  const nodes: Node[] = [];
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.close();
  });

  it('delivers large and small payloads intact, in both directions at once, even when the caller reuses its array', async () => {
    const b = await startNode('b', mode);
    nodes.push(b);
    const a = await startNode('a', mode, [b.address]);
    nodes.push(a);
    await waitForPeers(a.network, ['b']);
    await waitForPeers(b.network, ['a']);
    // The handler answers with a checksum of what arrived and a large payload of its own.
    for (const node of [a, b]) {
      node.network.setRequestHandler((request) => {
        const answer = payload(request.data.length + 1, checksum(request.data));
        return Promise.resolve(answer);
      });
    }
    const heard: PeerMessage[] = [];
    const kept: Uint8Array[] = [];
    b.network.onMessage((message) => kept.push(message.data));
    b.network.onMessage((message) => heard.push(message));

    const sizes = [16 * 1024, 64 * 1024, 10, 200 * 1024, 300 * 1024, 64 * 1024 + 1, 3, 100_000];
    const calls: Promise<void>[] = [];
    for (let round = 0; round < 3; round++) {
      sizes.forEach((size, i) => {
        const tag = round * 16 + i;
        for (const [from, to] of [
          [a, 'b'],
          [b, 'a'],
        ] as const) {
          const data = payload(size, tag);
          const expected = checksum(data);
          const reply = from.network.requestFromPeer(to, data);
          // The network copied or sealed the bytes at once: the caller may reuse its array.
          data.fill(0xee);
          calls.push(
            reply.then((answer) => {
              expect(answer.length).toBe(size + 1);
              expect(checksum(answer)).toBe(checksum(payload(size + 1, expected)));
            }),
          );
        }
      });
    }
    const message = payload(80_000, 5);
    await a.network.sendToPeer('b', message);
    message.fill(0);
    await Promise.all(calls);
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    expect(checksum(heard[0]!.data)).toBe(checksum(payload(80_000, 5)));
    // What was delivered stays intact while later frames arrive (no reused memory behind it).
    await b.network.sendToPeer('a', payload(90_000, 6));
    await a.network.requestFromPeer('b', payload(90_000, 7));
    expect(checksum(kept[0]!)).toBe(checksum(payload(80_000, 5)));
    expect(a.rejects).toEqual([]);
    expect(b.rejects).toEqual([]);
  });
});
