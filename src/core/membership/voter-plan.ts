/**
 * Keeps the Raft configuration in step with SWIM's membership, on the leader:
 * live members become voters (up to a bound) or observers, members that left
 * or stayed dead are removed. One change at a time, as Raft requires.
 *
 * @packageDocumentation
 */

import type { SwimMember } from '../swim/member-table.js';
import type { RaftMembership } from '../raft/types.js';

/**
 * The SWIM metadata key under which a member says which Raft role it wants
 * (`voter` or `observer`).
 *
 * @since 2.0.0
 */
export const RAFT_ROLE_META_KEY = 'dw.raft';

/**
 * One change the leader should propose next.
 *
 * @since 2.0.0
 */
export interface VoterChange {
  /** What to do. */
  readonly action: 'add-voter' | 'add-observer' | 'remove';
  /** To whom. */
  readonly nodeId: string;
  /** Why, for the log. */
  readonly reason: string;
}

/**
 * What {@link nextVoterChange} decides from.
 *
 * @since 2.0.0
 */
export interface VoterReconcileInput {
  /** The leader's own id (never removed). */
  readonly selfId: string;
  /** The Raft configuration the leader has applied. */
  readonly raft: RaftMembership;
  /** SWIM's members, this one included. */
  readonly members: readonly SwimMember[];
  /** The most voters wanted (odd numbers tolerate the most failures per voter). */
  readonly maxVoters: number;
  /** When each member was first seen dead (reaped members keep their entry), in monotonic ms. */
  readonly deadSince: ReadonlyMap<string, number>;
  /** Now, in monotonic ms. */
  readonly now: number;
  /** How long a member stays dead before it is removed from the configuration. */
  readonly removeDeadAfterMs: number;
}

/**
 * The next configuration change that brings Raft closer to SWIM's view, or
 * `undefined` when they agree. Pure: the caller proposes it and asks again
 * once it has applied.
 *
 * Order: removals of departed members first (they may free a voter seat),
 * then additions of live members (voters while seats are free, else
 * observers), then promotions of live observers into free seats. Members
 * that are merely suspected are left alone, and so are members SWIM does
 * not know yet (a new leader may still be learning them).
 *
 * @param input - The views and bounds.
 * @returns The change, or `undefined`.
 * @since 2.0.0
 */
export function nextVoterChange(input: VoterReconcileInput): VoterChange | undefined {
  const { raft, selfId } = input;
  const byId = new Map(input.members.map((member) => [member.nodeId, member]));
  const configured = [...raft.voters, ...raft.observers];
  for (const nodeId of configured) {
    if (nodeId === selfId) continue;
    const member = byId.get(nodeId);
    if (member?.status === 'left') {
      return { action: 'remove', nodeId, reason: 'left the cluster' };
    }
    const deadAt = input.deadSince.get(nodeId);
    const dead = member === undefined || member.status === 'dead';
    if (dead && deadAt !== undefined && input.now - deadAt >= input.removeDeadAfterMs) {
      return { action: 'remove', nodeId, reason: `dead for ${String(input.now - deadAt)} ms` };
    }
  }
  const seats = input.maxVoters - raft.voters.length;
  const alive = input.members
    .filter((member) => member.status === 'alive')
    .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  for (const member of alive) {
    if (configured.includes(member.nodeId)) continue;
    const wantsVote = member.meta[RAFT_ROLE_META_KEY] !== 'observer';
    return wantsVote && seats > 0
      ? { action: 'add-voter', nodeId: member.nodeId, reason: 'a live member, and a seat is free' }
      : { action: 'add-observer', nodeId: member.nodeId, reason: 'a live member' };
  }
  if (seats > 0) {
    for (const member of alive) {
      if (!raft.observers.includes(member.nodeId)) continue;
      if (member.meta[RAFT_ROLE_META_KEY] === 'observer') continue;
      return { action: 'add-voter', nodeId: member.nodeId, reason: 'a voter seat is free' };
    }
  }
  return undefined;
}
