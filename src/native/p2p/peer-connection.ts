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

/** Bodies from this size on may be reassembled into reused memory (smaller ones come from Node's pool). */
const MIN_REUSED_BODY_BYTES = 4096;
/** Bodies above this size are always reassembled into fresh memory, so the reused memory stays small. */
const MAX_REUSED_BODY_BYTES = 256 * 1024;
/** The most reassembly buffers kept for reuse in a process: at most 8 × 256 KiB. */
const MAX_REUSED_BUFFERS = 8;
/** Reused buffers grow in steps of this many bytes, so slightly larger frames do not regrow them. */
const REUSED_BUFFER_STEP = 64 * 1024;

/** One reused reassembly buffer and who holds it. */
interface PooledBuffer {
  memory: ArrayBuffer;
  state: 'free' | 'inProgress' | 'returned';
  owner: PeerConnection | undefined;
}

/**
 * Reassembly memory reused from frame to frame.
 *
 * Why: making and first writing a fresh large buffer is what a large frame
 * cost most on the receiving side (on these machines several times a copy
 * into memory already in use). A body over reused memory is not handed over
 * ({@link PeerConnection.ownsBody} says so), so the codec keeps nothing of it:
 * a sealed body decrypts into new memory anyway, and a plaintext one has its
 * payload copied out, which measured cheaper than reassembling into fresh
 * memory and keeping the payload as a view of it (about a quarter off the p50
 * of a 64 KiB plaintext echo).
 *
 * Lending: a buffer is lent to a connection's decoder when a frame's body
 * starts (`inProgress`), becomes `returned` when that body is handed to the
 * network, and is free again at the next {@link PeerConnection.frames} call on
 * any connection, because the network opens every body, keeping nothing of
 * it, before it reads the next chunk of any connection (the contract of
 * `frames`). A connection released with a body in progress frees it. When no
 * buffer is free, bodies are reassembled into fresh memory as before.
 */
class ReassemblyPool {
  readonly #entries: PooledBuffer[] = [];
  readonly #pooled = new WeakSet<ArrayBufferLike>();

  /** Whether `memory` belongs to the pool (so a body over it must not be handed over). */
  owns(memory: ArrayBufferLike): boolean {
    return this.#pooled.has(memory);
  }

  /** A body of `size` bytes over reused memory for `owner`, or `undefined` when none is free. */
  lend(size: number, owner: PeerConnection): Uint8Array | undefined {
    let candidate: PooledBuffer | undefined;
    for (const entry of this.#entries) {
      if (entry.state !== 'free') continue;
      if (entry.memory.byteLength >= size) {
        candidate = entry;
        break;
      }
      candidate ??= entry;
    }
    if (candidate === undefined) {
      if (this.#entries.length >= MAX_REUSED_BUFFERS) return undefined;
      candidate = { memory: this.#grow(size), state: 'free', owner: undefined };
      this.#entries.push(candidate);
    } else if (candidate.memory.byteLength < size) {
      candidate.memory = this.#grow(size);
    }
    candidate.state = 'inProgress';
    candidate.owner = owner;
    return new Uint8Array(candidate.memory, 0, size);
  }

  /** Marks the memory of a body handed to the network. */
  returned(memory: ArrayBufferLike): void {
    for (const entry of this.#entries) {
      if (entry.memory === memory) {
        entry.state = 'returned';
        entry.owner = undefined;
        return;
      }
    }
  }

  /** Frees every buffer whose body was handed to the network (all of them have been opened by now). */
  releaseReturned(): void {
    for (const entry of this.#entries) if (entry.state === 'returned') entry.state = 'free';
  }

  /** Frees what `owner` holds (it is closed). */
  releaseOwner(owner: PeerConnection): void {
    for (const entry of this.#entries) {
      if (entry.owner === owner) {
        entry.state = 'free';
        entry.owner = undefined;
      }
    }
  }

  #grow(size: number): ArrayBuffer {
    const capacity = Math.ceil(size / REUSED_BUFFER_STEP) * REUSED_BUFFER_STEP;
    const memory = new ArrayBuffer(capacity);
    this.#pooled.add(memory);
    return memory;
  }
}

/** One pool per process: the network reads one chunk at a time, on one thread. */
const reassemblyPool = new ReassemblyPool();

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
    const allocate = (size: number): Uint8Array => this.#allocateBody(size);
    this.#decoder = new FrameDecoder(
      init.maxFrameBytes === undefined
        ? { copyBodies: false, allocate }
        : { maxFrameBytes: init.maxFrameBytes, copyBodies: false, allocate },
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
   * @returns Complete frame bodies, in order. A body that arrived whole in `chunk` is a view of
   *   it, and a large body may be reassembled into memory reused for later frames (of any
   *   connection): so open every body before the next call of `frames` on any connection, and
   *   keep nothing of it (see {@link PeerConnection.ownsBody}).
   * @throws WireError `frame-too-large` for an oversized length prefix.
   */
  frames(chunk: Uint8Array): Uint8Array[] {
    reassemblyPool.releaseReturned();
    const bodies = this.#decoder.push(chunk);
    for (const body of bodies) {
      if (reassemblyPool.owns(body.buffer)) reassemblyPool.returned(body.buffer);
    }
    return bodies;
  }

  /**
   * Whether a body returned by {@link PeerConnection.frames} for `chunk` was
   * reassembled into a buffer of its own that may be handed over to the codec
   * (neither a view of the chunk nor reused memory).
   *
   * @param body - A body from `frames(chunk)`.
   * @param chunk - The chunk it came from.
   */
  static ownsBody(body: Uint8Array, chunk: Uint8Array): boolean {
    return body.buffer !== chunk.buffer && !reassemblyPool.owns(body.buffer);
  }

  /**
   * Memory for a body the decoder reassembles: reused memory for a large body
   * while some is free (see {@link ReassemblyPool}), fresh memory otherwise.
   */
  #allocateBody(size: number): Uint8Array {
    if (size >= MIN_REUSED_BODY_BYTES && size <= MAX_REUSED_BODY_BYTES) {
      const reused = reassemblyPool.lend(size, this);
      if (reused !== undefined) return reused;
    }
    return allocateUnsafe(size);
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

  /** Drops the stream subscriptions, the handshake timer and any reassembly memory held. */
  release(): void {
    reassemblyPool.releaseOwner(this);
    this.handshakeTimer?.cancel();
    this.handshakeTimer = undefined;
    for (const unsubscribe of this.#subscriptions.splice(0)) unsubscribe();
  }
}
