/**
 * The runtime seam: everything a protocol driver may touch of the outside
 * world — a clock with timers, one random source, datagram and stream
 * networking, and durable storage with an explicit sync. Two implementations
 * exist: the Node runtime (real sockets, timers, SQLite, `node:crypto`) and the
 * simulator (virtual time, one seed, a modelled network, crashes that lose what
 * was not synced). A driver written against this seam runs unchanged on both.
 *
 * @packageDocumentation
 */

import type { Unsubscribe } from '../contracts/common.js';

/**
 * A cancellable timer.
 *
 * @since 2.0.0
 */
export interface Timer {
  /** Cancels the timer; harmless after it has fired or been cancelled. */
  cancel(): void;
}

/**
 * Time as a node sees it.
 *
 * @since 2.0.0
 */
export interface Clock {
  /**
   * Wall-clock time in epoch milliseconds. In the simulator it includes the
   * node's configured drift, so protocols must not assume clocks agree.
   */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin, never going backwards; for measuring
   * intervals and timeouts.
   */
  monotonic(): number;
  /**
   * Calls `callback` once after `delayMs` (at least; never before).
   *
   * @param delayMs - The delay; negative is treated as zero.
   * @param callback - Called on the node's event loop.
   */
  setTimer(delayMs: number, callback: () => void): Timer;
}

/**
 * The node's one source of randomness. Seeded in the simulator, so a run is
 * replayed exactly from its seed; cryptographically strong on the Node runtime
 * unless a seed is given.
 *
 * @since 2.0.0
 */
export interface RandomSource {
  /** A uniform number in [0, 1). */
  next(): number;
  /**
   * A uniform integer in [0, `maxExclusive`).
   *
   * @param maxExclusive - A positive safe integer.
   */
  int(maxExclusive: number): number;
  /**
   * Uniform random bytes (nonces, ids).
   *
   * @param length - How many bytes.
   */
  bytes(length: number): Uint8Array;
}

/**
 * A network endpoint.
 *
 * @since 2.0.0
 */
export interface NetworkAddress {
  /** Host name or IP address. */
  readonly host: string;
  /** Port number; `0` when binding asks for any free port. */
  readonly port: number;
}

/**
 * A bound datagram (UDP-like) endpoint: unreliable, unordered, bounded size.
 *
 * @since 2.0.0
 */
export interface DatagramEndpoint {
  /** The address actually bound (with the port chosen, when `0` was asked for). */
  readonly address: NetworkAddress;
  /** The largest datagram `send` accepts, in bytes. */
  readonly maxDatagramBytes: number;
  /**
   * Sends one datagram; it may be lost, duplicated or reordered.
   *
   * @param data - At most {@link DatagramEndpoint.maxDatagramBytes} bytes.
   * @param to - The destination.
   */
  send(data: Uint8Array, to: NetworkAddress): void;
  /** Stops receiving and releases the address. */
  close(): void;
}

/**
 * One end of a reliable, ordered byte stream (TCP-like). Chunk boundaries are
 * NOT preserved: the simulator splits and joins chunks on purpose, so framing
 * must be done by the protocol.
 *
 * @since 2.0.0
 */
export interface StreamConnection {
  /** This end's address. */
  readonly local: NetworkAddress;
  /** The other end's address. */
  readonly remote: NetworkAddress;
  /**
   * Queues bytes for sending.
   *
   * @param data - The bytes; the connection keeps its own copy.
   * @returns `false` when the send buffer is above its high-water mark: stop
   *   writing until `onDrain` fires (backpressure).
   */
  write(data: Uint8Array): boolean;
  /**
   * Subscribes to received bytes.
   *
   * @param listener - Called with each chunk received, in order.
   */
  onData(listener: (chunk: Uint8Array) => void): Unsubscribe;
  /**
   * Subscribes to the send buffer draining below its high-water mark.
   *
   * @param listener - Called when writing may resume.
   */
  onDrain(listener: () => void): Unsubscribe;
  /**
   * Subscribes to the connection closing, for any reason.
   *
   * @param listener - Called once, with the error when it did not close cleanly.
   */
  onClose(listener: (error?: Error) => void): Unsubscribe;
  /** Closes after queued bytes are sent. */
  close(): void;
  /** Closes at once, discarding queued bytes. */
  destroy(error?: Error): void;
}

/**
 * A listening stream endpoint.
 *
 * @since 2.0.0
 */
export interface StreamListener {
  /** The address actually bound. */
  readonly address: NetworkAddress;
  /** Stops accepting; open connections stay open. */
  close(): void;
}

/**
 * Networking as a node sees it.
 *
 * @since 2.0.0
 */
export interface Network {
  /**
   * Binds a datagram endpoint.
   *
   * @param address - Where to bind; port `0` picks a free one.
   * @param onDatagram - Called with each datagram received and its sender.
   */
  bindDatagram(
    address: NetworkAddress,
    onDatagram: (data: Uint8Array, from: NetworkAddress) => void,
  ): Promise<DatagramEndpoint>;
  /**
   * Listens for stream connections.
   *
   * @param address - Where to listen; port `0` picks a free one.
   * @param onConnection - Called with each accepted connection.
   */
  listen(
    address: NetworkAddress,
    onConnection: (connection: StreamConnection) => void,
  ): Promise<StreamListener>;
  /**
   * Opens a stream connection.
   *
   * @param address - Where to connect.
   * @param options - Cancellation; the promise rejects with the signal's reason.
   */
  connect(address: NetworkAddress, options?: { signal?: AbortSignal }): Promise<StreamConnection>;
}

/**
 * A named, durable key-value store with an explicit sync. Reads see every
 * earlier write at once; a write survives a crash only once a later
 * {@link DurableStore.sync} has resolved.
 *
 * @since 2.0.0
 */
export interface DurableStore {
  /**
   * Reads one key.
   *
   * @param key - The key.
   */
  get(key: string): Uint8Array | undefined;
  /**
   * Writes one key (durable after the next sync).
   *
   * @param key - The key.
   * @param value - The value; the store keeps its own copy.
   */
  put(key: string, value: Uint8Array): void;
  /**
   * Deletes one key (durable after the next sync).
   *
   * @param key - The key.
   */
  delete(key: string): void;
  /**
   * The keys starting with `prefix`, in ascending code-unit order.
   *
   * @param prefix - The prefix; empty for every key.
   */
  keys(prefix?: string): string[];
  /** Makes every earlier write durable (fsync); resolves when it is. */
  sync(): Promise<void>;
}

/**
 * Durable storage as a node sees it.
 *
 * @since 2.0.0
 */
export interface Storage {
  /**
   * Opens a store, creating it when new. The same name gives the same store
   * across restarts.
   *
   * @param name - Letters, digits, `-` and `_`.
   */
  open(name: string): DurableStore;
}

/**
 * Everything a protocol driver sees of the world.
 *
 * @since 2.0.0
 */
export interface Runtime {
  /** The node this runtime belongs to (for logs and traces). */
  readonly nodeId: string;
  /** Time and timers. */
  readonly clock: Clock;
  /** The node's one random source. */
  readonly random: RandomSource;
  /** Datagrams and streams. */
  readonly network: Network;
  /** Durable storage. */
  readonly storage: Storage;
}
