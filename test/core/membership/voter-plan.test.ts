import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  RAFT_ROLE_META_KEY,
  nextVoterChange,
  type VoterReconcileInput,
} from '../../../src/core/membership/voter-plan.js';
import type { SwimMember } from '../../../src/core/swim/member-table.js';

const IDS = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

function member(nodeId: string, status: SwimMember['status'], observer = false): SwimMember {
  return {
    nodeId,
    host: nodeId,
    port: 1,
    incarnation: 0,
    status,
    meta: observer ? { [RAFT_ROLE_META_KEY]: 'observer' } : {},
    since: 0,
  };
}

const inputs = fc
  .record({
    statuses: fc.array(fc.constantFrom('alive', 'suspect', 'dead', 'left', 'unknown'), {
      minLength: IDS.length,
      maxLength: IDS.length,
    }),
    raftRoles: fc.array(fc.constantFrom('voter', 'observer', 'none'), {
      minLength: IDS.length,
      maxLength: IDS.length,
    }),
    wantsObserver: fc.array(fc.boolean(), { minLength: IDS.length, maxLength: IDS.length }),
    deadFor: fc.array(fc.option(fc.nat(2_000)), { minLength: IDS.length, maxLength: IDS.length }),
    maxVoters: fc.integer({ min: 1, max: 7 }),
  })
  .map(({ statuses, raftRoles, wantsObserver, deadFor, maxVoters }): VoterReconcileInput => {
    // 'a' is the leader: alive and a voter.
    statuses[0] = 'alive';
    raftRoles[0] = 'voter';
    const members = IDS.flatMap((id, i) =>
      statuses[i] === 'unknown'
        ? []
        : [member(id, statuses[i] as SwimMember['status'], wantsObserver[i] === true)],
    );
    const deadSince = new Map<string, number>();
    IDS.forEach((id, i) => {
      const age = deadFor[i];
      if (age !== null && age !== undefined) deadSince.set(id, 10_000 - age);
    });
    return {
      selfId: 'a',
      raft: {
        voters: IDS.filter((_, i) => raftRoles[i] === 'voter'),
        observers: IDS.filter((_, i) => raftRoles[i] === 'observer'),
      },
      members,
      maxVoters: Math.max(maxVoters, 1),
      deadSince,
      now: 10_000,
      removeDeadAfterMs: 1_000,
    };
  });

describe('nextVoterChange', () => {
  it('never removes the leader, never adds beyond maxVoters, never adds a member that is not alive', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const change = nextVoterChange(input);
        if (change === undefined) return;
        const byId = new Map(input.members.map((m) => [m.nodeId, m]));
        const configured = [...input.raft.voters, ...input.raft.observers];
        if (change.action === 'remove') {
          expect(change.nodeId).not.toBe(input.selfId);
          expect(configured).toContain(change.nodeId);
          const m = byId.get(change.nodeId);
          // Only departed or long-dead members go; never a live or suspected one.
          expect(m?.status === 'alive' || m?.status === 'suspect').toBe(false);
        } else {
          expect(byId.get(change.nodeId)?.status).toBe('alive');
          if (change.action === 'add-voter') {
            expect(input.raft.voters).not.toContain(change.nodeId);
            expect(input.raft.voters.length).toBeLessThan(input.maxVoters);
            expect(byId.get(change.nodeId)?.meta[RAFT_ROLE_META_KEY]).not.toBe('observer');
          } else {
            expect(configured).not.toContain(change.nodeId);
          }
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('applying its changes one by one converges: live members in, departed members out', () => {
    fc.assert(
      fc.property(inputs, (start) => {
        let raft = start.raft;
        for (let step = 0; step < 3 * IDS.length; step++) {
          const change = nextVoterChange({ ...start, raft });
          if (change === undefined) break;
          const without = (list: readonly string[]) => list.filter((id) => id !== change.nodeId);
          raft =
            change.action === 'remove'
              ? { voters: without(raft.voters), observers: without(raft.observers) }
              : change.action === 'add-voter'
                ? {
                    voters: [...raft.voters, change.nodeId].sort(),
                    observers: without(raft.observers),
                  }
                : { voters: raft.voters, observers: [...raft.observers, change.nodeId].sort() };
        }
        expect(nextVoterChange({ ...start, raft })).toBeUndefined();
        for (const m of start.members) {
          const inRaft = raft.voters.includes(m.nodeId) || raft.observers.includes(m.nodeId);
          if (m.status === 'alive') expect(inRaft).toBe(true);
          if (m.status === 'left' && m.nodeId !== start.selfId) expect(inRaft).toBe(false);
        }
        expect(raft.voters.length).toBeLessThanOrEqual(
          Math.max(start.maxVoters, start.raft.voters.length),
        );
      }),
      { numRuns: 1_000 },
    );
  });
});
