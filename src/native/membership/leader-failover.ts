/**
 * Fast leader failover: when failure detection (a connection reset, a SWIM
 * `dead` or `left`) says the Raft leader is gone, followers forget it and one
 * of them campaigns at once instead of waiting out an election timeout.
 *
 * @packageDocumentation
 */

import type { Clock, RandomSource, Timer } from '../../runtime/runtime.js';
import type { NativeRaftNode } from '../raft/native-raft-node.js';

/**
 * Options of {@link LeaderFailover}.
 *
 * @since 2.0.0
 */
export interface LeaderFailoverOptions {
  /** The Raft member to hurry. */
  readonly raft: NativeRaftNode;
  /** Arms the campaign timers. */
  readonly clock: Clock;
  /** Jitters them, so two followers ranked alike still rarely collide. */
  readonly random: RandomSource;
  /**
   * How long the first-ranked follower waits before campaigning, in ms: time
   * for the other followers to notice the failure too (a follower that still
   * believes in the leader ignores pre-votes). Default one fifth of a tick.
   */
  readonly graceMs?: number;
  /** The wait added per rank, in ms. Default one tick. */
  readonly staggerMs?: number;
  /** Campaign attempts per failure, one stagger round apart. Default 3. */
  readonly maxAttempts?: number;
}

/**
 * Counters of a {@link LeaderFailover}.
 *
 * @since 2.0.0
 */
export interface LeaderFailoverStats {
  /** Hints that named the leader this member followed. */
  readonly hints: number;
  /** Campaigns those hints started. */
  readonly campaigns: number;
}

/**
 * Turns "the leader is gone" hints into a prompt, orderly election.
 *
 * Safety does not depend on the hint being right: a follower only forgets
 * the leader (so it grants pre-votes) and campaigns through pre-vote, so a
 * live leader that a majority still hears from cannot be deposed; a wrong
 * hint costs at most one failed pre-vote round. Followers campaign in the
 * order of their ids among the remaining voters, one stagger apart, so in the
 * common case exactly one stands and wins in one round trip.
 *
 * @since 2.0.0
 */
export class LeaderFailover implements Disposable {
  readonly #raft: NativeRaftNode;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #graceMs: number;
  readonly #staggerMs: number;
  readonly #maxAttempts: number;
  readonly #timers = new Set<Timer>();
  #hints = 0;
  #campaigns = 0;
  #closed = false;

  /**
   * @param options - The Raft member, clock, randomness and pacing.
   */
  constructor(options: LeaderFailoverOptions) {
    this.#raft = options.raft;
    this.#clock = options.clock;
    this.#random = options.random;
    this.#graceMs = options.graceMs ?? Math.max(1, options.raft.tickMs / 5);
    this.#staggerMs = options.staggerMs ?? options.raft.tickMs;
    this.#maxAttempts = options.maxAttempts ?? 3;
  }

  /** Hints that named the current leader, and campaigns they started. */
  get stats(): LeaderFailoverStats {
    return Object.freeze({ hints: this.#hints, campaigns: this.#campaigns });
  }

  /**
   * Failure detection says `nodeId` is gone. Acts only when it is the leader
   * this follower follows.
   *
   * @param nodeId - The member that failed or left.
   * @returns Whether it was the leader (and the failover started).
   */
  memberGone(nodeId: string): boolean {
    const raft = this.#raft;
    if (this.#closed || raft.closed || nodeId === '' || nodeId !== raft.leaderId) return false;
    if (raft.role !== 'follower') return false;
    this.#hints++;
    raft.forgetLeader();
    const voters = raft.membership.voters.filter((id) => id !== nodeId);
    const rank = voters.indexOf(raft.nodeId);
    if (rank < 0) return true; // an observer forgets, but does not stand
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const round = attempt * voters.length * this.#staggerMs;
      const jitter = this.#random.next() * (this.#staggerMs / 4);
      this.#after(this.#graceMs + round + rank * this.#staggerMs + jitter, () => {
        // Someone else won already (its heartbeat named it), or we are campaigning.
        if (raft.closed || raft.leaderId !== '' || raft.role !== 'follower') return;
        this.#campaigns++;
        raft.campaign();
      });
    }
    return true;
  }

  /** Cancels pending campaigns. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
  }

  /** Same as {@link LeaderFailover.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #after(delayMs: number, callback: () => void): void {
    const timer = this.#clock.setTimer(delayMs, () => {
      this.#timers.delete(timer);
      if (!this.#closed) callback();
    });
    this.#timers.add(timer);
  }
}
