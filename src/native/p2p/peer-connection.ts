/**
 * One stream connection of the native network: its frame decoder, its
 * handshake state and its write side with backpressure.
 *
 * @packageDocumentation
 */

import type { Unsubscribe } from '../../contracts/common.js';
import { FrameDecoder, encodeFrame } from '../../core/wire/frame.js';
import type { StreamConnection, Timer } from '../../runtime/runtime.js';
import type { GoodbyeReason } from './control.js';

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
  /** Monotonic time of the last frame in either direction. */
  lastActivity: number;
  /** This node decided to close it (idle, refused, shutdown): no reconnection follows. */
  closedByUs = false;
  /** What the other side said when it closed, if it said goodbye. */
  goodbye: GoodbyeReason | undefined;
  /** The handshake deadline, while handshaking. */
  handshakeTimer: Timer | undefined;
  readonly #decoder: FrameDecoder;
  readonly #subscriptions: Unsubscribe[] = [];

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
    this.#decoder = new FrameDecoder(
      init.maxFrameBytes === undefined ? {} : { maxFrameBytes: init.maxFrameBytes },
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
   * @returns Complete frame bodies, in order.
   * @throws WireError `frame-too-large` for an oversized length prefix.
   */
  frames(chunk: Uint8Array): Uint8Array[] {
    return this.#decoder.push(chunk);
  }

  /**
   * Writes one frame body, length-prefixed.
   *
   * @param body - A sealed envelope.
   * @param now - Monotonic time, for idle tracking.
   */
  writeFrame(body: Uint8Array, now: number): void {
    this.lastActivity = now;
    if (!this.stream.write(encodeFrame(body))) this.writable = false;
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
