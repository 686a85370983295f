import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import { selectWithBoundedLoad } from '../../../src/core/load-balancing/hashing/bounded-load.js';
import { HashRing } from '../../../src/core/load-balancing/hashing/ring.js';
import { equalMembers, keys, memberIds } from './helpers.js';

const SPARSE = { virtualNodesPerWeight: 32 };

describe('selectWithBoundedLoad', () => {
  it('never lets a member exceed ceil(c × its weighted fair share) while placing keys', () => {
    fc.assert(
      fc.property(
        memberIds(1, 12).chain((ids) =>
          fc.tuple(
            fc.constant(ids),
            fc.array(fc.integer({ min: 1, max: 4 }), {
              minLength: ids.length,
              maxLength: ids.length,
            }),
          ),
        ),
        fc.double({ min: 1, max: 3, noNaN: true }),
        fc.integer({ min: 1, max: 400 }),
        ([ids, weights], loadFactor, keyCount) => {
          const members = ids.map((id, i) => ({ id, weight: weights[i]! }));
          const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
          const ring = HashRing.build(members, SPARSE);
          const loads = new Map<string, number>();
          const loadOf = (id: string) => loads.get(id) ?? 0;
          for (let placed = 0; placed < keyCount; placed += 1) {
            const id = selectWithBoundedLoad(ring, `key:${placed}`, loadFactor, loadOf, placed)!;
            loads.set(id, loadOf(id) + 1);
            const weight = members.find((member) => member.id === id)!.weight;
            const bound = Math.ceil((loadFactor * (placed + 1) * weight) / totalWeight);
            expect(loadOf(id)).toBeLessThanOrEqual(bound);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('equal weights: max load ≤ ceil(c × mean) at every step, the paper’s bound', () => {
    const ring = HashRing.build(equalMembers(keys(10, 'node')), SPARSE);
    const loads = new Map<string, number>();
    const loadOf = (id: string) => loads.get(id) ?? 0;
    for (let placed = 0; placed < 5000; placed += 1) {
      const id = selectWithBoundedLoad(ring, `key:${placed}`, 1.25, loadOf, placed)!;
      loads.set(id, loadOf(id) + 1);
      expect(Math.max(...loads.values())).toBeLessThanOrEqual(
        Math.ceil((1.25 * (placed + 1)) / 10),
      );
    }
  });

  it('picks the ring owner while it has room, else the next member on the ring with room', () => {
    fc.assert(
      fc.property(memberIds(2, 10), fc.string({ maxLength: 8 }), fc.nat(), (ids, key, full) => {
        const ring = HashRing.build(equalMembers(ids), SPARSE);
        expect(selectWithBoundedLoad(ring, key, 1.25, () => 0, 0)).toBe(ring.lookup(key));
        // Fill the first `full` members of the key's preferred list to capacity.
        const order = ring.preferred(key, ids.length);
        const blocked = new Set(order.slice(0, full % ids.length));
        const total = 100 * ids.length;
        const capacity = Math.ceil((1.25 * (total + 1)) / ids.length);
        const loadOf = (id: string) => (blocked.has(id) ? capacity : 0);
        expect(selectWithBoundedLoad(ring, key, 1.25, loadOf, total)).toBe(order[blocked.size]);
      }),
      { numRuns: 60 },
    );
  });

  it('only returns accepted members, and counts only accepted members in the capacity', () => {
    fc.assert(
      fc.property(memberIds(1, 10), fc.func(fc.boolean()), fc.string(), (ids, acceptFn, key) => {
        const ring = HashRing.build(equalMembers(ids), SPARSE);
        const accept = (id: string) => acceptFn(id);
        const chosen = selectWithBoundedLoad(ring, key, 1.5, () => 0, 0, accept);
        if (ids.some(accept)) {
          expect(chosen).toBe(ring.preferred(key, 1, accept)[0]);
        } else {
          expect(chosen).toBeUndefined();
        }
      }),
      { numRuns: 60 },
    );
    // Two of four accepted, total 9: capacity ceil(1 × 10 / 2) = 5 over the accepted
    // members, where counting all four would give ceil(10 / 4) = 3 and send the key
    // to the least-loaded member instead.
    const ring = HashRing.build(equalMembers(['a', 'b', 'c', 'd']), SPARSE);
    const accept = (id: string) => id === 'a' || id === 'b';
    const key = keys(100).find((candidate) => ring.preferred(candidate, 1, accept)[0] === 'a')!;
    const loads: Record<string, number> = { a: 4, b: 3 };
    expect(selectWithBoundedLoad(ring, key, 1, (id) => loads[id] ?? 0, 9, accept)).toBe('a');
  });

  it('falls back to the least-loaded accepted member when the loads are inconsistent', () => {
    const ring = HashRing.build(equalMembers(['a', 'b', 'c']), SPARSE);
    const loads: Record<string, number> = { a: 50, b: 40, c: 60 };
    expect(selectWithBoundedLoad(ring, 'k', 1.25, (id) => loads[id] ?? 0, 0)).toBe('b');
  });

  it('returns undefined for an empty ring', () => {
    expect(selectWithBoundedLoad(HashRing.build([]), 'k', 1.25, () => 0, 0)).toBeUndefined();
  });

  it('rejects a load factor below 1 or not finite, and a negative or non-finite total', () => {
    const ring = HashRing.build(equalMembers(['a']), SPARSE);
    const cases: [number, number][] = [
      [0.9, 0],
      [Number.NaN, 0],
      [Number.POSITIVE_INFINITY, 0],
      [1.25, -1],
      [1.25, Number.NaN],
    ];
    for (const [loadFactor, total] of cases) {
      expect(() => selectWithBoundedLoad(ring, 'k', loadFactor, () => 0, total)).toThrow(
        DistributedError,
      );
    }
  });
});
