/**
 * The Node runtime's network: datagrams over `node:dgram`, streams over
 * `node:net`.
 *
 * @packageDocumentation
 */

import {
  connect as netConnect,
  createServer,
  type AddressInfo,
  type LookupFunction,
  type Server,
  type Socket,
} from 'node:net';
import { DistributedError } from '../../contracts/errors.js';
import type { Network, NetworkAddress, StreamConnection, StreamListener } from '../runtime.js';
import { checkAddress, networkAddress } from './address.js';
import type { RuntimeErrorHandler } from './error-handler.js';
import { reportRuntimeError } from './error-handler.js';
import {
  DEFAULT_MAX_DATAGRAM_BYTES,
  MAX_UDP_PAYLOAD_BYTES,
  NodeDatagramEndpoint,
} from './node-datagram-endpoint.js';
import {
  NodeStreamConnection,
  type NodeStreamConnectionOptions,
} from './node-stream-connection.js';

/**
 * What {@link NodeNetwork} passes to the socket it dials (a subclass may wrap the socket, as TLS does).
 *
 * @since 2.0.0
 */
export interface DialSocketOptions {
  /** Where to dial. */
  readonly host: string;
  /** The port. */
  readonly port: number;
  /** Nagle off. */
  readonly noDelay: boolean;
  /** Read buffering. */
  readonly readableHighWaterMark: number;
  /** Write buffering. */
  readonly writableHighWaterMark: number;
  /** The resolver, when not the system's. */
  readonly lookup?: LookupFunction;
}

/**
 * Options of {@link NodeNetwork}. Every bound has a default.
 *
 * @since 2.0.0
 */
export interface NodeNetworkOptions {
  /**
   * The largest datagram sent or accepted, in bytes, at most 65,507. Default
   * 1,400; see `DEFAULT_MAX_DATAGRAM_BYTES` for why.
   */
  readonly maxDatagramBytes?: number;
  /**
   * How long `connect` waits for the connection to be established before it
   * rejects with a `TimeoutError` `DOMException`, in milliseconds. Default
   * 10,000: long enough for a loaded peer across a WAN, short enough that a
   * dead address does not stall a caller that forgot a signal.
   */
  readonly connectTimeoutMs?: number;
  /**
   * The most stream connections open at once, accepted and dialled together,
   * counting dials in progress. A dial past it rejects with
   * `CAPACITY_EXCEEDED`; an inbound connection past it is reset at once.
   * Default 1,024.
   */
  readonly maxConnections?: number;
  /**
   * The write buffer size above which `write` returns `false`, and the read
   * chunk size, in bytes. Default 64 KiB: enough to keep a loopback or LAN link
   * busy between event-loop turns without letting one connection pin much memory.
   */
  readonly streamHighWaterMarkBytes?: number;
  /**
   * Received bytes held for a connection with no `onData` subscriber yet
   * before reading pauses, in bytes. Default 1 MiB.
   */
  readonly maxUnreadBytes?: number;
  /**
   * How long a `close`d connection waits for the peer to complete the close
   * before it is reset, in milliseconds. Default 10,000.
   */
  readonly closeGraceMs?: number;
  /**
   * Resolves host names for `connect` (the `lookup` option of `net.connect`),
   * for a resolver cache or service discovery. Default: `dns.lookup`.
   */
  readonly lookup?: LookupFunction;
  /** Receives handler exceptions and asynchronous I/O errors. Default: standard error. */
  readonly onError?: RuntimeErrorHandler;
}

const DEFAULTS = {
  maxDatagramBytes: DEFAULT_MAX_DATAGRAM_BYTES,
  connectTimeoutMs: 10_000,
  maxConnections: 1024,
  streamHighWaterMarkBytes: 64 * 1024,
  maxUnreadBytes: 1024 * 1024,
  closeGraceMs: 10_000,
} as const;

type Bounds = { -readonly [K in keyof typeof DEFAULTS]: number };

function resolveBounds(options: NodeNetworkOptions): Bounds {
  const bounds: Bounds = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof Bounds)[]) {
    const value = options[key] ?? DEFAULTS[key];
    const max = key === 'maxDatagramBytes' ? MAX_UDP_PAYLOAD_BYTES : 2 ** 31 - 1;
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `${key} must be an integer in [1, ${max}], got ${String(value)}`,
      );
    }
    bounds[key] = value;
  }
  return bounds;
}

/**
 * A {@link Network} on real sockets. Datagrams use `udp6` for IPv6 literals and
 * `udp4` otherwise; streams are TCP with `noDelay`. Everything it opens is
 * tracked, so {@link NodeNetwork.close} releases it all.
 *
 * Failures to bind, listen or connect reject with Node's own error (its `code`
 * is the stable system code, such as `EADDRINUSE` or `ECONNREFUSED`); a connect
 * timeout rejects with a `DOMException` named `TimeoutError`, and an aborted
 * connect with the signal's reason.
 *
 * @since 2.0.0
 */
export class NodeNetwork implements Network {
  readonly #bounds: Bounds;
  readonly #onError: RuntimeErrorHandler;
  readonly #lookup: LookupFunction | undefined;
  readonly #connectionOptions: NodeStreamConnectionOptions;
  readonly #datagrams = new Set<NodeDatagramEndpoint>();
  readonly #servers = new Set<Server>();
  readonly #connections = new Set<NodeStreamConnection>();
  readonly #dialing = new Set<() => void>();
  #closed = false;

  /**
   * @param options - Bounds and the error handler; see {@link NodeNetworkOptions}.
   * @throws DistributedError `INVALID_ARGUMENT` for an out-of-range bound.
   */
  constructor(options: NodeNetworkOptions = {}) {
    this.#bounds = resolveBounds(options);
    this.#onError = options.onError ?? reportRuntimeError;
    this.#lookup = options.lookup;
    this.#connectionOptions = {
      maxUnreadBytes: this.#bounds.maxUnreadBytes,
      closeGraceMs: this.#bounds.closeGraceMs,
      onError: this.#onError,
    };
  }

  /** How many stream connections are open or being dialled. */
  get openConnections(): number {
    return this.#connections.size + this.#dialing.size;
  }

  /**
   * Binds a UDP socket.
   *
   * @param address - Where to bind; port `0` picks a free one.
   * @param onDatagram - Called with each datagram of at most `maxDatagramBytes`
   *   bytes received, and its sender.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad address, `CLOSED`
   *   after {@link NodeNetwork.close}; Node's bind error otherwise.
   */
  async bindDatagram(
    address: NetworkAddress,
    onDatagram: (data: Uint8Array, from: NetworkAddress) => void,
  ): Promise<NodeDatagramEndpoint> {
    this.#throwIfClosed();
    const endpoint = await NodeDatagramEndpoint.open(address, onDatagram, {
      maxDatagramBytes: this.#bounds.maxDatagramBytes,
      onError: this.#onError,
    });
    if (this.#closed) {
      endpoint.close();
      this.#throwIfClosed();
    }
    this.#datagrams.add(endpoint);
    void endpoint.whenClosed().then(() => this.#datagrams.delete(endpoint));
    return endpoint;
  }

  /**
   * Listens for TCP connections.
   *
   * @param address - Where to listen; port `0` picks a free one.
   * @param onConnection - Called with each accepted connection; an exception it
   *   throws goes to `onError` and the connection is reset.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad address, `CLOSED`
   *   after {@link NodeNetwork.close}; Node's listen error otherwise.
   */
  async listen(
    address: NetworkAddress,
    onConnection: (connection: StreamConnection) => void,
  ): Promise<StreamListener> {
    this.#throwIfClosed();
    checkAddress(address, 'listen', true);
    const server = this.createStreamServer({
      noDelay: true,
      highWaterMark: this.#bounds.streamHighWaterMarkBytes,
    });
    server.on(this.acceptEvent(), (socket: Socket) => {
      if (this.#closed || this.openConnections >= this.#bounds.maxConnections) {
        if (socket.writableEnded || 'encrypted' in socket) socket.destroy();
        else socket.resetAndDestroy();
        return;
      }
      let connection: NodeStreamConnection;
      try {
        connection = this.#track(this.wrapSocket(socket, this.#connectionOptions));
      } catch (error) {
        this.#onError(error);
        socket.destroy();
        return;
      }
      try {
        onConnection(connection);
      } catch (error) {
        this.#onError(error);
        connection.destroy(error instanceof Error ? error : undefined);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address.host, port: address.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => {
      this.#onError(error);
    });
    if (this.#closed) {
      server.close();
      this.#throwIfClosed();
    }
    this.#servers.add(server);
    server.once('close', () => this.#servers.delete(server));
    const bound = server.address() as AddressInfo;
    return Object.freeze({
      address: networkAddress(bound.address, bound.port),
      close: () => {
        if (server.listening) server.close();
      },
    });
  }

  /**
   * Opens a TCP connection.
   *
   * @param address - Where to connect.
   * @param options - Cancellation: the promise rejects with the signal's reason.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad address,
   *   `CAPACITY_EXCEEDED` at `maxConnections`, `CLOSED` after
   *   {@link NodeNetwork.close}; a `TimeoutError` `DOMException` after
   *   `connectTimeoutMs`; Node's connect error (such as `ECONNREFUSED`) otherwise.
   */
  async connect(
    address: NetworkAddress,
    options?: { signal?: AbortSignal },
  ): Promise<NodeStreamConnection> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    this.#throwIfClosed();
    checkAddress(address, 'connect', false);
    if (this.openConnections >= this.#bounds.maxConnections) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `${this.#bounds.maxConnections} connections are already open (maxConnections)`,
      );
    }
    // Node's Socket honours the stream high-water marks on connect options,
    // though @types/node does not declare them there.
    const connectOptions = {
      host: address.host,
      port: address.port,
      noDelay: true,
      readableHighWaterMark: this.#bounds.streamHighWaterMarkBytes,
      writableHighWaterMark: this.#bounds.streamHighWaterMarkBytes,
      ...(this.#lookup && { lookup: this.#lookup }),
    };
    const socket = this.dialSocket(connectOptions);
    const connectedEvent = this.connectedEvent();
    return new Promise<NodeStreamConnection>((resolve, reject) => {
      const settle = (error: unknown): void => {
        clearTimeout(timeout);
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', settle);
        socket.off(connectedEvent, onConnect);
        this.#dialing.delete(cancel);
        if (error === undefined) return;
        socket.destroy();
        // The contract rejects with the abort signal's reason, whatever its type.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(error);
      };
      const cancel = (): void => {
        settle(new DistributedError('CLOSED', 'the network was closed while connecting'));
      };
      const onAbort = (): void => {
        settle(signal?.reason ?? new DOMException('the connect was aborted', 'AbortError'));
      };
      const onConnect = (): void => {
        settle(undefined);
        let connection: NodeStreamConnection;
        try {
          connection = this.wrapSocket(socket, this.#connectionOptions);
        } catch (error) {
          socket.destroy();
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(error);
          return;
        }
        resolve(this.#track(connection));
      };
      const timeout = setTimeout(() => {
        settle(
          new DOMException(
            `connect to ${address.host}:${address.port} timed out after ${this.#bounds.connectTimeoutMs} ms`,
            'TimeoutError',
          ),
        );
      }, this.#bounds.connectTimeoutMs);
      this.#dialing.add(cancel);
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', settle);
      socket.once(connectedEvent, onConnect);
    });
  }

  /**
   * Creates the listening server. A subclass overrides it (with the next three
   * hooks) to run the streams over another protocol, such as TLS.
   *
   * @param options - Nagle off and the stream high-water mark.
   * @returns A `net.Server` (or a subclass, such as `tls.Server`), not yet listening.
   */
  protected createStreamServer(options: { noDelay: boolean; highWaterMark: number }): Server {
    return createServer(options);
  }

  /**
   * The server event that hands over an accepted socket ready for use.
   *
   * @returns `'connection'` for plain TCP.
   */
  protected acceptEvent(): string {
    return 'connection';
  }

  /**
   * Starts a dial.
   *
   * @param options - Address, Nagle off, high-water marks, resolver.
   * @returns The socket, connecting.
   */
  protected dialSocket(options: DialSocketOptions): Socket {
    return netConnect(options);
  }

  /**
   * The socket event that says a dialled socket is ready for use.
   *
   * @returns `'connect'` for plain TCP.
   */
  protected connectedEvent(): string {
    return 'connect';
  }

  /**
   * Wraps a socket ready for use (accepted or dialled) as a connection.
   *
   * @param socket - The socket.
   * @param options - Bounds and the error handler.
   * @returns The connection; throwing refuses the socket (it is destroyed).
   */
  protected wrapSocket(socket: Socket, options: NodeStreamConnectionOptions): NodeStreamConnection {
    return new NodeStreamConnection(socket, options);
  }

  /**
   * Closes every datagram endpoint and listener, resets every open connection
   * (local `onClose` listeners get a `CLOSED` error) and fails dials in
   * progress; resolves once all sockets are released. Later calls to open
   * anything throw `CLOSED`. Harmless to call twice.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const cancel of [...this.#dialing]) cancel();
    const released: Promise<unknown>[] = [];
    for (const endpoint of this.#datagrams) {
      endpoint.close();
      released.push(endpoint.whenClosed());
    }
    for (const server of this.#servers) {
      released.push(new Promise((resolve) => server.once('close', resolve)));
      if (server.listening) server.close();
    }
    for (const connection of this.#connections) {
      connection.destroy(new DistributedError('CLOSED', 'the runtime was closed'));
      released.push(connection.whenClosed());
    }
    await Promise.all(released);
  }

  #track(connection: NodeStreamConnection): NodeStreamConnection {
    this.#connections.add(connection);
    void connection.whenClosed().then(() => this.#connections.delete(connection));
    return connection;
  }

  #throwIfClosed(): void {
    if (this.#closed) throw new DistributedError('CLOSED', 'the network is closed');
  }
}
