import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  FrameDecoder,
} from '../../../src/core/wire/frame.js';
import { WireError } from '../../../src/core/wire/wire-error.js';
import { CORE_FUZZ_TARGETS, splitAt } from './fuzz-targets.js';

function reasonOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof WireError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('encodeFrame', () => {
  it('prefixes the body with its big-endian length', () => {
    expect([...encodeFrame(new Uint8Array([7, 8, 9]))]).toEqual([0, 0, 0, 3, 7, 8, 9]);
  });

  it('refuses a body above the limit', () => {
    expect(reasonOf(() => encodeFrame(new Uint8Array(11), 10))).toBe('frame-too-large');
    expect(encodeFrame(new Uint8Array(10), 10)).toHaveLength(14);
  });
});

describe('FrameDecoder', () => {
  it('round-trips frames split at arbitrary points', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (bodies, cuts) => {
          const stream = Buffer.concat(bodies.map((body) => encodeFrame(body)));
          const decoder = new FrameDecoder({ maxFrameBytes: 300 });
          const out = splitAt(stream, cuts).flatMap((chunk) => decoder.push(chunk));
          expect(out.map((body) => [...body])).toEqual(bodies.map((body) => [...body]));
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('delivers frames one byte at a time and counts what it buffers', () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame(new Uint8Array([1, 2, 3]));
    const out: Uint8Array[] = [];
    for (let i = 0; i < frame.length; i++) {
      out.push(...decoder.push(frame.subarray(i, i + 1)));
      expect(decoder.bufferedBytes).toBe(i + 1 === frame.length ? 0 : i + 1);
    }
    expect(out.map((body) => [...body])).toEqual([[1, 2, 3]]);
  });

  it('returns empty frames', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0]))).toEqual([
      new Uint8Array(0),
      new Uint8Array(0),
    ]);
  });

  it('refuses an oversized prefix before the body arrives, and stays failed', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1000 });
    expect(reasonOf(() => decoder.push(new Uint8Array([0, 0, 3, 233])))).toBe('frame-too-large');
    expect(decoder.bufferedBytes).toBe(0);
    expect(reasonOf(() => decoder.push(encodeFrame(new Uint8Array(1))))).toBe('frame-too-large');
  });

  it('never allocates for a huge announced length', () => {
    const decoder = new FrameDecoder();
    expect(reasonOf(() => decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xff])))).toBe(
      'frame-too-large',
    );
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(1024 * 1024 + 4096);
  });

  it('accepts a frame of exactly the limit', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 5 });
    expect(decoder.push(encodeFrame(new Uint8Array(5), 5))).toHaveLength(1);
  });

  it('rejects invalid options', () => {
    expect(() => new FrameDecoder({ maxFrameBytes: 0 })).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameBytes: 2 ** 32 })).toThrow(RangeError);
  });
});

describe('fuzz (small runs; `npm run fuzz` runs many)', () => {
  for (const target of CORE_FUZZ_TARGETS) {
    it(target.name, () => {
      target.run(500);
    });
  }
});
