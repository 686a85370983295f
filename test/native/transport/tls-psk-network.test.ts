import { afterEach, describe, expect, it, vi } from 'vitest';
import { Keyring } from '../../../src/native/transport/keyring.js';
import { keyringPreSharedKeys } from '../../../src/native/transport/tls-psk.js';
import { authenticatedKeyId, TlsPskNetwork } from '../../../src/runtime/node/tls-psk-network.js';
import { NodeNetwork } from '../../../src/runtime/node/node-network.js';
import type { StreamConnection } from '../../../src/runtime/runtime.js';

const KEY_A = new Uint8Array(32).fill(1);
const KEY_B = new Uint8Array(32).fill(2);

const networks: NodeNetwork[] = [];
afterEach(async () => {
  for (const network of networks.splice(0)) await network.close();
});

function tlsNetwork(keyring: Keyring): TlsPskNetwork {
  const network = new TlsPskNetwork({
    keys: keyringPreSharedKeys(keyring),
    connectTimeoutMs: 2_000,
    onError: () => undefined,
  });
  networks.push(network);
  return network;
}

async function echoServer(keyring: Keyring) {
  const network = tlsNetwork(keyring);
  const accepted: StreamConnection[] = [];
  const listener = await network.listen({ host: '127.0.0.1', port: 0 }, (stream) => {
    accepted.push(stream);
    stream.onData((chunk) => stream.write(chunk));
  });
  return { network, accepted, address: listener.address };
}

async function echo(stream: StreamConnection, text: string): Promise<string> {
  const received: Uint8Array[] = [];
  const unsubscribe = stream.onData((chunk) => received.push(chunk));
  stream.write(new TextEncoder().encode(text));
  await vi.waitFor(() => {
    if (received.reduce((n, c) => n + c.length, 0) < text.length) throw new Error('waiting');
  });
  unsubscribe();
  return Buffer.concat(received).toString();
}

describe('TlsPskNetwork', () => {
  it('refuses a handshake with a wrong key or an unknown key id', async () => {
    const server = await echoServer(new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1'));
    const wrongBytes = tlsNetwork(new Keyring([{ keyId: 'k1', key: KEY_B }], 'k1'));
    await expect(wrongBytes.connect(server.address)).rejects.toThrow();
    const unknownId = tlsNetwork(new Keyring([{ keyId: 'k9', key: KEY_A }], 'k9'));
    await expect(unknownId.connect(server.address)).rejects.toThrow();
    await vi.waitFor(() => {
      expect(server.network.handshakeFailures).toBe(2);
    });
    expect(server.accepted).toEqual([]);
  });

  it('a plain TCP client never reaches the listener', async () => {
    const server = await echoServer(new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1'));
    const plain = new NodeNetwork({ onError: () => undefined });
    networks.push(plain);
    const stream = await plain.connect(server.address);
    const closed = new Promise<void>((resolve) => stream.onClose(() => resolve()));
    stream.write(new TextEncoder().encode('hello, no TLS here\n'));
    await closed;
    expect(server.accepted).toEqual([]);
    expect(authenticatedKeyId(stream)).toBeUndefined();
  });

  it('accepts any installed key and reports which one authenticated the stream', async () => {
    const server = await echoServer(
      new Keyring(
        [
          { keyId: 'k1', key: KEY_A },
          { keyId: 'k2', key: KEY_B },
        ],
        'k1',
      ),
    );
    const one = await tlsNetwork(new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1')).connect(
      server.address,
    );
    const two = await tlsNetwork(new Keyring([{ keyId: 'k2', key: KEY_B }], 'k2')).connect(
      server.address,
    );
    expect(await echo(one, 'over k1')).toBe('over k1');
    expect(await echo(two, 'over k2')).toBe('over k2');
    expect(authenticatedKeyId(one)).toBe('k1');
    expect(authenticatedKeyId(two)).toBe('k2');
    expect(server.accepted.map((s) => authenticatedKeyId(s)).sort()).toEqual(['k1', 'k2']);
  });

  it('removing a key closes the connections it authenticated, on both ends', async () => {
    const serverKeys = new Keyring(
      [
        { keyId: 'k1', key: KEY_A },
        { keyId: 'k2', key: KEY_B },
      ],
      'k2',
    );
    const server = await echoServer(serverKeys);
    const oldClient = await tlsNetwork(new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1')).connect(
      server.address,
    );
    const newClient = await tlsNetwork(new Keyring([{ keyId: 'k2', key: KEY_B }], 'k2')).connect(
      server.address,
    );
    expect(await echo(oldClient, 'x')).toBe('x');
    const oldClosed = new Promise<void>((resolve) => oldClient.onClose(() => resolve()));
    serverKeys.remove('k1');
    expect(server.network.revokeRemovedKeys()).toBe(1);
    await oldClosed;
    expect(await echo(newClient, 'still here')).toBe('still here');
    // A new dial with the removed key is refused too.
    await expect(
      tlsNetwork(new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1')).connect(server.address),
    ).rejects.toThrow();
  });

  it('the periodic sweep revokes without an explicit call', async () => {
    const serverKeys = new Keyring(
      [
        { keyId: 'k1', key: KEY_A },
        { keyId: 'k2', key: KEY_B },
      ],
      'k2',
    );
    const network = new TlsPskNetwork({
      keys: keyringPreSharedKeys(serverKeys),
      keyCheckIntervalMs: 20,
      onError: () => undefined,
    });
    networks.push(network);
    const listener = await network.listen({ host: '127.0.0.1', port: 0 }, () => undefined);
    const client = await tlsNetwork(new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1')).connect(
      listener.address,
    );
    const closed = new Promise<void>((resolve) => client.onClose(() => resolve()));
    serverKeys.remove('k1');
    await closed;
  });

  it('rejects a bad keyCheckIntervalMs and missing keys', () => {
    const keys = keyringPreSharedKeys(new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1'));
    expect(() => new TlsPskNetwork({ keys, keyCheckIntervalMs: 0 })).toThrow(/keyCheckIntervalMs/);
    expect(
      () => new TlsPskNetwork({} as unknown as ConstructorParameters<typeof TlsPskNetwork>[0]),
    ).toThrow(/keys/);
  });
});
