/**
 * The Node runtime's network with every stream inside TLS 1.2 with pre-shared
 * keys (`PSK-AES256-GCM-SHA384`): mutual authentication and authenticated
 * encryption by OpenSSL, keyed from a live set of cluster keys.
 *
 * @packageDocumentation
 */

import type { Server, Socket } from 'node:net';
import { connect as tlsConnect, createServer as tlsCreateServer, type TLSSocket } from 'node:tls';
import { DistributedError } from '../../contracts/errors.js';
import type { StreamConnection } from '../runtime.js';
import { NodeNetwork, type DialSocketOptions, type NodeNetworkOptions } from './node-network.js';
import {
  NodeStreamConnection,
  type NodeStreamConnectionOptions,
} from './node-stream-connection.js';

/**
 * The cluster keys a {@link TlsPskNetwork} authenticates with. It is read live:
 * every new connection asks again, so installing, promoting and removing keys
 * take effect for the next handshake.
 *
 * @since 2.0.0
 */
export interface PreSharedKeys {
  /** The id of the key this node dials with (sent in clear as the PSK identity). */
  readonly primaryKeyId: string;
  /**
   * The key installed under an id.
   *
   * @param keyId - A PSK identity.
   * @returns The 32-byte key, or `undefined` when no such key is installed.
   */
  keyFor(keyId: string): Uint8Array | undefined;
  /**
   * Whether a key is still installed (checked for every open connection on each
   * revocation sweep, so it should be cheap).
   *
   * @param keyId - A key id.
   */
  has(keyId: string): boolean;
}

/**
 * Options of a {@link TlsPskNetwork}: those of {@link NodeNetworkOptions} plus the keys.
 *
 * @since 2.0.0
 */
export interface TlsPskNetworkOptions extends NodeNetworkOptions {
  /** The cluster keys; see {@link PreSharedKeys}. */
  readonly keys: PreSharedKeys;
  /**
   * How often open connections are checked for a removed key, in milliseconds;
   * a connection authenticated with a key no longer installed is then closed.
   * Default {@link DEFAULT_KEY_CHECK_INTERVAL_MS}. Call
   * {@link TlsPskNetwork.revokeRemovedKeys} right after removing a key to close
   * them at once.
   */
  readonly keyCheckIntervalMs?: number;
}

/**
 * The default revocation sweep interval: 1 s, so a removed key stops carrying
 * traffic within a second even when nobody calls `revokeRemovedKeys`.
 *
 * @since 2.0.0
 */
export const DEFAULT_KEY_CHECK_INTERVAL_MS = 1_000;

/**
 * The one TLS cipher suite offered and accepted: TLS 1.2 PSK with AES-256-GCM.
 * TLS 1.3 is not used: Node's `pskCallback` works there only with SHA-256
 * suites (AES-128-GCM or ChaCha20), not AES-256-GCM.
 *
 * @since 2.0.0
 */
export const TLS_PSK_CIPHER = 'PSK-AES256-GCM-SHA384';

const TLS_VERSION = 'TLSv1.2';
const DEFAULT_MAX_CONNECTIONS = 1024;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Connections this module authenticated, with the key id; a WeakMap nobody else can fill. */
const authenticated = new WeakMap<StreamConnection, string>();

/**
 * The key id a stream was authenticated with, when it is a {@link TlsPskNetwork}
 * connection whose TLS-PSK handshake succeeded. Nothing outside this module can
 * make a stream pass, so a caller relying on the stream's encryption can check
 * it here.
 *
 * @param stream - Any stream connection.
 * @returns The PSK identity (key id), or `undefined` for any other stream.
 * @since 2.0.0
 */
export function authenticatedKeyId(stream: StreamConnection): string | undefined {
  return authenticated.get(stream);
}

/**
 * A {@link NodeNetwork} whose streams are TLS 1.2 with pre-shared keys
 * ({@link TLS_PSK_CIPHER}); datagrams stay plain UDP.
 *
 * - Authentication is mutual: the dialler names its primary key's id as the PSK
 *   identity, the listener accepts any installed key, and the handshake
 *   completes only when both hold the same key bytes under that id. A wrong or
 *   unknown key fails the handshake: `connect` rejects, the listener never sees
 *   the connection (it is counted in {@link TlsPskNetwork.handshakeFailures}).
 * - Rotation: install the new key everywhere, make it primary everywhere (new
 *   dials use it; open connections keep their session keys), then remove the old
 *   one. Removal revokes: connections authenticated with a removed key are
 *   destroyed (local `onClose` gets a `CLOSED` error) on the next sweep
 *   (`keyCheckIntervalMs`) or at once by {@link TlsPskNetwork.revokeRemovedKeys}.
 * - Replay: TLS numbers every record per connection and derives fresh session
 *   keys from both sides' random values, so a record replayed, reordered or
 *   moved to another connection fails its MAC.
 * - No forward secrecy: a leaked PSK decrypts recorded traffic of that key (as
 *   with the AES-GCM codec's static keys).
 *
 * @since 2.0.0
 */
export class TlsPskNetwork extends NodeNetwork {
  readonly #keys: PreSharedKeys;
  readonly #maxConnections: number;
  readonly #handshakeTimeoutMs: number;
  /** Socket -> key id, recorded by the PSK callbacks during the handshake. */
  readonly #identities = new WeakMap<Socket, string>();
  /** Open authenticated connections and their key ids (bounded by maxConnections). */
  readonly #open = new Map<NodeStreamConnection, string>();
  readonly #sweep: NodeJS.Timeout;
  #handshakeFailures = 0;

  /**
   * @param options - Bounds, error handler and the keys; see {@link TlsPskNetworkOptions}.
   * @throws DistributedError `INVALID_ARGUMENT` for an out-of-range bound or missing keys.
   */
  constructor(options: TlsPskNetworkOptions) {
    super(options);
    const keys = options.keys as PreSharedKeys | undefined;
    if (keys === undefined || typeof keys.keyFor !== 'function' || typeof keys.has !== 'function') {
      throw new DistributedError('INVALID_ARGUMENT', 'keys (PreSharedKeys) are required');
    }
    const interval = options.keyCheckIntervalMs ?? DEFAULT_KEY_CHECK_INTERVAL_MS;
    if (!Number.isSafeInteger(interval) || interval < 1 || interval > 2 ** 31 - 1) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `keyCheckIntervalMs must be an integer in [1, ${2 ** 31 - 1}], got ${String(interval)}`,
      );
    }
    this.#keys = keys;
    this.#maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.#handshakeTimeoutMs = options.connectTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.#sweep = setInterval(() => {
      this.revokeRemovedKeys();
    }, interval);
    // The sweep must not hold a process open that has nothing else to do.
    this.#sweep.unref();
  }

  /** The id of the key new dials authenticate with (the keys' primary, read live). */
  get primaryKeyId(): string {
    return this.#keys.primaryKeyId;
  }

  /**
   * How many open connections were authenticated with a key: once it is 0 on
   * every node after a rotation's `use`, removing the old key cuts nothing.
   *
   * @param keyId - A key id.
   * @returns The number of open connections keyed with it.
   */
  connectionsUsing(keyId: string): number {
    let count = 0;
    for (const used of this.#open.values()) if (used === keyId) count += 1;
    return count;
  }

  /** Inbound handshakes that failed (wrong or unknown key, bad protocol, timeout). */
  get handshakeFailures(): number {
    return this.#handshakeFailures;
  }

  /**
   * Destroys every open connection authenticated with a key that is no longer
   * installed; its local `onClose` listeners get a `CLOSED` error. Runs every
   * `keyCheckIntervalMs` by itself; call it right after removing a key to
   * revoke at once.
   *
   * @returns How many connections were destroyed.
   */
  revokeRemovedKeys(): number {
    let revoked = 0;
    for (const [connection, keyId] of this.#open) {
      if (this.#keys.has(keyId)) continue;
      this.#open.delete(connection);
      connection.destroy(new DistributedError('CLOSED', `key ${keyId} was removed`));
      revoked += 1;
    }
    return revoked;
  }

  /** Stops the revocation sweep, then closes everything as {@link NodeNetwork.close}. */
  override async close(): Promise<void> {
    clearInterval(this.#sweep);
    await super.close();
  }

  /**
   * A TLS server offering only {@link TLS_PSK_CIPHER}, no certificate.
   *
   * @param options - Nagle off and the stream high-water mark.
   * @returns The server, not yet listening.
   */
  protected override createStreamServer(options: {
    noDelay: boolean;
    highWaterMark: number;
  }): Server {
    const server = tlsCreateServer({
      ...options,
      ciphers: TLS_PSK_CIPHER,
      minVersion: TLS_VERSION,
      maxVersion: TLS_VERSION,
      handshakeTimeout: this.#handshakeTimeoutMs,
      pskCallback: (socket: TLSSocket, identity: string) => {
        const key = this.#keys.keyFor(identity);
        if (key === undefined) return null;
        this.#identities.set(socket, identity);
        return Buffer.from(key);
      },
    });
    // Sockets still in their handshake count against the bound too.
    server.maxConnections = this.#maxConnections;
    server.on('tlsClientError', () => {
      this.#handshakeFailures += 1;
    });
    return server;
  }

  /**
   * The server event that hands over a socket: only once its handshake succeeded.
   *
   * @returns `'secureConnection'`.
   */
  protected override acceptEvent(): string {
    return 'secureConnection';
  }

  /**
   * Dials with the primary key's id as PSK identity.
   *
   * @param options - Address, Nagle off, high-water marks, resolver.
   * @returns The TLS socket, handshaking.
   */
  protected override dialSocket(options: DialSocketOptions): Socket {
    const identities = this.#identities;
    const keys = this.#keys;
    const socket: TLSSocket = tlsConnect({
      ...options,
      ciphers: TLS_PSK_CIPHER,
      minVersion: TLS_VERSION,
      maxVersion: TLS_VERSION,
      // There is no certificate: the PSK authenticates the server.
      checkServerIdentity: () => undefined,
      pskCallback: () => {
        const keyId = keys.primaryKeyId;
        const key = keys.keyFor(keyId);
        if (key === undefined) return null;
        identities.set(socket, keyId);
        return { identity: keyId, psk: Buffer.from(key) };
      },
    });
    return socket;
  }

  /**
   * The socket event that completes a dial: only once its handshake succeeded.
   *
   * @returns `'secureConnect'`.
   */
  protected override connectedEvent(): string {
    return 'secureConnect';
  }

  /**
   * Wraps a socket whose TLS-PSK handshake succeeded, after checking the
   * protocol, the cipher and that its key is still installed.
   *
   * @param socket - The TLS socket.
   * @param options - Bounds and the error handler.
   * @returns The connection, registered for {@link authenticatedKeyId} and revocation.
   * @throws DistributedError `INTEGRITY_VIOLATION` when the socket is not an
   *   authenticated TLS-PSK socket or its key was removed meanwhile.
   */
  protected override wrapSocket(
    socket: Socket,
    options: NodeStreamConnectionOptions,
  ): NodeStreamConnection {
    const tls = socket as Partial<TLSSocket>;
    const keyId = this.#identities.get(socket);
    if (
      keyId === undefined ||
      tls.encrypted !== true ||
      tls.getProtocol?.() !== TLS_VERSION ||
      tls.getCipher?.().standardName !== 'TLS_PSK_WITH_AES_256_GCM_SHA384' ||
      !this.#keys.has(keyId)
    ) {
      throw new DistributedError(
        'INTEGRITY_VIOLATION',
        'the stream is not authenticated with an installed pre-shared key',
      );
    }
    const connection = new NodeStreamConnection(socket, options);
    authenticated.set(connection, keyId);
    this.#open.set(connection, keyId);
    void connection.whenClosed().then(() => this.#open.delete(connection));
    return connection;
  }
}
