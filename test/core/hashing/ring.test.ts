import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VIRTUAL_NODES_PER_WEIGHT,
  HashRing,
  type HashMember,
} from '../../../src/core/load-balancing/hashing/ring.js';
import { countBy, equalMembers, expectInvalid, keys, memberIds } from './helpers.js';

const KEYS = keys(400);
// A sparse ring keeps the properties quick and makes arcs uneven, which is the harder case.
const SPARSE = { virtualNodesPerWeight: 16 };

describe('HashRing properties', () => {
  it('maps a key to the same member while membership is unchanged, whatever the listing order', () => {
    fc.assert(
      fc.property(
        memberIds(1, 12).chain((ids) =>
          fc.tuple(fc.constant(ids), fc.shuffledSubarray(ids, { minLength: ids.length })),
        ),
        ([ids, shuffled]) => {
          const ring = HashRing.build(equalMembers(ids), SPARSE);
          const again = HashRing.build(equalMembers(shuffled), SPARSE);
          const owners = KEYS.map((key) => ring.lookup(key));
          expect(owners.every((owner) => owner !== undefined && ids.includes(owner))).toBe(true);
          expect(KEYS.map((key) => ring.lookup(key))).toEqual(owners);
          expect(KEYS.map((key) => again.lookup(key))).toEqual(owners);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("removing a member moves only that member's keys, each to its next member on the ring", () => {
    fc.assert(
      fc.property(memberIds(2, 12), fc.nat(), (ids, pick) => {
        const removed = ids[pick % ids.length]!;
        const before = HashRing.build(equalMembers(ids), SPARSE);
        const after = HashRing.build(equalMembers(ids.filter((id) => id !== removed)), SPARSE);
        // Expected: unchanged, except the removed member's keys go to their next member.
        const expected = KEYS.map((key) => {
          const owner = before.lookup(key);
          return owner === removed ? before.preferred(key, 2)[1] : owner;
        });
        expect(KEYS.map((key) => after.lookup(key))).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  it('adding a member moves keys only to the new member', () => {
    fc.assert(
      fc.property(memberIds(2, 12), (ids) => {
        const [added, ...rest] = ids;
        const before = HashRing.build(equalMembers(rest), SPARSE);
        const after = HashRing.build(equalMembers(ids), SPARSE);
        const expected = KEYS.map((key) => {
          const owner = after.lookup(key);
          return owner === added ? added : before.lookup(key);
        });
        expect(KEYS.map((key) => after.lookup(key))).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  it('honours weights: each share is within 6 standard deviations (6/√points) of weight/total', () => {
    fc.assert(
      fc.property(
        memberIds(1, 8).chain((ids) =>
          fc.tuple(
            fc.constant(ids),
            fc.array(fc.integer({ min: 1, max: 8 }), {
              minLength: ids.length,
              maxLength: ids.length,
            }),
          ),
        ),
        ([ids, weights]) => {
          const members = ids.map((id, i) => ({ id, weight: weights[i]! }));
          const ring = HashRing.build(members, { virtualNodesPerWeight: 256 });
          const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
          const shares = ring.shares();
          let sum = 0;
          for (const member of members) {
            const share = shares.get(member.id)!;
            sum += share;
            const expected = member.weight / totalWeight;
            const tolerance = 6 / Math.sqrt(member.weight * 256);
            expect(Math.abs(share / expected - 1)).toBeLessThanOrEqual(tolerance);
          }
          expect(sum).toBeCloseTo(1, 9);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('preferred returns min(count, accepted) distinct accepted members, the owner first when accepted', () => {
    fc.assert(
      fc.property(
        memberIds(1, 10),
        fc.integer({ min: 0, max: 12 }),
        fc.func(fc.boolean()),
        fc.string({ maxLength: 8 }),
        (ids, count, acceptFn, key) => {
          const ring = HashRing.build(equalMembers(ids), SPARSE);
          const accept = (id: string) => acceptFn(id);
          const accepted = ids.filter(accept);
          const preferred = ring.preferred(key, count, accept);
          expect(preferred).toHaveLength(Math.min(count, accepted.length));
          expect(new Set(preferred).size).toBe(preferred.length);
          for (const id of preferred) expect(accept(id)).toBe(true);
          const owner = ring.lookup(key)!;
          if (count > 0 && accept(owner)) expect(preferred[0]).toBe(owner);
          // Without a filter the order is the ring order, so a filtered list is its subsequence.
          const all = ring.preferred(key, ids.length);
          expect(all[0]).toBe(owner);
          expect(all.filter(accept).slice(0, count)).toEqual(preferred);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('find offers each member once, in preferred order, until the predicate accepts', () => {
    fc.assert(
      fc.property(memberIds(1, 10), fc.string({ maxLength: 8 }), fc.nat(), (ids, key, stopAt) => {
        const ring = HashRing.build(equalMembers(ids), SPARSE);
        const offered: string[] = [];
        const target = stopAt % (ids.length + 1); // ids.length means: never accept
        const found = ring.find(key, (id, index) => {
          expect(ring.members[index]!.id).toBe(id);
          offered.push(id);
          return offered.length === target + 1;
        });
        expect(offered).toEqual(ring.preferred(key, Math.min(target + 1, ids.length)));
        expect(found).toBe(target < ids.length ? offered[target] : undefined);
      }),
      { numRuns: 60 },
    );
  });
});

describe('HashRing balance at the default density', () => {
  it('100 equal members: max/mean share ≤ 1.10', () => {
    const ring = HashRing.build(equalMembers(keys(100, 'node')));
    expect(ring.pointCount).toBe(100 * DEFAULT_VIRTUAL_NODES_PER_WEIGHT);
    const shares = [...ring.shares().values()];
    expect(Math.max(...shares) * 100).toBeLessThanOrEqual(1.1);
  });

  it('key counts follow the shares', () => {
    const ring = HashRing.build([
      { id: 'a', weight: 1 },
      { id: 'b', weight: 3 },
    ]);
    const counts = countBy(keys(20_000), (key) => ring.lookup(key));
    const share = counts.get('b')! / 20_000;
    expect(Math.abs(share - ring.shares().get('b')!)).toBeLessThan(0.02);
  });
});

describe('HashRing edge cases', () => {
  it('an empty ring has no owner and no preferred members', () => {
    const ring = HashRing.build([]);
    expect(ring.memberCount).toBe(0);
    expect(ring.lookup('x')).toBeUndefined();
    expect(ring.preferred('x', 3)).toEqual([]);
    expect(ring.find('x', () => true)).toBeUndefined();
    expect(ring.shares().size).toBe(0);
  });

  it('one member owns every key', () => {
    const ring = HashRing.build([{ id: 'only', weight: 0.001 }]);
    expect(ring.pointCount).toBe(2);
    for (const key of KEYS) expect(ring.lookup(key)).toBe('only');
    expect(ring.preferred('x', 5)).toEqual(['only']);
    expect(ring.preferred('x', 5, () => false)).toEqual([]);
    expect(ring.shares().get('only')).toBe(1);
  });

  it('a tiny weight still gets one point', () => {
    const ring = HashRing.build([{ id: 'a', weight: 1e-9 }], SPARSE);
    expect(ring.pointCount).toBe(1);
    expect(ring.lookup('x')).toBe('a');
  });

  it('rejects duplicate ids with INVALID_ARGUMENT', () => {
    expectInvalid(() =>
      HashRing.build([
        { id: 'a', weight: 1 },
        { id: 'a', weight: 2 },
      ]),
    );
  });

  it('rejects zero, negative and non-finite weights with INVALID_ARGUMENT', () => {
    for (const weight of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectInvalid(() => HashRing.build([{ id: 'a', weight }]));
    }
  });

  it('rejects bad options and oversized rings with INVALID_ARGUMENT', () => {
    const members: HashMember[] = [{ id: 'a', weight: 1 }];
    for (const virtualNodesPerWeight of [0, -3, 1.5, Number.NaN]) {
      expectInvalid(() => HashRing.build(members, { virtualNodesPerWeight }));
    }
    expectInvalid(() => HashRing.build(members, { maxPoints: 0 }));
    expectInvalid(() => HashRing.build(members, { maxPoints: 100 }));
    expect(HashRing.build(members, { maxPoints: 2048 }).pointCount).toBe(2048);
  });

  it('rejects a count that is not a non-negative integer', () => {
    const ring = HashRing.build([{ id: 'a', weight: 1 }], SPARSE);
    for (const count of [-1, 1.5, Number.NaN]) expectInvalid(() => ring.preferred('x', count));
    expect(ring.preferred('x', 0)).toEqual([]);
  });

  it('does not keep a reference to the caller’s members', () => {
    const members = [
      { id: 'b', weight: 1 },
      { id: 'a', weight: 2 },
    ];
    const ring = HashRing.build(members, SPARSE);
    members[0]!.weight = 5;
    expect(ring.members).toEqual([
      { id: 'a', weight: 2 },
      { id: 'b', weight: 1 },
    ]);
    expect(Object.isFrozen(ring.members)).toBe(true);
  });
});
