import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import {
  decodeEnvelope,
  encodeEnvelope,
  ENVELOPE_KINDS,
  WIRE_VERSION,
  type Envelope,
} from '../../../src/core/wire/envelope.js';
import {
  createRejectCounters,
  WIRE_REJECT_REASONS,
  WireError,
} from '../../../src/core/wire/wire-error.js';
import { envelopeArbitrary } from './fuzz-targets.js';

const base: Envelope = {
  version: WIRE_VERSION,
  kind: 'request',
  from: 'node-a',
  to: 'node-b',
  correlationId: 42,
  sentAt: 1_700_000_000_000,
  payload: new Uint8Array([1, 2, 3]),
};

function reasonOf(bytes: Uint8Array, limits?: Parameters<typeof decodeEnvelope>[1]): string {
  try {
    decodeEnvelope(bytes, limits);
  } catch (error) {
    if (error instanceof WireError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('envelope codec', () => {
  it('round-trips every valid envelope', () => {
    fc.assert(
      fc.property(envelopeArbitrary(), (envelope) => {
        const decoded = decodeEnvelope(encodeEnvelope(envelope));
        expect(decoded).toEqual(envelope);
        expect(Object.isFrozen(decoded)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes from a view into a larger buffer', () => {
    const bytes = encodeEnvelope(base);
    const padded = new Uint8Array(bytes.length + 13);
    padded.set(bytes, 7);
    expect(decodeEnvelope(padded.subarray(7, 7 + bytes.length))).toEqual(base);
  });

  it('carries an error code on error envelopes', () => {
    const envelope: Envelope = { ...base, kind: 'error', errorCode: 'UNKNOWN_PEER' };
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
  });

  it('returns a payload that does not alias the input', () => {
    const bytes = encodeEnvelope(base);
    const decoded = decodeEnvelope(bytes);
    bytes.fill(0);
    expect([...decoded.payload]).toEqual([1, 2, 3]);
  });

  it('refuses a wrong version, kind, flags, empty sender and trailing bytes', () => {
    const bytes = encodeEnvelope(base);
    const patched = (at: number, value: number) => {
      const copy = bytes.slice();
      copy[at] = value;
      return copy;
    };
    expect(reasonOf(patched(0, 2))).toBe('unsupported-version');
    expect(reasonOf(patched(1, ENVELOPE_KINDS.length))).toBe('malformed');
    expect(reasonOf(patched(2, 2))).toBe('malformed');
    expect(reasonOf(patched(2, 1))).toBe('malformed'); // an error code on a request
    expect(reasonOf(Buffer.concat([bytes, new Uint8Array([0])]))).toBe('malformed');
    const noSender = encodeEnvelope({ ...base, from: 'x' });
    expect(
      reasonOf(
        Buffer.concat([noSender.subarray(0, 3), new Uint8Array([0, 0]), noSender.subarray(6)]),
      ),
    ).toBe('malformed');
  });

  it('refuses every truncation', () => {
    const bytes = encodeEnvelope({ ...base, kind: 'error', errorCode: 'E' });
    for (let length = 0; length < bytes.length; length++) {
      expect(reasonOf(bytes.subarray(0, length))).toBe('truncated');
    }
  });

  it('refuses invalid UTF-8 and a non-finite timestamp', () => {
    const bytes = encodeEnvelope({ ...base, from: 'ab' });
    const badUtf8 = bytes.slice();
    badUtf8[5] = 0xff;
    expect(reasonOf(badUtf8)).toBe('malformed');
    const nan = encodeEnvelope(base);
    const sentAtOffset = 3 + 2 + 6 + 2 + 6 + 4;
    new DataView(nan.buffer).setFloat64(sentAtOffset, Number.NaN);
    expect(reasonOf(nan)).toBe('malformed');
  });

  it('enforces the limits before reading the data', () => {
    const bytes = encodeEnvelope({ ...base, payload: new Uint8Array(100) });
    expect(reasonOf(bytes, { maxPayloadBytes: 99 })).toBe('limit-exceeded');
    expect(reasonOf(bytes, { maxPayloadBytes: 100 })).toBe('accepted');
    expect(reasonOf(bytes, { maxIdBytes: 5 })).toBe('limit-exceeded');
    // A huge announced payload length with no data is refused by the limit, not by allocation.
    const huge = bytes.slice(0, bytes.length - 100);
    new DataView(huge.buffer).setUint32(huge.length - 4, 0xffff_ffff);
    expect(reasonOf(huge)).toBe('limit-exceeded');
  });

  it('refuses to encode what a receiver would refuse', () => {
    const bad: Envelope[] = [
      { ...base, version: 2 },
      { ...base, kind: 'nope' as Envelope['kind'] },
      { ...base, from: '' },
      { ...base, from: 'x'.repeat(257) },
      { ...base, to: '\ud800' },
      { ...base, correlationId: -1 },
      { ...base, correlationId: 2 ** 32 },
      { ...base, sentAt: Number.POSITIVE_INFINITY },
      { ...base, sentAt: -1 },
      { ...base, errorCode: 'E' },
      { ...base, payload: new Uint8Array(17) },
    ];
    for (const envelope of bad) {
      expect(() => encodeEnvelope(envelope, { maxPayloadBytes: 16 })).toThrow(DistributedError);
    }
  });
});

describe('wire errors', () => {
  it('has a zeroed counter per reason', () => {
    const counters = createRejectCounters();
    expect(Object.keys(counters)).toEqual([...WIRE_REJECT_REASONS]);
    expect(Object.values(counters).every((count) => count === 0)).toBe(true);
    const error = new WireError('replayed', 'again');
    expect(error).toBeInstanceOf(Error);
    expect(error.reason).toBe('replayed');
    expect(error.name).toBe('WireError');
  });
});
