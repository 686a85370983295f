/**
 * The error a Raft node's operations reject with.
 *
 * @packageDocumentation
 */

import { DistributedError, type ErrorCode } from '../../contracts/errors.js';

/**
 * Why a Raft operation failed.
 * - `not-leader`: only the leader accepts proposals; retry at `leaderId`.
 * - `no-leader`: no leader is known (an election is under way).
 * - `dropped`: the entry was overwritten by another leader's; it will never apply.
 * - `unknown-outcome`: leadership moved or a snapshot replaced the log before
 *   the outcome was seen; the command may or may not have applied.
 * - `timeout`: no outcome within the configured time.
 * - `overloaded`: too many proposals or reads are waiting.
 * - `change-in-progress`: a membership change is not yet applied.
 * - `invalid`: the request is malformed or meaningless.
 * - `closed`: the node was closed.
 *
 * @since 2.0.0
 */
export type RaftErrorReason =
  | 'not-leader'
  | 'no-leader'
  | 'dropped'
  | 'unknown-outcome'
  | 'timeout'
  | 'overloaded'
  | 'change-in-progress'
  | 'invalid'
  | 'closed';

const CODES: Readonly<Record<RaftErrorReason, ErrorCode>> = {
  // NOT_LEADER carries `leaderId` so the caller can retry there; the others
  // mean the cluster cannot serve this here and now.
  'not-leader': 'NOT_LEADER',
  'no-leader': 'UNAVAILABLE',
  dropped: 'UNAVAILABLE',
  'unknown-outcome': 'UNAVAILABLE',
  timeout: 'UNAVAILABLE',
  overloaded: 'CAPACITY_EXCEEDED',
  'change-in-progress': 'CAPACITY_EXCEEDED',
  invalid: 'INVALID_ARGUMENT',
  closed: 'CLOSED',
};

/**
 * A {@link DistributedError} with the Raft-specific reason and the leader hint.
 *
 * @since 2.0.0
 */
export class RaftError extends DistributedError {
  /** Why it failed; branch on this or on `code`. */
  readonly reason: RaftErrorReason;
  /** The leader this node knew of when it failed, or `''`. */
  readonly leaderId: string;

  /**
   * @param reason - Why.
   * @param message - Details.
   * @param leaderId - The leader known, or `''`.
   */
  constructor(reason: RaftErrorReason, message: string, leaderId = '') {
    super(CODES[reason], message);
    this.name = 'RaftError';
    this.reason = reason;
    this.leaderId = leaderId;
  }
}
