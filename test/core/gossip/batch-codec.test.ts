import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeGossipBatch,
  DEFAULT_GOSSIP_BATCH_LIMITS,
  encodeGossipBatch,
  GOSSIP_BATCH_REJECT_REASONS,
  GossipBatchError,
  isGossipBatch,
  resolveGossipBatchLimits,
  type GossipBatchEntry,
} from '../../../src/core/gossip/batch-codec.js';

const id = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
const entry: fc.Arbitrary<GossipBatchEntry> = fc.record({
  hops: fc.integer({ min: 0, max: 255 }),
  message: fc.record({
    messageId: id,
    originNodeId: id,
    payload: fc.uint8Array({ maxLength: 200 }),
    generation: fc.maxSafeNat(),
    timestamp: fc.oneof(fc.maxSafeNat(), fc.double({ min: 0, max: 1e15, noNaN: true })),
  }),
});
const batch = fc.array(entry, { maxLength: 20 });

/** Decodes, or throws only a GossipBatchError with a known reason. */
function decodeOrTypedError(bytes: Uint8Array): readonly GossipBatchEntry[] | undefined {
  try {
    return decodeGossipBatch(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(GossipBatchError);
    expect(GOSSIP_BATCH_REJECT_REASONS).toContain((error as GossipBatchError).reason);
    return undefined;
  }
}

describe('gossip batch codec', () => {
  it('round-trips every valid batch', () => {
    fc.assert(
      fc.property(batch, (entries) => {
        const decoded = decodeGossipBatch(encodeGossipBatch(entries));
        expect(decoded).toHaveLength(entries.length);
        decoded.forEach((got, i) => {
          const want = entries[i]!;
          expect(got.hops).toBe(want.hops);
          expect(got.message.messageId).toBe(want.message.messageId);
          expect(got.message.originNodeId).toBe(want.message.originNodeId);
          expect(Object.is(got.message.generation, want.message.generation)).toBe(true);
          expect(Object.is(got.message.timestamp, want.message.timestamp)).toBe(true);
          expect([...got.message.payload]).toEqual([...want.message.payload]);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes decode or throw a typed error, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        decodeOrTypedError(bytes);
      }),
      { numRuns: 2_000 },
    );
    // Arbitrary bytes behind a valid header reach the entry parser.
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.integer({ min: 0, max: 300 }),
        (tail, n) => {
          const header = new Uint8Array([0x44, 0x57, 0x47, 1, n >> 8, n & 0xff]);
          const bytes = new Uint8Array(header.length + tail.length);
          bytes.set(header);
          bytes.set(tail, header.length);
          decodeOrTypedError(bytes);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('mutated valid batches decode or throw a typed error', () => {
    const mutation = fc.array(
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'grow')),
      { minLength: 1, maxLength: 4 },
    );
    fc.assert(
      fc.property(batch, mutation, (entries, edits) => {
        let bytes = encodeGossipBatch(entries);
        for (const [at, value, kind] of edits) {
          const i = bytes.length === 0 ? 0 : at % bytes.length;
          if (kind === 'set' && bytes.length > 0) {
            bytes = bytes.slice();
            bytes[i] = value;
          } else if (kind === 'cut') bytes = bytes.slice(0, i);
          else {
            const grown = new Uint8Array(bytes.length + 1);
            grown.set(bytes.subarray(0, i));
            grown[i] = value;
            grown.set(bytes.subarray(i), i + 1);
            bytes = grown;
          }
        }
        const decoded = decodeOrTypedError(bytes);
        for (const e of decoded ?? []) {
          expect(e.message.messageId).not.toBe('');
          expect(Number.isSafeInteger(e.message.generation)).toBe(true);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses each kind of bad batch with its reason', () => {
    const good = encodeGossipBatch([
      {
        hops: 0,
        message: {
          messageId: 'm',
          originNodeId: 'o',
          payload: new Uint8Array(10),
          generation: 1,
          timestamp: 2,
        },
      },
    ]);
    const reason = (bytes: Uint8Array, limits = DEFAULT_GOSSIP_BATCH_LIMITS) => {
      try {
        decodeGossipBatch(bytes, limits);
        return 'ok';
      } catch (error) {
        return (error as GossipBatchError).reason;
      }
    };
    expect(reason(good)).toBe('ok');
    expect(reason(good.slice(0, good.length - 1))).toBe('truncated');
    expect(reason(good.slice(0, 4))).toBe('truncated');
    expect(reason(new Uint8Array([1, 2, 3, 4, 5, 6]))).toBe('malformed');
    const version = good.slice();
    version[3] = 9;
    expect(reason(version)).toBe('unsupported-version');
    const trailing = new Uint8Array(good.length + 1);
    trailing.set(good);
    expect(reason(trailing)).toBe('malformed');
    const small = resolveGossipBatchLimits({ maxPayloadBytes: 5, maxBatchBytes: 1000 });
    expect(reason(good, small)).toBe('limit-exceeded');
    expect(reason(new Uint8Array(DEFAULT_GOSSIP_BATCH_LIMITS.maxBatchBytes + 1))).toBe(
      'limit-exceeded',
    );
    const negative = encodeGossipBatch([
      {
        hops: 0,
        message: {
          messageId: 'm',
          originNodeId: 'o',
          payload: new Uint8Array(0),
          generation: -1,
          timestamp: 2,
        },
      },
    ]);
    expect(reason(negative)).toBe('malformed');
    expect(isGossipBatch(good)).toBe(true);
    expect(isGossipBatch(new Uint8Array([1, 2, 3]))).toBe(false);
  });

  it('refuses limits where one largest entry could not fit a batch', () => {
    expect(() => resolveGossipBatchLimits({ maxBatchBytes: 100 })).toThrow(RangeError);
    expect(() => resolveGossipBatchLimits({ maxEntries: 0 })).toThrow(RangeError);
  });
});
