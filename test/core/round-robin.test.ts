import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClusterNode, ClusterNodeStatus } from '../../src/contracts/cluster-membership.js';
import type { HealthStatus } from '../../src/contracts/health.js';
import { eligibleNodes, roundRobinPick } from '../../src/core/load-balancing/round-robin.js';

function node(nodeId: string, status: ClusterNodeStatus): ClusterNode {
  return { nodeId, address: 'h', port: 1, role: 'follower', status, joinedAt: 0, metadata: {} };
}

const candidate = fc.record({
  nodeId: fc.string({ minLength: 1, maxLength: 4 }),
  status: fc.constantFrom<ClusterNodeStatus>('active', 'joining', 'leaving', 'suspected', 'dead'),
  verdict: fc.constantFrom<HealthStatus | undefined>('healthy', 'degraded', 'unhealthy', undefined),
});

describe('round robin (core)', () => {
  it('picks each node exactly k times in any k*n consecutive picks', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.nat({ max: 1_000_000 }),
        (ids, k, start) => {
          const counts = new Map<string, number>();
          for (let i = 0; i < k * ids.length; i += 1) {
            const picked = roundRobinPick(ids, start + i);
            counts.set(picked, (counts.get(picked) ?? 0) + 1);
          }
          expect(counts.size).toBe(ids.length);
          for (const count of counts.values()) expect(count).toBe(k);
        },
      ),
    );
  });

  it('eligible nodes: unique, sorted, none dead or unhealthy, every other one kept', () => {
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 20 }), (candidates) => {
        // The first listing of an id decides its status; the verdict is per id.
        const verdicts = new Map<string, HealthStatus | undefined>();
        for (const c of candidates) if (!verdicts.has(c.nodeId)) verdicts.set(c.nodeId, c.verdict);
        const nodes = candidates.map((c) => node(c.nodeId, c.status));
        const eligible = eligibleNodes(nodes, (id) => verdicts.get(id));
        const ids = eligible.map((n) => n.nodeId);
        expect(new Set(ids).size).toBe(ids.length);
        expect([...ids].sort()).toEqual(ids);
        const expected = new Set<string>();
        const firsts = new Map<string, ClusterNode>();
        for (const n of nodes) if (!firsts.has(n.nodeId)) firsts.set(n.nodeId, n);
        for (const [id, n] of firsts) {
          if (n.status !== 'dead' && verdicts.get(id) !== 'unhealthy') expected.add(id);
        }
        expect(new Set(ids)).toEqual(expected);
      }),
    );
  });

  it('eligible order does not depend on the listing order', () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(fc.string({ maxLength: 4 }), { maxLength: 10 })
          .chain((ids) =>
            fc.tuple(fc.constant(ids), fc.shuffledSubarray(ids, { minLength: ids.length })),
          ),
        ([ids, shuffled]) => {
          const of = (list: string[]) =>
            eligibleNodes(
              list.map((id) => node(id, 'active')),
              () => undefined,
            ).map((n) => n.nodeId);
          expect(of(shuffled)).toEqual(of(ids));
        },
      ),
    );
  });

  it('lets the first listing of a duplicated id decide', () => {
    const ids = (nodes: ClusterNode[]) =>
      eligibleNodes(nodes, () => undefined).map((n) => n.nodeId);
    expect(ids([node('a', 'dead'), node('a', 'active')])).toEqual([]);
    expect(ids([node('a', 'active'), node('a', 'dead')])).toEqual(['a']);
  });

  it('rejects an empty list and a bad counter', () => {
    expect(() => roundRobinPick([], 0)).toThrow(RangeError);
    expect(() => roundRobinPick(['a'], -1)).toThrow(RangeError);
    expect(() => roundRobinPick(['a'], 0.5)).toThrow(RangeError);
  });
});
