import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../../src/core/random/seeded-random.js';
import { RaftNode } from '../../../src/core/raft/raft-node.js';
import type { RaftEntry, RaftMessage } from '../../../src/core/raft/types.js';

/**
 * Pure cores exchanging messages through a pool the property drives: any
 * message may be delivered in any order, dropped or duplicated, any member
 * ticked, and proposals made at whoever leads. Election Safety and State
 * Machine Safety must hold after every step.
 */
type Action =
  | { kind: 'tick'; node: number; times: number }
  | { kind: 'deliver'; pick: number }
  | { kind: 'flood'; pick: number }
  | { kind: 'drop'; pick: number }
  | { kind: 'duplicate'; pick: number }
  | { kind: 'propose'; node: number }
  | { kind: 'compact'; node: number };

const action = (nodes: number): fc.Arbitrary<Action> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('tick' as const),
        node: fc.nat(nodes - 1),
        times: fc.integer({ min: 1, max: 12 }),
      }),
    },
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('flood' as const), pick: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('propose' as const), node: fc.nat(nodes - 1) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('compact' as const), node: fc.nat(nodes - 1) }),
    },
  );

function run(
  nodes: number,
  seed: number,
  actions: readonly Action[],
): { leaders: number; applied: number } {
  const ids = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const random = createSeededRandom(seed);
  const cores = ids.map(
    (id) =>
      new RaftNode({
        id,
        random: random.fork(id),
        electionTicks: 5,
        membership: { voters: ids, observers: [] },
      }),
  );
  const pool: RaftMessage[] = [];
  const leaders = new Map<number, string>();
  const applied = new Map<number, RaftEntry>();
  let proposals = 0;
  const flush = (): void => {
    for (const core of cores) {
      if (!core.hasReady()) continue;
      const ready = core.ready();
      core.advance();
      pool.push(...ready.messages);
      for (const entry of ready.committed) {
        const seen = applied.get(entry.index);
        if (seen === undefined) applied.set(entry.index, entry);
        else {
          expect({ index: entry.index, term: entry.term, data: [...entry.data] }).toEqual({
            index: seen.index,
            term: seen.term,
            data: [...seen.data],
          });
        }
      }
      if (core.role === 'leader') {
        const other = leaders.get(core.term);
        expect(other === undefined || other === core.id).toBe(true);
        leaders.set(core.term, core.id);
      }
    }
  };
  for (const a of actions) {
    switch (a.kind) {
      case 'tick':
        for (let i = 0; i < a.times; i++) cores[a.node]?.tick();
        break;
      case 'deliver': {
        if (pool.length === 0) break;
        const [message] = pool.splice(a.pick % pool.length, 1);
        if (message !== undefined) cores[ids.indexOf(message.to)]?.step(message);
        break;
      }
      case 'flood':
        // Up to 30 messages, in an order drawn from `pick`.
        for (let i = 0; i < 30 && pool.length > 0; i++) {
          const [message] = pool.splice((a.pick + i * 7) % pool.length, 1);
          if (message !== undefined) cores[ids.indexOf(message.to)]?.step(message);
          flush();
        }
        break;
      case 'drop':
        if (pool.length > 0) pool.splice(a.pick % pool.length, 1);
        break;
      case 'duplicate':
        if (pool.length > 0) pool.push(pool[a.pick % pool.length] as RaftMessage);
        break;
      case 'propose':
        cores[a.node]?.propose(new TextEncoder().encode(`p${proposals++}`));
        break;
      case 'compact':
        cores[a.node]?.compact(new Uint8Array([1]));
        break;
    }
    flush();
  }
  return { leaders: leaders.size, applied: applied.size };
}

describe('RaftNode under arbitrary delivery orders, losses and duplicates (property)', () => {
  for (const nodes of [3, 5]) {
    it(`${nodes} members: one leader per term, one entry per index`, () => {
      let leaders = 0;
      let applied = 0;
      fc.assert(
        fc.property(
          fc.nat(),
          fc.array(action(nodes), { minLength: 50, maxLength: 400 }),
          (seed, actions) => {
            const outcome = run(nodes, seed, actions);
            leaders += outcome.leaders;
            applied += outcome.applied;
          },
        ),
        { numRuns: 300 },
      );
      // Not vacuous: leaders were elected and entries committed.
      expect(leaders).toBeGreaterThan(200);
      expect(applied).toBeGreaterThan(400);
    });
  }
});
