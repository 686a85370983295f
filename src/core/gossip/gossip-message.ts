/**
 * Checks on {@link GossipMessage} values and the bounded memory of seen message
 * ids, shared by every gossip implementation.
 *
 * @packageDocumentation
 */

import type { GossipMessage } from '../../contracts/p2p-network.js';

/**
 * Checks a gossip message: a non-empty `messageId` and `originNodeId`, a
 * `Uint8Array` payload, a non-negative integer `generation` and a finite,
 * non-negative `timestamp`.
 *
 * @param message - The message to check (typed loosely: it may come from outside TypeScript).
 * @returns What is wrong with the message, or `undefined` when it is valid.
 * @since 2.0.0
 */
export function gossipMessageProblem(message: GossipMessage): string | undefined {
  if (typeof message !== 'object' || (message as unknown) === null)
    return 'a gossip message must be an object';
  if (typeof message.messageId !== 'string' || message.messageId === '') {
    return 'messageId must be a non-empty string';
  }
  if (typeof message.originNodeId !== 'string' || message.originNodeId === '') {
    return 'originNodeId must be a non-empty string';
  }
  if (!(message.payload instanceof Uint8Array)) return 'payload must be a Uint8Array';
  if (!Number.isSafeInteger(message.generation) || message.generation < 0) {
    return `generation must be a non-negative integer, got ${String(message.generation)}`;
  }
  if (!Number.isFinite(message.timestamp) || message.timestamp < 0) {
    return `timestamp must be a finite, non-negative number, got ${String(message.timestamp)}`;
  }
  return undefined;
}

/**
 * A set of ids that remembers at most `capacity` of them, forgetting the oldest
 * first. Gossip uses it to handle each message id once while keeping memory
 * bounded: an id forgotten this way is treated as new if it ever comes back.
 *
 * @since 2.0.0
 */
export class BoundedIdSet {
  /** The most ids remembered. */
  readonly capacity: number;
  // A Set iterates in insertion order, so its first element is always the oldest.
  readonly #ids = new Set<string>();

  /**
   * @param capacity - The most ids remembered; a positive integer.
   * @throws RangeError when `capacity` is not a positive integer.
   */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  /** How many ids are remembered. */
  get size(): number {
    return this.#ids.size;
  }

  /**
   * Whether `id` is remembered.
   *
   * @param id - The id to look up.
   */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /**
   * Remembers `id`, forgetting the oldest id when full.
   *
   * @param id - The id to remember.
   * @returns The id forgotten to make room, if any.
   */
  add(id: string): string | undefined {
    if (this.#ids.has(id)) return undefined;
    let forgotten: string | undefined;
    if (this.#ids.size >= this.capacity) {
      const oldest = this.#ids.values().next();
      if (oldest.done !== true) {
        forgotten = oldest.value;
        this.#ids.delete(forgotten);
      }
    }
    this.#ids.add(id);
    return forgotten;
  }
}
