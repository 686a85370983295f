import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VectorClock } from '../../src/contracts/vector-clock.js';

// Few node ids, so generated clocks overlap often and every ordering appears.
const nodeId = fc.constantFrom('a', 'b', 'c', 'd', '__proto__', 'constructor');
const clock = fc
  .dictionary(nodeId, fc.nat({ max: 5 }))
  .map((counters) => VectorClock.from(counters));

describe('VectorClock', () => {
  it('merge is commutative', () => {
    fc.assert(
      fc.property(clock, clock, (a, b) => {
        expect(a.merge(b).compare(b.merge(a))).toBe('equal');
      }),
    );
  });

  it('merge is associative', () => {
    fc.assert(
      fc.property(clock, clock, clock, (a, b, c) => {
        expect(
          a
            .merge(b)
            .merge(c)
            .compare(a.merge(b.merge(c))),
        ).toBe('equal');
      }),
    );
  });

  it('merge is idempotent', () => {
    fc.assert(
      fc.property(clock, (a) => {
        expect(a.merge(a).compare(a)).toBe('equal');
      }),
    );
  });

  it('compare is consistent with merge: a ≤ b exactly when a ∨ b = b', () => {
    fc.assert(
      fc.property(clock, clock, (a, b) => {
        const ordering = a.compare(b);
        const mergedIsB = a.merge(b).compare(b) === 'equal';
        const mergedIsA = a.merge(b).compare(a) === 'equal';
        expect(ordering === 'before' || ordering === 'equal').toBe(mergedIsB);
        expect(ordering === 'after' || ordering === 'equal').toBe(mergedIsA);
        expect(ordering === 'concurrent').toBe(!mergedIsA && !mergedIsB);
      }),
    );
  });

  it('compare is antisymmetric', () => {
    const mirror = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' };
    fc.assert(
      fc.property(clock, clock, (a, b) => {
        expect(b.compare(a)).toBe(mirror[a.compare(b)]);
      }),
    );
  });

  it('increment moves strictly after, and is never before its input', () => {
    fc.assert(
      fc.property(clock, nodeId, (a, id) => {
        const next = a.increment(id);
        expect(next.compare(a)).toBe('after');
        expect(next.get(id)).toBe(a.get(id) + 1);
      }),
    );
  });

  it('is immutable', () => {
    const a = VectorClock.empty().increment('a');
    a.increment('a');
    a.merge(VectorClock.from({ a: 7 }));
    expect(a.counters).toEqual({ a: 1 });
    expect(Object.isFrozen(a.counters)).toBe(true);
  });

  it('treats zero counters as absent', () => {
    expect(VectorClock.from({ a: 0 }).compare(VectorClock.empty())).toBe('equal');
    expect(JSON.stringify(VectorClock.from({ a: 0, b: 2 }))).toBe('{"b":2}');
  });

  it('rejects counters that are not non-negative integers, and non-objects', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1', null]) {
      expect(() => VectorClock.from({ a: bad as number })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
    for (const bad of [null, [], 'a', 3]) {
      expect(() => VectorClock.from(bad as never)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });

  it('decodes arbitrary JSON either to a clock or to INVALID_ARGUMENT, never anything else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          const decoded = VectorClock.from(value as never);
          for (const counter of Object.values(decoded.counters)) {
            expect(Number.isSafeInteger(counter) && counter > 0).toBe(true);
          }
        } catch (error) {
          expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
        }
      }),
    );
  });

  it('refuses to advance a counter past Number.MAX_SAFE_INTEGER', () => {
    const top = VectorClock.from({ a: Number.MAX_SAFE_INTEGER });
    expect(() => top.increment('a')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(top.increment('b').get('b')).toBe(1);
  });

  it('keeps a node id of "__proto__" as an ordinary counter', () => {
    const a = VectorClock.empty().increment('__proto__');
    expect(a.get('__proto__')).toBe(1);
    expect(Object.getPrototypeOf(a.counters)).toBe(Object.prototype);
    expect(a.compare(VectorClock.empty())).toBe('after');
  });
});
