/**
 * The bounded queue of encoded envelopes waiting to be written to one peer.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';

/**
 * Bytes counted per queued envelope on top of its encoding (security header,
 * seal, frame prefix), so many tiny envelopes cannot slip past the byte bound.
 *
 * @since 2.0.0
 */
export const QUEUED_ENVELOPE_OVERHEAD_BYTES = 64;

/**
 * A FIFO of encoded envelopes (the output of `SecureCodec.encode`) for one
 * peer, bounded in bytes. Envelopes are encoded when queued (which copies the
 * caller's payload once) and sealed when written, so a keyring rotation never
 * strands a queued envelope under a removed key.
 *
 * @since 2.0.0
 */
export class OutboundQueue {
  /** The byte bound; see `maxOutboundQueueBytes`. */
  readonly maxBytes: number;
  #items: Uint8Array[] = [];
  /** Index of the oldest item: taking from the front is O(1), the array is reset when empty. */
  #head = 0;
  #bytes = 0;

  /**
   * @param maxBytes - The most bytes queued at once (each envelope counted with its overhead).
   */
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** How many envelopes wait. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The bytes counted for the envelopes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Checks that an envelope with a payload of `payloadBytes` would fit, before it is encoded.
   *
   * @param peerId - For the error message.
   * @param payloadBytes - The payload's length.
   * @throws A {@link DistributedError} `CAPACITY_EXCEEDED` when it would not fit.
   */
  reserve(peerId: string, payloadBytes: number): void {
    const bytes = payloadBytes + QUEUED_ENVELOPE_OVERHEAD_BYTES;
    if (this.#bytes + bytes > this.maxBytes) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `the outbound queue to peer '${peerId}' holds ${this.#bytes} bytes; ` +
          `${bytes} more would pass maxOutboundQueueBytes (${this.maxBytes})`,
      );
    }
  }

  /**
   * Appends an encoded envelope (after {@link OutboundQueue.reserve} said it fits).
   *
   * @param encoded - The encoded envelope; the queue owns it from now on.
   */
  push(encoded: Uint8Array): void {
    this.#items.push(encoded);
    this.#bytes += encoded.length + QUEUED_ENVELOPE_OVERHEAD_BYTES;
  }

  /** The oldest envelope, without taking it. */
  peek(): Uint8Array | undefined {
    return this.#items[this.#head];
  }

  /** Takes the oldest envelope. */
  shift(): Uint8Array | undefined {
    const item = this.#items[this.#head];
    if (item === undefined) return undefined;
    this.#head += 1;
    this.#bytes -= item.length + QUEUED_ENVELOPE_OVERHEAD_BYTES;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return item;
  }

  /**
   * Discards everything queued.
   *
   * @returns How many envelopes were discarded.
   */
  clear(): number {
    const dropped = this.length;
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    return dropped;
  }
}
