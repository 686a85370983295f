/**
 * What goes inside each frame: an envelope, sealed with the cluster keyring (or,
 * only behind the development flag, in plaintext), behind a header that lets
 * the receiver refuse replays.
 *
 * Frame body layout (integers big-endian):
 *
 * | bytes | field |
 * | ----- | ----- |
 * | 1 | mode (high nibble: header version 1): `0x11` sealed envelope, `0x12` plaintext envelope, `0x13` sealed batch, `0x14` plaintext batch |
 * | 8 | the sender's session epoch, random per process start |
 * | 8 | the sequence number, 1, 2, 3, ... within the session |
 * | rest | the sealed content ({@link Keyring.seal} layout), or the plain content |
 *
 * The content is one encoded envelope, or for a batch one or more envelopes
 * back to back (`decodeEnvelopeBatch`), all from the same sender. A batch is
 * sealed and replay-checked as one frame, so many small envelopes cost one
 * AES-GCM operation and one sequence number instead of one each.
 *
 * The 17-byte header is the associated data of the seal, so it cannot be
 * altered; the sender id is inside the sealed envelope.
 *
 * @packageDocumentation
 */

import { Buffer } from 'node:buffer';
import { DistributedError } from '../../contracts/errors.js';
import {
  decodeEnvelope,
  decodeEnvelopeBatch,
  DEFAULT_MAX_PAYLOAD_BYTES,
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
const MODE_SEALED_BATCH = 0x13;
const MODE_PLAIN_BATCH = 0x14;
/**
 * Free bytes in front of every envelope {@link SecureCodec.encode} returns:
 * room for the security header and up to {@link MAX_IN_PLACE_HEADROOM} bytes
 * of the caller's headroom, so a lone plaintext envelope becomes a frame in
 * place, without a copy.
 */
const MAX_IN_PLACE_HEADROOM = 8;
const ENCODE_RESERVE_BYTES = SECURE_HEADER_BYTES + MAX_IN_PLACE_HEADROOM;
const HEADER_VERSION = 1;
const EMPTY_PAYLOAD = new Uint8Array(0);

/** Replay state of one sender: its current session and the sequence numbers seen in the window. */
class SenderState {
  /** The current epoch's high and low 32 bits (two numbers: no BigInt per frame). */
  epochHigh: number;
  epochLow: number;
  highest = 0;
  readonly #window: number;
  readonly #seen: Uint32Array;
  /** Retired epochs, as `high * 2^32 + low` BigInts (built only when a sender restarts). */
  readonly retired: bigint[] = [];

  constructor(epochHigh: number, epochLow: number, window: number) {
    this.epochHigh = epochHigh;
    this.epochLow = epochLow;
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

  restart(epochHigh: number, epochLow: number, maxRetired: number): void {
    this.retired.push(epochKey(this.epochHigh, this.epochLow));
    if (this.retired.length > maxRetired) this.retired.shift();
    this.epochHigh = epochHigh;
    this.epochLow = epochLow;
    this.highest = 0;
    this.#seen.fill(0);
  }
}

function epochKey(high: number, low: number): bigint {
  return (BigInt(high) << 32n) | BigInt(low);
}

/** Reads a big-endian uint32 (no DataView on the hot path). */
function readUint32(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset] as number) * 0x100_0000 +
    (((bytes[offset + 1] as number) << 16) |
      ((bytes[offset + 2] as number) << 8) |
      (bytes[offset + 3] as number))
  );
}

/** Pooled, uninitialised memory for encoded envelopes: every byte sent is written first. */
function allocateUnsafe(size: number): Uint8Array {
  return Buffer.allocUnsafe(size);
}

/** Below this size a zeroed array is cheaper to make than uninitialised memory. */
const UNINITIALISED_PAYLOAD_BYTES = 1024;

/**
 * Payload arrays: large ones over uninitialised memory (zeroing 64 KiB costs
 * more than copying it), each over an `ArrayBuffer` of its own.
 */
function allocatePayload(size: number): Uint8Array {
  if (size < UNINITIALISED_PAYLOAD_BYTES) return new Uint8Array(size);
  const memory = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(memory.buffer, memory.byteOffset, size);
}
const DECODE_COPY = Object.freeze({ allocatePayload, ownsInput: false });
const DECODE_OWNED = Object.freeze({ allocatePayload, ownsInput: true });

/** Whether `bytes` spans its whole `ArrayBuffer` (not a window into a shared one, such as a pool). */
function isWholeBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
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
  /** The security header of the next frame; bytes 1-8 hold this codec's epoch. */
  readonly #header = new Uint8Array(SECURE_HEADER_BYTES);
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
    this.#header.set(epoch, 1);
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
    const bodyStart = headroom + SECURE_HEADER_BYTES;
    if (this.#keyring === undefined) {
      // The envelope is written after room for the header, so nothing is copied twice.
      return this.#finish(this.#encode(envelope, bodyStart), headroom, false);
    }
    // Sealed: the cipher reads the payload where it is, after the encoded head of the
    // envelope, so the payload is never copied in the clear.
    const head = this.#encodeHead(envelope);
    const header = this.#nextHeader(false);
    const body = this.#keyring.sealParts([head, envelope.payload], header, bodyStart);
    return this.#commit(body, header, headroom);
  }

  /** Whether frames are sealed (a keyring is set), rather than sent in plaintext. */
  get seals(): boolean {
    return this.#keyring !== undefined;
  }

  /**
   * Encodes an envelope for {@link SecureCodec.sealBatch}, checking it as
   * {@link SecureCodec.seal} does. Encoding is separate from sealing so a
   * sender can encode when it queues (copying the caller's payload once) and
   * seal when it writes (with the keyring's primary key of that moment).
   *
   * @param envelope - The envelope; its `from` must be this node's id.
   * @returns The encoded envelope, a new array for {@link SecureCodec.sealBatch} only (its
   *   layout, a little free room and then the envelope, is the codec's business).
   * @throws DistributedError `INVALID_ARGUMENT` when the envelope is invalid or not from this node.
   */
  encode(envelope: Envelope): Uint8Array {
    return this.#encode(envelope, ENCODE_RESERVE_BYTES, allocateUnsafe);
  }

  /**
   * Seals envelopes encoded by {@link SecureCodec.encode} into one frame body
   * (a batch): one authenticated encryption and one sequence number for all.
   *
   * @param encoded - One or more outputs of {@link SecureCodec.encode}, in order, owned by
   *   the codec from now on (a lone plaintext envelope becomes the frame in place); at most
   *   the batch limit of the receiver (`DEFAULT_MAX_BATCH_ENVELOPES`).
   * @param headroom - Bytes left free (zero) in front of the body; defaults to 0.
   * @returns The frame body, after `headroom` zero bytes.
   * @throws DistributedError `INVALID_ARGUMENT` for an empty batch.
   */
  sealBatch(encoded: readonly Uint8Array[], headroom = 0): Uint8Array {
    if (encoded.length === 0) {
      throw new DistributedError('INVALID_ARGUMENT', 'a batch needs at least one envelope');
    }
    const bodyStart = headroom + SECURE_HEADER_BYTES;
    const first = encoded[0] as Uint8Array;
    let plain: Uint8Array;
    if (encoded.length === 1 && this.#keyring !== undefined) {
      plain = first.subarray(ENCODE_RESERVE_BYTES);
    } else if (encoded.length === 1 && headroom <= MAX_IN_PLACE_HEADROOM) {
      plain = first.subarray(MAX_IN_PLACE_HEADROOM - headroom);
      // The reserve is uninitialised memory: the promised zero headroom is written here
      // (a loop: `fill` on a Buffer takes a slow path for a few bytes).
      for (let i = 0; i < headroom; i++) plain[i] = 0;
    } else {
      let total = 0;
      for (const item of encoded) total += item.length - ENCODE_RESERVE_BYTES;
      const start = this.#keyring === undefined ? bodyStart : 0;
      // Uninitialised: every byte is written below or by #finish, except the zeroed headroom.
      plain = allocateUnsafe(start + total);
      if (this.#keyring === undefined) for (let i = 0; i < headroom; i++) plain[i] = 0;
      let offset = start;
      for (const item of encoded) {
        plain.set(item.subarray(ENCODE_RESERVE_BYTES), offset);
        offset += item.length - ENCODE_RESERVE_BYTES;
      }
    }
    return this.#finish(plain, headroom, true);
  }

  #encode(
    envelope: Envelope,
    headroom: number,
    allocate?: (size: number) => Uint8Array,
  ): Uint8Array {
    if (envelope.from !== this.localNodeId) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `cannot seal an envelope from ${JSON.stringify(envelope.from)} on node ${this.localNodeId}`,
      );
    }
    return encodeEnvelope(envelope, this.#limits, headroom, allocate);
  }

  /**
   * The encoded envelope without its payload bytes: everything up to and
   * including the payload's length, checked as {@link encodeEnvelope} checks
   * the whole envelope. The payload is the envelope's last field, right after
   * its uint32 length (the envelope layout), so the head followed by the
   * payload is exactly the encoded envelope.
   */
  #encodeHead(envelope: Envelope): Uint8Array {
    const { payload } = envelope;
    if (!(payload instanceof Uint8Array)) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'cannot encode envelope: payload must be a Uint8Array',
      );
    }
    const maxPayloadBytes = this.#limits?.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    if (payload.length > maxPayloadBytes) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `cannot encode envelope: payload of ${payload.length} bytes exceeds ${maxPayloadBytes}`,
      );
    }
    const head = this.#encode({ ...envelope, payload: EMPTY_PAYLOAD }, 0, allocateUnsafe);
    const n = payload.length;
    const at = head.length - 4;
    head[at] = n >>> 24;
    head[at + 1] = (n >>> 16) & 0xff;
    head[at + 2] = (n >>> 8) & 0xff;
    head[at + 3] = n & 0xff;
    return head;
  }

  /**
   * The security header of the next frame (the codec's one header array, valid
   * until the next frame is numbered): mode, epoch and the next sequence number.
   */
  #nextHeader(batch: boolean): Uint8Array {
    const sequence = this.#sequence + 1;
    const header = this.#header;
    if (this.#keyring === undefined) header[0] = batch ? MODE_PLAIN_BATCH : MODE_PLAIN;
    else header[0] = batch ? MODE_SEALED_BATCH : MODE_SEALED;
    const high = Math.floor(sequence / 0x1_0000_0000);
    const low = sequence >>> 0;
    header[9] = high >>> 24;
    header[10] = (high >>> 16) & 0xff;
    header[11] = (high >>> 8) & 0xff;
    header[12] = high & 0xff;
    header[13] = low >>> 24;
    header[14] = (low >>> 16) & 0xff;
    header[15] = (low >>> 8) & 0xff;
    header[16] = low & 0xff;
    return header;
  }

  /** Takes the sequence number of `header` as used and writes the header in front of `body`. */
  #commit(body: Uint8Array, header: Uint8Array, headroom: number): Uint8Array {
    this.#sequence += 1;
    body.set(header, headroom);
    return body;
  }

  /**
   * Numbers and seals `plain` (the content; in plaintext mode already after
   * `headroom` + header bytes of free room) and writes the header in front.
   */
  #finish(plain: Uint8Array, headroom: number, batch: boolean): Uint8Array {
    // One header array reused for every frame: it is used (as the seal's associated
    // data, then copied into the body) before this method returns.
    const header = this.#nextHeader(batch);
    const body =
      this.#keyring === undefined
        ? plain
        : this.#keyring.seal(plain, header, headroom + SECURE_HEADER_BYTES);
    return this.#commit(body, header, headroom);
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
      return this.#open(body, false, false)[0] as Envelope;
    } catch (error) {
      throw this.#refusal(error);
    }
  }

  /**
   * Opens a frame body that holds one envelope or a batch (from
   * {@link SecureCodec.sealBatch}): authenticates, decrypts, decodes every
   * envelope and checks the frame for replay. All or nothing: a frame with one
   * bad envelope is refused whole, and the replay state changes only for a
   * frame that passed.
   *
   * @param body - A frame body from the network (any bytes).
   * @param bodyOwned - The caller hands `body` over: it is a buffer of its own (not a
   *   view of a larger one) that nothing else holds or writes. A large payload alone in
   *   a plaintext frame may then be a view of it rather than a copy (sealed frames
   *   decrypt into a buffer of their own, so theirs may be views regardless); see
   *   `EnvelopeDecodeOptions.ownsInput`. Defaults to `false`.
   * @returns The envelopes, each frozen, in order (at least one); all from the same sender.
   * @throws WireError as {@link SecureCodec.open} does (`malformed` also for a
   *   batch mixing senders, `limit-exceeded` for too many envelopes); never another
   *   error. The reason is counted in {@link SecureCodec.rejected}.
   */
  openBatch(body: Uint8Array, bodyOwned = false): Envelope[] {
    try {
      return this.#open(body, true, bodyOwned);
    } catch (error) {
      throw this.#refusal(error);
    }
  }

  /** Counts a refusal and returns it as a {@link WireError}. */
  #refusal(error: unknown): WireError {
    const wireError =
      error instanceof WireError
        ? error
        : new WireError('malformed', 'frame body could not be opened', { cause: error });
    this.#rejected[wireError.reason] += 1;
    return wireError;
  }

  #open(body: Uint8Array, batchAllowed: boolean, bodyOwned: boolean): Envelope[] {
    if (body.length < SECURE_HEADER_BYTES) {
      throw new WireError('truncated', `frame body of ${body.length} bytes has no full header`);
    }
    const mode = body[0] ?? 0;
    if (mode >>> 4 !== HEADER_VERSION) {
      throw new WireError('unsupported-version', `frame header version ${mode >>> 4}`);
    }
    const batch = mode === MODE_SEALED_BATCH || mode === MODE_PLAIN_BATCH;
    if (mode !== MODE_SEALED && mode !== MODE_PLAIN && !(batch && batchAllowed)) {
      throw new WireError(
        'malformed',
        batch ? 'a batch frame where one envelope was expected' : `unknown frame mode ${mode}`,
      );
    }
    const epochHigh = readUint32(body, 1);
    const epochLow = readUint32(body, 5);
    const sequence = readUint32(body, 9) * 0x1_0000_0000 + readUint32(body, 13);
    if (sequence === 0 || !Number.isSafeInteger(sequence)) {
      throw new WireError('malformed', `sequence number out of range`);
    }
    const header = body.subarray(0, SECURE_HEADER_BYTES);
    const rest = body.subarray(SECURE_HEADER_BYTES);
    let plain: Uint8Array;
    let owned: boolean;
    if (mode === MODE_PLAIN || mode === MODE_PLAIN_BATCH) {
      if (!this.#allowPlaintext) {
        throw new WireError('plaintext-refused', 'plaintext frame without the development flag');
      }
      plain = rest;
      owned = bodyOwned && isWholeBuffer(body);
    } else {
      if (this.#keyring === undefined) {
        throw new WireError('unknown-key', 'sealed frame, but this node has no keyring');
      }
      plain = this.#keyring.open(rest, header);
      // The decryption is new and held by nothing else (checked: a buffer of its own).
      owned = isWholeBuffer(plain);
    }
    const options = owned ? DECODE_OWNED : DECODE_COPY;
    const envelopes = batch
      ? decodeEnvelopeBatch(plain, this.#limits, options)
      : [decodeEnvelope(plain, this.#limits, options)];
    const from = (envelopes[0] as Envelope).from;
    for (const envelope of envelopes) {
      if (envelope.from !== from) {
        throw new WireError('malformed', 'a batch holds envelopes from different senders');
      }
      if (this.#checkRecipient && envelope.to !== '' && envelope.to !== this.localNodeId) {
        throw new WireError(
          'misdirected',
          `envelope for ${envelope.to} reached ${this.localNodeId}`,
        );
      }
    }
    this.#acceptSequence(from, epochHigh, epochLow, sequence);
    return envelopes;
  }

  /** Checks the replay state and, only if the frame passes, records it. */
  #acceptSequence(from: string, epochHigh: number, epochLow: number, sequence: number): void {
    const state = this.#senders.get(from);
    if (state === undefined) {
      const fresh = new SenderState(epochHigh, epochLow, this.#replayWindow);
      fresh.accept(sequence);
      this.#senders.set(from, fresh);
      this.#mostRecentSender = from;
      const oldest = this.#senders.keys().next();
      if (this.#senders.size > this.#maxTrackedSenders && oldest.done !== true) {
        this.#senders.delete(oldest.value);
      }
      return;
    }
    if (state.epochHigh !== epochHigh || state.epochLow !== epochLow) {
      if (state.retired.includes(epochKey(epochHigh, epochLow))) {
        throw new WireError('replayed', `frame from ${from} belongs to a retired session`);
      }
      state.restart(epochHigh, epochLow, this.#maxRetiredEpochs);
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
