/**
 * Simulated streams (TCP-like): reliable and ordered, with chunk boundaries
 * moved at random, backpressure, and the ways real connections break.
 *
 * Model, per direction of a connection:
 * - `write` appends to a send queue. A transmit step (scheduled at the same
 *   virtual time, so writes of one turn are joined) cuts a segment: with
 *   probability `splitProbability` of a random length, otherwise as much as
 *   fits in `maxSegmentBytes`. Segments leave at the link's bandwidth and
 *   arrive after the link's latency, never before an earlier segment.
 * - A segment "lost" by the link model, or meeting a partition, is
 *   retransmitted `retransmitMs` later; bytes are never lost or duplicated.
 * - `write` returns `false` once unsent plus unacknowledged (in flight) bytes
 *   reach `highWaterMark`; `onDrain` fires when they have all been delivered
 *   (as Node's `drain`).
 * - `close` sends a FIN after the queued bytes; the other end, on receiving
 *   it, closes too (no half-open streams). Each end's `onClose` fires without
 *   an error once its FIN was delivered and the peer's FIN received.
 * - `destroy`, or a crash of a node (a process dying: its OS resets its
 *   connections), sends a reset; the other end sees `onClose` with an error
 *   one latency later. A reset meeting a partition is resent every
 *   `retransmitMs`; after `timeoutMs` the other end times out instead. A
 *   segment reaching an end that is already closed provokes a reset too.
 * - A partition blocking either direction for `timeoutMs` breaks the
 *   connection: both ends see `onClose` with a timeout error.
 * - A paused node's bytes already written keep flowing (the OS sends them);
 *   deliveries to a paused node wait until it resumes, so its peers' send
 *   buffers fill and they see backpressure.
 * - Bytes received before the first `onData` subscription are held (at most
 *   16 × `highWaterMark`, beyond which the connection is destroyed) and
 *   delivered to it as a separate event.
 *
 * @packageDocumentation
 */

import type { Unsubscribe } from '../../contracts/common.js';
import { DistributedError } from '../../contracts/errors.js';
import { EventHub, createUnsubscribe } from '../../core/events.js';
import type { NetworkAddress, StreamConnection } from '../runtime.js';
import type { KernelConnection, SimKernel, SimNodeState } from './kernel.js';
import { sampleLatency } from './network-model.js';

/** A segment in flight: bytes, or `null` for a FIN. */
interface Segment {
  readonly data: Uint8Array | null;
  arrival: number;
}

/**
 * One end of a simulated stream.
 *
 * @since 2.0.0
 */
export class SimConnection implements StreamConnection, KernelConnection {
  /** This end's address. */
  readonly local: NetworkAddress;
  /** The other end's address. */
  readonly remote: NetworkAddress;
  /** The other end's node index. */
  readonly peerNode: number;
  readonly #kernel: SimKernel;
  readonly #node: SimNodeState;
  readonly #incarnation: number;
  #peer!: SimConnection;
  #state: 'open' | 'closing' | 'closed' = 'open';
  readonly #dataHub: EventHub<Uint8Array>;
  readonly #drainHub: EventHub<undefined>;
  readonly #closeHub: EventHub<Error | undefined>;
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  #needDrain = false;
  #remoteFinReceived = false;
  #ownFinDelivered = false;
  #resetPending = false;
  #closeReported = false;
  #closeError: Error | undefined;
  // Outgoing direction (this end → peer).
  #queue: Uint8Array[] = [];
  #queueOffset = 0;
  #pendingBytes = 0;
  #finRequested = false;
  #finSent = false;
  #inflight: Segment[] = [];
  #inflightHead = 0;
  #inflightBytes = 0;
  #transmitScheduled = false;
  #deliveryScheduled = false;
  #lastArrival = 0;

  /**
   * Use {@link openStream}; ends are created in pairs.
   *
   * @param kernel - The kernel.
   * @param node - This end's node.
   * @param incarnation - This end's node incarnation.
   * @param local - This end's address.
   * @param remote - The other end's address.
   * @param peerNode - The other end's node index.
   */
  constructor(
    kernel: SimKernel,
    node: SimNodeState,
    incarnation: number,
    local: NetworkAddress,
    remote: NetworkAddress,
    peerNode: number,
  ) {
    this.#kernel = kernel;
    this.#node = node;
    this.#incarnation = incarnation;
    this.local = local;
    this.remote = remote;
    this.peerNode = peerNode;
    const onError = (error: unknown): void => {
      kernel.programError(node, error);
    };
    this.#dataHub = new EventHub(onError);
    this.#drainHub = new EventHub(onError);
    this.#closeHub = new EventHub(onError);
  }

  /**
   * Links two ends.
   *
   * @param a - One end.
   * @param b - The other end.
   */
  static pair(a: SimConnection, b: SimConnection): void {
    a.#peer = b;
    b.#peer = a;
  }

  /** Whether this end is closed (for tests and invariants). */
  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Bytes written but not yet delivered to the other end. */
  get bufferedBytes(): number {
    return this.#pendingBytes + this.#inflightBytes;
  }

  // ---- the public surface ------------------------------------------------------

  /**
   * Queues bytes. After `close`, `destroy` or a break, the bytes are discarded
   * and `false` is returned (the program learned of the close through `onClose`).
   *
   * @param data - The bytes (copied).
   * @returns `false` above the high-water mark.
   */
  write(data: Uint8Array): boolean {
    if (!(data instanceof Uint8Array)) {
      throw new DistributedError('INVALID_ARGUMENT', 'write expects a Uint8Array');
    }
    if (this.#state !== 'open' || this.#node.incarnation !== this.#incarnation) return false;
    if (data.length > 0) {
      this.#queue.push(data.slice());
      this.#pendingBytes += data.length;
      this.#scheduleTransmit();
    }
    const ok = this.bufferedBytes < this.#kernel.options.stream.highWaterMark;
    if (!ok) this.#needDrain = true;
    return ok;
  }

  onData(listener: (chunk: Uint8Array) => void): Unsubscribe {
    const first = this.#dataHub.size === 0;
    const subscription = this.#dataHub.subscribe(listener);
    if (first && this.#held.length > 0) {
      this.#kernel.at(this.#kernel.now, this.#node.index, this.#incarnation, () => {
        this.#flushHeld();
      });
    }
    return subscription;
  }

  onDrain(listener: () => void): Unsubscribe {
    return this.#drainHub.subscribe(() => {
      listener();
    });
  }

  onClose(listener: (error?: Error) => void): Unsubscribe {
    const call = (error: Error | undefined): void => {
      if (error === undefined) listener();
      else listener(error);
    };
    if (!this.#closeReported) return this.#closeHub.subscribe(call);
    // Subscribed after the close was reported: it is still told, once, on its own turn.
    let cancelled = false;
    const reported = this.#closeError;
    const kernel = this.#kernel;
    kernel.at(kernel.now, this.#node.index, this.#incarnation, () => {
      if (!cancelled) call(reported);
    });
    return createUnsubscribe(() => {
      cancelled = true;
    });
  }

  close(): void {
    if (this.#state !== 'open' || this.#node.incarnation !== this.#incarnation) return;
    this.#state = 'closing';
    this.#finRequested = true;
    this.#scheduleTransmit();
  }

  destroy(error?: Error): void {
    if (this.#state === 'closed' || this.#node.incarnation !== this.#incarnation) return;
    this.#terminate(error, true);
  }

  // ---- kernel hooks -------------------------------------------------------------

  /** The local node crashed: gone without callbacks; the peer is reset. */
  crashLocal(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#discardOutgoing();
    this.#sendReset();
  }

  /** A partition began on the link to the peer: break the stream if it lasts. */
  watchPartition(): void {
    const kernel = this.#kernel;
    const timeoutMs = kernel.options.stream.timeoutMs;
    kernel.at(kernel.now + timeoutMs, -1, -1, () => {
      if (this.#state === 'closed') return;
      const me = this.#node.index;
      const there = kernel.blockedSince(me, this.peerNode);
      const back = kernel.blockedSince(this.peerNode, me);
      const expired = (since: number | undefined): boolean =>
        since !== undefined && kernel.now - since >= timeoutMs;
      if (!expired(there) && !expired(back)) return;
      kernel.trace.record(
        kernel.now,
        'stream-timeout',
        me,
        this.local.port,
        this.peerNode,
        this.remote.port,
        0,
        'partition',
      );
      const error = (): Error =>
        new DistributedError('CLOSED', `stream timed out: partitioned for ${timeoutMs} ms`);
      this.#terminate(error(), false);
      if (!this.#peer.closed) this.#peer.#terminate(error(), false);
    });
  }

  // ---- sending --------------------------------------------------------------------

  #scheduleTransmit(): void {
    if (this.#transmitScheduled) return;
    this.#transmitScheduled = true;
    this.#kernel.at(this.#kernel.now, -1, -1, () => {
      this.#transmit();
    });
  }

  #transmit(): void {
    this.#transmitScheduled = false;
    if (this.#state === 'closed') return;
    const kernel = this.#kernel;
    const options = kernel.options.stream;
    const me = this.#node.index;
    if (this.#pendingBytes === 0) {
      if (this.#finRequested && !this.#finSent) {
        this.#finSent = true;
        this.#launch(null);
      }
      return;
    }
    if (kernel.blocked(me, this.peerNode)) {
      // Nothing gets through; try again later (the stream timeout may break it first).
      this.#transmitScheduled = true;
      kernel.at(kernel.now + options.retransmitMs, -1, -1, () => {
        this.#transmit();
      });
      return;
    }
    const random = kernel.netRandom;
    const max = Math.min(this.#pendingBytes, options.maxSegmentBytes);
    const length = random.next() < options.splitProbability ? 1 + random.int(max) : max;
    const segment = this.#take(length);
    this.#pendingBytes -= length;
    this.#inflightBytes += length;
    this.#launch(segment);
    if (this.#pendingBytes > 0 || (this.#finRequested && !this.#finSent)) {
      const link = kernel.link(me, this.peerNode);
      this.#transmitScheduled = true;
      kernel.at(kernel.now + length / link.bandwidthBytesPerMs, -1, -1, () => {
        this.#transmit();
      });
    }
  }

  /** Removes `length` bytes from the front of the send queue, joining writes. */
  #take(length: number): Uint8Array {
    const head = this.#queue[0] as Uint8Array;
    if (this.#queueOffset === 0 && head.length === length) {
      this.#queue.shift();
      return head;
    }
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.#queue[0] as Uint8Array;
      const available = chunk.length - this.#queueOffset;
      const n = Math.min(available, length - filled);
      out.set(chunk.subarray(this.#queueOffset, this.#queueOffset + n), filled);
      filled += n;
      if (n === available) {
        this.#queue.shift();
        this.#queueOffset = 0;
      } else {
        this.#queueOffset += n;
      }
    }
    return out;
  }

  #launch(data: Uint8Array | null): void {
    const kernel = this.#kernel;
    const link = kernel.link(this.#node.index, this.peerNode);
    let arrival = kernel.now + sampleLatency(link, kernel.netRandom);
    if (link.loss > 0 && kernel.netRandom.next() < link.loss) {
      arrival += kernel.options.stream.retransmitMs;
    }
    if (arrival < this.#lastArrival) arrival = this.#lastArrival;
    this.#lastArrival = arrival;
    this.#inflight.push({ data, arrival });
    this.#scheduleDelivery();
  }

  #scheduleDelivery(): void {
    if (this.#deliveryScheduled || this.#inflightHead >= this.#inflight.length) return;
    const head = this.#inflight[this.#inflightHead] as Segment;
    this.#deliveryScheduled = true;
    this.#kernel.at(head.arrival, this.peerNode, -1, () => {
      this.#deliverHead();
    });
  }

  #deliverHead(): void {
    this.#deliveryScheduled = false;
    if (this.#state === 'closed') return;
    const kernel = this.#kernel;
    const me = this.#node.index;
    const head = this.#inflight[this.#inflightHead] as Segment;
    const peer = this.#peer;
    if (peer.closed) {
      // The other end is gone: it answers with a reset.
      this.#discardOutgoing();
      peer.#sendReset();
      return;
    }
    if (kernel.blocked(me, this.peerNode)) {
      kernel.trace.record(
        kernel.now,
        'stream-retransmit',
        me,
        this.local.port,
        this.peerNode,
        this.remote.port,
        head.data?.length ?? 0,
        'partition',
      );
      head.arrival = kernel.now + kernel.options.stream.retransmitMs;
      this.#scheduleDelivery();
      return;
    }
    this.#inflight[this.#inflightHead] = undefined as unknown as Segment;
    this.#inflightHead += 1;
    if (this.#inflightHead > 64 && this.#inflightHead * 2 > this.#inflight.length) {
      this.#inflight = this.#inflight.slice(this.#inflightHead);
      this.#inflightHead = 0;
    }
    const data = head.data;
    if (data === null) {
      kernel.trace.record(
        kernel.now,
        'stream-fin',
        me,
        this.local.port,
        this.peerNode,
        this.remote.port,
        0,
        '',
      );
      this.#ownFinDelivered = true;
      peer.#receiveFin();
      this.#maybeFinished();
    } else {
      this.#inflightBytes -= data.length;
      kernel.stats.streamBytesDelivered += data.length;
      kernel.trace.record(
        kernel.now,
        'stream-data',
        me,
        this.local.port,
        this.peerNode,
        this.remote.port,
        data.length,
        '',
      );
      if (this.#needDrain && this.bufferedBytes === 0) {
        this.#needDrain = false;
        kernel.at(kernel.now, me, this.#incarnation, () => {
          if (this.#state !== 'closed') this.#drainHub.emit(undefined);
        });
      }
      peer.#receive(data);
    }
    this.#scheduleDelivery();
  }

  #discardOutgoing(): void {
    this.#queue = [];
    this.#queueOffset = 0;
    this.#pendingBytes = 0;
    this.#inflight = [];
    this.#inflightHead = 0;
    this.#inflightBytes = 0;
  }

  /**
   * Sends a reset to the peer. A reset meeting a partition is resent every
   * `retransmitMs` (as TCP's retransmissions would provoke another one); after
   * `timeoutMs` of that the peer times out instead.
   */
  #sendReset(): void {
    if (this.#resetPending) return;
    this.#resetPending = true;
    const kernel = this.#kernel;
    const startedAt = kernel.now;
    const me = this.#node.index;
    const attempt = (): void => {
      const delay = sampleLatency(kernel.link(me, this.peerNode), kernel.netRandom);
      kernel.at(kernel.now + delay, this.peerNode, -1, () => {
        const peer = this.#peer;
        if (peer.closed) {
          this.#resetPending = false;
          return;
        }
        const timeoutMs = kernel.options.stream.timeoutMs;
        if (kernel.blocked(me, this.peerNode)) {
          if (kernel.now - startedAt < timeoutMs) {
            kernel.at(kernel.now + kernel.options.stream.retransmitMs, -1, -1, attempt);
            return;
          }
          this.#resetPending = false;
          kernel.trace.record(
            kernel.now,
            'stream-timeout',
            this.peerNode,
            this.remote.port,
            me,
            this.local.port,
            0,
            'reset blocked',
          );
          peer.#terminate(
            new DistributedError(
              'CLOSED',
              `stream timed out: peer unreachable for ${timeoutMs} ms`,
            ),
            false,
          );
          return;
        }
        this.#resetPending = false;
        kernel.trace.record(
          kernel.now,
          'stream-reset',
          me,
          this.local.port,
          this.peerNode,
          this.remote.port,
          0,
          '',
        );
        peer.#terminate(new DistributedError('CLOSED', 'connection reset by peer'), false);
      });
    };
    attempt();
  }

  // ---- receiving and closing ------------------------------------------------------

  #receive(data: Uint8Array): void {
    if (this.#dataHub.size > 0 && this.#held.length === 0) {
      this.#dataHub.emit(data);
      return;
    }
    this.#held.push(data);
    this.#heldBytes += data.length;
    if (this.#heldBytes > 16 * this.#kernel.options.stream.highWaterMark) {
      this.#terminate(
        new DistributedError('CAPACITY_EXCEEDED', 'receive buffer full: no onData listener'),
        true,
      );
    }
  }

  #flushHeld(): void {
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const chunk of held) this.#dataHub.emit(chunk);
  }

  #receiveFin(): void {
    this.#remoteFinReceived = true;
    if (this.#state === 'open') this.close();
    this.#maybeFinished();
  }

  #maybeFinished(): void {
    if (this.#state === 'closed' || !this.#remoteFinReceived || !this.#ownFinDelivered) return;
    this.#finish(undefined);
  }

  /** Closes this end now; `notifyPeer` sends a reset. */
  #terminate(error: Error | undefined, notifyPeer: boolean): void {
    if (this.#state === 'closed') return;
    this.#discardOutgoing();
    this.#finish(error);
    if (notifyPeer) this.#sendReset();
  }

  #finish(error: Error | undefined): void {
    this.#state = 'closed';
    this.#node.connections.delete(this);
    const kernel = this.#kernel;
    kernel.at(kernel.now, this.#node.index, this.#incarnation, () => {
      // Bytes that arrived but were never read are still handed over before the close.
      if (this.#held.length > 0 && this.#dataHub.size > 0) this.#flushHeld();
      this.#closeReported = true;
      this.#closeError = error;
      this.#closeHub.emit(error);
    });
  }
}

/**
 * A listening port's binding: accepts connections for one incarnation.
 *
 * @since 2.0.0
 */
export interface StreamAcceptor {
  /** Hands an accepted connection to the program. */
  accept(connection: StreamConnection): void;
}

/**
 * Opens a stream from `node` to `remote`: a SYN one latency there, the
 * listener's `onConnection` called on arrival, a SYN-ACK one latency back.
 * A missing listener answers with a reset (`UNKNOWN_PEER`, connection
 * refused); no answer within `connectTimeoutMs` (partition, unknown host)
 * rejects with `UNKNOWN_PEER` too. Blocked handshake messages are resent every
 * `retransmitMs`.
 *
 * @param kernel - The kernel.
 * @param node - The connecting node.
 * @param incarnation - Its incarnation.
 * @param remote - Where to connect.
 * @param signal - Cancels; the promise rejects with its reason.
 * @returns The connected end.
 * @since 2.0.0
 */
export function openStream(
  kernel: SimKernel,
  node: SimNodeState,
  incarnation: number,
  remote: NetworkAddress,
  signal: AbortSignal | undefined,
): Promise<StreamConnection> {
  const options = kernel.options.stream;
  const port = node.nextEphemeralPort;
  node.nextEphemeralPort = port >= 65_535 ? 49_152 : port + 1;
  const local: NetworkAddress = Object.freeze({ host: node.host, port });
  const target = kernel.hosts.get(remote.host);
  const remoteAddress: NetworkAddress = Object.freeze({ host: remote.host, port: remote.port });
  const me = node.index;
  const there = target?.index ?? -1;
  kernel.trace.record(kernel.now, 'stream-connect', me, port, there, remote.port, 0, '');

  return new Promise<StreamConnection>((resolve, reject) => {
    let settled = false;
    let client: SimConnection | undefined;
    const finish = (error: unknown): void => {
      if (settled) return;
      settled = true;
      kernel.cancel(timeout);
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined && client !== undefined) resolve(client);
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      kernel.cancel(timeout);
      const reason: unknown = signal?.reason;
      reject(reason instanceof Error ? reason : new Error(String(reason)));
      // A connection already accepted on the other side is reset.
      client?.destroy();
    };
    // A timer (the Node runtime arms it with setTimeout): after a pause it fires before held I/O.
    const timeout = kernel.at(
      kernel.now + options.connectTimeoutMs,
      me,
      incarnation,
      () => {
        finish(
          new DistributedError(
            'UNKNOWN_PEER',
            `connect to ${remote.host}:${remote.port} timed out after ${options.connectTimeoutMs} ms`,
          ),
        );
        client?.destroy();
      },
      true,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    if (target === undefined) return; // no route: only the timeout answers

    const sendSyn = (): void => {
      const delay = sampleLatency(kernel.link(me, there), kernel.netRandom);
      kernel.at(kernel.now + delay, there, -1, () => {
        if (settled) return;
        if (kernel.blocked(me, there)) {
          kernel.trace.record(
            kernel.now,
            'drop',
            me,
            port,
            there,
            remote.port,
            0,
            'syn: partition',
          );
          kernel.at(kernel.now + options.retransmitMs, -1, -1, sendSyn);
          return;
        }
        const acceptor = target.alive ? target.listeners.get(remote.port) : undefined;
        if (acceptor === undefined) {
          kernel.trace.record(kernel.now, 'stream-refuse', there, remote.port, me, port, 0, '');
          const back = sampleLatency(kernel.link(there, me), kernel.netRandom);
          kernel.at(kernel.now + back, me, incarnation, () => {
            if (kernel.blocked(there, me)) return; // lost: the timeout answers
            finish(
              new DistributedError(
                'UNKNOWN_PEER',
                `connection refused by ${remote.host}:${remote.port}`,
              ),
            );
          });
          return;
        }
        accept(acceptor);
      });
    };

    const accept = (acceptor: StreamAcceptor): void => {
      const server = new SimConnection(
        kernel,
        target,
        target.incarnation,
        remoteAddress,
        local,
        me,
      );
      const end = new SimConnection(kernel, node, incarnation, local, remoteAddress, there);
      SimConnection.pair(end, server);
      client = end;
      target.connections.add(server);
      if (node.incarnation === incarnation) node.connections.add(end);
      kernel.trace.record(kernel.now, 'stream-accept', there, remote.port, me, port, 0, '');
      try {
        acceptor.accept(server);
      } catch (error) {
        kernel.programError(target, error);
      }
      const sendSynAck = (): void => {
        const back = sampleLatency(kernel.link(there, me), kernel.netRandom);
        kernel.at(kernel.now + back, me, -1, () => {
          if (node.incarnation !== incarnation) {
            end.crashLocal(); // the connecting process died: its OS resets
            return;
          }
          if (settled) {
            end.destroy();
            return;
          }
          if (kernel.blocked(there, me)) {
            kernel.at(kernel.now + options.retransmitMs, -1, -1, sendSynAck);
            return;
          }
          finish(undefined);
        });
      };
      sendSynAck();
    };
    sendSyn();
  });
}
