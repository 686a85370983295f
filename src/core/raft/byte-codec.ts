/**
 * A growable writer and a bounds-checked reader for the Raft codecs. The
 * reader throws {@link WireError} for every problem and never reads past the
 * end or allocates more than a checked length.
 *
 * @packageDocumentation
 */

import { WireError } from '../wire/wire-error.js';

const utf8Encoder = new TextEncoder();
// `fatal` turns invalid UTF-8 into an exception instead of silently replacing it.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /\p{Cs}/u;
/** Text up to this many characters takes the ASCII path when it is ASCII. */
const ASCII_FAST_PATH = 64;

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Appends big-endian fields to a growing buffer.
 *
 * @since 2.0.0
 */
export class ByteWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;

  /** @param initial - Initial capacity in bytes. */
  constructor(initial = 256) {
    this.#bytes = new Uint8Array(initial);
    this.#view = new DataView(this.#bytes.buffer);
  }

  #ensure(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = next;
    this.#view = new DataView(next.buffer);
  }

  /**
   * Appends one byte.
   *
   * @param value - 0..255.
   */
  u8(value: number): this {
    this.#ensure(1);
    this.#bytes[this.#length++] = value;
    return this;
  }

  /**
   * Appends a uint16.
   *
   * @param value - 0..65535.
   */
  u16(value: number): this {
    this.#ensure(2);
    this.#view.setUint16(this.#length, value, false);
    this.#length += 2;
    return this;
  }

  /**
   * Appends a uint32.
   *
   * @param value - 0..2^32-1.
   */
  u32(value: number): this {
    this.#ensure(4);
    this.#view.setUint32(this.#length, value, false);
    this.#length += 4;
    return this;
  }

  /**
   * Appends a non-negative safe integer in 8 bytes.
   *
   * @param value - A term, an index, a count.
   */
  u53(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`not a non-negative safe integer: ${String(value)}`);
    }
    this.u32(Math.floor(value / 0x1_0000_0000));
    return this.u32(value % 0x1_0000_0000);
  }

  /**
   * Appends bytes with a uint32 length prefix.
   *
   * @param value - The bytes.
   */
  bytes(value: Uint8Array): this {
    this.u32(value.length);
    this.#ensure(value.length);
    this.#bytes.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  /**
   * Appends text as UTF-8 with a uint16 length prefix.
   *
   * @param value - Well-formed text.
   */
  text(value: string): this {
    if (value.length <= ASCII_FAST_PATH && isAscii(value)) {
      // Node ids are short ASCII: one byte per character, no encoder call.
      this.u16(value.length);
      this.#ensure(value.length);
      for (let i = 0; i < value.length; i++) this.#bytes[this.#length++] = value.charCodeAt(i);
      return this;
    }
    if (LONE_SURROGATE.test(value)) throw new RangeError('text must be well-formed Unicode');
    const encoded = utf8Encoder.encode(value);
    if (encoded.length > 0xffff) throw new RangeError('text longer than 65535 UTF-8 bytes');
    this.u16(encoded.length);
    this.#ensure(encoded.length);
    this.#bytes.set(encoded, this.#length);
    this.#length += encoded.length;
    return this;
  }

  /** The bytes written (a copy, exactly sized). */
  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }
}

/**
 * Reads big-endian fields; every read is bounds-checked.
 *
 * @since 2.0.0
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;
  readonly #what: string;

  /**
   * @param bytes - The input (not copied; `bytes()` returns copies).
   * @param what - Names the structure in error messages.
   */
  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #need(count: number, field: string): void {
    if (this.remaining < count) {
      throw new WireError(
        'truncated',
        `${this.#what} ends inside ${field}: ${count} bytes needed, ${this.remaining} left`,
      );
    }
  }

  /**
   * Reads one byte.
   *
   * @param field - Names it in errors.
   */
  u8(field: string): number {
    this.#need(1, field);
    return this.#view.getUint8(this.#offset++);
  }

  /**
   * Reads a uint16.
   *
   * @param field - Names it in errors.
   */
  u16(field: string): number {
    this.#need(2, field);
    const value = this.#view.getUint16(this.#offset, false);
    this.#offset += 2;
    return value;
  }

  /**
   * Reads a uint32.
   *
   * @param field - Names it in errors.
   */
  u32(field: string): number {
    this.#need(4, field);
    const value = this.#view.getUint32(this.#offset, false);
    this.#offset += 4;
    return value;
  }

  /**
   * Reads a non-negative safe integer from 8 bytes.
   *
   * @param field - Names it in errors.
   */
  u53(field: string): number {
    const high = this.u32(field);
    const low = this.u32(field);
    if (high > 0x1f_ffff) throw new WireError('malformed', `${this.#what}: ${field} is too large`);
    return high * 0x1_0000_0000 + low;
  }

  /**
   * A u32-length-prefixed byte string, bounded before anything is copied.
   *
   * @param max - The longest allowed.
   * @param field - For errors.
   */
  bytes(max: number, field: string): Uint8Array {
    const length = this.u32(`the length of ${field}`);
    if (length > max) {
      throw new WireError('limit-exceeded', `${this.#what}: ${field} of ${length} bytes > ${max}`);
    }
    this.#need(length, field);
    const value = this.#bytes.slice(this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  /**
   * A u16-length-prefixed UTF-8 string.
   *
   * @param max - The longest allowed, in bytes.
   * @param field - For errors.
   */
  text(max: number, field: string): string {
    const length = this.u16(`the length of ${field}`);
    if (length > max) {
      throw new WireError('limit-exceeded', `${this.#what}: ${field} of ${length} bytes > ${max}`);
    }
    this.#need(length, field);
    const raw = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    if (length <= ASCII_FAST_PATH) {
      let text = '';
      let i = 0;
      for (; i < length; i++) {
        const byte = raw[i] ?? 0x80;
        if (byte > 0x7f) break;
        text += String.fromCharCode(byte);
      }
      if (i === length) return text;
    }
    try {
      return utf8Decoder.decode(raw);
    } catch (cause) {
      throw new WireError('malformed', `${this.#what}: ${field} is not valid UTF-8`, { cause });
    }
  }

  /** Throws `malformed` unless every byte was read. */
  end(): void {
    if (this.remaining !== 0) {
      throw new WireError('malformed', `${this.#what}: ${this.remaining} trailing bytes`);
    }
  }
}
