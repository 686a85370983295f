/**
 * One end of a TCP connection over `node:net`.
 *
 * @packageDocumentation
 */

import type { Socket } from 'node:net';
import type { Unsubscribe } from '../../contracts/common.js';
import { DistributedError } from '../../contracts/errors.js';
import { createUnsubscribe, EventHub } from '../../core/events.js';
import type { NetworkAddress, StreamConnection } from '../runtime.js';
import { networkAddress } from './address.js';
import type { RuntimeErrorHandler } from './error-handler.js';

/**
 * What a {@link NodeStreamConnection} needs from its network.
 *
 * @since 2.0.0
 */
export interface NodeStreamConnectionOptions {
  /**
   * The most received bytes held for a connection nobody has subscribed to
   * with `onData` yet; past it the socket stops reading, so TCP flow control
   * pushes back on the sender instead of this process buffering without bound.
   */
  readonly maxUnreadBytes: number;
  /**
   * How long {@link NodeStreamConnection.close} waits for the peer to finish
   * the close handshake before resetting the connection, in milliseconds.
   */
  readonly closeGraceMs: number;
  /** Receives exceptions thrown by listeners. */
  readonly onError: RuntimeErrorHandler;
}

/**
 * A {@link StreamConnection} over a connected `net.Socket` with Nagle's
 * algorithm off (`noDelay`), since protocol messages are small and latency
 * matters more than packet count.
 *
 * - Backpressure: `write` returns what `socket.write` returns (`false` once the
 *   socket's write buffer is above its high-water mark) and `onDrain` fires on
 *   the socket's `drain` event.
 * - Bytes received before the first `onData` subscriber are held (up to
 *   `maxUnreadBytes`, then reading pauses) and delivered to it in order, so a
 *   caller that subscribes after an `await` loses nothing.
 * - `destroy` resets the connection (TCP RST), so the peer sees an error, not a
 *   clean end: `onClose` gets an error on the side that did not choose to close
 *   abruptly.
 * - `onClose` fires once per listener, with the socket's error when the
 *   connection did not close cleanly; a listener subscribed after the close is
 *   called on the next microtask.
 *
 * @since 2.0.0
 */
export class NodeStreamConnection implements StreamConnection {
  /** This end's address. */
  readonly local: NetworkAddress;
  /** The other end's address. */
  readonly remote: NetworkAddress;
  readonly #socket: Socket;
  readonly #options: NodeStreamConnectionOptions;
  readonly #data: EventHub<Uint8Array>;
  readonly #drain: EventHub<undefined>;
  readonly #close: EventHub<Error | undefined>;
  readonly #unread: Uint8Array[] = [];
  readonly #closed: Promise<void>;
  #unreadBytes = 0;
  #flushScheduled = false;
  #ending = false;
  #isClosed = false;
  #error: Error | undefined;
  #graceTimer: NodeJS.Timeout | undefined;

  /**
   * Wraps a connected socket and starts reading from it.
   *
   * @param socket - A connected socket.
   * @param options - Bounds and the error handler.
   */
  constructor(socket: Socket, options: NodeStreamConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.local = networkAddress(socket.localAddress ?? '', socket.localPort ?? 0);
    this.remote = networkAddress(socket.remoteAddress ?? '', socket.remotePort ?? 0);
    this.#data = new EventHub(options.onError);
    this.#drain = new EventHub(options.onError);
    this.#close = new EventHub(options.onError);
    socket.setNoDelay(true);
    this.#closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#onSocketClose();
        resolve();
      });
    });
    socket.on('data', (chunk: Buffer) => {
      this.#receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    socket.on('drain', () => {
      this.#drain.emit(undefined);
    });
    socket.on('error', (error) => {
      this.#error ??= error;
    });
  }

  /**
   * Queues a copy of `data` for sending.
   *
   * @param data - The bytes.
   * @returns `false` when the write buffer is above its high-water mark: wait
   *   for `onDrain` before writing more.
   * @throws DistributedError `CLOSED` once the connection is closing or closed.
   */
  write(data: Uint8Array): boolean {
    if (this.#ending || this.#isClosed || this.#socket.destroyed) {
      throw new DistributedError('CLOSED', 'the connection is closed');
    }
    return this.#socket.write(Buffer.from(data));
  }

  /**
   * Queues `data` for sending without copying it: the connection takes
   * ownership, so the caller must never modify `data` afterwards (the bytes
   * may be read by the socket at any later time). Saves a copy per write for a
   * caller that builds a fresh array for every write (the native P2P network's
   * sealed frames).
   *
   * @param data - The bytes, handed over.
   * @returns `false` when the write buffer is above its high-water mark, as {@link NodeStreamConnection.write}.
   * @throws DistributedError `CLOSED` once the connection is closing or closed.
   */
  writeOwned(data: Uint8Array): boolean {
    if (this.#ending || this.#isClosed || this.#socket.destroyed) {
      throw new DistributedError('CLOSED', 'the connection is closed');
    }
    const view = Buffer.isBuffer(data)
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.#socket.write(view);
  }

  /**
   * Subscribes to received bytes, in order. The first subscriber also gets the
   * bytes that arrived before it, on the next microtask.
   *
   * @param listener - Called with each chunk.
   */
  onData(listener: (chunk: Uint8Array) => void): Unsubscribe {
    const unsubscribe = this.#data.subscribe(listener);
    if (this.#unread.length > 0) this.#scheduleFlush();
    return unsubscribe;
  }

  /**
   * Subscribes to the write buffer draining below its high-water mark.
   *
   * @param listener - Called when writing may resume.
   */
  onDrain(listener: () => void): Unsubscribe {
    return this.#drain.subscribe(() => {
      listener();
    });
  }

  /**
   * Subscribes to the connection closing.
   *
   * @param listener - Called once, with the error when it did not close cleanly.
   */
  onClose(listener: (error?: Error) => void): Unsubscribe {
    if (!this.#isClosed) return this.#close.subscribe((error) => listener(error));
    let cancelled = false;
    queueMicrotask(() => {
      if (cancelled) return;
      try {
        listener(this.#error);
      } catch (error) {
        this.#options.onError(error);
      }
    });
    return createUnsubscribe(() => {
      cancelled = true;
    });
  }

  /**
   * Sends what is queued, then closes. Resets the connection if the peer has
   * not completed the close within `closeGraceMs`. Harmless to call twice.
   */
  close(): void {
    if (this.#ending || this.#isClosed) return;
    this.#ending = true;
    this.#socket.end();
    this.#graceTimer = setTimeout(() => {
      this.destroy();
    }, this.#options.closeGraceMs);
    // The grace period must not hold a process open that has nothing else to do.
    this.#graceTimer.unref();
  }

  /**
   * Closes at once with a TCP reset (unless `close` already sent a FIN),
   * discarding queued bytes in both directions. Harmless after the connection
   * has closed.
   *
   * @param error - Why; local `onClose` listeners receive it.
   */
  destroy(error?: Error): void {
    if (this.#isClosed || this.#socket.destroyed) return;
    this.#ending = true;
    if (error) this.#error = error;
    // A reset is impossible once our side has sent its FIN (libuv refuses it
    // after a shutdown, and the socket would never report its close), so a
    // connection already closing is just torn down.
    // A TLS socket cannot be reset either (its handle is not a TCP handle).
    if (this.#socket.writableEnded || 'encrypted' in this.#socket) this.#socket.destroy();
    else this.#socket.resetAndDestroy();
  }

  /** Resolves once the socket has closed, for whatever reason. */
  whenClosed(): Promise<void> {
    return this.#closed;
  }

  #receive(chunk: Uint8Array): void {
    if (this.#data.size > 0 && this.#unread.length === 0) {
      this.#data.emit(chunk);
      return;
    }
    this.#unread.push(chunk);
    this.#unreadBytes += chunk.byteLength;
    if (this.#unreadBytes > this.#options.maxUnreadBytes) this.#socket.pause();
    if (this.#data.size > 0) this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      while (this.#data.size > 0) {
        const chunk = this.#unread.shift();
        if (!chunk) break;
        this.#unreadBytes -= chunk.byteLength;
        this.#data.emit(chunk);
      }
      if (this.#unreadBytes <= this.#options.maxUnreadBytes && this.#socket.isPaused()) {
        this.#socket.resume();
      }
    });
  }

  #onSocketClose(): void {
    this.#isClosed = true;
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#close.emit(this.#error);
  }
}
