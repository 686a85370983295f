/**
 * The sending side of the native network: envelopes are encoded when queued
 * and sealed, in batches, when written.
 *
 * @packageDocumentation
 */

import { DEFAULT_MAX_BATCH_ENVELOPES, WIRE_VERSION } from '../../core/wire/envelope.js';
import type { Envelope, EnvelopeKind } from '../../core/wire/envelope.js';
import { FRAME_PREFIX_BYTES } from '../../core/wire/frame.js';
import type { SecureCodec } from '../transport/secure-codec.js';
import type { PeerConnection } from './peer-connection.js';
import { openConnectionOf, type PeerState } from './peer-table.js';

/**
 * What one envelope carries; the outbox fills in the rest.
 *
 * @since 2.0.0
 */
export interface Outgoing {
  /** The envelope kind. */
  readonly kind: EnvelopeKind;
  /** The request's id for requests and their answers; 0 otherwise. */
  readonly correlationId: number;
  /** The payload; copied when the envelope is encoded. */
  readonly payload: Uint8Array;
  /** The error code of an `error` envelope. */
  readonly errorCode?: string;
}

/**
 * What an {@link Outbox} needs from its network.
 *
 * @since 2.0.0
 */
export interface OutboxOptions {
  /** This node's peer id: the `from` of every envelope. */
  readonly localPeerId: string;
  /** Encodes and seals. */
  readonly codec: SecureCodec;
  /** Wall-clock time for `sentAt`, in epoch ms. */
  readonly now: () => number;
  /** Monotonic time, in ms (connection activity). */
  readonly monotonic: () => number;
  /** Dials a peer that has no open connection. */
  readonly dial: (peer: PeerState) => void;
  /** Receives errors that cannot be thrown to a caller (a broken keyring, a failed write). */
  readonly onError: (error: unknown) => void;
}

/** A flush seals small envelopes into one frame (one stream write) until it holds this many bytes. */
const MAX_WRITE_BATCH_BYTES = 64 * 1024;
/** The most envelopes sealed into one frame: the receiver's default batch limit. */
const MAX_WRITE_BATCH_ENVELOPES = DEFAULT_MAX_BATCH_ENVELOPES;
/** An envelope at least this long is sealed into a frame of its own rather than copied into a batch. */
const SOLO_WRITE_BYTES = 16 * 1024;

/**
 * Queues, batches, seals and writes envelopes.
 *
 * An envelope is encoded when it is queued: the caller's payload is copied
 * once, into the encoding, and nothing is copied again until the kernel takes
 * the bytes. The queue is flushed at the end of the task that queued (a
 * microtask), so envelopes queued together (many requests in flight, replies
 * to a burst) are sealed together: one frame, one AES-GCM operation, one
 * sequence number and one stream write for up to 64 KiB of small envelopes; a
 * large envelope gets a frame of its own. Sealing happens at write time, so a
 * keyring rotation never strands a queued envelope under a removed key.
 *
 * A large envelope (16 KiB of payload or more) queued when nothing waits
 * ahead of it, to a peer with an open connection that takes writes, is sealed
 * and written at once instead, straight from the caller's payload: no copy of
 * the payload in the clear, and no fresh buffer for one.
 *
 * @since 2.0.0
 */
export class Outbox {
  readonly #options: OutboxOptions;
  #framesSent = 0;

  /**
   * @param options - Identity, codec, clocks, the dialler and the error sink.
   */
  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  /** Frames written. */
  get framesSent(): number {
    return this.#framesSent;
  }

  /**
   * Encodes an envelope for `peer` (copying its payload) and queues it; dials
   * the peer when it has no open connection.
   *
   * @param peer - A known peer.
   * @param item - What to send.
   * @throws A `DistributedError` `CAPACITY_EXCEEDED` when the queue is full (nothing queued).
   */
  enqueue(peer: PeerState, item: Outgoing): void {
    peer.queue.reserve(peer.peerId, item.payload.length);
    const target = openConnectionOf(peer);
    if (
      target !== undefined &&
      item.payload.length >= SOLO_WRITE_BYTES &&
      peer.queue.length === 0 &&
      target.writable &&
      this.#options.codec.seals
    ) {
      // A large envelope with nothing queued ahead of it and a connection ready: sealed and
      // written now, the cipher reading the caller's payload where it is (no copy of it, and
      // no fresh buffer for one: that costs more than the encryption at 64 KiB). It would be
      // a frame of its own anyway, and sealing now is sealing at write time.
      this.#writeSealed(target, this.#envelope(peer.peerId, item));
      return;
    }
    peer.queue.push(this.#options.codec.encode(this.#envelope(peer.peerId, item)));
    if (target !== undefined) {
      if (!peer.flushScheduled) {
        peer.flushScheduled = true;
        queueMicrotask(peer.flushTask);
      }
    } else if (!peer.dialing && peer.reconnectTimer === undefined) {
      this.#options.dial(peer);
    }
  }

  /**
   * Writes what `peer`'s queue holds to its open connection, until the queue is
   * empty or the connection pushes back (the rest waits for its drain).
   *
   * @param peer - A known peer.
   */
  flush(peer: PeerState): void {
    const target = openConnectionOf(peer);
    if (target === undefined) return;
    const { queue } = peer;
    while (queue.length > 0 && target.writable && target.state === 'open') {
      const first = queue.shift() as Uint8Array;
      const batch: Uint8Array[] = [first];
      if (first.length < SOLO_WRITE_BYTES) {
        let batchBytes = first.length;
        for (;;) {
          const next = queue.peek();
          if (
            next === undefined ||
            next.length >= SOLO_WRITE_BYTES ||
            batchBytes + next.length > MAX_WRITE_BATCH_BYTES ||
            batch.length >= MAX_WRITE_BATCH_ENVELOPES
          ) {
            break;
          }
          batch.push(queue.shift() as Uint8Array);
          batchBytes += next.length;
        }
      }
      this.#write(target, batch, true);
    }
  }

  /**
   * Writes one envelope straight to a connection, ahead of any queue (hello,
   * goodbye, keepalive). Failures are reported, not thrown.
   *
   * @param connection - A live connection.
   * @param to - The recipient (`''` for a first hello).
   * @param item - What to send.
   * @param traffic - Whether it counts as traffic for idle close (keepalives do not).
   */
  writeDirect(connection: PeerConnection, to: string, item: Outgoing, traffic: boolean): void {
    let encoded: Uint8Array;
    try {
      encoded = this.#options.codec.encode(this.#envelope(to, item));
    } catch (error) {
      this.#options.onError(error);
      return;
    }
    this.#write(connection, [encoded], traffic);
  }

  /** Seals encoded envelopes into one frame and writes it; a failure is reported. */
  #write(connection: PeerConnection, encoded: readonly Uint8Array[], traffic: boolean): void {
    let framed: Uint8Array;
    try {
      framed = this.#options.codec.sealBatch(encoded, FRAME_PREFIX_BYTES);
    } catch (error) {
      // Sealing only fails on a broken keyring; the envelopes cannot be sent.
      this.#options.onError(error);
      return;
    }
    this.#writeFrame(connection, framed, traffic);
  }

  /**
   * Seals one envelope into a frame of its own and writes it. An invalid
   * envelope throws, as encoding it for the queue would (nothing is written).
   */
  #writeSealed(connection: PeerConnection, envelope: Envelope): void {
    this.#writeFrame(connection, this.#options.codec.seal(envelope, FRAME_PREFIX_BYTES), true);
  }

  #writeFrame(connection: PeerConnection, framed: Uint8Array, traffic: boolean): void {
    try {
      connection.writeFramed(framed, traffic ? this.#options.monotonic() : undefined);
      this.#framesSent += 1;
    } catch (error) {
      this.#options.onError(error);
    }
  }

  #envelope(to: string, item: Outgoing): Envelope {
    const { localPeerId, now } = this.#options;
    // Two literal shapes rather than a conditional spread: one object per envelope.
    return item.errorCode === undefined
      ? {
          version: WIRE_VERSION,
          kind: item.kind,
          from: localPeerId,
          to,
          correlationId: item.correlationId,
          sentAt: now(),
          payload: item.payload,
        }
      : {
          version: WIRE_VERSION,
          kind: item.kind,
          from: localPeerId,
          to,
          correlationId: item.correlationId,
          sentAt: now(),
          payload: item.payload,
          errorCode: item.errorCode,
        };
  }
}
