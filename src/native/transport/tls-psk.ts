/**
 * TLS with pre-shared keys as the native P2P network's wire security: the
 * cluster keyring feeds a {@link TlsPskNetwork}, and the network then relies on
 * the stream's encryption, with the codec in plaintext-frame mode.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import type { Network, Runtime, StreamConnection } from '../../runtime/runtime.js';
import {
  authenticatedKeyId,
  TlsPskNetwork,
  type PreSharedKeys,
} from '../../runtime/node/tls-psk-network.js';
import type { Keyring } from './keyring.js';
import { SecureCodec } from './secure-codec.js';

/**
 * The keyring as TLS pre-shared keys, read live: the primary key dials, every
 * installed key is accepted, a removed key is refused from the next handshake
 * (and its open connections are revoked by the network's sweep).
 *
 * @param keyring - The cluster keyring.
 * @returns A view of it; no key bytes are copied until a handshake needs them.
 * @since 2.0.0
 */
export function keyringPreSharedKeys(keyring: Keyring): PreSharedKeys {
  return Object.freeze({
    get primaryKeyId(): string {
      return keyring.primaryKeyId;
    },
    keyFor(keyId: string): Uint8Array | undefined {
      if (!keyring.has(keyId)) return undefined;
      // exportKeys copies at most maxKeys keys, once per handshake.
      return keyring.exportKeys().find((material) => material.keyId === keyId)?.key;
    },
    has(keyId: string): boolean {
      return keyring.has(keyId);
    },
  });
}

/**
 * How a native P2P network protects its frames.
 *
 * - `'codec'`: the codec given seals every frame (AES-256-GCM from the keyring,
 *   replay window per sender) over any stream.
 * - `'tls-psk'`: the runtime's network must be a {@link TlsPskNetwork}; every
 *   stream is checked to be TLS-PSK authenticated (anything else is destroyed),
 *   and frames go as plaintext frames inside TLS. No codec may be given: the
 *   network makes its own plaintext one, so plaintext frames can never reach a
 *   plain socket.
 *
 * @since 2.0.0
 */
export type TransportSecurity = 'codec' | 'tls-psk';

/**
 * What `NativeP2PNetwork` runs on once its transport security is resolved.
 *
 * @since 2.0.0
 */
export interface ResolvedTransportSecurity {
  /** The runtime, with a network that refuses unauthenticated streams in `'tls-psk'` mode. */
  readonly runtime: Runtime;
  /** The codec. */
  readonly codec: SecureCodec;
  /** In `'tls-psk'` mode: whether a stream is keyed with a key that is no longer primary. */
  readonly retired?: (stream: StreamConnection) => boolean;
}

function refuse(stream: StreamConnection): boolean {
  if (authenticatedKeyId(stream) !== undefined) return false;
  stream.destroy(
    new DistributedError('INTEGRITY_VIOLATION', 'a stream without TLS-PSK authentication'),
  );
  return true;
}

/** A network handing over only TLS-PSK authenticated streams (defence in depth). */
function authenticatedOnly(network: Network): Network {
  return Object.freeze({
    bindDatagram: network.bindDatagram.bind(network),
    listen: (address, onConnection) =>
      network.listen(address, (stream) => {
        if (!refuse(stream)) onConnection(stream);
      }),
    connect: async (address, options) => {
      const stream = await network.connect(address, options);
      if (refuse(stream)) {
        throw new DistributedError('INTEGRITY_VIOLATION', 'the dialled stream is not TLS-PSK');
      }
      return stream;
    },
  } satisfies Network);
}

/**
 * Checks a native P2P network's security options and returns what it runs on.
 *
 * @param options - The network's runtime, peer id, codec and security mode.
 * @returns The runtime and codec to use.
 * @throws DistributedError `INVALID_ARGUMENT` for a `'codec'` network without a
 *   codec, a `'tls-psk'` network with one, a `'tls-psk'` network whose runtime
 *   network is not a {@link TlsPskNetwork}, or an unknown mode.
 * @since 2.0.0
 */
export function resolveTransportSecurity(options: {
  readonly runtime: Runtime;
  readonly localPeerId: string;
  readonly codec?: SecureCodec | undefined;
  readonly transportSecurity?: TransportSecurity | undefined;
}): ResolvedTransportSecurity {
  const mode = options.transportSecurity ?? 'codec';
  if (mode === 'codec') {
    if (!(options.codec instanceof SecureCodec)) {
      throw new DistributedError('INVALID_ARGUMENT', 'codec is required (transportSecurity codec)');
    }
    return { runtime: options.runtime, codec: options.codec };
  }
  // Checked at run time too: JavaScript callers and casts can pass anything.
  if ((mode as string) !== 'tls-psk') {
    throw new DistributedError('INVALID_ARGUMENT', `unknown transportSecurity ${mode}`);
  }
  if (options.codec !== undefined) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      'transportSecurity tls-psk makes its own plaintext-frame codec; do not pass a codec',
    );
  }
  const { runtime } = options;
  if (!(runtime.network instanceof TlsPskNetwork)) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      'transportSecurity tls-psk needs a runtime whose network is a TlsPskNetwork',
    );
  }
  const network = runtime.network;
  return {
    retired: (stream) => {
      const keyId = authenticatedKeyId(stream);
      return keyId !== undefined && keyId !== network.primaryKeyId;
    },
    runtime: Object.freeze({
      nodeId: runtime.nodeId,
      clock: runtime.clock,
      random: runtime.random,
      storage: runtime.storage,
      network: authenticatedOnly(runtime.network),
    }),
    // Frames still carry sender, sequence number and epoch, so the replay window
    // keeps working across connections; TLS protects each connection itself.
    codec: new SecureCodec({
      allowPlaintext: true,
      localNodeId: options.localPeerId,
      random: runtime.random,
    }),
  };
}
