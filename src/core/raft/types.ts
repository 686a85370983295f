/**
 * The vocabulary of the Raft core: log entries, membership, durable state,
 * the messages peers exchange and the `Ready` batch the core hands its driver.
 *
 * @packageDocumentation
 */

/**
 * What an entry carries: an application `command`, a `config` change of the
 * membership (one member at a time), or the `noop` a new leader appends to
 * commit an entry of its own term.
 *
 * @since 2.0.0
 */
export type RaftEntryType = 'command' | 'config' | 'noop';

/**
 * One log entry.
 *
 * @since 2.0.0
 */
export interface RaftEntry {
  /** Its position in the log, from 1. */
  readonly index: number;
  /** The term of the leader that created it. */
  readonly term: number;
  /** What it carries. */
  readonly type: RaftEntryType;
  /** The command, or the encoded {@link RaftConfigChange}; empty for a `noop`. */
  readonly data: Uint8Array;
}

/**
 * Who takes part: voters elect leaders and form quorums; observers receive the
 * log but never vote and never count towards a quorum (etcd's learners).
 *
 * @since 2.0.0
 */
export interface RaftMembership {
  /** Voting members, sorted. */
  readonly voters: readonly string[];
  /** Non-voting members, sorted; never also voters. */
  readonly observers: readonly string[];
}

/**
 * One membership change. Changes go one member at a time, so any two
 * consecutive majorities overlap and a single-step change is safe.
 * - `add-voter`: adds a voter, or promotes an observer.
 * - `add-observer`: adds an observer (ignored for a current voter).
 * - `remove`: removes a voter or an observer.
 *
 * @since 2.0.0
 */
export interface RaftConfigChange {
  /** The change. */
  readonly type: 'add-voter' | 'add-observer' | 'remove';
  /** The member it concerns. */
  readonly nodeId: string;
}

/**
 * What must survive a crash besides the log: the current term, the vote cast
 * in it, and the commit index.
 *
 * @since 2.0.0
 */
export interface RaftHardState {
  /** The latest term this node has seen. */
  readonly term: number;
  /** Whom it voted for in `term`; `''` for nobody. */
  readonly vote: string;
  /** The highest index known committed. */
  readonly commit: number;
}

/**
 * Where a snapshot ends and the membership at that point.
 *
 * @since 2.0.0
 */
export interface RaftSnapshotMeta {
  /** The last index the snapshot covers. */
  readonly index: number;
  /** The term of that entry. */
  readonly term: number;
  /** The membership after applying every entry up to `index`. */
  readonly membership: RaftMembership;
}

/**
 * A snapshot: the state machine's encoded state after `meta.index`.
 *
 * @since 2.0.0
 */
export interface RaftSnapshot {
  /** Where it ends. */
  readonly meta: RaftSnapshotMeta;
  /** The state machine's encoding. */
  readonly data: Uint8Array;
}

/**
 * Fields every message has.
 *
 * @since 2.0.0
 */
export interface RaftMessageHeader {
  /** Sender id. */
  readonly from: string;
  /** Receiver id. */
  readonly to: string;
  /** The sender's term (for a pre-vote: the term it would campaign in). */
  readonly term: number;
}

/**
 * A (pre-)vote request.
 *
 * @since 2.0.0
 */
export interface RaftVoteRequest extends RaftMessageHeader {
  /** `pre-vote` asks "would you vote for me?" without changing anyone's term. */
  readonly type: 'pre-vote' | 'vote';
  /** The candidate's last log index. */
  readonly lastIndex: number;
  /** The candidate's last log term. */
  readonly lastTerm: number;
}

/**
 * A (pre-)vote answer.
 *
 * @since 2.0.0
 */
export interface RaftVoteResponse extends RaftMessageHeader {
  /** Answers a request of the matching kind. */
  readonly type: 'pre-vote-response' | 'vote-response';
  /** Refused. */
  readonly reject: boolean;
}

/**
 * Log replication (AppendEntries).
 *
 * @since 2.0.0
 */
export interface RaftAppend extends RaftMessageHeader {
  /** The type. */
  readonly type: 'append';
  /** The index just before `entries`. */
  readonly prevIndex: number;
  /** Its term. */
  readonly prevTerm: number;
  /** Consecutive entries from `prevIndex + 1`. */
  readonly entries: readonly RaftEntry[];
  /** The leader's commit index. */
  readonly commit: number;
}

/**
 * The answer to an append (or to a completed snapshot).
 *
 * @since 2.0.0
 */
export interface RaftAppendResponse extends RaftMessageHeader {
  /** The type. */
  readonly type: 'append-response';
  /** Accepted: the follower's log matches up to here. Rejected: the `prevIndex` refused. */
  readonly index: number;
  /** Refused: the follower's log does not hold `prevIndex` with `prevTerm`. */
  readonly reject: boolean;
  /** On rejection: the last index whose term is at most the refused `prevTerm` (a fast-backoff hint). */
  readonly hintIndex: number;
  /** The term at `hintIndex` (0 when unknown). */
  readonly hintTerm: number;
}

/**
 * A leader's heartbeat; `seq` confirms leadership for read-index.
 *
 * @since 2.0.0
 */
export interface RaftHeartbeat extends RaftMessageHeader {
  /** The type. */
  readonly type: 'heartbeat';
  /** The commit index, capped at what the receiver is known to hold. */
  readonly commit: number;
  /** The leader's heartbeat sequence number. */
  readonly seq: number;
}

/**
 * The answer to a heartbeat.
 *
 * @since 2.0.0
 */
export interface RaftHeartbeatResponse extends RaftMessageHeader {
  /** The type. */
  readonly type: 'heartbeat-response';
  /** The heartbeat's `seq`. */
  readonly seq: number;
}

/**
 * One chunk of a snapshot (InstallSnapshot), sent stop-and-wait.
 *
 * @since 2.0.0
 */
export interface RaftSnapshotChunk extends RaftMessageHeader {
  /** The type. */
  readonly type: 'snapshot';
  /** The snapshot's position and membership. */
  readonly meta: RaftSnapshotMeta;
  /** Where this chunk starts in the snapshot data. */
  readonly offset: number;
  /** The snapshot data's total length. */
  readonly total: number;
  /** The chunk. */
  readonly data: Uint8Array;
}

/**
 * The answer to a snapshot chunk that did not complete it.
 *
 * @since 2.0.0
 */
export interface RaftSnapshotResponse extends RaftMessageHeader {
  /** The type. */
  readonly type: 'snapshot-response';
  /** The snapshot's index. */
  readonly index: number;
  /** The next offset the receiver expects. */
  readonly nextOffset: number;
}

/**
 * A follower asking the leader for a read index.
 *
 * @since 2.0.0
 */
export interface RaftReadIndexRequest extends RaftMessageHeader {
  /** The type. */
  readonly type: 'read-index';
  /** The follower's request id. */
  readonly id: number;
}

/**
 * The leader's answer to a read-index request.
 *
 * @since 2.0.0
 */
export interface RaftReadIndexResponse extends RaftMessageHeader {
  /** The type. */
  readonly type: 'read-index-response';
  /** The request id. */
  readonly id: number;
  /** Apply up to here, then read. */
  readonly index: number;
  /** The leader could not serve it (it is no longer leader). */
  readonly reject: boolean;
}

/**
 * Every message peers exchange.
 *
 * @since 2.0.0
 */
export type RaftMessage =
  | RaftVoteRequest
  | RaftVoteResponse
  | RaftAppend
  | RaftAppendResponse
  | RaftHeartbeat
  | RaftHeartbeatResponse
  | RaftSnapshotChunk
  | RaftSnapshotResponse
  | RaftReadIndexRequest
  | RaftReadIndexResponse;

/**
 * The kinds of {@link RaftMessage}, in wire order (the type byte is the index).
 * Appended only.
 *
 * @since 2.0.0
 */
export const RAFT_MESSAGE_TYPES = Object.freeze([
  'pre-vote',
  'pre-vote-response',
  'vote',
  'vote-response',
  'append',
  'append-response',
  'heartbeat',
  'heartbeat-response',
  'snapshot',
  'snapshot-response',
  'read-index',
  'read-index-response',
] as const);

/**
 * A role as the core knows it. A `pre-candidate` runs a pre-vote without
 * having raised its term; an `observer` is a non-voting member.
 *
 * @since 2.0.0
 */
export type RaftCoreRole = 'follower' | 'pre-candidate' | 'candidate' | 'leader' | 'observer';

/**
 * The outcome of a read-index request.
 *
 * @since 2.0.0
 */
export interface RaftReadState {
  /** The request id given to `readIndex`. */
  readonly id: number;
  /** Serve the read once the state machine has applied this index. */
  readonly index: number;
  /** False when leadership could not be confirmed (retry elsewhere or later). */
  readonly ok: boolean;
}

/**
 * The core's work for its driver, in the order it must be done:
 * 1. persist `snapshot`, then `entries` (deleting persisted entries at and
 *    after `entries[0].index` first), then `hardState`, and sync;
 * 2. only then send `messages` (votes and append acknowledgements promise
 *    durable state);
 * 3. apply `committed` in order (after restoring the state machine from `snapshot`);
 * 4. call `advance(ready)`.
 *
 * @since 2.0.0
 */
export interface RaftReady {
  /** Changed hard state to persist. */
  readonly hardState?: RaftHardState;
  /** A snapshot received from the leader: persist it, drop every persisted entry, restore from it. */
  readonly snapshot?: RaftSnapshot;
  /** Entries to persist; they replace any persisted entry at or after the first one's index. */
  readonly entries: readonly RaftEntry[];
  /** Committed entries to apply, in index order. */
  readonly committed: readonly RaftEntry[];
  /** Messages to send after persisting. */
  readonly messages: readonly RaftMessage[];
  /** Read-index outcomes. */
  readonly readStates: readonly RaftReadState[];
  /** The membership, when it changed. */
  readonly membership?: RaftMembership;
  /** Set when role, term or leader changed. */
  readonly soft?: RaftSoftState;
}

/**
 * Volatile state the driver reports to its listeners.
 *
 * @since 2.0.0
 */
export interface RaftSoftState {
  /** The role. */
  readonly role: RaftCoreRole;
  /** The term. */
  readonly term: number;
  /** The leader this node knows of, or `''`. */
  readonly leaderId: string;
}
