import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIsoTime } from '../../../src/core/time/iso-time.js';

describe('formatIsoTime', () => {
  it('agrees with Date.prototype.toISOString over years 1–9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }), (ms) => {
        expect(formatIsoTime(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 5000 },
    );
  });

  it('gets leap days and the ends of the range right', () => {
    for (const text of [
      '0001-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '1970-01-01T00:00:00.000Z',
      '2000-02-29T23:59:59.999Z',
      '2100-03-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
    ]) {
      expect(formatIsoTime(Date.parse(text))).toBe(text);
    }
  });

  it('writes an instant it cannot format as milliseconds', () => {
    expect(formatIsoTime(-62_135_596_800_001)).toBe('-62135596800001 ms');
    expect(formatIsoTime(1.5)).toBe('1.5 ms');
  });
});
