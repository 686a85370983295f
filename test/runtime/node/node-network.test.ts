import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamConnection } from '../../../src/runtime/runtime.js';
import { NodeNetwork, type NodeNetworkOptions } from '../../../src/runtime/node/node-network.js';

const V4 = { host: '127.0.0.1', port: 0 } as const;
const V6 = { host: '::1', port: 0 } as const;

async function ipv6Available(): Promise<boolean> {
  const socket = createSocket('udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '::1', resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    socket.close();
  }
}
const HAS_IPV6 = await ipv6Available();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function closed(connection: StreamConnection): Promise<Error | undefined> {
  return new Promise((resolve) => connection.onClose(resolve));
}

describe('NodeNetwork', () => {
  const networks: NodeNetwork[] = [];
  afterEach(async () => {
    await Promise.all(networks.splice(0).map((network) => network.close()));
  });
  const network = (options: NodeNetworkOptions = {}) => {
    const created = new NodeNetwork(options);
    networks.push(created);
    return created;
  };
  const pair = async (server = network(), client = network()) => {
    let accept!: (connection: StreamConnection) => void;
    const accepted = new Promise<StreamConnection>((resolve) => (accept = resolve));
    const listener = await server.listen(V4, accept);
    const dialled = await client.connect(listener.address);
    return { listener, client: dialled, server: await accepted };
  };

  describe.runIf(HAS_IPV6)('over IPv6 loopback', () => {
    it('carries datagrams and streams', async () => {
      const net = network();
      let received!: (data: Uint8Array) => void;
      const datagram = new Promise<Uint8Array>((resolve) => (received = resolve));
      const a = await net.bindDatagram(V6, (data) => received(data));
      const b = await net.bindDatagram(V6, () => undefined);
      expect(a.address.host).toBe('::1');
      b.send(new Uint8Array([6]), a.address);
      expect(Array.from(await datagram)).toEqual([6]);

      let accept!: (connection: StreamConnection) => void;
      const accepted = new Promise<StreamConnection>((resolve) => (accept = resolve));
      const listener = await net.listen(V6, accept);
      const client = await net.connect(listener.address);
      const server = await accepted;
      const data = new Promise<Uint8Array>((resolve) => server.onData(resolve));
      client.write(new Uint8Array([1, 2]));
      expect(Array.from(await data)).toEqual([1, 2]);
      expect(client.remote.host).toBe('::1');
    });
  });

  describe('datagrams', () => {
    it('drops and counts received datagrams above maxDatagramBytes', async () => {
      const received: number[] = [];
      const endpoint = await network({ maxDatagramBytes: 100 }).bindDatagram(V4, (data) =>
        received.push(data.byteLength),
      );
      const raw = createSocket('udp4');
      const send = (size: number) =>
        new Promise<void>((resolve, reject) =>
          raw.send(new Uint8Array(size), endpoint.address.port, '127.0.0.1', (error) =>
            error ? reject(error) : resolve(),
          ),
        );
      await send(101);
      await send(100);
      while (received.length === 0) await sleep(5);
      raw.close();
      expect(received).toEqual([100]);
      expect(endpoint.oversizeDropped).toBe(1);
      expect(endpoint.maxDatagramBytes).toBe(100);
    });

    it('uses a 1,400-byte bound by default', async () => {
      expect((await network().bindDatagram(V4, () => undefined)).maxDatagramBytes).toBe(1400);
    });

    it('refuses a family mismatch, a bad destination and sends after close', async () => {
      const endpoint = await network().bindDatagram(V4, () => undefined);
      const code = (action: () => void) => {
        try {
          action();
          return 'no error';
        } catch (error) {
          return (error as { code?: string }).code;
        }
      };
      expect(code(() => endpoint.send(new Uint8Array(1), { host: '::1', port: 9 }))).toBe(
        'INVALID_ARGUMENT',
      );
      expect(code(() => endpoint.send(new Uint8Array(1), { host: '127.0.0.1', port: 0 }))).toBe(
        'INVALID_ARGUMENT',
      );
      endpoint.close();
      endpoint.close();
      expect(code(() => endpoint.send(new Uint8Array(1), endpoint.address))).toBe('CLOSED');
    });

    it('reports a throwing datagram handler and keeps receiving', async () => {
      const errors: unknown[] = [];
      const net = network({ onError: (error) => errors.push(error) });
      let calls = 0;
      const endpoint = await net.bindDatagram(V4, () => {
        calls += 1;
        throw new Error('handler bug');
      });
      const sender = await net.bindDatagram(V4, () => undefined);
      sender.send(new Uint8Array(1), endpoint.address);
      sender.send(new Uint8Array(1), endpoint.address);
      while (calls < 2) await sleep(5);
      expect(errors).toHaveLength(2);
    });

    it('rejects binding an address in use with the system error', async () => {
      const net = network();
      const taken = await net.bindDatagram(V4, () => undefined);
      await expect(net.bindDatagram(taken.address, () => undefined)).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    });
  });

  describe('streams', () => {
    it('reports a reset by the peer to onClose as an error', async () => {
      const { client, server } = await pair();
      const clientClosed = closed(client);
      server.destroy();
      expect(await clientClosed).toMatchObject({ code: 'ECONNRESET' });
    });

    it('gives local onClose listeners the error passed to destroy', async () => {
      const { client } = await pair();
      const reason = new Error('protocol violation');
      const clientClosed = closed(client);
      client.destroy(reason);
      client.destroy();
      expect(await clientClosed).toBe(reason);
    });

    it('refuses writes once closing', async () => {
      const { client, server } = await pair();
      const serverClosed = closed(server);
      client.close();
      expect(() => client.write(new Uint8Array(1))).toThrow(
        expect.objectContaining({ code: 'CLOSED' }),
      );
      expect(await serverClosed).toBeUndefined();
    });

    it('resets after closeGraceMs a connection whose peer never completes the close', async () => {
      // A half-open peer: it sees our FIN but never sends its own.
      const peers: Socket[] = [];
      const raw = createServer({ allowHalfOpen: true }, (socket) => {
        peers.push(socket);
        socket.resume();
      });
      await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
      const client = network({ closeGraceMs: 30 });
      const connection = await client.connect({
        host: '127.0.0.1',
        port: (raw.address() as AddressInfo).port,
      });
      const clientClosed = closed(connection);
      connection.close();
      await clientClosed;
      await sleep(0);
      expect(client.openConnections).toBe(0);
      for (const peer of peers) peer.destroy();
      await new Promise((resolve) => raw.close(resolve));
    });

    it('holds bytes that arrive before the first data listener', async () => {
      const { client, server } = await pair();
      server.write(new Uint8Array([1, 2, 3]));
      server.write(new Uint8Array([4]));
      await sleep(30);
      const chunks: number[] = [];
      const all = new Promise<void>((resolve) =>
        client.onData((chunk) => {
          chunks.push(...chunk);
          if (chunks.length === 4) resolve();
        }),
      );
      await all;
      expect(chunks).toEqual([1, 2, 3, 4]);
    });

    it('pauses reading past maxUnreadBytes and resumes when read, losing nothing', async () => {
      const receiver = network({ maxUnreadBytes: 1024, streamHighWaterMarkBytes: 1024 });
      const { client, server } = await pair(receiver);
      const total = 2 * 1024 * 1024;
      const block = new Uint8Array(64 * 1024).map((_, i) => i & 0xff);
      for (let sent = 0; sent < total; sent += block.byteLength) client.write(block);
      await sleep(50);
      let received = 0;
      let mismatch = false;
      const done = new Promise<void>((resolve) =>
        server.onData((chunk) => {
          for (let i = 0; i < chunk.byteLength; i++) {
            if (chunk[i] !== (((received + i) % block.byteLength) & 0xff)) mismatch = true;
          }
          received += chunk.byteLength;
          if (received === total) resolve();
        }),
      );
      await done;
      expect(mismatch).toBe(false);
    });

    it('times out a connect that gets no answer with a TimeoutError', async () => {
      const net = network({ connectTimeoutMs: 30, lookup: () => undefined });
      await expect(net.connect({ host: 'nowhere.invalid', port: 80 })).rejects.toMatchObject({
        name: 'TimeoutError',
      });
      expect(net.openConnections).toBe(0);
    });

    it('rejects with the signal reason when aborted while connecting', async () => {
      const net = network({ lookup: () => undefined });
      const controller = new AbortController();
      const connecting = net.connect(
        { host: 'nowhere.invalid', port: 80 },
        { signal: controller.signal },
      );
      const reason = new Error('stop');
      controller.abort(reason);
      await expect(connecting).rejects.toBe(reason);
      expect(net.openConnections).toBe(0);
    });

    it('fails dials in progress when closed', async () => {
      const net = new NodeNetwork({ lookup: () => undefined });
      const connecting = net.connect({ host: 'nowhere.invalid', port: 80 });
      await net.close();
      await expect(connecting).rejects.toMatchObject({ code: 'CLOSED' });
    });

    it('bounds connections: dials past the bound are refused, inbound ones reset', async () => {
      const server = network({ maxConnections: 1 });
      const client = network();
      const first = await pair(server, client);
      await expect(server.connect(first.listener.address)).rejects.toMatchObject({
        code: 'CAPACITY_EXCEEDED',
      });
      // The reset may beat the handshake's completion on the client, failing the connect itself.
      const outcome = await client
        .connect(first.listener.address)
        .then(closed, (error: unknown) => error);
      expect(outcome).toBeInstanceOf(Error);
      expect(server.openConnections).toBe(1);
    });

    it('resets a connection whose handler throws, and reports the error', async () => {
      const errors: unknown[] = [];
      const server = network({ onError: (error) => errors.push(error) });
      const listener = await server.listen(V4, () => {
        throw new Error('handler bug');
      });
      const outcome = await network()
        .connect(listener.address)
        .then(closed, (error: unknown) => error);
      expect(outcome).toBeInstanceOf(Error);
      expect(errors).toEqual([expect.objectContaining({ message: 'handler bug' })]);
    });

    it('rejects listening on an address in use with the system error', async () => {
      const net = network();
      const taken = await net.listen(V4, () => undefined);
      await expect(net.listen(taken.address, () => undefined)).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    });

    it('refuses bad bounds', () => {
      expect(() => new NodeNetwork({ maxDatagramBytes: 70_000 })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
      expect(() => new NodeNetwork({ connectTimeoutMs: 0 })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    });
  });
});
