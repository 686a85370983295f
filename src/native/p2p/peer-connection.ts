/**
 * One stream connection of the native network: its frame decoder, its
 * handshake state and its write side with backpressure.
 *
 * @packageDocumentation
 */

import { Buffer } from 'node:buffer';
import type { Unsubscribe } from '../../contracts/common.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_PREFIX_BYTES,
  FrameDecoder,
} from '../../core/wire/frame.js';
import { WireError } from '../../core/wire/wire-error.js';
import type { StreamConnection, Timer } from '../../runtime/runtime.js';
import type { GoodbyeReason } from './control.js';

/**
 * Frame bodies are reassembled into uninitialised memory: every byte is
 * overwritten, and zeroing a large frame first costs more than the copy.
 * (`Buffer.allocUnsafe` gives a buffer of its own from 4 KiB up, so a large
 * body can be handed over whole; smaller ones share Node's pool and are never
 * handed over.)
 */
function allocateUnsafe(size: number): Uint8Array {
  return Buffer.allocUnsafe(size);
}

/**
 * Where a connection is in its life:
 * - `handshaking`: open, waiting for the other side's `hello`;
 * - `open`: greeted; carries traffic for {@link PeerConnection.peerId};
 * - `closing`: being closed (idle, refused, shutting down); carries nothing more;
 * - `closed`: gone, and cleaned up.
 *
 * @since 2.0.0
 */
export type PeerConnectionState = 'handshaking' | 'open' | 'closing' | 'closed';

/**
 * An address dialled without knowing whose it is (a seed, or a probe), so a
 * failed or succeeded dial can be told back.
 *
 * @since 2.0.0
 */
export interface SeedState {
  /** The seed's address. */
  readonly host: string;
  /** The seed's port. */
  readonly port: number;
  /** A dial is in progress. */
  dialing: boolean;
  /** Consecutive failed dials, for the backoff. */
  attempt: number;
  /** The scheduled retry, if any. */
  timer: Timer | undefined;
  /** The seed turned out to be this node itself: never dialled again. */
  self: boolean;
  /** The peer last met at this address. */
  peerId: string | undefined;
  /** Retried with backoff (a configured seed) or dialled once (a probe of a peer named second hand). */
  readonly retry: boolean;
}

/**
 * A stream that can take ownership of the bytes it is given, sending them
 * without the copy {@link StreamConnection.write} makes (the Node runtime's
 * streams can). An optional capability: streams without it are written with
 * `write`.
 *
 * @since 2.0.0
 */
export interface OwnedWriteStream extends StreamConnection {
  /**
   * Queues `data` for sending without copying it.
   *
   * @param data - The bytes; the caller never touches them again.
   * @returns `false` above the high-water mark, as `write` does.
   */
  writeOwned(data: Uint8Array): boolean;
}

/**
 * One connection and what the network knows about it.
 *
 * @since 2.0.0
 */
export class PeerConnection {
  /** The stream. */
  readonly stream: StreamConnection;
  /** Whether this node dialled it. */
  readonly outbound: boolean;
  /** For an outbound connection to a known peer: the peer it was dialled for. */
  readonly expectedPeerId: string | undefined;
  /** For an outbound connection to a seed: the seed. */
  readonly seed: SeedState | undefined;
  /** The greeted peer, once its `hello` was accepted. */
  peerId: string | undefined;
  /** See {@link PeerConnectionState}. */
  state: PeerConnectionState = 'handshaking';
  /** `false` while the stream is above its high-water mark (wait for drain). */
  writable = true;
  /**
   * Monotonic time of the last traffic in either direction, for idle close
   * (keepalive probes and answers do not count).
   */
  lastActivity: number;
  /** Monotonic time the last frame was received and accepted, for keepalive. */
  lastReceived: number;
  /** Monotonic time of the keepalive probe still unanswered, if any. */
  keepaliveSentAt: number | undefined = undefined;
  /** This node decided to close it (idle, refused, shutdown): no reconnection follows. */
  closedByUs = false;
  /** What the other side said when it closed, if it said goodbye. */
  goodbye: GoodbyeReason | undefined;
  /** The handshake deadline, while handshaking. */
  handshakeTimer: Timer | undefined;
  readonly #decoder: FrameDecoder;
  readonly #subscriptions: Unsubscribe[] = [];
  readonly #writeOwned: ((data: Uint8Array) => boolean) | undefined;

  /**
   * @param stream - The stream.
   * @param init - Direction, what it was dialled for, the frame limit and the current time.
   */
  constructor(
    stream: StreamConnection,
    init: {
      readonly outbound: boolean;
      readonly expectedPeerId: string | undefined;
      readonly seed: SeedState | undefined;
      readonly maxFrameBytes: number | undefined;
      readonly now: number;
    },
  ) {
    this.stream = stream;
    this.outbound = init.outbound;
    this.expectedPeerId = init.expectedPeerId;
    this.seed = init.seed;
    this.lastActivity = init.now;
    this.lastReceived = init.now;
    const owned = (stream as Partial<OwnedWriteStream>).writeOwned;
    this.#writeOwned = typeof owned === 'function' ? owned.bind(stream) : undefined;
    // Bodies may be views of the received chunk: the network opens each at once
    // (the codec decrypts or decodes it into new arrays) and keeps nothing of it.
    this.#decoder = new FrameDecoder(
      init.maxFrameBytes === undefined
        ? { copyBodies: false, allocate: allocateUnsafe }
        : { maxFrameBytes: init.maxFrameBytes, copyBodies: false, allocate: allocateUnsafe },
    );
  }

  /**
   * Subscribes to the stream's events; undone by {@link PeerConnection.release}.
   *
   * @param handlers - What to call on data, drain and close.
   */
  attach(handlers: {
    readonly onData: (chunk: Uint8Array) => void;
    readonly onDrain: () => void;
    readonly onClose: (error?: Error) => void;
  }): void {
    this.#subscriptions.push(
      this.stream.onData(handlers.onData),
      this.stream.onDrain(handlers.onDrain),
      this.stream.onClose(handlers.onClose),
    );
  }

  /**
   * Splits received bytes into frame bodies.
   *
   * @param chunk - Bytes as received.
   * @returns Complete frame bodies, in order; a body that arrived whole in `chunk` is a view of
   *   it, so open it before `chunk` could change and keep nothing of it.
   * @throws WireError `frame-too-large` for an oversized length prefix.
   */
  frames(chunk: Uint8Array): Uint8Array[] {
    return this.#decoder.push(chunk);
  }

  /**
   * Whether a body returned by {@link PeerConnection.frames} for `chunk` was
   * reassembled into a buffer of its own (so it can be handed over to the
   * codec), rather than being a view of the chunk.
   *
   * @param body - A body from `frames(chunk)`.
   * @param chunk - The chunk it came from.
   */
  static ownsBody(body: Uint8Array, chunk: Uint8Array): boolean {
    return body.buffer !== chunk.buffer;
  }

  /**
   * Writes frames in one stream write. Each array holds a frame body after
   * {@link FRAME_PREFIX_BYTES} free bytes (as `SecureCodec.seal` and
   * `sealBatch` leave them with that headroom), where the length prefix is
   * written in place. The connection owns the arrays from then on: a single
   * frame goes to a stream that can take ownership ({@link OwnedWriteStream})
   * without any copy; several are joined into one array first.
   *
   * @param framed - A frame, or frames in order, with room for their prefix; not touched by
   *   the caller afterwards.
   * @param activityAt - Monotonic time, when the write counts as traffic for idle close
   *   (keepalives do not).
   * @throws WireError `frame-too-large` when a body is longer than the wire limit
   *   (nothing is written then).
   */
  writeFramed(framed: Uint8Array | readonly Uint8Array[], activityAt?: number): void {
    const frames = framed instanceof Uint8Array ? [framed] : framed;
    let total = 0;
    for (const frame of frames) {
      const bodyLength = frame.length - FRAME_PREFIX_BYTES;
      if (bodyLength > DEFAULT_MAX_FRAME_BYTES) {
        throw new WireError(
          'frame-too-large',
          `frame body of ${bodyLength} bytes exceeds the limit of ${DEFAULT_MAX_FRAME_BYTES}`,
        );
      }
      total += frame.length;
    }
    for (const frame of frames) {
      const bodyLength = frame.length - FRAME_PREFIX_BYTES;
      frame[0] = bodyLength >>> 24;
      frame[1] = (bodyLength >>> 16) & 0xff;
      frame[2] = (bodyLength >>> 8) & 0xff;
      frame[3] = bodyLength & 0xff;
    }
    let bytes: Uint8Array;
    if (frames.length === 1) {
      bytes = frames[0] as Uint8Array;
    } else {
      bytes = new Uint8Array(total);
      let offset = 0;
      for (const frame of frames) {
        bytes.set(frame, offset);
        offset += frame.length;
      }
    }
    if (activityAt !== undefined) this.lastActivity = activityAt;
    const accepted =
      this.#writeOwned === undefined ? this.stream.write(bytes) : this.#writeOwned(bytes);
    if (!accepted) this.writable = false;
  }

  /**
   * Records an accepted frame: the peer is alive, any keepalive probe is answered.
   *
   * @param now - Monotonic time.
   * @param traffic - Whether the frame counts as traffic for idle close.
   */
  received(now: number, traffic: boolean): void {
    this.lastReceived = now;
    this.keepaliveSentAt = undefined;
    if (traffic) this.lastActivity = now;
  }

  /** Whether it still carries traffic (handshaking or open). */
  get live(): boolean {
    return this.state === 'handshaking' || this.state === 'open';
  }

  /** Drops the stream subscriptions and the handshake timer. */
  release(): void {
    this.handshakeTimer?.cancel();
    this.handshakeTimer = undefined;
    for (const unsubscribe of this.#subscriptions.splice(0)) unsubscribe();
  }
}
