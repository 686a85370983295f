/**
 * The native multi-node {@link GossipProtocol}: the pure {@link GossipEngine}
 * driven by a {@link Runtime} (its clock arms the rounds, its random source
 * picks the peers) over a {@link GossipTransport}.
 *
 * @packageDocumentation
 */

import type { CallOptions, Listener, Unsubscribe } from '../../contracts/common.js';
import { DistributedError } from '../../contracts/errors.js';
import type { GossipMessage, GossipProtocol } from '../../contracts/p2p-network.js';
import { EventHub } from '../../core/events.js';
import {
  DEFAULT_GOSSIP_BATCH_LIMITS,
  type GossipBatchRejectReason,
} from '../../core/gossip/batch-codec.js';
import {
  GossipEngine,
  type GossipEngineOptions,
  type GossipEngineStats,
  type GossipReceipt,
} from '../../core/gossip/gossip-engine.js';
import type { Runtime, Timer } from '../../runtime/runtime.js';
import type { GossipTransport } from './gossip-transport.js';

/**
 * Options of {@link NativeGossipProtocol}. The engine's bounds
 * ({@link GossipEngineOptions}) apply as documented there.
 *
 * @since 2.0.0
 */
export interface NativeGossipProtocolOptions extends Omit<GossipEngineOptions, 'nodeId'> {
  /** This node's id (`originNodeId` of messages it creates). Default the runtime's node id. */
  readonly nodeId?: string;
  /** Time between gossip rounds, in ms. Default 200 (memberlist's `GossipInterval`). */
  readonly gossipIntervalMs?: number;
  /**
   * Receives any error a subscriber throws. Default: printed to standard error.
   */
  readonly onListenerError?: (error: unknown) => void;
  /**
   * Told about every batch the decoder refused (it changed nothing and is
   * counted in {@link NativeGossipProtocol.stats}). Default: ignored beyond the count.
   */
  readonly onRejectedBatch?: (fromPeerId: string, reason: GossipBatchRejectReason) => void;
}

/**
 * Counters of a {@link NativeGossipProtocol}: the engine's, plus rounds run.
 *
 * @since 2.0.0
 */
export interface NativeGossipStats extends GossipEngineStats {
  /** Gossip rounds run. */
  readonly rounds: number;
}

/** The default of {@link NativeGossipProtocolOptions.gossipIntervalMs}. */
const DEFAULT_GOSSIP_INTERVAL_MS = 200;

/**
 * Infection-style gossip across nodes. Each round (every `gossipIntervalMs`,
 * the first at a random offset so nodes do not tick in step) the node sends a
 * batch of queued messages to `fanout` random peers; every message is sent
 * `max(minTransmits, retransmitMult · ⌈log10(N + 1)⌉)` times, those sent fewer times first, then
 * retired. A message new to this node — spread here or received from a peer —
 * is delivered once to the subscribers present, on a later turn of the node's
 * event loop (never inside `spread`); with no subscriber it waits, and the
 * first subscriber receives everything waiting.
 *
 * A message is pending ({@link NativeGossipProtocol.getPending}) while it is in
 * the transmit queue (other nodes may still lack it) or not yet delivered locally.
 *
 * Other traffic can carry gossip too: {@link NativeGossipProtocol.takePiggyback}
 * hands out a batch that fits a byte budget and
 * {@link NativeGossipProtocol.receivePiggyback} takes one in.
 *
 * @since 2.0.0
 */
export class NativeGossipProtocol implements GossipProtocol, Disposable {
  /** This node's id. */
  readonly nodeId: string;
  /** Time between rounds, in ms. */
  readonly gossipIntervalMs: number;
  readonly #runtime: Runtime;
  readonly #transport: GossipTransport;
  readonly #engine: GossipEngine;
  readonly #subscribers: EventHub<GossipMessage>;
  readonly #onRejectedBatch:
    ((fromPeerId: string, reason: GossipBatchRejectReason) => void) | undefined;
  readonly #offReceive: Unsubscribe;
  #roundTimer: Timer | undefined;
  #flushTimer: Timer | undefined;
  #generation = 0;
  #rounds = 0;
  #closed = false;

  /**
   * Starts gossiping at once: the first round runs within one interval.
   *
   * @param runtime - Clock, timers and random source.
   * @param transport - Peers and the channel to them.
   * @param options - Tunables and bounds; everything has a default.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for bad options.
   */
  constructor(
    runtime: Runtime,
    transport: GossipTransport,
    options: NativeGossipProtocolOptions = {},
  ) {
    const interval = options.gossipIntervalMs ?? DEFAULT_GOSSIP_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval <= 0) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `gossipIntervalMs must be positive, got ${String(interval)}`,
      );
    }
    const { gossipIntervalMs: _i, onListenerError, onRejectedBatch, ...engineOptions } = options;
    const limits =
      transport.maxBatchBytes === undefined
        ? engineOptions.limits
        : capBatchBytes(engineOptions.limits, transport.maxBatchBytes);
    this.#engine = new GossipEngine({
      ...engineOptions,
      nodeId: options.nodeId ?? runtime.nodeId,
      ...(limits === undefined ? {} : { limits }),
    });
    this.nodeId = this.#engine.nodeId;
    this.gossipIntervalMs = interval;
    this.#runtime = runtime;
    this.#transport = transport;
    this.#onRejectedBatch = onRejectedBatch;
    this.#subscribers = new EventHub(
      onListenerError ??
        ((error: unknown) => {
          console.error('a gossip subscriber threw:', error);
        }),
    );
    this.#offReceive = transport.onReceive((fromPeerId, batch) => {
      this.#receive(fromPeerId, batch);
    });
    this.#roundTimer = runtime.clock.setTimer(runtime.random.int(Math.ceil(interval)), () => {
      this.#round();
    });
  }

  /** The engine's counters (messages, duplicates, rejected batches, bytes out), plus rounds run. */
  get stats(): Readonly<NativeGossipStats> {
    return Object.freeze({ ...this.#engine.stats, rounds: this.#rounds });
  }

  /** Whether {@link NativeGossipProtocol.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Builds a new message originating from this node: a random id, the next
   * generation (0, 1, 2, … per instance) and the runtime's wall-clock time. It
   * is not spread.
   *
   * @param payload - The bytes; copied.
   * @returns The message.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` when `payload` is not a `Uint8Array`.
   */
  createMessage(payload: Uint8Array): GossipMessage {
    if (!(payload instanceof Uint8Array)) {
      throw new DistributedError('INVALID_ARGUMENT', 'payload must be a Uint8Array');
    }
    const generation = this.#generation++;
    const id = Buffer.from(this.#runtime.random.bytes(16)).toString('hex');
    return Object.freeze({
      messageId: id,
      originNodeId: this.nodeId,
      payload: payload.slice(),
      generation,
      timestamp: this.#runtime.clock.now(),
    });
  }

  /**
   * Accepts a message for spreading to every node and delivery here. A seen id
   * is ignored.
   *
   * @param message - The message; its payload is copied.
   * @param options - Cancellation.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for a malformed or
   *   oversized message; `CAPACITY_EXCEEDED` when `maxUndelivered` messages wait
   *   for a subscriber; `CLOSED` after {@link NativeGossipProtocol.close}.
   */
  async spread(message: GossipMessage, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    this.#assertOpen();
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    this.#assertOpen();
    if (this.#engine.spread(message)) this.#scheduleFlush();
  }

  /**
   * The messages still being sent to peers or not yet delivered here, in the
   * order this node accepted them.
   *
   * @param options - Cancellation.
   * @returns Copies.
   */
  async getPending(options?: CallOptions): Promise<readonly GossipMessage[]> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    return Object.freeze(this.#engine.pending().map(copyMessage));
  }

  /**
   * Subscribes to the messages this node receives, its own spreads included.
   * Messages waiting when a subscriber arrives are delivered to it.
   *
   * @param listener - Called once per message id; subscribers of one delivery share one copy.
   */
  onGossipReceived(listener: Listener<GossipMessage>): Unsubscribe {
    const unsubscribe = this.#subscribers.subscribe(listener);
    this.#scheduleFlush();
    return unsubscribe;
  }

  /**
   * A batch of queued gossip that fits `byteBudget`, to carry on other traffic
   * (a membership probe, a response). Counts as one send of each message in it.
   *
   * @param byteBudget - The most bytes it may take.
   * @returns The batch, or `undefined` when nothing is queued or nothing fits.
   */
  takePiggyback(byteBudget: number): Uint8Array | undefined {
    if (this.#closed) return undefined;
    return this.#engine.takeBatch(byteBudget);
  }

  /**
   * Handles a batch that came on other traffic, as if received by the transport.
   *
   * @param fromPeerId - The sender.
   * @param batch - The untrusted bytes.
   * @returns What the batch did.
   */
  receivePiggyback(fromPeerId: string, batch: Uint8Array): GossipReceipt {
    return this.#receive(fromPeerId, batch);
  }

  /** Stops the rounds and receipt; `spread` then rejects with `CLOSED`. Harmless twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#roundTimer?.cancel();
    this.#flushTimer?.cancel();
    this.#offReceive();
  }

  /** Same as {@link NativeGossipProtocol.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new DistributedError('CLOSED', 'the gossip protocol is closed');
  }

  #receive(fromPeerId: string, batch: Uint8Array): GossipReceipt {
    if (this.#closed) return Object.freeze({ accepted: 0, duplicates: 0, ignored: 0 });
    const receipt = this.#engine.receive(fromPeerId, batch);
    if (receipt.rejected !== undefined) this.#onRejectedBatch?.(fromPeerId, receipt.rejected);
    if (receipt.accepted > 0) this.#scheduleFlush();
    return receipt;
  }

  #round(): void {
    if (this.#closed) return;
    this.#rounds += 1;
    for (const { peerId, batch } of this.#engine.tick(
      this.#transport.peers(),
      this.#runtime.random,
    )) {
      this.#transport.send(peerId, batch);
    }
    this.#roundTimer = this.#runtime.clock.setTimer(this.gossipIntervalMs, () => {
      this.#round();
    });
  }

  #scheduleFlush(): void {
    if (this.#closed || this.#flushTimer !== undefined) return;
    if (this.#engine.undelivered === 0 || this.#subscribers.size === 0) return;
    this.#flushTimer = this.#runtime.clock.setTimer(0, () => {
      this.#flushTimer = undefined;
      this.#flush();
    });
  }

  #flush(): void {
    // Subscribers may unsubscribe (or spread more) while being called, so re-check each time.
    while (!this.#closed && this.#subscribers.size > 0) {
      const message = this.#engine.nextDelivery();
      if (message === undefined) return;
      this.#subscribers.emit(copyMessage(message));
    }
  }
}

function capBatchBytes(
  limits: GossipEngineOptions['limits'],
  transportMax: number,
): GossipEngineOptions['limits'] {
  const wanted = limits?.maxBatchBytes;
  if (wanted !== undefined && wanted <= transportMax) return limits;
  if (wanted === undefined && transportMax >= DEFAULT_GOSSIP_BATCH_LIMITS.maxBatchBytes)
    return limits;
  return { ...limits, maxBatchBytes: Math.min(wanted ?? transportMax, transportMax) };
}

function copyMessage(message: GossipMessage): GossipMessage {
  return Object.freeze({
    messageId: message.messageId,
    originNodeId: message.originNodeId,
    payload: message.payload.slice(),
    generation: message.generation,
    timestamp: message.timestamp,
  });
}
