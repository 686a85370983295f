/**
 * The embedded {@link GossipProtocol}: gossip on a network of one node.
 *
 * @packageDocumentation
 */

import { randomUUID } from 'node:crypto';
import type { CallOptions, Listener, Unsubscribe } from '../contracts/common.js';
import { DistributedError } from '../contracts/errors.js';
import type { GossipMessage, GossipProtocol } from '../contracts/p2p-network.js';
import { EventHub } from '../core/events.js';
import { BoundedIdSet, gossipMessageProblem } from '../core/gossip/gossip-message.js';
import { resolveEmbeddedOptions, type EmbeddedOptions } from './options.js';

/**
 * Options for {@link InMemoryGossipProtocol}.
 *
 * @since 2.0.0
 */
export interface InMemoryGossipProtocolOptions extends EmbeddedOptions {
  /**
   * This node's id, used as `originNodeId` by {@link InMemoryGossipProtocol.createMessage}.
   * Defaults to `node-` and eight random hex digits.
   */
  readonly nodeId?: string;
  /**
   * The most messages that may wait for delivery. When full, `spread` rejects
   * with `CAPACITY_EXCEEDED` and the new message is not accepted (nor remembered
   * as seen, so it can be spread again later); messages already pending are never
   * dropped. Defaults to 1 000.
   */
  readonly maxPending?: number;
  /**
   * The most message ids remembered for de-duplication. When full, the oldest id
   * is forgotten; a message whose id was forgotten is treated as new if spread
   * again. Ids of pending messages are always recognised. Defaults to 10 000.
   */
  readonly maxSeenIds?: number;
}

/** The default of {@link InMemoryGossipProtocolOptions.maxPending}. */
const DEFAULT_MAX_PENDING = 1_000;
/** The default of {@link InMemoryGossipProtocolOptions.maxSeenIds}. */
const DEFAULT_MAX_SEEN_IDS = 10_000;

/**
 * Gossip on a network of one node: this node is the only recipient, so a
 * message spread here is delivered to this node's own
 * {@link InMemoryGossipProtocol.onGossipReceived} subscribers.
 *
 * Delivery is asynchronous (on a later turn of the event loop, never inside
 * `spread`). A message stays pending — listed by
 * {@link InMemoryGossipProtocol.getPending} — until it has been delivered to at
 * least one subscriber: with no subscribers it waits, and the first subscriber
 * receives everything pending. Each message id is handled once; spreading a
 * seen id again does nothing. Payloads are copied on the way in and out.
 *
 * @since 2.0.0
 */
export class InMemoryGossipProtocol implements GossipProtocol {
  /** This node's id. */
  readonly nodeId: string;
  /** The most messages that may wait for delivery. */
  readonly maxPending: number;
  /** The most message ids remembered for de-duplication. */
  readonly maxSeenIds: number;
  readonly #now: () => number;
  readonly #subscribers: EventHub<GossipMessage>;
  // Insertion order is spread order, so delivery follows it.
  readonly #pending = new Map<string, GossipMessage>();
  readonly #seen: BoundedIdSet;
  #generation = 0;
  #flushScheduled = false;

  /**
   * @param options - Identity and bounds; everything has a default.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for an empty node id or
   *   bounds that are not positive integers.
   */
  constructor(options: InMemoryGossipProtocolOptions = {}) {
    const resolved = resolveEmbeddedOptions(options);
    this.#now = resolved.now;
    this.#subscribers = new EventHub(resolved.onListenerError);
    const nodeId = options.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
    if (typeof nodeId !== 'string' || nodeId === '') {
      throw new DistributedError('INVALID_ARGUMENT', 'nodeId must be a non-empty string');
    }
    const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    const maxSeenIds = options.maxSeenIds ?? DEFAULT_MAX_SEEN_IDS;
    for (const [name, value] of [
      ['maxPending', maxPending],
      ['maxSeenIds', maxSeenIds],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new DistributedError(
          'INVALID_ARGUMENT',
          `${name} must be a positive integer, got ${String(value)}`,
        );
      }
    }
    this.nodeId = nodeId;
    this.maxPending = maxPending;
    this.maxSeenIds = maxSeenIds;
    this.#seen = new BoundedIdSet(maxSeenIds);
  }

  /**
   * Builds a new message originating from this node: a random id, the next
   * generation (0, 1, 2, … per instance) and the current time. It is not spread.
   *
   * @param payload - The message's bytes; copied.
   * @returns The message, ready for {@link InMemoryGossipProtocol.spread}.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` when `payload` is not a `Uint8Array`.
   */
  createMessage(payload: Uint8Array): GossipMessage {
    if (!(payload instanceof Uint8Array)) {
      throw new DistributedError('INVALID_ARGUMENT', 'payload must be a Uint8Array');
    }
    const generation = this.#generation;
    this.#generation += 1;
    return Object.freeze({
      messageId: randomUUID(),
      originNodeId: this.nodeId,
      payload: payload.slice(),
      generation,
      timestamp: this.#now(),
    });
  }

  /**
   * Accepts a message for delivery to this node's subscribers. A message whose
   * id was already seen is ignored.
   *
   * @param message - The message to spread; its payload is copied.
   * @param options - Cancellation.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for a malformed message;
   *   `CAPACITY_EXCEEDED` when {@link InMemoryGossipProtocol.maxPending} messages
   *   are already waiting (the message is then not accepted).
   */
  async spread(message: GossipMessage, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    const problem = gossipMessageProblem(message);
    if (problem !== undefined) {
      throw new DistributedError('INVALID_ARGUMENT', `invalid gossip message: ${problem}`);
    }
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    // Check and insert in one synchronous step, so concurrent spreads of one id cannot both pass.
    if (this.#seen.has(message.messageId) || this.#pending.has(message.messageId)) return;
    if (this.#pending.size >= this.maxPending) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `cannot accept gossip '${message.messageId}': ${this.maxPending} messages are already ` +
          'pending (maxPending); subscribe with onGossipReceived so pending messages are delivered',
      );
    }
    this.#pending.set(message.messageId, copyMessage(message));
    this.#seen.add(message.messageId);
    this.#scheduleFlush();
  }

  /**
   * The messages not yet delivered to any subscriber, in the order they were spread.
   *
   * @param options - Cancellation.
   * @returns Copies of the pending messages.
   */
  async getPending(options?: CallOptions): Promise<readonly GossipMessage[]> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    return Object.freeze([...this.#pending.values()].map(copyMessage));
  }

  /**
   * Subscribes to messages spread on this node. Messages pending when the first
   * subscriber arrives are delivered to it.
   *
   * @param listener - Called once per message id; all subscribers of one delivery
   *   share one copy of the payload.
   */
  onGossipReceived(listener: Listener<GossipMessage>): Unsubscribe {
    const unsubscribe = this.#subscribers.subscribe(listener);
    this.#scheduleFlush();
    return unsubscribe;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#pending.size === 0 || this.#subscribers.size === 0) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    // Subscribers may unsubscribe (or spread more) while being called, so re-check every round.
    while (this.#subscribers.size > 0) {
      const next = this.#pending.entries().next();
      if (next.done === true) return;
      const [messageId, message] = next.value;
      this.#pending.delete(messageId);
      this.#subscribers.emit(copyMessage(message));
    }
  }
}

/**
 * A frozen copy of a message with its own payload bytes.
 *
 * @param message - The message to copy.
 */
function copyMessage(message: GossipMessage): GossipMessage {
  return Object.freeze({
    messageId: message.messageId,
    originNodeId: message.originNodeId,
    payload: message.payload.slice(),
    generation: message.generation,
    timestamp: message.timestamp,
  });
}
