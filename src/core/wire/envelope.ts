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
function writeField(bytes: Uint8Array, view: DataView, offset: number, field: Utf8Field): number {
  view.setUint16(offset, field.length, false);
  if (typeof field === 'string') {
    for (let i = 0; i < field.length; i++) bytes[offset + 2 + i] = field.charCodeAt(i);
  } else {
    bytes.set(field, offset + 2);
  }
  return offset + 2 + field.length;
}
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
 * @returns The encoded bytes (a new array), after `headroom` zero bytes.
 * @throws DistributedError `INVALID_ARGUMENT` when a field is invalid or beyond its bound, so
 *   that nothing is sent that a receiver with the same limits would refuse.
 * @since 2.0.0
 */
export function encodeEnvelope(
  envelope: Envelope,
  limits?: EnvelopeLimits,
  headroom = 0,
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
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let offset = headroom;
  bytes[offset++] = WIRE_VERSION;
  bytes[offset++] = kindIndex;
  bytes[offset++] = errorCode === undefined ? 0 : FLAG_ERROR_CODE;
  offset = writeField(bytes, view, offset, from);
  offset = writeField(bytes, view, offset, to);
  view.setUint32(offset, envelope.correlationId, false);
  offset += 4;
  view.setFloat64(offset, envelope.sentAt, false);
  offset += 8;
  if (errorCode !== undefined) offset = writeField(bytes, view, offset, errorCode);
  view.setUint32(offset, envelope.payload.length, false);
  bytes.set(envelope.payload, offset + 4);
  return bytes;
}

/** A bounds-checked reader: every read throws `truncated` rather than running off the end. */
class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
    return this.#view.getUint8(this.offset++);
  }

  uint16(what: string): number {
    this.#need(2, what);
    const value = this.#view.getUint16(this.offset, false);
    this.offset += 2;
    return value;
  }

  uint32(what: string): number {
    this.#need(4, what);
    const value = this.#view.getUint32(this.offset, false);
    this.offset += 4;
    return value;
  }

  float64(what: string): number {
    this.#need(8, what);
    const value = this.#view.getFloat64(this.offset, false);
    this.offset += 8;
    return value;
  }

  bytes(count: number, what: string): Uint8Array {
    this.#need(count, what);
    const value = this.#bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return value;
  }

  /** A uint16-length-prefixed UTF-8 string, bounded before any byte is read. */
  text(maxBytes: number, what: string): string {
    const length = this.uint16(`the length of ${what}`);
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
 * Decodes and validates an envelope. Every length is checked against its bound
 * before anything is allocated, and the payload returned is a copy.
 *
 * @param bytes - The encoded envelope (exactly; trailing bytes are refused).
 * @param limits - The bounds to enforce; defaults as in {@link EnvelopeLimits}.
 * @returns A frozen envelope.
 * @throws WireError `truncated`, `malformed`, `unsupported-version` or `limit-exceeded`;
 *   never any other error for any input bytes.
 * @throws RangeError when `limits` itself is invalid (a programming error, not bad input).
 * @since 2.0.0
 */
export function decodeEnvelope(bytes: Uint8Array, limits?: EnvelopeLimits): Envelope {
  const { maxPayloadBytes, maxIdBytes } = resolveLimits(limits);
  const reader = new Reader(bytes);
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
  const from = reader.text(maxIdBytes, 'from');
  if (from === '') throw new WireError('malformed', 'from is empty');
  const to = reader.text(maxIdBytes, 'to');
  const correlationId = reader.uint32('the correlation id');
  const sentAt = reader.float64('sent-at');
  if (!Number.isFinite(sentAt) || sentAt < 0) {
    throw new WireError('malformed', 'sent-at is not a finite, non-negative number');
  }
  const errorCode = hasErrorCode ? reader.text(maxIdBytes, 'the error code') : undefined;
  const payloadLength = reader.uint32('the payload length');
  if (payloadLength > maxPayloadBytes) {
    throw new WireError(
      'limit-exceeded',
      `payload of ${payloadLength} bytes exceeds the limit of ${maxPayloadBytes}`,
    );
  }
  const payload = reader.bytes(payloadLength, 'the payload').slice();
  if (reader.remaining !== 0) {
    throw new WireError('malformed', `${reader.remaining} unexpected bytes after the payload`);
  }
  return Object.freeze({
    version,
    kind,
    from,
    to,
    correlationId,
    sentAt,
    payload,
    ...(errorCode === undefined ? {} : { errorCode }),
  });
}
