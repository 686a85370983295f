/**
 * Length-prefixed frames: a 4-byte big-endian body length, then the body. The
 * stream decoder accepts chunks split anywhere and never buffers more than one
 * frame of at most the configured size.
 *
 * @packageDocumentation
 */

import { WireError } from './wire-error.js';

/**
 * The default largest frame body, in bytes: 1 MiB of payload plus 4 KiB for the
 * envelope, the security header, the nonce and the authentication tag.
 *
 * @since 2.0.0
 */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024 + 4 * 1024;

/**
 * The size of a frame's length prefix, in bytes.
 *
 * @since 2.0.0
 */
export const FRAME_PREFIX_BYTES = 4;

// The prefix is a uint32, so no limit above this can ever be announced.
const MAX_REPRESENTABLE_BODY = 0xffff_ffff;

function checkMaxFrameBytes(maxFrameBytes: number): void {
  if (
    !Number.isSafeInteger(maxFrameBytes) ||
    maxFrameBytes < 1 ||
    maxFrameBytes > MAX_REPRESENTABLE_BODY
  ) {
    throw new RangeError(
      `maxFrameBytes must be an integer from 1 to ${MAX_REPRESENTABLE_BODY}, got ${String(maxFrameBytes)}`,
    );
  }
}

/**
 * Wraps a body in a frame: its length as a 4-byte big-endian prefix, then the body.
 *
 * @param body - The frame body.
 * @param maxFrameBytes - The largest body allowed; defaults to {@link DEFAULT_MAX_FRAME_BYTES}.
 * @returns A new array holding the prefix and a copy of the body.
 * @throws WireError `frame-too-large` when the body is longer than `maxFrameBytes`.
 * @since 2.0.0
 */
export function encodeFrame(
  body: Uint8Array,
  maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES,
): Uint8Array {
  checkMaxFrameBytes(maxFrameBytes);
  if (body.length > maxFrameBytes) {
    throw new WireError(
      'frame-too-large',
      `frame body of ${body.length} bytes exceeds the limit of ${maxFrameBytes}`,
    );
  }
  const frame = new Uint8Array(FRAME_PREFIX_BYTES + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, false);
  frame.set(body, FRAME_PREFIX_BYTES);
  return frame;
}

/**
 * Options of a {@link FrameDecoder}.
 *
 * @since 2.0.0
 */
export interface FrameDecoderOptions {
  /** The largest frame body accepted, in bytes; defaults to {@link DEFAULT_MAX_FRAME_BYTES}. */
  readonly maxFrameBytes?: number;
  /**
   * When `false`, a frame that arrives whole inside one chunk is returned as a
   * view of that chunk instead of a copy, saving a copy per frame. Only for a
   * caller that owns the chunks (nothing else writes to them) and is done with
   * each body, or copies what it keeps, before it reuses their memory.
   * Defaults to `true`: every body is a new array.
   */
  readonly copyBodies?: boolean;
  /**
   * Makes the array a body is reassembled (or copied) into: it must return a
   * new array of exactly `size` bytes that nothing else holds. Every byte is
   * overwritten before the body is returned, so uninitialised memory is fine
   * (Node's `Buffer.allocUnsafe`, much cheaper than a zeroed array for large
   * frames). Defaults to `new Uint8Array(size)`.
   */
  readonly allocate?: (size: number) => Uint8Array;
}

/**
 * Reassembles frames from a byte stream whose chunks may split anywhere (inside
 * the prefix, inside a body, several frames per chunk).
 *
 * Memory is bounded: the decoder holds at most one partial prefix and one body
 * buffer of at most `maxFrameBytes`, allocated only once its prefix has been
 * checked. A stream that announces an oversized frame cannot be resynchronised,
 * so after the first error every later {@link FrameDecoder.push} throws the same
 * error: close the connection.
 *
 * @example
 * ```ts
 * const decoder = new FrameDecoder();
 * socket.on('data', (chunk) => {
 *   for (const body of decoder.push(chunk)) handle(body);
 * });
 * ```
 *
 * @since 2.0.0
 */
export class FrameDecoder {
  /** The largest frame body accepted, in bytes. */
  readonly maxFrameBytes: number;
  readonly #copyBodies: boolean;
  readonly #allocate: (size: number) => Uint8Array;
  readonly #prefix = new Uint8Array(FRAME_PREFIX_BYTES);
  #prefixFilled = 0;
  #body: Uint8Array | undefined;
  #bodyFilled = 0;
  #failure: WireError | undefined;

  /**
   * @param options - The frame size limit.
   * @throws RangeError when `maxFrameBytes` is not an integer from 1 to 2^32 - 1.
   */
  constructor(options?: FrameDecoderOptions) {
    const maxFrameBytes = options?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    checkMaxFrameBytes(maxFrameBytes);
    this.maxFrameBytes = maxFrameBytes;
    this.#copyBodies = options?.copyBodies !== false;
    this.#allocate = options?.allocate ?? ((size) => new Uint8Array(size));
  }

  /** How many bytes of an incomplete frame (prefix and body) are held. */
  get bufferedBytes(): number {
    return this.#body === undefined ? this.#prefixFilled : FRAME_PREFIX_BYTES + this.#bodyFilled;
  }

  /**
   * Feeds the next chunk of the stream.
   *
   * @param chunk - The next bytes, in stream order. The decoder copies what it keeps.
   * @returns The bodies of the frames completed by this chunk, in order; each is a new array
   *   (unless `copyBodies` is `false`: see {@link FrameDecoderOptions.copyBodies}).
   * @throws WireError `frame-too-large` as soon as a prefix announces more than `maxFrameBytes`.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure !== undefined) throw this.#failure;
    const bodies: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#body === undefined && this.#prefixFilled === 0 && chunk.length - offset >= 4) {
        // Fast path: a whole prefix in this chunk, and maybe the whole body.
        const length =
          ((chunk[offset] as number) * 0x100_0000 +
            (((chunk[offset + 1] as number) << 16) |
              ((chunk[offset + 2] as number) << 8) |
              (chunk[offset + 3] as number))) >>>
          0;
        if (length > this.maxFrameBytes) {
          this.#failure = new WireError(
            'frame-too-large',
            `frame prefix announces ${length} bytes, above the limit of ${this.maxFrameBytes}`,
          );
          throw this.#failure;
        }
        offset += FRAME_PREFIX_BYTES;
        if (chunk.length - offset >= length) {
          const view = chunk.subarray(offset, offset + length);
          if (this.#copyBodies) {
            // Copied through `set`: `slice` on a Node Buffer would return a view, not a copy.
            const body = this.#allocate(length);
            body.set(view);
            bodies.push(body);
          } else {
            bodies.push(view);
          }
          offset += length;
          continue;
        }
        this.#body = this.#allocate(length);
        this.#bodyFilled = 0;
      }
      if (this.#body === undefined) {
        const take = Math.min(FRAME_PREFIX_BYTES - this.#prefixFilled, chunk.length - offset);
        this.#prefix.set(chunk.subarray(offset, offset + take), this.#prefixFilled);
        this.#prefixFilled += take;
        offset += take;
        if (this.#prefixFilled < FRAME_PREFIX_BYTES) break;
        const length = new DataView(this.#prefix.buffer).getUint32(0, false);
        if (length > this.maxFrameBytes) {
          this.#failure = new WireError(
            'frame-too-large',
            `frame prefix announces ${length} bytes, above the limit of ${this.maxFrameBytes}`,
          );
          this.#prefixFilled = 0;
          throw this.#failure;
        }
        this.#prefixFilled = 0;
        this.#body = this.#allocate(length);
        this.#bodyFilled = 0;
      }
      const body = this.#body;
      const take = Math.min(body.length - this.#bodyFilled, chunk.length - offset);
      body.set(chunk.subarray(offset, offset + take), this.#bodyFilled);
      this.#bodyFilled += take;
      offset += take;
      if (this.#bodyFilled === body.length) {
        bodies.push(body);
        this.#body = undefined;
        this.#bodyFilled = 0;
      }
    }
    return bodies;
  }
}
