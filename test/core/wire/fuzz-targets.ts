/**
 * Property-based fuzz targets for the wire decoders, shared by the test suite
 * (small runs) and `scripts/fuzz.ts` (large campaigns). Each target checks that a
 * decoder, fed arbitrary or mutated bytes, either returns a valid value within
 * its limits or throws a WireError with a known reason — never anything else.
 */

import fc from 'fast-check';
import {
  decodeEnvelope,
  decodeEnvelopeBatch,
  encodeEnvelope,
  ENVELOPE_KINDS,
  WIRE_VERSION,
  type Envelope,
  type EnvelopeLimits,
} from '../../../src/core/wire/envelope.js';
import { encodeFrame, FRAME_PREFIX_BYTES, FrameDecoder } from '../../../src/core/wire/frame.js';
import { WIRE_REJECT_REASONS, WireError } from '../../../src/core/wire/wire-error.js';

/** A named fuzz target: `run(numRuns, seed)` asserts its property (throws on a counterexample). */
export interface FuzzTarget {
  readonly name: string;
  run(numRuns: number, seed?: number): void;
}

/** Runs `decode`; a thrown error must be a WireError with a known reason. Returns the value or undefined. */
export function expectValueOrWireError<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch (error) {
    if (!(error instanceof WireError)) {
      throw new Error(`decoder threw a non-WireError: ${String(error)}`, { cause: error });
    }
    if (!WIRE_REJECT_REASONS.includes(error.reason)) {
      throw new Error(`unknown reject reason ${error.reason}`);
    }
    return undefined;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Bytes derived from a valid encoding: unchanged, with random bit flips,
 * truncated, extended, with bytes inserted or overwritten — or entirely arbitrary.
 */
export function mutatedBytes(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const mutations = valid.chain((bytes) => {
    const bitCount = Math.max(1, bytes.length * 8);
    return fc.oneof(
      fc.constant(bytes),
      fc.array(fc.nat({ max: bitCount - 1 }), { minLength: 1, maxLength: 4 }).map((bits) => {
        const copy = bytes.slice();
        for (const bit of bits) {
          if (copy.length > 0) copy[bit >>> 3]! ^= 1 << (bit & 7);
        }
        return copy;
      }),
      fc.nat({ max: bytes.length }).map((length) => bytes.slice(0, length)),
      fc.uint8Array({ minLength: 1, maxLength: 32 }).map((extra) => concat(bytes, extra)),
      fc
        .tuple(fc.nat({ max: bytes.length }), fc.uint8Array({ minLength: 1, maxLength: 8 }))
        .map(([at, extra]) => concat(bytes.subarray(0, at), extra, bytes.subarray(at))),
      fc
        .tuple(fc.nat({ max: Math.max(0, bytes.length - 1) }), fc.integer({ min: 0, max: 255 }))
        .map(([at, value]) => {
          const copy = bytes.slice();
          if (copy.length > 0) copy[at] = value;
          return copy;
        }),
    );
  });
  return fc.oneof(
    { arbitrary: mutations, weight: 4 },
    { arbitrary: fc.uint8Array({ maxLength: 512 }), weight: 1 },
  );
}

/** Well-formed strings (no lone surrogates) of at most `maxLength` UTF-16 units. */
export function idString(minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ minLength, maxLength }),
    fc.string({ unit: 'grapheme', minLength, maxLength: Math.max(minLength, maxLength >> 2) }),
  );
}

/** Valid envelopes (within the default limits). */
export function envelopeArbitrary(maxPayloadBytes = 256): fc.Arbitrary<Envelope> {
  return fc
    .record({
      kind: fc.constantFrom(...ENVELOPE_KINDS),
      from: idString(1, 40),
      to: idString(0, 40),
      correlationId: fc.nat({ max: 0xffff_ffff }),
      sentAt: fc.oneof(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }),
      ),
      payload: fc.uint8Array({ maxLength: maxPayloadBytes }),
      errorCode: fc.option(idString(0, 40), { nil: undefined }),
    })
    .map(({ errorCode, ...rest }) => ({
      version: WIRE_VERSION,
      ...rest,
      ...(rest.kind === 'error' && errorCode !== undefined ? { errorCode } : {}),
    }));
}

/** Checks a decoded envelope is valid and within `limits`. */
export function checkEnvelope(envelope: Envelope, limits: Required<EnvelopeLimits>): void {
  const utf8 = new TextEncoder();
  const problems: string[] = [];
  if (!Object.isFrozen(envelope)) problems.push('not frozen');
  if (envelope.version !== WIRE_VERSION) problems.push('version');
  if (!ENVELOPE_KINDS.includes(envelope.kind)) problems.push('kind');
  if (envelope.from === '' || utf8.encode(envelope.from).length > limits.maxIdBytes) {
    problems.push('from');
  }
  if (utf8.encode(envelope.to).length > limits.maxIdBytes) problems.push('to');
  if (envelope.payload.length > limits.maxPayloadBytes) problems.push('payload');
  if (!Number.isFinite(envelope.sentAt) || envelope.sentAt < 0) problems.push('sentAt');
  if (envelope.errorCode !== undefined && envelope.kind !== 'error') problems.push('errorCode');
  if (problems.length > 0) throw new Error(`invalid decoded envelope: ${problems.join(', ')}`);
}

const SMALL_LIMITS: Required<EnvelopeLimits> = { maxPayloadBytes: 64, maxIdBytes: 16 };
const DEFAULT_LIMITS: Required<EnvelopeLimits> = { maxPayloadBytes: 1024 * 1024, maxIdBytes: 256 };

/** Splits `bytes` into chunks at the given cut points. */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

/** Feeds chunks to a frame decoder, checking its bounds after every push. */
function feedFrames(decoder: FrameDecoder, chunks: readonly Uint8Array[]): Uint8Array[] {
  const bodies: Uint8Array[] = [];
  for (const chunk of chunks) {
    const out = expectValueOrWireError(() => decoder.push(chunk));
    if (decoder.bufferedBytes > decoder.maxFrameBytes + FRAME_PREFIX_BYTES) {
      throw new Error(`frame decoder buffers ${decoder.bufferedBytes} bytes`);
    }
    if (out === undefined) {
      // A failed stream stays failed.
      expectValueOrWireError(() => {
        decoder.push(new Uint8Array(1));
        throw new Error('frame decoder accepted input after a failure');
      });
      return bodies;
    }
    for (const body of out) {
      if (body.length > decoder.maxFrameBytes) throw new Error('oversized frame body returned');
      bodies.push(body);
    }
  }
  return bodies;
}

const frameStream = fc
  .array(fc.uint8Array({ maxLength: 96 }), { maxLength: 6 })
  .map((bodies) => concat(...bodies.map((body) => encodeFrame(body))));

/** The core fuzz targets. */
export const CORE_FUZZ_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'FrameDecoder: mutated streams split anywhere',
    run(numRuns, seed) {
      fc.assert(
        fc.property(
          mutatedBytes(frameStream),
          fc.array(fc.nat(), { maxLength: 8 }),
          fc.constantFrom(1, 16, 64, 1024),
          (bytes, cuts, maxFrameBytes) => {
            feedFrames(new FrameDecoder({ maxFrameBytes }), splitAt(bytes, cuts));
          },
        ),
        { numRuns, ...(seed === undefined ? {} : { seed }) },
      );
    },
  },
  {
    name: 'decodeEnvelope: arbitrary and mutated bytes',
    run(numRuns, seed) {
      const valid = envelopeArbitrary().map((envelope) => encodeEnvelope(envelope));
      fc.assert(
        fc.property(mutatedBytes(valid), fc.boolean(), (bytes, small) => {
          const limits = small ? SMALL_LIMITS : DEFAULT_LIMITS;
          const envelope = expectValueOrWireError(() => decodeEnvelope(bytes, limits));
          if (envelope !== undefined) {
            checkEnvelope(envelope, limits);
            // Whatever decodes re-encodes to exactly the same bytes: one encoding per value.
            const again = encodeEnvelope(envelope, limits);
            if (Buffer.compare(again, bytes) !== 0) throw new Error('decoding is not canonical');
          }
        }),
        { numRuns, ...(seed === undefined ? {} : { seed }) },
      );
    },
  },
  {
    name: 'decodeEnvelopeBatch: arbitrary and mutated batches',
    run(numRuns, seed) {
      const valid = fc
        .array(envelopeArbitrary(64), { minLength: 1, maxLength: 5 })
        .map((envelopes) => concat(...envelopes.map((envelope) => encodeEnvelope(envelope))));
      fc.assert(
        fc.property(
          mutatedBytes(valid),
          fc.boolean(),
          fc.integer({ min: 1, max: 6 }),
          fc.boolean(),
          (bytes, small, maxEnvelopes, ownsInput) => {
            const limits = small ? SMALL_LIMITS : DEFAULT_LIMITS;
            const envelopes = expectValueOrWireError(() =>
              decodeEnvelopeBatch(bytes, limits, { maxEnvelopes, ownsInput }),
            );
            if (envelopes === undefined) return;
            if (envelopes.length < 1 || envelopes.length > maxEnvelopes) {
              throw new Error(`batch of ${envelopes.length} envelopes returned`);
            }
            for (const envelope of envelopes) checkEnvelope(envelope, limits);
            // The envelopes re-encode to exactly the input: nothing skipped or invented.
            const again = concat(...envelopes.map((envelope) => encodeEnvelope(envelope, limits)));
            if (Buffer.compare(again, bytes) !== 0)
              throw new Error('batch decoding is not canonical');
          },
        ),
        { numRuns, ...(seed === undefined ? {} : { seed }) },
      );
    },
  },
];
