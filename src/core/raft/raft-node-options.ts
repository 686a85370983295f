/**
 * The options, results and counters of a `RaftNode`.
 *
 * @packageDocumentation
 */

import type { RaftEntry, RaftHardState, RaftMembership, RaftSnapshot } from './types.js';

/**
 * The randomness the core needs (the runtime's `RandomSource` fits).
 *
 * @since 2.0.0
 */
export interface RaftRandom {
  /**
   * A uniform integer in [0, `maxExclusive`).
   *
   * @param maxExclusive - A positive integer.
   */
  int(maxExclusive: number): number;
}

/**
 * Options of a `RaftNode`: identity, timing in ticks, feature switches,
 * bounds, and the durable state to restart from.
 *
 * @since 2.0.0
 */
export interface RaftNodeOptions {
  /** This node's id. */
  readonly id: string;
  /** Draws the randomised election timeouts. */
  readonly random: RaftRandom;
  /**
   * Ticks without hearing from a leader before a follower campaigns; the
   * actual timeout is drawn from [electionTicks, 2·electionTicks). Default 10.
   */
  readonly electionTicks?: number;
  /** Ticks between a leader's heartbeats; less than `electionTicks`. Default 1. */
  readonly heartbeatTicks?: number;
  /** Run a pre-vote before every election. Default true. */
  readonly preVote?: boolean;
  /** Leaders step down without a quorum; followers ignore votes while a leader is alive. Default true. */
  readonly checkQuorum?: boolean;
  /** Unacknowledged appends per follower while streaming. Default 64. */
  readonly maxInflightAppends?: number;
  /** Entry data per append and bytes per snapshot chunk. Default 60 000 (fits a UDP datagram). */
  readonly maxMessageBytes?: number;
  /** Read-index requests waiting on a leader. Default 1 024. */
  readonly maxPendingReads?: number;
  /** Uncommitted entries a leader holds before refusing proposals. Default 4 096. */
  readonly maxUncommittedEntries?: number;
  /** The largest snapshot accepted from a leader, in bytes. Default 256 MiB. */
  readonly maxSnapshotBytes?: number;
  /** Persisted hard state (restart). */
  readonly hardState?: RaftHardState;
  /** The latest persisted snapshot (restart). */
  readonly snapshot?: RaftSnapshot;
  /** Persisted entries after the snapshot, consecutive (restart). */
  readonly entries?: readonly RaftEntry[];
  /** The initial membership, used when there is no snapshot (bootstrap). Default empty (joining). */
  readonly membership?: RaftMembership;
}

/**
 * The outcome of a proposal.
 *
 * @since 2.0.0
 */
export type RaftProposeResult =
  | {
      /** Accepted. */
      readonly ok: true;
      /** The entry's index. */
      readonly index: number;
      /** The entry's term. */
      readonly term: number;
    }
  | {
      /** Refused. */
      readonly ok: false;
      /**
       * `not-leader`: propose at `leaderId`; `overloaded`: too many
       * uncommitted entries; `change-in-progress`: a membership change is not
       * yet applied; `invalid`: the change would leave no voter or is meaningless,
       * or the entry is larger than `maxMessageBytes`.
       */
      readonly reason: 'not-leader' | 'overloaded' | 'change-in-progress' | 'invalid';
      /** The leader known, or `''`. */
      readonly leaderId: string;
    };

/**
 * Counters of a `RaftNode`.
 *
 * @since 2.0.0
 */
export interface RaftNodeStats {
  /** Pre-vote rounds started. */
  preVotes: number;
  /** Elections (term increments by campaigning) started. */
  elections: number;
  /** Times this node became leader. */
  leaderships: number;
  /** Leaderships ended by check-quorum. */
  quorumLost: number;
  /** Messages ignored as stale (lower term, unexpected kind). */
  staleMessages: number;
  /** Snapshots installed from a leader. */
  snapshotsInstalled: number;
}
