/**
 * A datagram endpoint over `node:dgram`.
 *
 * @packageDocumentation
 */

import { createSocket, type Socket } from 'node:dgram';
import { DistributedError } from '../../contracts/errors.js';
import type { DatagramEndpoint, NetworkAddress } from '../runtime.js';
import { checkAddress, ipFamily, networkAddress } from './address.js';
import type { RuntimeErrorHandler } from './error-handler.js';

/**
 * The largest UDP payload IPv4 can carry (65,535 − 20 IP − 8 UDP header bytes);
 * the ceiling of `maxDatagramBytes`.
 *
 * @since 2.0.0
 */
export const MAX_UDP_PAYLOAD_BYTES = 65_507;

/**
 * The default `maxDatagramBytes`: 1,400 bytes. A datagram larger than the path
 * MTU is fragmented by IP, and losing any fragment loses the whole datagram, so
 * loss multiplies with size. Ethernet's 1,500-byte MTU leaves 1,472 bytes of
 * UDP payload over IPv4 and 1,452 over IPv6; 1,400 keeps headroom for tunnel
 * and VPN encapsulation (WireGuard, VXLAN, IPsec) so a datagram stays in one
 * packet on common paths. hashicorp/memberlist uses the same default for its
 * gossip packets. Anything larger belongs on a stream.
 *
 * @since 2.0.0
 */
export const DEFAULT_MAX_DATAGRAM_BYTES = 1400;

/**
 * What {@link NodeDatagramEndpoint.open} needs from its network.
 *
 * @since 2.0.0
 */
export interface NodeDatagramEndpointOptions {
  /** The largest datagram sent or accepted, in bytes. */
  readonly maxDatagramBytes: number;
  /** Receives handler exceptions, send failures and socket errors. */
  readonly onError: RuntimeErrorHandler;
}

/**
 * A bound UDP socket: `udp6` when bound to an IPv6 literal, `udp4` otherwise.
 * Sends are copied before they are queued. Received datagrams larger than
 * {@link NodeDatagramEndpoint.maxDatagramBytes} are dropped and counted in
 * {@link NodeDatagramEndpoint.oversizeDropped}, so a peer cannot push this node
 * past its own bound.
 *
 * @since 2.0.0
 */
export class NodeDatagramEndpoint implements DatagramEndpoint {
  /** The address actually bound. */
  readonly address: NetworkAddress;
  /** The largest datagram sent or accepted, in bytes. */
  readonly maxDatagramBytes: number;
  readonly #socket: Socket;
  readonly #family: 4 | 6;
  readonly #onError: RuntimeErrorHandler;
  readonly #closed: Promise<void>;
  #closing = false;
  #oversizeDropped = 0;

  private constructor(socket: Socket, family: 4 | 6, options: NodeDatagramEndpointOptions) {
    const bound = socket.address();
    this.address = networkAddress(bound.address, bound.port);
    this.maxDatagramBytes = options.maxDatagramBytes;
    this.#socket = socket;
    this.#family = family;
    this.#onError = options.onError;
    this.#closed = new Promise((resolve) => socket.once('close', resolve));
  }

  /**
   * Binds a socket and resolves once it is listening.
   *
   * @param address - Where to bind; port `0` picks a free one.
   * @param onDatagram - Called with each datagram received; an exception it
   *   throws goes to `onError`.
   * @param options - The size bound and the error handler.
   * @returns The bound endpoint.
   * @throws The bind error (for example `EADDRINUSE`) when binding fails.
   * @since 2.0.0
   */
  static async open(
    address: NetworkAddress,
    onDatagram: (data: Uint8Array, from: NetworkAddress) => void,
    options: NodeDatagramEndpointOptions,
  ): Promise<NodeDatagramEndpoint> {
    checkAddress(address, 'bindDatagram', true);
    const family = ipFamily(address.host) === 6 ? 6 : 4;
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      const onBindError = (error: Error): void => {
        socket.close();
        reject(error);
      };
      socket.once('error', onBindError);
      socket.bind(address.port, address.host, () => {
        socket.off('error', onBindError);
        resolve();
      });
    });
    const endpoint = new NodeDatagramEndpoint(socket, family, options);
    socket.on('message', (message, info) => {
      endpoint.#receive(message, networkAddress(info.address, info.port), onDatagram);
    });
    socket.on('error', (error) => {
      options.onError(error);
    });
    return endpoint;
  }

  /** How many received datagrams were dropped for exceeding `maxDatagramBytes`. */
  get oversizeDropped(): number {
    return this.#oversizeDropped;
  }

  /**
   * Sends one datagram. A failure the kernel reports later (an unreachable
   * network, for instance) goes to `onError`: the datagram is lost, as any
   * datagram may be.
   *
   * @param data - At most {@link NodeDatagramEndpoint.maxDatagramBytes} bytes; copied.
   * @param to - The destination; an IP literal must match the bound family.
   * @throws DistributedError `INVALID_ARGUMENT` for an oversized datagram, a bad
   *   address or a family mismatch; `CLOSED` after {@link NodeDatagramEndpoint.close}.
   */
  send(data: Uint8Array, to: NetworkAddress): void {
    if (this.#closing) throw new DistributedError('CLOSED', 'the datagram endpoint is closed');
    checkAddress(to, 'send', false);
    if (data.byteLength > this.maxDatagramBytes) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `datagram of ${data.byteLength} bytes exceeds maxDatagramBytes (${this.maxDatagramBytes})`,
      );
    }
    const family = ipFamily(to.host);
    if (family !== undefined && family !== this.#family) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `cannot send to IPv${family} address ${to.host} from an IPv${this.#family} endpoint`,
      );
    }
    this.#socket.send(Buffer.from(data), to.port, to.host, (error) => {
      if (error) this.#onError(error);
    });
  }

  /** Stops receiving and releases the address; harmless to call twice. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#socket.close();
  }

  /** Resolves once the socket is closed (after {@link NodeDatagramEndpoint.close}). */
  whenClosed(): Promise<void> {
    return this.#closed;
  }

  #receive(
    message: Buffer,
    from: NetworkAddress,
    onDatagram: (data: Uint8Array, from: NetworkAddress) => void,
  ): void {
    if (message.byteLength > this.maxDatagramBytes) {
      this.#oversizeDropped += 1;
      return;
    }
    try {
      // A plain Uint8Array view: callers compare and copy it like any other.
      onDatagram(new Uint8Array(message.buffer, message.byteOffset, message.byteLength), from);
    } catch (error) {
      this.#onError(error);
    }
  }
}
