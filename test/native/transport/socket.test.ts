// Bad frames over a real TCP socket: each is refused, counted, and the server
// keeps serving the connection (or, for an unframeable stream, closes just it).
import { once } from 'node:events';
import {
  createConnection,
  createServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WIRE_VERSION, type Envelope } from '../../../src/core/wire/envelope.js';
import { encodeFrame, FrameDecoder } from '../../../src/core/wire/frame.js';
import { WireError, type WireRejectReason } from '../../../src/core/wire/wire-error.js';
import { Keyring } from '../../../src/native/transport/keyring.js';
import { SecureCodec } from '../../../src/native/transport/secure-codec.js';
import { KEY_A, KEY_B, secureRandom } from './fuzz-targets.js';

interface Harness {
  readonly server: Server;
  readonly codec: SecureCodec;
  readonly received: Envelope[];
  readonly closedForFraming: WireRejectReason[];
  nextMessage(): Promise<Envelope>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.close();
    await once(server, 'close');
  }
});

async function startServer(): Promise<Harness> {
  const codec = new SecureCodec({
    localNodeId: 'server',
    random: secureRandom,
    keyring: new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1'),
  });
  const received: Envelope[] = [];
  const closedForFraming: WireRejectReason[] = [];
  const waiters: ((envelope: Envelope) => void)[] = [];
  const server = createServer((socket) => {
    const decoder = new FrameDecoder({ maxFrameBytes: 4096 });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      let bodies: Uint8Array[];
      try {
        bodies = decoder.push(chunk);
      } catch (error) {
        // The stream cannot be resynchronised: drop this connection only.
        closedForFraming.push((error as WireError).reason);
        socket.destroy();
        return;
      }
      for (const body of bodies) {
        try {
          const envelope = codec.open(body);
          received.push(envelope);
          waiters.shift()?.(envelope);
        } catch (error) {
          if (!(error instanceof WireError)) throw error;
        }
      }
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    codec,
    received,
    closedForFraming,
    nextMessage: () => new Promise((resolve) => waiters.push(resolve)),
  };
}

async function connect(server: Server): Promise<Socket> {
  const socket = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

function message(n: number, to = 'server'): Envelope {
  return {
    version: WIRE_VERSION,
    kind: 'message',
    from: 'client',
    to,
    correlationId: n,
    sentAt: 0,
    payload: new Uint8Array([n]),
  };
}

describe('bad frames over a real socket', () => {
  it('refuses and counts each kind of bad frame, and keeps the connection serving', async () => {
    const harness = await startServer();
    const socket = await connect(harness.server);
    const client = new SecureCodec({
      localNodeId: 'client',
      random: secureRandom,
      keyring: new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1'),
    });
    const stranger = new SecureCodec({
      localNodeId: 'client',
      random: secureRandom,
      keyring: new Keyring([{ keyId: 'k9', key: KEY_B }], 'k9'),
    });
    const dev = new SecureCodec({
      localNodeId: 'client',
      random: secureRandom,
      allowPlaintext: true,
    });

    const good = client.seal(message(1));
    const tampered = client.seal(message(2));
    tampered[tampered.length - 1]! ^= 0x01;
    const bad: Uint8Array[] = [
      good,
      good, // replayed
      tampered, // unauthenticated
      stranger.seal(message(3)), // unknown-key
      dev.seal(message(4)), // plaintext-refused
      client.seal(message(5, 'someone-else')), // misdirected
      new Uint8Array(5), // truncated
      new Uint8Array([0x31, ...new Uint8Array(20)]), // unsupported-version
      new Uint8Array([0x1f, ...new Uint8Array(20)]), // malformed
    ];
    const done = harness.nextMessage();
    socket.write(Buffer.concat(bad.map((body) => encodeFrame(body))));
    expect((await done).correlationId).toBe(1);
    const last = harness.nextMessage();
    socket.write(encodeFrame(client.seal(message(6))));
    expect((await last).correlationId).toBe(6);

    expect(harness.received.map((envelope) => envelope.correlationId)).toEqual([1, 6]);
    expect(harness.codec.rejected).toMatchObject({
      replayed: 1,
      unauthenticated: 1,
      'unknown-key': 1,
      'plaintext-refused': 1,
      misdirected: 1,
      truncated: 1,
      'unsupported-version': 1,
      malformed: 1,
    });
    socket.destroy();
  });

  it('closes only the connection that sends an oversized frame', async () => {
    const harness = await startServer();
    const client = new SecureCodec({
      localNodeId: 'client',
      random: secureRandom,
      keyring: new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1'),
    });
    const attacker = await connect(harness.server);
    attacker.on('error', () => undefined);
    const closed = once(attacker, 'close');
    attacker.write(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
    await closed;
    expect(harness.closedForFraming).toEqual(['frame-too-large']);

    const honest = await connect(harness.server);
    const next = harness.nextMessage();
    honest.write(encodeFrame(client.seal(message(7))));
    expect((await next).correlationId).toBe(7);
    honest.destroy();
  });
});
