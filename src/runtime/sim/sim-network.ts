/**
 * A node's network in the simulator: datagrams through the per-link model
 * (latency, loss, duplication, reordering, partitions) and streams (see
 * `sim-stream.ts`).
 *
 * Addresses: a node's host is its id unless `addNode` was given another
 * (e.g. `10.0.0.7`). A node may bind only its own host, or a wildcard
 * (`''`, `0.0.0.0`, `::`), which binds its own host. Port `0` picks an
 * ephemeral port from 49 152 upwards. Datagram and stream ports are separate
 * namespaces, as UDP and TCP.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import type {
  DatagramEndpoint,
  Network,
  NetworkAddress,
  StreamConnection,
  StreamListener,
} from '../runtime.js';
import type { KernelDatagramBinding, SimKernel, SimNodeState } from './kernel.js';
import { sampleLatency, type LinkModel } from './network-model.js';
import { openStream, type StreamAcceptor } from './sim-stream.js';

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::']);

function checkAddress(address: NetworkAddress): void {
  if (
    typeof address !== 'object' ||
    typeof address.host !== 'string' ||
    !Number.isInteger(address.port) ||
    address.port < 0 ||
    address.port > 65_535
  ) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      'address must be { host: string, port: 0..65535 }',
    );
  }
}

/** A bound datagram endpoint of one incarnation. */
class SimDatagramEndpoint implements DatagramEndpoint, KernelDatagramBinding {
  readonly address: NetworkAddress;
  readonly maxDatagramBytes: number;
  readonly #kernel: SimKernel;
  readonly #node: SimNodeState;
  readonly #incarnation: number;
  readonly #onDatagram: (data: Uint8Array, from: NetworkAddress) => void;
  #closed = false;

  constructor(
    kernel: SimKernel,
    node: SimNodeState,
    incarnation: number,
    address: NetworkAddress,
    onDatagram: (data: Uint8Array, from: NetworkAddress) => void,
  ) {
    this.#kernel = kernel;
    this.#node = node;
    this.#incarnation = incarnation;
    this.address = address;
    this.maxDatagramBytes = kernel.options.maxDatagramBytes;
    this.#onDatagram = onDatagram;
  }

  deliver(data: Uint8Array, from: NetworkAddress): void {
    this.#onDatagram(data, from);
  }

  send(data: Uint8Array, to: NetworkAddress): void {
    if (this.#closed) throw new DistributedError('CLOSED', 'datagram endpoint is closed');
    if (!(data instanceof Uint8Array)) {
      throw new DistributedError('INVALID_ARGUMENT', 'send expects a Uint8Array');
    }
    if (data.length > this.maxDatagramBytes) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `datagram of ${data.length} bytes exceeds ${this.maxDatagramBytes}`,
      );
    }
    checkAddress(to);
    const kernel = this.#kernel;
    const node = this.#node;
    if (node.incarnation !== this.#incarnation) return; // a dead process sends nothing
    kernel.stats.datagramsSent += 1;
    const me = node.index;
    const port = this.address.port;
    const target = kernel.hosts.get(to.host);
    if (target === undefined) {
      this.#drop(-1, to.port, data.length, 'unknown host');
      return;
    }
    const there = target.index;
    if (kernel.blocked(me, there)) {
      this.#drop(there, to.port, data.length, 'partition');
      return;
    }
    const link = kernel.link(me, there);
    const random = kernel.netRandom;
    if (link.loss > 0 && random.next() < link.loss) {
      this.#drop(there, to.port, data.length, 'loss');
      return;
    }
    this.#dispatch(data.slice(), target, to.port, link);
    if (link.duplicate > 0 && random.next() < link.duplicate) {
      kernel.trace.record(kernel.now, 'duplicate', me, port, there, to.port, data.length, '');
      this.#dispatch(data.slice(), target, to.port, link);
    }
  }

  #drop(there: number, toPort: number, bytes: number, reason: string): void {
    const kernel = this.#kernel;
    kernel.stats.datagramsDropped += 1;
    kernel.trace.record(
      kernel.now,
      'drop',
      this.#node.index,
      this.address.port,
      there,
      toPort,
      bytes,
      reason,
    );
  }

  #dispatch(copy: Uint8Array, target: SimNodeState, toPort: number, link: LinkModel): void {
    const kernel = this.#kernel;
    const random = kernel.netRandom;
    const me = this.#node.index;
    const there = target.index;
    let delay = sampleLatency(link, random);
    if (link.reorder > 0 && random.next() < link.reorder) {
      const extra = random.next() * link.reorderDelayMs;
      delay += extra;
      kernel.trace.record(
        kernel.now,
        'delay',
        me,
        this.address.port,
        there,
        toPort,
        copy.length,
        `+${extra.toFixed(3)}ms`,
      );
    }
    kernel.at(kernel.now + delay, there, -1, () => {
      if (kernel.blocked(me, there)) {
        this.#drop(there, toPort, copy.length, 'partition');
        return;
      }
      const binding = target.alive ? target.datagramPorts.get(toPort) : undefined;
      if (binding === undefined) {
        this.#drop(there, toPort, copy.length, 'no endpoint');
        return;
      }
      kernel.stats.datagramsDelivered += 1;
      kernel.trace.record(
        kernel.now,
        'deliver',
        me,
        this.address.port,
        there,
        toPort,
        copy.length,
        '',
      );
      binding.deliver(copy, this.address);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const node = this.#node;
    if (
      node.incarnation === this.#incarnation &&
      node.datagramPorts.get(this.address.port) === this
    ) {
      node.datagramPorts.delete(this.address.port);
    }
  }
}

/** A listening stream port of one incarnation. */
class SimStreamListener implements StreamListener, StreamAcceptor {
  readonly address: NetworkAddress;
  readonly #node: SimNodeState;
  readonly #incarnation: number;
  readonly #onConnection: (connection: StreamConnection) => void;

  constructor(
    node: SimNodeState,
    incarnation: number,
    address: NetworkAddress,
    onConnection: (connection: StreamConnection) => void,
  ) {
    this.#node = node;
    this.#incarnation = incarnation;
    this.address = address;
    this.#onConnection = onConnection;
  }

  accept(connection: StreamConnection): void {
    this.#onConnection(connection);
  }

  close(): void {
    const node = this.#node;
    if (node.incarnation === this.#incarnation && node.listeners.get(this.address.port) === this) {
      node.listeners.delete(this.address.port);
    }
  }
}

/**
 * The {@link Network} of one node incarnation.
 *
 * @since 2.0.0
 */
export class SimNetwork implements Network {
  readonly #kernel: SimKernel;
  readonly #node: SimNodeState;
  readonly #incarnation: number;

  /**
   * @param kernel - The simulation kernel.
   * @param node - The node.
   * @param incarnation - The incarnation this view serves.
   */
  constructor(kernel: SimKernel, node: SimNodeState, incarnation: number) {
    this.#kernel = kernel;
    this.#node = node;
    this.#incarnation = incarnation;
  }

  /** Resolves the bound address, or throws for a foreign host or a used port. */
  #bindAddress(address: NetworkAddress, used: ReadonlyMap<number, unknown>): NetworkAddress {
    checkAddress(address);
    const node = this.#node;
    if (!WILDCARD_HOSTS.has(address.host) && address.host !== node.host) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `node ${node.id} cannot bind host '${address.host}' (its host is '${node.host}')`,
      );
    }
    let port = address.port;
    if (port === 0) {
      for (let tries = 0; tries < 16_384; tries++) {
        const candidate = node.nextEphemeralPort;
        node.nextEphemeralPort = candidate >= 65_535 ? 49_152 : candidate + 1;
        if (!used.has(candidate)) {
          port = candidate;
          break;
        }
      }
      if (port === 0) throw new DistributedError('CAPACITY_EXCEEDED', 'no free ephemeral port');
    } else if (used.has(port)) {
      throw new DistributedError('INVALID_ARGUMENT', `${node.host}:${port} is already in use`);
    }
    return Object.freeze({ host: node.host, port });
  }

  #checkAlive(): void {
    if (this.#node.incarnation !== this.#incarnation) {
      throw new DistributedError('CLOSED', `node ${this.#node.id} has crashed`);
    }
  }

  bindDatagram(
    address: NetworkAddress,
    onDatagram: (data: Uint8Array, from: NetworkAddress) => void,
  ): Promise<DatagramEndpoint> {
    try {
      this.#checkAlive();
      const node = this.#node;
      const bound = this.#bindAddress(address, node.datagramPorts);
      const endpoint = new SimDatagramEndpoint(
        this.#kernel,
        node,
        this.#incarnation,
        bound,
        onDatagram,
      );
      node.datagramPorts.set(bound.port, endpoint);
      return Promise.resolve(endpoint);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  listen(
    address: NetworkAddress,
    onConnection: (connection: StreamConnection) => void,
  ): Promise<StreamListener> {
    try {
      this.#checkAlive();
      const node = this.#node;
      const bound = this.#bindAddress(address, node.listeners);
      const listener = new SimStreamListener(node, this.#incarnation, bound, onConnection);
      node.listeners.set(bound.port, listener);
      return Promise.resolve(listener);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  connect(address: NetworkAddress, options?: { signal?: AbortSignal }): Promise<StreamConnection> {
    const signal = options?.signal;
    if (signal?.aborted === true) return Promise.reject(toError(signal.reason));
    try {
      checkAddress(address);
      if (address.host === '' || address.port === 0) {
        throw new DistributedError('INVALID_ARGUMENT', 'connect needs a host and a non-zero port');
      }
      this.#checkAlive();
    } catch (error) {
      return Promise.reject(toError(error));
    }
    return openStream(this.#kernel, this.#node, this.#incarnation, address, signal);
  }
}
