/**
 * What goes inside each frame: an envelope, sealed with the cluster keyring (or,
 * only behind the development flag, in plaintext), behind a header that lets
 * the receiver refuse replays.
 *
 * Frame body layout (integers big-endian):
 *
 * | bytes | field |
 * | ----- | ----- |
 * | 1 | mode: `0x11` sealed, `0x12` plaintext (high nibble: header version 1) |
 * | 8 | the sender's session epoch, random per process start |
 * | 8 | the sequence number, 1, 2, 3, ... within the session |
 * | rest | the sealed envelope ({@link Keyring.seal} layout), or the plain envelope |
 *
 * The 17-byte header is the associated data of the seal, so it cannot be
 * altered; the sender id is inside the sealed envelope.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import {
  decodeEnvelope,
  encodeEnvelope,
  type Envelope,
  type EnvelopeLimits,
} from '../../core/wire/envelope.js';
import {
  createRejectCounters,
  WireError,
  type WireRejectReason,
} from '../../core/wire/wire-error.js';
import type { Keyring } from './keyring.js';

/**
 * Options of a {@link SecureCodec}.
 *
 * @since 2.0.0
 */
export interface SecureCodecOptions {
  /** The cluster keyring; required unless `allowPlaintext` is set. */
  readonly keyring?: Keyring;
  /**
   * Development only: without a keyring, send plaintext; with or without one,
   * accept plaintext frames. Never set it in production.
   */
  readonly allowPlaintext?: boolean;
  /** This node's id: the `from` of everything sealed, the `to` accepted on open. */
  readonly localNodeId: string;
  /** Randomness for the session epoch (use a secure source in production). */
  readonly random: {
    /** Returns `n` random bytes. */
    bytes(n: number): Uint8Array;
  };
  /** How many sequence numbers behind the newest are still accepted once; defaults to {@link DEFAULT_REPLAY_WINDOW}. */
  readonly replayWindow?: number;
  /** The most senders whose replay state is kept (least recently heard forgotten first); defaults to {@link DEFAULT_MAX_TRACKED_SENDERS}. */
  readonly maxTrackedSenders?: number;
  /** The most past session epochs remembered per sender, refused if replayed; defaults to {@link DEFAULT_MAX_RETIRED_EPOCHS}. */
  readonly maxRetiredEpochs?: number;
  /** Bounds for the envelopes sealed and opened. */
  readonly limits?: EnvelopeLimits;
  /**
   * Whether `open` refuses envelopes addressed to another node (`to` neither this
   * node's id nor `''`) as `misdirected`; defaults to `true`.
   */
  readonly checkRecipient?: boolean;
}

/**
 * The default replay window: 1024 sequence numbers.
 *
 * @since 2.0.0
 */
export const DEFAULT_REPLAY_WINDOW = 1024;

/**
 * The default most senders tracked for replay protection.
 *
 * @since 2.0.0
 */
export const DEFAULT_MAX_TRACKED_SENDERS = 4096;

/**
 * The default most retired session epochs remembered per sender.
 *
 * @since 2.0.0
 */
export const DEFAULT_MAX_RETIRED_EPOCHS = 8;

/**
 * The length of the security header in front of every frame body.
 *
 * @since 2.0.0
 */
export const SECURE_HEADER_BYTES = 17;

const MODE_SEALED = 0x11;
const MODE_PLAIN = 0x12;
const HEADER_VERSION = 1;

/** Replay state of one sender: its current session and the sequence numbers seen in the window. */
class SenderState {
  epoch: bigint;
  highest = 0;
  readonly #window: number;
  readonly #seen: Uint32Array;
  readonly retired: bigint[] = [];

  constructor(epoch: bigint, window: number) {
    this.epoch = epoch;
    this.#window = window;
    this.#seen = new Uint32Array(Math.ceil(window / 32));
  }

  #slot(sequence: number): number {
    return sequence % this.#window;
  }

  #isSeen(sequence: number): boolean {
    const slot = this.#slot(sequence);
    return ((this.#seen[slot >>> 5] ?? 0) & (1 << (slot & 31))) !== 0;
  }

  #mark(sequence: number, seen: boolean): void {
    const slot = this.#slot(sequence);
    const word = this.#seen[slot >>> 5] ?? 0;
    const bit = 1 << (slot & 31);
    this.#seen[slot >>> 5] = seen ? word | bit : word & ~bit;
  }

  /** Why `sequence` of the current epoch must be refused, if it must. */
  replayProblem(sequence: number): string | undefined {
    if (sequence > this.highest) return undefined;
    if (this.highest - sequence >= this.#window) {
      return `sequence ${sequence} is older than the replay window (newest ${this.highest})`;
    }
    return this.#isSeen(sequence) ? `sequence ${sequence} was already received` : undefined;
  }

  accept(sequence: number): void {
    if (sequence > this.highest) {
      if (sequence - this.highest >= this.#window) this.#seen.fill(0);
      else for (let s = this.highest + 1; s < sequence; s++) this.#mark(s, false);
      this.highest = sequence;
    }
    this.#mark(sequence, true);
  }

  restart(epoch: bigint, maxRetired: number): void {
    this.retired.push(this.epoch);
    if (this.retired.length > maxRetired) this.retired.shift();
    this.epoch = epoch;
    this.highest = 0;
    this.#seen.fill(0);
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `${name} must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Seals outgoing envelopes into frame bodies and opens incoming ones, refusing
 * anything unauthenticated, tampered, replayed, malformed or (without the
 * development flag) plaintext. Each refusal throws a {@link WireError}, counts
 * in {@link SecureCodec.rejected} and leaves the codec's state unchanged.
 *
 * Replay protection: each codec draws a random 64-bit session epoch and numbers
 * what it seals 1, 2, 3, ...; the receiver keeps, per sender, the current epoch
 * and a sliding window of sequence numbers, and refuses a number seen before,
 * one older than the window, or one from a retired epoch. A new epoch (the
 * sender restarted) is accepted and retires the previous one. Replay state is
 * updated only after the frame authenticated and decoded.
 *
 * Limits, documented honestly: a sender forgotten because more than
 * `maxTrackedSenders` were heard from, or an epoch older than
 * `maxRetiredEpochs` restarts, is no longer protected; frames reordered by more
 * than `replayWindow` sequence numbers are refused (so use one ordered
 * connection per peer). Any holder of a cluster key can claim any sender id.
 *
 * @example
 * ```ts
 * const codec = new SecureCodec({ keyring, localNodeId: 'node-a', random: runtime.random });
 * socket.write(encodeFrame(codec.seal(envelope)));
 * for (const body of frames.push(chunk)) handle(codec.open(body));
 * ```
 *
 * @since 2.0.0
 */
export class SecureCodec {
  /** This node's id. */
  readonly localNodeId: string;
  readonly #keyring: Keyring | undefined;
  readonly #allowPlaintext: boolean;
  readonly #checkRecipient: boolean;
  readonly #limits: EnvelopeLimits | undefined;
  readonly #replayWindow: number;
  readonly #maxTrackedSenders: number;
  readonly #maxRetiredEpochs: number;
  readonly #epoch: Uint8Array;
  #sequence = 0;
  // A Map iterates in insertion order; re-inserting on every accepted frame keeps it least-recent first.
  readonly #senders = new Map<string, SenderState>();
  /** The sender last moved to the end of {@link SecureCodec.#senders} (no need to move it again). */
  #mostRecentSender: string | undefined;
  readonly #rejected = createRejectCounters();

  /**
   * @param options - Keyring or development flag, identity, randomness and bounds.
   * @throws DistributedError `INVALID_ARGUMENT` when there is neither a keyring nor
   *   `allowPlaintext`, or a bound or the node id is invalid.
   */
  constructor(options: SecureCodecOptions) {
    if (typeof options.localNodeId !== 'string' || options.localNodeId === '') {
      throw new DistributedError('INVALID_ARGUMENT', 'localNodeId must be a non-empty string');
    }
    if (options.keyring === undefined && options.allowPlaintext !== true) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'a keyring is required; plaintext needs the explicit allowPlaintext development flag',
      );
    }
    this.localNodeId = options.localNodeId;
    this.#keyring = options.keyring;
    this.#allowPlaintext = options.allowPlaintext === true;
    this.#checkRecipient = options.checkRecipient !== false;
    this.#limits = options.limits;
    this.#replayWindow = positiveInteger(
      options.replayWindow ?? DEFAULT_REPLAY_WINDOW,
      'replayWindow',
    );
    this.#maxTrackedSenders = positiveInteger(
      options.maxTrackedSenders ?? DEFAULT_MAX_TRACKED_SENDERS,
      'maxTrackedSenders',
    );
    this.#maxRetiredEpochs = positiveInteger(
      options.maxRetiredEpochs ?? DEFAULT_MAX_RETIRED_EPOCHS,
      'maxRetiredEpochs',
    );
    const epoch = options.random.bytes(8);
    if (!(epoch instanceof Uint8Array) || epoch.length !== 8) {
      throw new DistributedError('INVALID_ARGUMENT', 'random.bytes(8) must return 8 bytes');
    }
    this.#epoch = Uint8Array.from(epoch);
  }

  /** How many incoming frames were refused, per reason (a frozen snapshot). */
  get rejected(): Readonly<Record<WireRejectReason, number>> {
    return Object.freeze({ ...this.#rejected });
  }

  /** How many senders' replay state is currently kept. */
  get trackedSenders(): number {
    return this.#senders.size;
  }

  /**
   * Seals an envelope into a frame body, with the next sequence number.
   *
   * @param envelope - The envelope; its `from` must be this node's id.
   * @param headroom - Bytes left free (zero) in front of the body, for example for the frame's
   *   length prefix, so the caller need not copy the body again; defaults to 0.
   * @returns The frame body (wrap it with `encodeFrame`), after `headroom` zero bytes.
   * @throws DistributedError `INVALID_ARGUMENT` when the envelope is invalid or not from this node.
   */
  seal(envelope: Envelope, headroom = 0): Uint8Array {
    if (envelope.from !== this.localNodeId) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `cannot seal an envelope from ${JSON.stringify(envelope.from)} on node ${this.localNodeId}`,
      );
    }
    const bodyStart = headroom + SECURE_HEADER_BYTES;
    // The envelope and the seal are written after room for the header, so nothing is copied twice.
    const plain = encodeEnvelope(
      envelope,
      this.#limits,
      this.#keyring === undefined ? bodyStart : 0,
    );
    const sequence = this.#sequence + 1;
    const header = new Uint8Array(SECURE_HEADER_BYTES);
    const view = new DataView(header.buffer);
    header[0] = this.#keyring === undefined ? MODE_PLAIN : MODE_SEALED;
    header.set(this.#epoch, 1);
    view.setUint32(9, Math.floor(sequence / 0x1_0000_0000), false);
    view.setUint32(13, sequence >>> 0, false);
    const body = this.#keyring === undefined ? plain : this.#keyring.seal(plain, header, bodyStart);
    this.#sequence = sequence;
    body.set(header, headroom);
    return body;
  }

  /**
   * Opens a frame body: authenticates, decrypts, decodes and checks for replay.
   *
   * @param body - A frame body from the network (any bytes).
   * @returns The envelope, frozen.
   * @throws WireError `truncated`, `malformed`, `unsupported-version`, `limit-exceeded`,
   *   `unknown-key`, `unauthenticated`, `plaintext-refused`, `misdirected` or `replayed`;
   *   never another error. The reason is counted in {@link SecureCodec.rejected}.
   */
  open(body: Uint8Array): Envelope {
    try {
      return this.#open(body);
    } catch (error) {
      const wireError =
        error instanceof WireError
          ? error
          : new WireError('malformed', 'frame body could not be opened', { cause: error });
      this.#rejected[wireError.reason] += 1;
      throw wireError;
    }
  }

  #open(body: Uint8Array): Envelope {
    if (body.length < SECURE_HEADER_BYTES) {
      throw new WireError('truncated', `frame body of ${body.length} bytes has no full header`);
    }
    const mode = body[0] ?? 0;
    if (mode >>> 4 !== HEADER_VERSION) {
      throw new WireError('unsupported-version', `frame header version ${mode >>> 4}`);
    }
    if (mode !== MODE_SEALED && mode !== MODE_PLAIN) {
      throw new WireError('malformed', `unknown frame mode ${mode}`);
    }
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const epoch = view.getBigUint64(1, false);
    const high = view.getUint32(9, false);
    const sequence = high * 0x1_0000_0000 + view.getUint32(13, false);
    if (sequence === 0 || !Number.isSafeInteger(sequence)) {
      throw new WireError('malformed', `sequence number out of range`);
    }
    const header = body.subarray(0, SECURE_HEADER_BYTES);
    const rest = body.subarray(SECURE_HEADER_BYTES);
    let plain: Uint8Array;
    if (mode === MODE_PLAIN) {
      if (!this.#allowPlaintext) {
        throw new WireError('plaintext-refused', 'plaintext frame without the development flag');
      }
      plain = rest;
    } else {
      if (this.#keyring === undefined) {
        throw new WireError('unknown-key', 'sealed frame, but this node has no keyring');
      }
      plain = this.#keyring.open(rest, header);
    }
    const envelope = decodeEnvelope(plain, this.#limits);
    if (this.#checkRecipient && envelope.to !== '' && envelope.to !== this.localNodeId) {
      throw new WireError('misdirected', `envelope for ${envelope.to} reached ${this.localNodeId}`);
    }
    this.#acceptSequence(envelope.from, epoch, sequence);
    return envelope;
  }

  /** Checks the replay state and, only if the frame passes, records it. */
  #acceptSequence(from: string, epoch: bigint, sequence: number): void {
    const state = this.#senders.get(from);
    if (state === undefined) {
      const fresh = new SenderState(epoch, this.#replayWindow);
      fresh.accept(sequence);
      this.#senders.set(from, fresh);
      this.#mostRecentSender = from;
      const oldest = this.#senders.keys().next();
      if (this.#senders.size > this.#maxTrackedSenders && oldest.done !== true) {
        this.#senders.delete(oldest.value);
      }
      return;
    }
    if (state.epoch !== epoch) {
      if (state.retired.includes(epoch)) {
        throw new WireError('replayed', `frame from ${from} belongs to a retired session`);
      }
      state.restart(epoch, this.#maxRetiredEpochs);
    } else {
      const problem = state.replayProblem(sequence);
      if (problem !== undefined) throw new WireError('replayed', `from ${from}: ${problem}`);
    }
    state.accept(sequence);
    if (this.#mostRecentSender !== from) {
      // Move it to the end: the map stays least-recently-heard first.
      this.#senders.delete(from);
      this.#senders.set(from, state);
      this.#mostRecentSender = from;
    }
  }
}
