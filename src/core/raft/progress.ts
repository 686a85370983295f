/**
 * What a leader knows of one follower's log: how far it matches, what to send
 * next, and how (probing one append at a time, streaming within an inflight
 * window, or sending a snapshot).
 *
 * @packageDocumentation
 */

import type { RaftSnapshot } from './types.js';

/**
 * How the leader currently replicates to a follower.
 * - `probe`: the match point is unknown; one append at a time until one is accepted.
 * - `replicate`: appends stream optimistically, at most `maxInflight` unacknowledged.
 * - `snapshot`: the follower needs entries already compacted; a snapshot is on its way.
 *
 * @since 2.0.0
 */
export type RaftProgressState = 'probe' | 'replicate' | 'snapshot';

/**
 * A snapshot on its way to a follower.
 *
 * @since 2.0.0
 */
export interface RaftSnapshotTransfer {
  /** The snapshot. */
  readonly snapshot: RaftSnapshot;
  /** The next byte offset to send. */
  offset: number;
}

/**
 * A leader's view of one peer.
 *
 * @since 2.0.0
 */
export class RaftProgress {
  /** The highest index known to match the leader's log. */
  match = 0;
  /** The next index to send. */
  next: number;
  /** How entries are sent. */
  state: RaftProgressState = 'probe';
  /** In `probe`: an append is out and unanswered. */
  probeSent = false;
  /** Last indexes of unacknowledged appends, oldest first (in `replicate`). */
  inflight: number[] = [];
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** The highest heartbeat sequence number it acknowledged in this term. */
  ackedSeq = 0;
  /** `match` when the previous heartbeat answer came: no progress since means resend. */
  matchAtHeartbeat = -1;
  /** The snapshot being sent and the next offset, in `snapshot`. */
  snapshot: RaftSnapshotTransfer | undefined;

  /** @param next - The first index to try. */
  constructor(next: number) {
    this.next = next;
  }

  /**
   * Starts probing from `next` (after a rejection, a lost message or a snapshot).
   *
   * @param next - The next index to try; raised to `match + 1` at least.
   */
  becomeProbe(next: number): void {
    this.state = 'probe';
    this.next = Math.max(next, this.match + 1);
    this.probeSent = false;
    this.inflight = [];
    this.snapshot = undefined;
  }

  /** Streams from `match + 1`. */
  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflight = [];
    this.snapshot = undefined;
  }

  /**
   * Records an acknowledgement.
   *
   * @param index - The index the follower matches up to.
   * @returns True when `match` moved.
   */
  acknowledge(index: number): boolean {
    let moved = false;
    if (index > this.match) {
      this.match = index;
      moved = true;
      this.probeSent = false;
    }
    if (this.next < index + 1) this.next = index + 1;
    while (this.inflight.length > 0 && (this.inflight[0] ?? 0) <= index) this.inflight.shift();
    return moved;
  }

  /**
   * Whether no append may go out now.
   *
   * @param maxInflight - The window in `replicate`.
   */
  paused(maxInflight: number): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflight.length >= maxInflight;
      case 'snapshot':
        return true;
    }
  }
}
