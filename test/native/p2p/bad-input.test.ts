import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PeerMessage } from '../../../src/contracts/p2p-network.js';
import { encodeFrame } from '../../../src/core/wire/frame.js';
import { WIRE_VERSION, type Envelope } from '../../../src/core/wire/envelope.js';
import { Keyring } from '../../../src/native/transport/keyring.js';
import { SecureCodec } from '../../../src/native/transport/secure-codec.js';
import { encodeControl, encodeHello } from '../../../src/native/p2p/control.js';
import type { P2PRejectReason } from '../../../src/native/p2p/options.js';
import { clusterKeyring, startLoopbackNode, waitForPeers, type LoopbackNode } from './support.js';

const random = {
  bytes: (n: number) => new Uint8Array(n).map(() => Math.floor(Math.random() * 256)),
};

/** A raw TCP client that records when the node closes it. */
async function rawSocket(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed };
}

function envelope(kind: Envelope['kind'], from: string, to: string, payload: Uint8Array): Envelope {
  return { version: WIRE_VERSION, kind, from, to, correlationId: 0, sentAt: 1, payload };
}

function hello(from: string, codec: SecureCodec): Uint8Array {
  return encodeFrame(
    codec.seal(
      envelope(
        'hello',
        from,
        '',
        encodeHello({ host: '127.0.0.1', port: 9, metadata: {}, peers: [] }),
      ),
    ),
  );
}

describe('NativeP2PNetwork refuses bad frames over a real socket', () => {
  let target: LoopbackNode;
  let friend: LoopbackNode;
  const heard: PeerMessage[] = [];

  beforeEach(async () => {
    heard.length = 0;
    target = await startLoopbackNode('target');
    friend = await startLoopbackNode('friend', { seeds: [target.address] });
    await waitForPeers(friend.network, ['target']);
    target.network.onMessage((message) => heard.push(message));
    target.network.setRequestHandler((request) => Promise.resolve(request.data));
  });
  afterEach(async () => {
    await friend.close();
    await target.close();
  });

  /** Sends `bytes`, expects the connection closed and `reason` counted, and the node still serving. */
  async function refused(bytes: readonly Uint8Array[], reason: P2PRejectReason): Promise<void> {
    const before = target.network.stats.rejected[reason];
    const { socket, closed } = await rawSocket(target.address.port);
    for (const chunk of bytes) socket.write(chunk);
    await closed;
    expect(target.network.stats.rejected[reason]).toBe(before + 1);
    expect(target.rejects.at(-1)?.reason).toBe(reason);
    const echoed = await friend.network.requestFromPeer('target', new Uint8Array([4, 2]));
    expect([...echoed]).toEqual([4, 2]);
  }

  it('an oversized length prefix', async () => {
    await refused([new Uint8Array([0x7f, 0xff, 0xff, 0xff, 1, 2, 3])], 'frame-too-large');
  });

  it('a garbage body', async () => {
    await refused([encodeFrame(new Uint8Array([1, 2, 3]))], 'truncated');
    await refused([encodeFrame(new Uint8Array(64).fill(0xee))], 'unsupported-version');
  });

  it('a tampered sealed frame', async () => {
    const mallory = new SecureCodec({ keyring: clusterKeyring(), localNodeId: 'mallory', random });
    const frame = hello('mallory', mallory);
    frame[frame.length - 1] = (frame[frame.length - 1] ?? 0) ^ 1;
    await refused([frame], 'unauthenticated');
    expect(target.network.stats.knownPeers).toBe(1);
  });

  it('a replayed frame', async () => {
    const mallory = new SecureCodec({ keyring: clusterKeyring(), localNodeId: 'mallory', random });
    const message = encodeFrame(
      mallory.seal(envelope('message', 'mallory', 'target', new Uint8Array([1]))),
    );
    await refused([hello('mallory', mallory), message, message], 'replayed');
    expect(heard.map((m) => m.fromPeerId)).toEqual(['mallory']);
  });

  it('a plaintext frame to an encrypted node', async () => {
    const plain = new SecureCodec({ allowPlaintext: true, localNodeId: 'mallory', random });
    await refused([hello('mallory', plain)], 'plaintext-refused');
  });

  it('a frame sealed with a key the node does not have', async () => {
    const other = new Keyring([{ keyId: 'k9', key: new Uint8Array(32).fill(9) }], 'k9');
    const stranger = new SecureCodec({ keyring: other, localNodeId: 'mallory', random });
    await refused([hello('mallory', stranger)], 'unknown-key');
  });

  it('a valid frame that is not a hello first', async () => {
    const mallory = new SecureCodec({ keyring: clusterKeyring(), localNodeId: 'mallory', random });
    const message = mallory.seal(envelope('message', 'mallory', 'target', new Uint8Array([1])));
    await refused([encodeFrame(message)], 'protocol');
    expect(heard).toHaveLength(0);
  });

  it('a keepalive before the hello, a malformed one, and a replayed one', async () => {
    const mallory = new SecureCodec({ keyring: clusterKeyring(), localNodeId: 'mallory', random });
    const probe = (codec: SecureCodec, payload: Uint8Array) =>
      encodeFrame(codec.seal(envelope('ping', 'mallory', 'target', payload)));
    const keepalive = encodeControl({ op: 'keepalive', reply: false });
    await refused([probe(mallory, keepalive)], 'protocol');
    const second = new SecureCodec({ keyring: clusterKeyring(), localNodeId: 'mallory', random });
    await refused([hello('mallory', second), probe(second, new Uint8Array([3, 9]))], 'protocol');
    const third = new SecureCodec({ keyring: clusterKeyring(), localNodeId: 'mallory', random });
    const once = probe(third, keepalive);
    await refused([hello('mallory', third), once, once], 'replayed');
  });

  it('a batch frame with one bad envelope is refused whole', async () => {
    const mallory = new SecureCodec({ keyring: clusterKeyring(), localNodeId: 'mallory', random });
    const good = mallory.encode(envelope('message', 'mallory', 'target', new Uint8Array([1])));
    const foreign = mallory.encode(
      envelope('message', 'mallory', 'someone-else', new Uint8Array([2])),
    );
    const batch = encodeFrame(mallory.sealBatch([good, foreign]));
    await refused([hello('mallory', mallory), batch], 'misdirected');
    expect(heard).toHaveLength(0);
  });

  it('a frame split into single bytes is still accepted', async () => {
    const mallory = new SecureCodec({ keyring: clusterKeyring(), localNodeId: 'mallory', random });
    const bytes = new Uint8Array([
      ...hello('mallory', mallory),
      ...encodeFrame(mallory.seal(envelope('message', 'mallory', 'target', new Uint8Array([7])))),
    ]);
    const { socket } = await rawSocket(target.address.port);
    for (const byte of bytes) socket.write(new Uint8Array([byte]));
    await expect.poll(() => heard.length).toBe(1);
    expect([...(heard[0]?.data ?? [])]).toEqual([7]);
    socket.destroy();
  });
});
