/**
 * The versioned envelope every cluster message travels in, with a hand-written
 * binary codec whose decoder validates every field against hard bounds.
 *
 * Layout (all integers big-endian):
 *
 * | bytes | field |
 * | ----- | ----- |
 * | 1 | version ({@link WIRE_VERSION}) |
 * | 1 | kind, an index into {@link ENVELOPE_KINDS} |
 * | 1 | flags: bit 0 = an error code follows; other bits must be zero |
 * | 2 + n | `from`, UTF-8 |
 * | 2 + n | `to`, UTF-8 |
 * | 4 | correlation id |
 * | 8 | sent-at, IEEE 754 double |
 * | 2 + n | error code, UTF-8 (only when flag bit 0 is set) |
 * | 4 + n | payload |
 *
 * Nothing follows the payload. The envelope has no nested structures, so its
 * nesting depth is fixed; the payload is opaque bytes for the layer above.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import { WireError } from './wire-error.js';

/**
 * The envelope version this build writes and reads.
 *
 * @since 2.0.0
 */
export const WIRE_VERSION = 1;

/**
 * Every kind of envelope, in wire order (the kind byte is the index).
 * New kinds are appended only.
 *
 * @since 2.0.0
 */
export const ENVELOPE_KINDS = Object.freeze([
  'hello',
  'message',
  'request',
  'response',
  'error',
  'gossip',
  'ping',
  'ack',
] as const);

/**
 * A kind of envelope; see {@link ENVELOPE_KINDS}.
 *
 * @since 2.0.0
 */
export type EnvelopeKind = (typeof ENVELOPE_KINDS)[number];

/**
 * One message on the wire.
 *
 * @since 2.0.0
 */
export interface Envelope {
  /** The envelope version; {@link WIRE_VERSION} for everything this build writes. */
  readonly version: number;
  /** What the envelope carries. */
  readonly kind: EnvelopeKind;
  /** The sending node's id; non-empty. */
  readonly from: string;
  /** The receiving node's id, or `''` when the sender does not know it yet (a first hello). */
  readonly to: string;
  /** Pairs a response or error with its request: a uint32, 0 when unused. */
  readonly correlationId: number;
  /** When the sender sent it, in epoch milliseconds; finite and non-negative. */
  readonly sentAt: number;
  /** The opaque body, interpreted by the layer above. */
  readonly payload: Uint8Array;
  /** A stable error code; only on kind `'error'`. */
  readonly errorCode?: string;
}

/**
 * Hard bounds applied by {@link decodeEnvelope} (and checked by {@link encodeEnvelope}).
 *
 * @since 2.0.0
 */
export interface EnvelopeLimits {
  /** The longest payload, in bytes; defaults to {@link DEFAULT_MAX_PAYLOAD_BYTES}. */
  readonly maxPayloadBytes?: number;
  /** The longest `from`, `to` or error code, in UTF-8 bytes; defaults to {@link DEFAULT_MAX_ID_BYTES}. */
  readonly maxIdBytes?: number;
}

/**
 * The default longest envelope payload: 1 MiB.
 *
 * @since 2.0.0
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * The default longest node id or error code: 256 UTF-8 bytes.
 *
 * @since 2.0.0
 */
export const DEFAULT_MAX_ID_BYTES = 256;

// Ids are length-prefixed by a uint16, payloads by a uint32.
const MAX_ID_FIELD = 0xffff;
const MAX_PAYLOAD_FIELD = 0xffff_ffff;
const FLAG_ERROR_CODE = 0b1;
const FIXED_BYTES = 3 + 2 + 2 + 4 + 8 + 4;

// UTF-8 cannot carry a lone surrogate (the encoder would silently replace it), so refuse one.
const LONE_SURROGATE = /\p{Cs}/u;
const utf8Encoder = new TextEncoder();
/** Text fields up to this many bytes are decoded without the decoder when they are ASCII. */
const ASCII_FAST_PATH_BYTES = 64;

/**
 * A text field's UTF-8 form: the string itself when it is ASCII (one byte per
 * character, written without an intermediate array), its encoded bytes otherwise.
 */
type Utf8Field = string | Uint8Array;

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function utf8Field(text: string): Utf8Field {
  return isAscii(text) ? text : utf8Encoder.encode(text);
}

/** Writes a uint16-length-prefixed text field at `offset`; returns the offset after it. */
function writeField(bytes: Uint8Array, offset: number, field: Utf8Field): number {
  bytes[offset] = field.length >>> 8;
  bytes[offset + 1] = field.length & 0xff;
  if (typeof field === 'string') {
    for (let i = 0; i < field.length; i++) bytes[offset + 2 + i] = field.charCodeAt(i);
  } else {
    bytes.set(field, offset + 2);
  }
  return offset + 2 + field.length;
}
/** Writes a big-endian uint32 at `offset`; returns the offset after it. */
function writeUint32(bytes: Uint8Array, offset: number, value: number): number {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
  return offset + 4;
}

// Doubles are converted through one shared scratch array (no DataView per call).
const float64Scratch = new Float64Array(1);
const float64Bytes = new Uint8Array(float64Scratch.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// `fatal` turns invalid UTF-8 into an exception instead of silently replacing it.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function resolveLimits(limits: EnvelopeLimits | undefined): {
  maxPayloadBytes: number;
  maxIdBytes: number;
} {
  const maxPayloadBytes = limits?.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const maxIdBytes = limits?.maxIdBytes ?? DEFAULT_MAX_ID_BYTES;
  if (
    !Number.isSafeInteger(maxPayloadBytes) ||
    maxPayloadBytes < 0 ||
    maxPayloadBytes > MAX_PAYLOAD_FIELD
  ) {
    throw new RangeError(`maxPayloadBytes must be an integer from 0 to ${MAX_PAYLOAD_FIELD}`);
  }
  if (!Number.isSafeInteger(maxIdBytes) || maxIdBytes < 1 || maxIdBytes > MAX_ID_FIELD) {
    throw new RangeError(`maxIdBytes must be an integer from 1 to ${MAX_ID_FIELD}`);
  }
  return { maxPayloadBytes, maxIdBytes };
}

function invalid(message: string): DistributedError {
  return new DistributedError('INVALID_ARGUMENT', `cannot encode envelope: ${message}`);
}

/**
 * Encodes an envelope.
 *
 * @param envelope - The envelope; every field is checked as the decoder would.
 * @param limits - The bounds the receiver applies; defaults as in {@link EnvelopeLimits}.
 * @param headroom - Bytes left free (zero) in front of the envelope, so a caller can add its
 *   own header without copying the envelope again; defaults to 0.
 * @param allocate - Makes the array written into, of exactly the size asked; defaults to
 *   `new Uint8Array(size)`. Every byte after the headroom is written; the headroom holds
 *   whatever `allocate` returned (zeros by default), so a pooled, uninitialised allocator
 *   is fine for a caller that overwrites its headroom.
 * @returns The encoded bytes (a new array), after `headroom` free bytes.
 * @throws DistributedError `INVALID_ARGUMENT` when a field is invalid or beyond its bound, so
 *   that nothing is sent that a receiver with the same limits would refuse.
 * @since 2.0.0
 */
export function encodeEnvelope(
  envelope: Envelope,
  limits?: EnvelopeLimits,
  headroom = 0,
  allocate?: (size: number) => Uint8Array,
): Uint8Array {
  if (!Number.isSafeInteger(headroom) || headroom < 0) {
    throw new RangeError(`headroom must be a non-negative integer, got ${String(headroom)}`);
  }
  const { maxPayloadBytes, maxIdBytes } = resolveLimits(limits);
  if (envelope.version !== WIRE_VERSION) {
    throw invalid(`version must be ${WIRE_VERSION}, got ${String(envelope.version)}`);
  }
  const kindIndex = ENVELOPE_KINDS.indexOf(envelope.kind);
  if (kindIndex < 0) throw invalid(`unknown kind ${JSON.stringify(envelope.kind)}`);
  if (typeof envelope.from !== 'string' || envelope.from === '') {
    throw invalid('from must be a non-empty string');
  }
  if (typeof envelope.to !== 'string') throw invalid('to must be a string');
  const from = utf8Field(envelope.from);
  const to = utf8Field(envelope.to);
  // Only non-ASCII text can hold a surrogate.
  if (
    (typeof from !== 'string' && LONE_SURROGATE.test(envelope.from)) ||
    (typeof to !== 'string' && LONE_SURROGATE.test(envelope.to))
  ) {
    throw invalid('from and to must be well-formed Unicode');
  }
  if (from.length > maxIdBytes || to.length > maxIdBytes) {
    throw invalid(`from and to must be at most ${maxIdBytes} UTF-8 bytes`);
  }
  if (
    !Number.isInteger(envelope.correlationId) ||
    envelope.correlationId < 0 ||
    envelope.correlationId > 0xffff_ffff
  ) {
    throw invalid(`correlationId must be a uint32, got ${String(envelope.correlationId)}`);
  }
  if (!Number.isFinite(envelope.sentAt) || envelope.sentAt < 0) {
    throw invalid(`sentAt must be finite and non-negative, got ${String(envelope.sentAt)}`);
  }
  let errorCode: Utf8Field | undefined;
  if (envelope.errorCode !== undefined) {
    if (envelope.kind !== 'error') throw invalid('errorCode is only allowed on kind "error"');
    if (typeof envelope.errorCode !== 'string') throw invalid('errorCode must be a string');
    if (LONE_SURROGATE.test(envelope.errorCode)) {
      throw invalid('errorCode must be well-formed Unicode');
    }
    errorCode = utf8Field(envelope.errorCode);
    if (errorCode.length > maxIdBytes) {
      throw invalid(`errorCode must be at most ${maxIdBytes} UTF-8 bytes`);
    }
  }
  if (!(envelope.payload instanceof Uint8Array)) throw invalid('payload must be a Uint8Array');
  if (envelope.payload.length > maxPayloadBytes) {
    throw invalid(`payload of ${envelope.payload.length} bytes exceeds ${maxPayloadBytes}`);
  }

  const size =
    headroom +
    FIXED_BYTES +
    from.length +
    to.length +
    (errorCode === undefined ? 0 : 2 + errorCode.length) +
    envelope.payload.length;
  const bytes = allocate === undefined ? new Uint8Array(size) : allocate(size);
  if (bytes.length !== size) throw new RangeError(`allocate(${size}) returned the wrong size`);
  let offset = headroom;
  bytes[offset++] = WIRE_VERSION;
  bytes[offset++] = kindIndex;
  bytes[offset++] = errorCode === undefined ? 0 : FLAG_ERROR_CODE;
  offset = writeField(bytes, offset, from);
  offset = writeField(bytes, offset, to);
  offset = writeUint32(bytes, offset, envelope.correlationId);
  float64Scratch[0] = envelope.sentAt;
  for (let i = 0; i < 8; i++) bytes[offset + i] = float64Bytes[LITTLE_ENDIAN ? 7 - i : i] as number;
  offset += 8;
  if (errorCode !== undefined) offset = writeField(bytes, offset, errorCode);
  offset = writeUint32(bytes, offset, envelope.payload.length);
  bytes.set(envelope.payload, offset);
  return bytes;
}

/** A bounds-checked reader: every read throws `truncated` rather than running off the end. */
// Integers are read byte by byte and doubles through the shared scratch array,
// so a decode creates no DataView (each costs an allocation on the hot path).
class Reader {
  readonly #bytes: Uint8Array;
  offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get remaining(): number {
    return this.#bytes.length - this.offset;
  }

  #need(count: number, what: string): void {
    if (this.remaining < count) {
      throw new WireError(
        'truncated',
        `envelope ends inside ${what}: ${count} bytes needed, ${this.remaining} left`,
      );
    }
  }

  uint8(what: string): number {
    this.#need(1, what);
    return this.#bytes[this.offset++] as number;
  }

  uint16(what: string): number {
    this.#need(2, what);
    const b = this.#bytes;
    const o = this.offset;
    this.offset = o + 2;
    return ((b[o] as number) << 8) | (b[o + 1] as number);
  }

  uint32(what: string): number {
    this.#need(4, what);
    const b = this.#bytes;
    const o = this.offset;
    this.offset = o + 4;
    return (
      (b[o] as number) * 0x100_0000 +
      (((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number))
    );
  }

  float64(what: string): number {
    this.#need(8, what);
    const b = this.#bytes;
    const o = this.offset;
    for (let i = 0; i < 8; i++) {
      float64Bytes[LITTLE_ENDIAN ? 7 - i : i] = b[o + i] as number;
    }
    this.offset = o + 8;
    return float64Scratch[0] as number;
  }

  bytes(count: number, what: string): Uint8Array {
    this.#need(count, what);
    const value = this.#bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return value;
  }

  /** A uint16-length-prefixed UTF-8 string, bounded before any byte is read. */
  text(maxBytes: number, what: string, lengthWhat: string): string {
    const length = this.uint16(lengthWhat);
    if (length > maxBytes) {
      throw new WireError(
        'limit-exceeded',
        `${what} of ${length} bytes exceeds the limit of ${maxBytes}`,
      );
    }
    const raw = this.bytes(length, what);
    // ASCII needs no validation and no decoder call: one character per byte.
    if (length <= ASCII_FAST_PATH_BYTES) {
      let text = '';
      let i = 0;
      for (; i < length; i++) {
        const byte = raw[i] as number;
        if (byte > 0x7f) break;
        text += String.fromCharCode(byte);
      }
      if (i === length) return text;
    }
    try {
      return utf8Decoder.decode(raw);
    } catch (cause) {
      throw new WireError('malformed', `${what} is not valid UTF-8`, { cause });
    }
  }
}

/**
 * Options of {@link decodeEnvelope} and {@link decodeEnvelopeBatch}.
 *
 * @since 2.0.0
 */
export interface EnvelopeDecodeOptions {
  /**
   * Makes the array each payload is copied into: it must return a new array of
   * exactly `size` bytes over an `ArrayBuffer` of its own (receivers may use
   * `payload.buffer` whole). Every byte is overwritten, so uninitialised memory
   * is fine. Defaults to `new Uint8Array(size)`.
   */
  readonly allocatePayload?: (size: number) => Uint8Array;
  /**
   * The caller hands the input over: nothing else holds it or will write it
   * (a freshly decrypted or reassembled buffer). A payload of at least
   * {@link MIN_PAYLOAD_VIEW_BYTES} in an envelope that fills the input alone
   * is then returned as a view of the input instead of a copy (its
   * `byteOffset` is not 0; its buffer holds nothing but this envelope and
   * the headers in front of it). In a
   * batch of several, or below that size, payloads are still copied, so no
   * payload's buffer shows another's. Defaults to `false`.
   */
  readonly ownsInput?: boolean;
}

/**
 * The smallest payload {@link EnvelopeDecodeOptions.ownsInput} returns as a
 * view: 4 KiB. Below it a copy is cheap, and small payloads keep an
 * `ArrayBuffer` of their own.
 *
 * @since 2.0.0
 */
export const MIN_PAYLOAD_VIEW_BYTES = 4096;

/**
 * The default most envelopes in one batch: 1,024.
 *
 * @since 2.0.0
 */
export const DEFAULT_MAX_BATCH_ENVELOPES = 1024;

/** Reads one envelope at the reader's offset, validating every field against `bounds`. */
function readEnvelope(
  reader: Reader,
  bounds: { maxPayloadBytes: number; maxIdBytes: number },
  options: EnvelopeDecodeOptions | undefined,
): Envelope {
  const { maxPayloadBytes, maxIdBytes } = bounds;
  const start = reader.offset;
  const version = reader.uint8('the version');
  if (version !== WIRE_VERSION) {
    throw new WireError(
      'unsupported-version',
      `envelope version ${version} is not supported (this build speaks ${WIRE_VERSION})`,
    );
  }
  const kindIndex = reader.uint8('the kind');
  const kind = ENVELOPE_KINDS[kindIndex];
  if (kind === undefined) throw new WireError('malformed', `unknown envelope kind ${kindIndex}`);
  const flags = reader.uint8('the flags');
  if ((flags & ~FLAG_ERROR_CODE) !== 0) {
    throw new WireError('malformed', `unknown envelope flags ${flags}`);
  }
  const hasErrorCode = (flags & FLAG_ERROR_CODE) !== 0;
  if (hasErrorCode && kind !== 'error') {
    throw new WireError('malformed', `an error code on an envelope of kind ${kind}`);
  }
  const from = reader.text(maxIdBytes, 'from', 'the length of from');
  if (from === '') throw new WireError('malformed', 'from is empty');
  const to = reader.text(maxIdBytes, 'to', 'the length of to');
  const correlationId = reader.uint32('the correlation id');
  const sentAt = reader.float64('sent-at');
  if (!Number.isFinite(sentAt) || sentAt < 0) {
    throw new WireError('malformed', 'sent-at is not a finite, non-negative number');
  }
  const errorCode = hasErrorCode
    ? reader.text(maxIdBytes, 'the error code', 'the length of the error code')
    : undefined;
  const payloadLength = reader.uint32('the payload length');
  if (payloadLength > maxPayloadBytes) {
    throw new WireError(
      'limit-exceeded',
      `payload of ${payloadLength} bytes exceeds the limit of ${maxPayloadBytes}`,
    );
  }
  const view = reader.bytes(payloadLength, 'the payload');
  let payload: Uint8Array;
  if (
    options?.ownsInput === true &&
    payloadLength >= MIN_PAYLOAD_VIEW_BYTES &&
    start === 0 &&
    reader.remaining === 0
  ) {
    // Alone in an input nothing else holds: the view shows only this envelope.
    payload = view;
  } else {
    // A copy with a buffer of its own: a receiver may use `payload.buffer` whole.
    // (`new` and `set` rather than `slice`, which is several times slower on a view.)
    const allocate = options?.allocatePayload;
    payload = allocate === undefined ? new Uint8Array(payloadLength) : allocate(payloadLength);
    payload.set(view);
  }
  // Two literal shapes rather than a spread, so the common case allocates one object.
  return errorCode === undefined
    ? Object.freeze({ version, kind, from, to, correlationId, sentAt, payload })
    : Object.freeze({ version, kind, from, to, correlationId, sentAt, payload, errorCode });
}

/**
 * Decodes and validates an envelope. Every length is checked against its bound
 * before anything is allocated, and the payload returned is a copy (or, for
 * an input handed over, a view: see {@link EnvelopeDecodeOptions.ownsInput}).
 *
 * @param bytes - The encoded envelope (exactly; trailing bytes are refused).
 * @param limits - The bounds to enforce; defaults as in {@link EnvelopeLimits}.
 * @param options - How payloads are made; see {@link EnvelopeDecodeOptions}.
 * @returns A frozen envelope.
 * @throws WireError `truncated`, `malformed`, `unsupported-version` or `limit-exceeded`;
 *   never any other error for any input bytes.
 * @throws RangeError when `limits` itself is invalid (a programming error, not bad input).
 * @since 2.0.0
 */
export function decodeEnvelope(
  bytes: Uint8Array,
  limits?: EnvelopeLimits,
  options?: EnvelopeDecodeOptions,
): Envelope {
  const bounds = resolveLimits(limits);
  const reader = new Reader(bytes);
  const envelope = readEnvelope(reader, bounds, options);
  if (reader.remaining !== 0) {
    throw new WireError('malformed', `${reader.remaining} unexpected bytes after the payload`);
  }
  return envelope;
}

/**
 * Decodes a batch: one or more encoded envelopes back to back (each as
 * {@link encodeEnvelope} writes it, so each is self-delimiting), filling the
 * input exactly. Every envelope is validated as {@link decodeEnvelope} does
 * (each payload a copy, or a view as {@link EnvelopeDecodeOptions.ownsInput}
 * allows), and the batch holds at most `maxEnvelopes`; one bad
 * envelope refuses the whole batch.
 *
 * @param bytes - The encoded envelopes.
 * @param limits - The bounds of each envelope; defaults as in {@link EnvelopeLimits}.
 * @param options - How payload arrays are made ({@link EnvelopeDecodeOptions}), and the most
 *   envelopes accepted, `maxEnvelopes` (defaults to {@link DEFAULT_MAX_BATCH_ENVELOPES}).
 * @returns The frozen envelopes, in order (at least one).
 * @throws WireError `truncated`, `malformed`, `unsupported-version` or
 *   `limit-exceeded` (also for more than `maxEnvelopes`); never any other error
 *   for any input bytes.
 * @throws RangeError when `limits` or `maxEnvelopes` is invalid.
 * @since 2.0.0
 */
export function decodeEnvelopeBatch(
  bytes: Uint8Array,
  limits?: EnvelopeLimits,
  options?: EnvelopeDecodeOptions & { readonly maxEnvelopes?: number },
): Envelope[] {
  const bounds = resolveLimits(limits);
  const maxEnvelopes = options?.maxEnvelopes ?? DEFAULT_MAX_BATCH_ENVELOPES;
  if (!Number.isSafeInteger(maxEnvelopes) || maxEnvelopes < 1) {
    throw new RangeError(`maxEnvelopes must be a positive integer, got ${String(maxEnvelopes)}`);
  }
  const reader = new Reader(bytes);
  const envelopes: Envelope[] = [];
  do {
    if (envelopes.length >= maxEnvelopes) {
      throw new WireError(
        'limit-exceeded',
        `batch holds more than the limit of ${maxEnvelopes} envelopes`,
      );
    }
    envelopes.push(readEnvelope(reader, bounds, options));
  } while (reader.remaining > 0);
  return envelopes;
}
