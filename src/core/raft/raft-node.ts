/**
 * The Raft consensus state machine: deterministic, free of I/O. The driver
 * feeds it ticks ({@link RaftNode.tick}), peer messages ({@link RaftNode.step}),
 * proposals and read requests, and takes back a {@link RaftReady} batch of work
 * (persist, send, apply), as in etcd's raft library.
 *
 * Election uses randomised timeouts, pre-vote (§9.6 of Ongaro's thesis: a
 * node asks whether it could win before raising its term, so a rejoining
 * partitioned node cannot depose a healthy leader) and check-quorum (a leader
 * that has not heard from a quorum within an election timeout steps down).
 *
 * The pre-vote + check-quorum liveness trap, and how it is avoided here as in
 * etcd (#8334): a node refuses (pre-)votes while it believes a leader is alive
 * (it heard from one within the election timeout). If that leader is gone, a
 * node that forgot it and started a pre-vote could be refused by one that has
 * not — and then refuse that one in turn when its own turn comes, because it
 * still remembered the leader, and so on, forever. So: a node forgets the
 * leader as soon as it becomes a pre-candidate (it no longer "hears a live
 * leader" and grants others' pre-votes when their log is up to date), a leader
 * that loses its quorum steps down and forgets itself as leader, and a node at
 * a higher term answers a stale pre-vote or append with its term, so the
 * sender catches up instead of being ignored.
 *
 * @packageDocumentation
 */

import { RaftLog } from './raft-log.js';
import { RaftProgress } from './progress.js';
import { decodeRaftConfigChange, encodeRaftConfigChange } from './message-codec.js';
import type {
  RaftNodeOptions,
  RaftNodeStats,
  RaftProposeResult,
  RaftRandom,
} from './raft-node-options.js';
import type {
  RaftConfigChange,
  RaftCoreRole,
  RaftEntry,
  RaftEntryType,
  RaftHardState,
  RaftMembership,
  RaftMessage,
  RaftReadState,
  RaftReady,
  RaftSnapshot,
  RaftSnapshotChunk,
  RaftSoftState,
} from './types.js';

interface PendingRead {
  readonly id: number;
  readonly from: string;
  readonly index: number;
  readonly seq: number;
}

interface IncomingSnapshot {
  readonly chunk: RaftSnapshotChunk;
  readonly parts: Uint8Array[];
  received: number;
}

/** A message before the core stamps its own id as the sender. */
type Outgoing = RaftMessage extends infer M
  ? M extends RaftMessage
    ? Omit<M, 'from'>
    : never
  : never;

type State = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function freezeMembership(voters: Iterable<string>, observers: Iterable<string>): RaftMembership {
  return Object.freeze({
    voters: Object.freeze([...voters].sort()),
    observers: Object.freeze([...observers].sort()),
  });
}

const EMPTY = new Uint8Array(0);

/**
 * One Raft member's consensus state.
 *
 * @since 2.0.0
 */
export class RaftNode {
  /** This node's id. */
  readonly id: string;
  readonly #random: RaftRandom;
  readonly #electionTicks: number;
  readonly #heartbeatTicks: number;
  readonly #preVote: boolean;
  readonly #checkQuorum: boolean;
  readonly #maxInflight: number;
  readonly #maxMessageBytes: number;
  readonly #maxPendingReads: number;
  readonly #maxUncommitted: number;
  readonly #maxSnapshotBytes: number;
  readonly #stats: RaftNodeStats = {
    preVotes: 0,
    elections: 0,
    leaderships: 0,
    quorumLost: 0,
    staleMessages: 0,
    snapshotsInstalled: 0,
  };

  #state: State = 'follower';
  #term = 0;
  #vote = '';
  #lead = '';
  #commit = 0;
  #applied = 0;
  readonly #log: RaftLog;
  #voters = new Set<string>();
  #observers = new Set<string>();
  #membership: RaftMembership;
  readonly #progress = new Map<string, RaftProgress>();
  #votes = new Map<string, boolean>();
  #electionElapsed = 0;
  #heartbeatElapsed = 0;
  #randomizedTimeout = 0;
  #pendingConfIndex = 0;
  #hbSeq = 0;
  #pendingReads: PendingRead[] = [];
  #waitingReads: { id: number; from: string }[] = [];
  #snapshot: RaftSnapshot | undefined;
  #incoming: IncomingSnapshot | undefined;

  // Output accumulated for the next Ready.
  #messages: RaftMessage[] = [];
  #readStates: RaftReadState[] = [];
  #pendingSnapshot: RaftSnapshot | undefined;
  #membershipChanged = false;
  #unstableFrom: number;
  #stableTo: number;
  #lowestTruncation = Number.POSITIVE_INFINITY;
  #lastHard: RaftHardState;
  #lastSoft: RaftSoftState;
  #outstanding: { lastEntry: number; snapshotIndex: number } | undefined;

  /**
   * @param options - Identity, timing, bounds and restored state.
   * @throws RangeError for invalid options.
   */
  constructor(options: RaftNodeOptions) {
    if (typeof options.id !== 'string' || options.id === '') {
      throw new RangeError('id must be a non-empty string');
    }
    this.id = options.id;
    this.#random = options.random;
    this.#electionTicks = positive('electionTicks', options.electionTicks ?? 10);
    this.#heartbeatTicks = positive('heartbeatTicks', options.heartbeatTicks ?? 1);
    if (this.#heartbeatTicks >= this.#electionTicks) {
      throw new RangeError('heartbeatTicks must be less than electionTicks');
    }
    this.#preVote = options.preVote ?? true;
    this.#checkQuorum = options.checkQuorum ?? true;
    this.#maxInflight = positive('maxInflightAppends', options.maxInflightAppends ?? 64);
    this.#maxMessageBytes = positive('maxMessageBytes', options.maxMessageBytes ?? 60_000);
    this.#maxPendingReads = positive('maxPendingReads', options.maxPendingReads ?? 1_024);
    this.#maxUncommitted = positive(
      'maxUncommittedEntries',
      options.maxUncommittedEntries ?? 4_096,
    );
    this.#maxSnapshotBytes = positive(
      'maxSnapshotBytes',
      options.maxSnapshotBytes ?? 256 * 1024 * 1024,
    );

    const snapshot = options.snapshot;
    this.#snapshot = snapshot;
    const snapIndex = snapshot?.meta.index ?? 0;
    this.#log = new RaftLog(
      snapIndex,
      snapshot?.meta.term ?? 0,
      (options.entries ?? []).filter((entry) => entry.index > snapIndex),
    );
    const membership = snapshot?.meta.membership ??
      options.membership ?? { voters: [], observers: [] };
    this.#voters = new Set(membership.voters);
    this.#observers = new Set(membership.observers.filter((id) => !this.#voters.has(id)));
    this.#membership = freezeMembership(this.#voters, this.#observers);
    const hard = options.hardState ?? { term: 0, vote: '', commit: 0 };
    this.#term = hard.term;
    this.#vote = hard.vote;
    this.#commit = Math.min(Math.max(hard.commit, snapIndex), this.#log.lastIndex);
    this.#applied = snapIndex;
    this.#unstableFrom = this.#log.lastIndex + 1;
    this.#stableTo = this.#log.lastIndex;
    this.#lastHard = Object.freeze({ term: this.#term, vote: this.#vote, commit: this.#commit });
    this.#randomize();
    this.#lastSoft = this.#soft();
  }

  /** The role. */
  get role(): RaftCoreRole {
    if (this.#state === 'follower' && this.#observers.has(this.id)) return 'observer';
    return this.#state;
  }

  /** The current term. */
  get term(): number {
    return this.#term;
  }

  /** The leader this node knows of, or `''`. */
  get leaderId(): string {
    return this.#lead;
  }

  /** The highest index known committed. */
  get commitIndex(): number {
    return this.#commit;
  }

  /** The highest index handed out for applying. */
  get appliedIndex(): number {
    return this.#applied;
  }

  /** The last log index. */
  get lastIndex(): number {
    return this.#log.lastIndex;
  }

  /** The snapshot point (entries up to it are compacted). */
  get snapshotIndex(): number {
    return this.#log.snapshotIndex;
  }

  /** The membership as of the applied index. */
  get membership(): RaftMembership {
    return this.#membership;
  }

  /** Counters (a copy). */
  get stats(): Readonly<RaftNodeStats> {
    return Object.freeze({ ...this.#stats });
  }

  /**
   * The term of the entry at `index`.
   *
   * @param index - An index.
   * @returns Its term, or `undefined` when compacted or beyond the end.
   */
  termAt(index: number): number | undefined {
    return this.#log.termAt(index);
  }

  // ---------------------------------------------------------------- inputs

  /** Advances logical time by one tick: election and heartbeat timers. */
  tick(): void {
    if (this.#state === 'leader') {
      this.#heartbeatElapsed++;
      this.#electionElapsed++;
      if (this.#electionElapsed >= this.#electionTicks) {
        this.#electionElapsed = 0;
        if (this.#checkQuorum && !this.#quorumActive()) {
          // A leader that cannot reach a quorum cannot commit; stepping down
          // (and forgetting itself as leader) lets the rest elect a new one.
          this.#stats.quorumLost++;
          this.#becomeFollower(this.#term, '');
          return;
        }
      }
      if (this.#heartbeatElapsed >= this.#heartbeatTicks) {
        this.#heartbeatElapsed = 0;
        this.#broadcastHeartbeat();
      }
      return;
    }
    this.#electionElapsed++;
    if (this.#promotable() && this.#electionElapsed >= this.#randomizedTimeout) {
      this.#electionElapsed = 0;
      this.#hup();
    }
  }

  /**
   * Starts an election now (with a pre-vote when enabled), e.g. when the
   * transport already knows the leader is gone. Pre-vote still guards the term.
   */
  campaign(): void {
    if (this.#state === 'leader' || !this.#promotable()) return;
    this.#electionElapsed = 0;
    this.#hup();
  }

  /**
   * Forgets the current leader (a follower told by failure detection that it
   * is gone), so this node grants pre-votes at once instead of waiting for an
   * election timeout.
   */
  forgetLeader(): void {
    if (this.#state === 'follower') this.#lead = '';
  }

  /**
   * Takes one message from a peer. Messages for another node are ignored.
   *
   * @param m - A decoded, validated message.
   */
  step(m: RaftMessage): void {
    if (m.to !== this.id || m.from === this.id) return;
    if (m.term > this.#term) {
      if (m.type === 'pre-vote' || m.type === 'vote') {
        // Leader stickiness: while a leader we heard from within the election
        // timeout is alive, do not help anyone depose it.
        const inLease =
          this.#checkQuorum && this.#lead !== '' && this.#electionElapsed < this.#electionTicks;
        if (inLease) {
          this.#stats.staleMessages++;
          return;
        }
      }
      if (m.type === 'pre-vote') {
        // A pre-vote never changes the receiver's term.
      } else if (m.type === 'pre-vote-response' && !m.reject) {
        // Granted pre-votes carry the term we would campaign in.
      } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.#becomeFollower(m.term, m.from);
      } else {
        this.#becomeFollower(m.term, '');
      }
    } else if (m.term < this.#term) {
      this.#stats.staleMessages++;
      if ((this.#checkQuorum || this.#preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
        // A stale leader (e.g. back from a partition) learns our term and steps down.
        this.#send({ type: 'heartbeat-response', to: m.from, term: this.#term, seq: 0 });
      } else if (m.type === 'pre-vote') {
        // Without this a pre-candidate at a lower term would never catch up.
        this.#send({ type: 'pre-vote-response', to: m.from, term: this.#term, reject: true });
      }
      return;
    }

    if (m.type === 'pre-vote' || m.type === 'vote') {
      this.#handleVote(m.type, m.from, m.term, m.lastIndex, m.lastTerm);
      return;
    }
    if (this.#state === 'leader') this.#stepLeader(m);
    else this.#stepFollower(m);
  }

  /**
   * Proposes an application command (leader only).
   *
   * @param data - The command bytes (at most `maxMessageBytes`).
   * @returns The index and term it got, or why not.
   */
  propose(data: Uint8Array): RaftProposeResult {
    return this.#append('command', data);
  }

  /**
   * Proposes a membership change (leader only; one at a time).
   *
   * @param change - The change.
   * @returns The index and term it got, or why not.
   */
  proposeConfigChange(change: RaftConfigChange): RaftProposeResult {
    if (this.#state !== 'leader') return this.#refuse('not-leader');
    if (this.#pendingConfIndex > this.#applied) return this.#refuse('change-in-progress');
    const id = change.nodeId;
    if (
      typeof id !== 'string' ||
      id === '' ||
      (change.type === 'remove' && this.#voters.has(id) && this.#voters.size === 1) ||
      (change.type === 'add-voter' && this.#voters.has(id)) ||
      (change.type === 'add-observer' && (this.#voters.has(id) || this.#observers.has(id))) ||
      (change.type === 'remove' && !this.#voters.has(id) && !this.#observers.has(id))
    ) {
      return this.#refuse('invalid');
    }
    const result = this.#append('config', encodeRaftConfigChange(change));
    if (result.ok) this.#pendingConfIndex = result.index;
    return result;
  }

  /**
   * Asks for a linearizable read point. The outcome arrives as a
   * {@link RaftReadState} with the same `id` in a later Ready: once the state
   * machine has applied its `index`, a read reflects every write committed
   * before this call.
   *
   * @param id - The caller's request id.
   * @returns False when no leader is known (nothing will arrive).
   */
  readIndex(id: number): boolean {
    if (this.#state === 'leader') {
      this.#leaderRead(id, this.id);
      return true;
    }
    if (this.#lead === '') return false;
    this.#send({ type: 'read-index', to: this.#lead, term: this.#term, id });
    return true;
  }

  /**
   * Compacts the log up to the applied index into a snapshot.
   *
   * @param data - The state machine's encoding after applying every entry up to `appliedIndex`.
   * @returns The snapshot (persist it, then delete the entries it covers), or
   *   `undefined` when nothing new was applied since the last one.
   */
  compact(data: Uint8Array): RaftSnapshot | undefined {
    const index = this.#applied;
    if (index <= this.#log.snapshotIndex) return undefined;
    const term = this.#log.termAt(index);
    if (term === undefined) return undefined;
    const snapshot: RaftSnapshot = Object.freeze({
      meta: Object.freeze({ index, term, membership: this.#membership }),
      data,
    });
    this.#log.compact(index, term);
    this.#snapshot = snapshot;
    return snapshot;
  }

  // ---------------------------------------------------------------- Ready

  /** Whether {@link RaftNode.ready} has work. */
  hasReady(): boolean {
    return (
      this.#messages.length > 0 ||
      this.#readStates.length > 0 ||
      this.#pendingSnapshot !== undefined ||
      this.#unstableFrom <= this.#log.lastIndex ||
      this.#commit > this.#applied ||
      this.#membershipChanged ||
      this.#hardChanged() ||
      this.#softChanged()
    );
  }

  /**
   * Takes the pending work. Call {@link RaftNode.advance} with it once its
   * entries and hard state are durable; do not take another Ready before.
   *
   * @returns The batch.
   * @throws Error when the previous Ready was not advanced.
   */
  ready(): RaftReady {
    if (this.#outstanding !== undefined) throw new Error('advance() the previous Ready first');
    const committed: RaftEntry[] = [];
    while (this.#applied < this.#commit) {
      const entry = this.#log.entry(this.#applied + 1);
      if (entry === undefined) break;
      this.#applied = entry.index;
      committed.push(entry);
      if (entry.type === 'config') this.#applyConfigChange(entry);
    }
    const snapshot = this.#pendingSnapshot;
    const entries =
      this.#unstableFrom <= this.#log.lastIndex
        ? this.#log.slice(this.#unstableFrom, this.#log.lastIndex)
        : [];
    this.#unstableFrom = this.#log.lastIndex + 1;
    this.#lowestTruncation = Number.POSITIVE_INFINITY;
    this.#outstanding = {
      lastEntry: entries.at(-1)?.index ?? 0,
      snapshotIndex: snapshot?.meta.index ?? 0,
    };
    const hard = this.#hardChanged() ? this.#hard() : undefined;
    if (hard !== undefined) this.#lastHard = hard;
    const soft = this.#softChanged() ? this.#soft() : undefined;
    if (soft !== undefined) this.#lastSoft = soft;
    const ready: RaftReady = Object.freeze({
      ...(hard === undefined ? {} : { hardState: hard }),
      ...(snapshot === undefined ? {} : { snapshot }),
      ...(this.#membershipChanged ? { membership: this.#membership } : {}),
      ...(soft === undefined ? {} : { soft }),
      entries: Object.freeze(entries),
      committed: Object.freeze(committed),
      messages: Object.freeze(this.#messages),
      readStates: Object.freeze(this.#readStates),
    });
    this.#messages = [];
    this.#readStates = [];
    this.#pendingSnapshot = undefined;
    this.#membershipChanged = false;
    return ready;
  }

  /**
   * Tells the core the last Ready's snapshot, entries and hard state are durable.
   */
  advance(): void {
    const done = this.#outstanding;
    if (done === undefined) return;
    this.#outstanding = undefined;
    // Entries truncated while the write was in flight are not the ones written.
    const limit = this.#lowestTruncation - 1;
    const stable = Math.min(Math.max(done.lastEntry, done.snapshotIndex), limit);
    if (stable > this.#stableTo) this.#stableTo = Math.min(stable, this.#log.lastIndex);
    if (this.#state === 'leader' && this.#maybeCommit()) this.#broadcastAppend();
  }

  // ---------------------------------------------------------------- roles

  #soft(): RaftSoftState {
    return Object.freeze({ role: this.role, term: this.#term, leaderId: this.#lead });
  }

  #softChanged(): boolean {
    const s = this.#lastSoft;
    return s.role !== this.role || s.term !== this.#term || s.leaderId !== this.#lead;
  }

  #hard(): RaftHardState {
    return Object.freeze({ term: this.#term, vote: this.#vote, commit: this.#commit });
  }

  #hardChanged(): boolean {
    const h = this.#lastHard;
    return h.term !== this.#term || h.vote !== this.#vote || h.commit !== this.#commit;
  }

  #promotable(): boolean {
    return this.#voters.has(this.id);
  }

  #quorum(): number {
    return Math.floor(this.#voters.size / 2) + 1;
  }

  #randomize(): void {
    this.#randomizedTimeout = this.#electionTicks + this.#random.int(this.#electionTicks);
  }

  #reset(term: number): void {
    if (term !== this.#term) {
      this.#term = term;
      this.#vote = '';
    }
    this.#lead = '';
    this.#electionElapsed = 0;
    this.#heartbeatElapsed = 0;
    this.#randomize();
    this.#votes = new Map();
    this.#progress.clear();
    this.#pendingConfIndex = 0;
    this.#failReads();
    this.#incoming = undefined;
  }

  #becomeFollower(term: number, lead: string): void {
    this.#reset(term);
    this.#state = 'follower';
    this.#lead = lead;
  }

  #hup(): void {
    if (this.#state === 'leader') return;
    // A membership change committed but not yet applied could change who votes.
    for (let i = this.#applied + 1; i <= this.#commit; i++) {
      if (this.#log.entry(i)?.type === 'config') return;
    }
    if (this.#preVote) this.#campaign('pre');
    else this.#campaign('real');
  }

  #campaign(kind: 'pre' | 'real'): void {
    if (kind === 'pre') {
      this.#stats.preVotes++;
      this.#state = 'pre-candidate';
      // Forgetting the leader is the etcd #8334 fix: this node no longer
      // refuses others' pre-votes because of a leader it can no longer hear.
      this.#lead = '';
      this.#votes = new Map();
      this.#randomize();
    } else {
      this.#stats.elections++;
      this.#reset(this.#term + 1);
      this.#vote = this.id;
      this.#state = 'candidate';
    }
    const term = kind === 'pre' ? this.#term + 1 : this.#term;
    if (this.#poll(this.id, true)) return;
    for (const voter of this.#voters) {
      if (voter === this.id) continue;
      this.#send({
        type: kind === 'pre' ? 'pre-vote' : 'vote',
        to: voter,
        term,
        lastIndex: this.#log.lastIndex,
        lastTerm: this.#log.lastTerm,
      });
    }
  }

  /** Records a vote; returns true when the election was decided. */
  #poll(from: string, granted: boolean): boolean {
    if (!this.#voters.has(from)) return false;
    this.#votes.set(from, granted);
    let yes = 0;
    let no = 0;
    for (const [voter, vote] of this.#votes) {
      if (!this.#voters.has(voter)) continue;
      if (vote) yes++;
      else no++;
    }
    const quorum = this.#quorum();
    if (yes >= quorum) {
      if (this.#state === 'pre-candidate') this.#campaign('real');
      else this.#becomeLeader();
      return true;
    }
    if (this.#voters.size - no < quorum) {
      this.#becomeFollower(this.#term, '');
      return true;
    }
    return false;
  }

  #becomeLeader(): void {
    this.#stats.leaderships++;
    this.#state = 'leader';
    this.#lead = this.id;
    this.#hbSeq = 0;
    this.#progress.clear();
    for (const id of [...this.#voters, ...this.#observers]) {
      if (id !== this.id) this.#progress.set(id, new RaftProgress(this.#log.lastIndex + 1));
    }
    // A leader commits nothing of earlier terms until an entry of its own term
    // commits (§5.4.2); the no-op makes that happen at once. No membership
    // change until it is applied (the single-server change bug, §4.1 errata).
    const noop: RaftEntry = Object.freeze({
      index: this.#log.lastIndex + 1,
      term: this.#term,
      type: 'noop' as const,
      data: EMPTY,
    });
    this.#log.append([noop]);
    this.#pendingConfIndex = noop.index;
    this.#broadcastAppend();
  }

  #handleVote(
    type: 'pre-vote' | 'vote',
    from: string,
    term: number,
    lastIndex: number,
    lastTerm: number,
  ): void {
    const canVote =
      this.#vote === from ||
      (this.#vote === '' && this.#lead === '') ||
      (type === 'pre-vote' && term > this.#term);
    const responseType = type === 'pre-vote' ? 'pre-vote-response' : 'vote-response';
    if (canVote && this.#log.isUpToDate(lastIndex, lastTerm)) {
      this.#send({ type: responseType, to: from, term, reject: false });
      if (type === 'vote') {
        this.#electionElapsed = 0;
        this.#vote = from;
      }
    } else {
      this.#send({ type: responseType, to: from, term: this.#term, reject: true });
    }
  }

  // ---------------------------------------------------------------- followers

  #stepFollower(m: RaftMessage): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        if (this.#state !== 'follower') this.#becomeFollower(this.#term, m.from);
        this.#electionElapsed = 0;
        this.#lead = m.from;
        if (m.type === 'append') this.#handleAppend(m);
        else if (m.type === 'heartbeat') {
          this.#commitTo(Math.min(m.commit, this.#log.lastIndex));
          this.#send({ type: 'heartbeat-response', to: m.from, term: this.#term, seq: m.seq });
        } else this.#handleSnapshot(m);
        return;
      case 'pre-vote-response':
        if (this.#state === 'pre-candidate') this.#poll(m.from, !m.reject);
        return;
      case 'vote-response':
        if (this.#state === 'candidate') this.#poll(m.from, !m.reject);
        return;
      case 'read-index':
        this.#send({
          type: 'read-index-response',
          to: m.from,
          term: this.#term,
          id: m.id,
          index: 0,
          reject: true,
        });
        return;
      case 'read-index-response':
        this.#readStates.push(Object.freeze({ id: m.id, index: m.index, ok: !m.reject }));
        return;
      default:
        this.#stats.staleMessages++;
    }
  }

  #handleAppend(m: Extract<RaftMessage, { type: 'append' }>): void {
    if (m.prevIndex < this.#commit) {
      // Already committed here; whatever overlaps matches by Log Matching.
      this.#respondAppend(m.from, this.#commit);
      return;
    }
    if (this.#log.termAt(m.prevIndex) === m.prevTerm) {
      const lastNew = m.prevIndex + m.entries.length;
      let conflict: RaftEntry | undefined;
      for (const entry of m.entries) {
        if (this.#log.termAt(entry.index) !== entry.term) {
          conflict = entry;
          break;
        }
      }
      if (conflict !== undefined) {
        if (conflict.index <= this.#commit) {
          throw new Error(`entry ${conflict.index} conflicts with committed ${this.#commit}`);
        }
        if (conflict.index <= this.#log.lastIndex) this.#truncated(conflict.index);
        this.#log.append(m.entries.slice(conflict.index - m.prevIndex - 1));
      }
      this.#commitTo(Math.min(m.commit, lastNew));
      this.#respondAppend(m.from, lastNew);
      return;
    }
    const hint = this.#log.findConflictByTerm(
      Math.min(m.prevIndex, this.#log.lastIndex),
      m.prevTerm,
    );
    this.#send({
      type: 'append-response',
      to: m.from,
      term: this.#term,
      index: m.prevIndex,
      reject: true,
      hintIndex: hint.index,
      hintTerm: hint.term,
    });
  }

  #respondAppend(to: string, index: number): void {
    this.#send({
      type: 'append-response',
      to,
      term: this.#term,
      index,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
  }

  #truncated(from: number): void {
    this.#unstableFrom = Math.min(this.#unstableFrom, from);
    this.#stableTo = Math.min(this.#stableTo, from - 1);
    this.#lowestTruncation = Math.min(this.#lowestTruncation, from);
  }

  #commitTo(index: number): void {
    if (index > this.#commit) this.#commit = index;
  }

  #handleSnapshot(m: RaftSnapshotChunk): void {
    const meta = m.meta;
    if (meta.index <= this.#commit) {
      this.#incoming = undefined;
      this.#respondAppend(m.from, this.#commit);
      return;
    }
    let incoming = this.#incoming;
    const same =
      incoming !== undefined &&
      incoming.chunk.meta.index === meta.index &&
      incoming.chunk.meta.term === meta.term &&
      incoming.chunk.total === m.total;
    if (!same) {
      if (m.offset !== 0 || m.total > this.#maxSnapshotBytes) {
        this.#send({
          type: 'snapshot-response',
          to: m.from,
          term: this.#term,
          index: meta.index,
          nextOffset: 0,
        });
        return;
      }
      incoming = { chunk: m, parts: [], received: 0 };
      this.#incoming = incoming;
    }
    if (incoming === undefined) return;
    if (m.offset === incoming.received && (m.data.length > 0 || m.total === 0)) {
      incoming.parts.push(m.data);
      incoming.received += m.data.length;
    }
    if (incoming.received < m.total) {
      this.#send({
        type: 'snapshot-response',
        to: m.from,
        term: this.#term,
        index: meta.index,
        nextOffset: incoming.received,
      });
      return;
    }
    this.#incoming = undefined;
    const data = new Uint8Array(m.total);
    let offset = 0;
    for (const part of incoming.parts) {
      data.set(part, offset);
      offset += part.length;
    }
    this.#restore(Object.freeze({ meta, data }));
    this.#respondAppend(m.from, this.#commit);
  }

  #restore(snapshot: RaftSnapshot): void {
    const { index, term } = snapshot.meta;
    if (this.#log.termAt(index) === term) {
      // We hold the entry: the snapshot tells us only that it is committed.
      this.#commitTo(index);
      return;
    }
    this.#stats.snapshotsInstalled++;
    this.#log.reset(index, term);
    this.#truncated(index + 1);
    this.#stableTo = Math.min(this.#stableTo, index);
    this.#unstableFrom = index + 1;
    this.#commit = index;
    this.#applied = index;
    this.#snapshot = snapshot;
    this.#pendingSnapshot = snapshot;
    this.#setMembership(snapshot.meta.membership.voters, snapshot.meta.membership.observers);
  }

  // ---------------------------------------------------------------- leader

  #stepLeader(m: RaftMessage): void {
    const pr = this.#progress.get(m.from);
    if (pr === undefined) {
      this.#stats.staleMessages++;
      return;
    }
    pr.recentActive = true;
    switch (m.type) {
      case 'append-response': {
        if (m.reject) {
          if (pr.state === 'snapshot') return;
          if (pr.state === 'replicate') {
            // Stale: an answer to an append sent before a later one matched.
            if (m.index <= pr.match) return;
            pr.becomeProbe(pr.match + 1);
          } else {
            // Stale unless it answers the probe now out.
            if (m.index !== pr.next - 1) return;
            let probe = m.hintIndex;
            if (m.hintTerm > 0) probe = this.#log.findConflictByTerm(m.hintIndex, m.hintTerm).index;
            // Not clamped at match + 1: a follower whose disk lost what it had
            // acknowledged is walked back instead of refused forever.
            pr.next = Math.max(Math.min(m.index, probe + 1), 1);
            pr.probeSent = false;
          }
          this.#sendAppends(m.from, pr, true);
          return;
        }
        const moved = pr.acknowledge(m.index);
        if (pr.state === 'probe' && m.index >= pr.match) pr.becomeReplicate();
        else if (pr.state === 'snapshot' && m.index >= (pr.snapshot?.snapshot.meta.index ?? 0)) {
          pr.becomeReplicate();
        }
        if (moved && this.#maybeCommit()) this.#broadcastAppend();
        else this.#sendAppends(m.from, pr, false);
        return;
      }
      case 'heartbeat-response': {
        if (m.seq > pr.ackedSeq) pr.ackedSeq = m.seq;
        if (pr.state !== 'snapshot' && pr.match < this.#log.lastIndex) {
          if (pr.state === 'probe') pr.probeSent = false;
          else if (pr.match === pr.matchAtHeartbeat) pr.becomeProbe(pr.match + 1);
          this.#sendAppends(m.from, pr, true);
        }
        pr.matchAtHeartbeat = pr.match;
        this.#releaseReads();
        return;
      }
      case 'snapshot-response': {
        const sending = pr.snapshot;
        if (pr.state !== 'snapshot' || sending === undefined) return;
        if (sending.snapshot.meta.index !== m.index) return;
        if (m.nextOffset > sending.snapshot.data.length) return;
        sending.offset = m.nextOffset;
        this.#sendChunk(m.from, pr);
        return;
      }
      case 'read-index':
        this.#leaderRead(m.id, m.from);
        return;
      default:
        this.#stats.staleMessages++;
    }
  }

  #append(type: RaftEntryType, data: Uint8Array): RaftProposeResult {
    if (this.#state !== 'leader') return this.#refuse('not-leader');
    // An entry must fit one append message, or it could never be replicated.
    if (data.length > this.#maxMessageBytes) return this.#refuse('invalid');
    if (this.#log.lastIndex - this.#commit >= this.#maxUncommitted) {
      return this.#refuse('overloaded');
    }
    const entry: RaftEntry = Object.freeze({
      index: this.#log.lastIndex + 1,
      term: this.#term,
      type,
      data,
    });
    this.#log.append([entry]);
    this.#broadcastAppend();
    return Object.freeze({ ok: true, index: entry.index, term: entry.term });
  }

  #refuse(
    reason: 'not-leader' | 'overloaded' | 'change-in-progress' | 'invalid',
  ): RaftProposeResult {
    return Object.freeze({ ok: false, reason, leaderId: this.#lead });
  }

  #maybeCommit(): boolean {
    const matches: number[] = [];
    for (const voter of this.#voters) {
      if (voter === this.id) matches.push(Math.min(this.#stableTo, this.#log.lastIndex));
      else matches.push(this.#progress.get(voter)?.match ?? 0);
    }
    if (matches.length === 0) return false;
    matches.sort((a, b) => b - a);
    const index = matches[this.#quorum() - 1] ?? 0;
    // Only an entry of the current term is committed by counting (§5.4.2).
    if (index > this.#commit && this.#log.termAt(index) === this.#term) {
      this.#commit = index;
      if (this.#waitingReads.length > 0) {
        const waiting = this.#waitingReads;
        this.#waitingReads = [];
        for (const read of waiting) this.#leaderRead(read.id, read.from);
      }
      return true;
    }
    return false;
  }

  #broadcastAppend(): void {
    // Sent even without entries: it carries the new commit index.
    for (const [id, pr] of this.#progress) this.#sendAppends(id, pr, true);
  }

  /**
   * Sends what the follower is missing, as far as its window allows. An empty
   * append goes out only when `sendIfEmpty` (a probe, or news of the commit
   * index): answering every acknowledgement with an empty append would make
   * the two sides ping-pong forever.
   */
  #sendAppends(to: string, pr: RaftProgress, sendIfEmpty: boolean): void {
    let force = sendIfEmpty;
    for (let i = 0; i < this.#maxInflight; i++) {
      const sentEntries = this.#sendAppend(to, pr, force);
      force = false;
      if (!sentEntries || pr.state !== 'replicate' || pr.next > this.#log.lastIndex) return;
    }
  }

  /** Sends one append; returns true when it carried entries. */
  #sendAppend(to: string, pr: RaftProgress, sendIfEmpty: boolean): boolean {
    if (pr.paused(this.#maxInflight)) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.#log.termAt(prevIndex);
    if (prevTerm === undefined) {
      if (prevIndex < this.#log.snapshotIndex) this.#sendSnapshot(to, pr);
      return false;
    }
    const entries = this.#log.slice(pr.next, this.#log.lastIndex, this.#maxMessageBytes);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.#send({
      type: 'append',
      to,
      term: this.#term,
      prevIndex,
      prevTerm,
      entries: Object.freeze(entries),
      commit: this.#commit,
    });
    const last = entries.at(-1);
    if (pr.state === 'replicate') {
      if (last !== undefined) {
        pr.next = last.index + 1;
        pr.inflight.push(last.index);
      }
    } else {
      pr.probeSent = true;
    }
    return last !== undefined;
  }

  #sendSnapshot(to: string, pr: RaftProgress): void {
    const snapshot = this.#snapshot;
    if (snapshot === undefined) return;
    pr.state = 'snapshot';
    pr.inflight = [];
    pr.snapshot = { snapshot, offset: 0 };
    this.#sendChunk(to, pr);
  }

  #sendChunk(to: string, pr: RaftProgress): void {
    const sending = pr.snapshot;
    if (sending === undefined) return;
    const { snapshot } = sending;
    const total = snapshot.data.length;
    let offset = sending.offset;
    // Everything was sent but the final answer is missing (lost): resend the
    // last chunk; a follower that installed it answers with its commit index.
    if (offset >= total && total > 0) {
      offset = Math.floor((total - 1) / this.#maxMessageBytes) * this.#maxMessageBytes;
    }
    this.#send({
      type: 'snapshot',
      to,
      term: this.#term,
      meta: snapshot.meta,
      offset,
      total,
      data: snapshot.data.subarray(offset, Math.min(total, offset + this.#maxMessageBytes)),
    });
  }

  #broadcastHeartbeat(): void {
    for (const [id, pr] of this.#progress) {
      if (pr.state === 'snapshot') {
        // Stop-and-wait over a lossy network: resend the chunk still unanswered.
        this.#sendChunk(id, pr);
        continue;
      }
      this.#send({
        type: 'heartbeat',
        to: id,
        term: this.#term,
        commit: Math.min(pr.match, this.#commit),
        seq: this.#hbSeq,
      });
    }
  }

  #quorumActive(): boolean {
    let active = 0;
    for (const voter of this.#voters) {
      if (voter === this.id) active++;
      else if (this.#progress.get(voter)?.recentActive === true) active++;
    }
    for (const pr of this.#progress.values()) pr.recentActive = false;
    return active >= this.#quorum();
  }

  #leaderRead(id: number, from: string): void {
    if (this.#pendingReads.length + this.#waitingReads.length >= this.#maxPendingReads) {
      this.#answerRead(id, from, 0, false);
      return;
    }
    if (this.#log.termAt(this.#commit) !== this.#term) {
      // Until an entry of this term commits, the commit index may lag the
      // previous leader's: the read point would be stale.
      this.#waitingReads.push({ id, from });
      return;
    }
    if (this.#voters.size === 1 && this.#voters.has(this.id)) {
      this.#answerRead(id, from, this.#commit, true);
      return;
    }
    this.#hbSeq++;
    this.#pendingReads.push({ id, from, index: this.#commit, seq: this.#hbSeq });
    this.#broadcastHeartbeat();
  }

  #releaseReads(): void {
    if (this.#pendingReads.length === 0) return;
    const acked: number[] = [];
    for (const voter of this.#voters) {
      acked.push(voter === this.id ? this.#hbSeq : (this.#progress.get(voter)?.ackedSeq ?? 0));
    }
    acked.sort((a, b) => b - a);
    const confirmed = acked[this.#quorum() - 1] ?? 0;
    while (this.#pendingReads.length > 0 && (this.#pendingReads[0]?.seq ?? 0) <= confirmed) {
      const read = this.#pendingReads.shift();
      if (read !== undefined) this.#answerRead(read.id, read.from, read.index, true);
    }
  }

  #answerRead(id: number, from: string, index: number, ok: boolean): void {
    if (from === this.id) {
      this.#readStates.push(Object.freeze({ id, index, ok }));
      return;
    }
    this.#send({
      type: 'read-index-response',
      to: from,
      term: this.#term,
      id,
      index,
      reject: !ok,
    });
  }

  #failReads(): void {
    const reads = [...this.#pendingReads, ...this.#waitingReads];
    this.#pendingReads = [];
    this.#waitingReads = [];
    for (const read of reads) this.#answerRead(read.id, read.from, 0, false);
  }

  // ---------------------------------------------------------------- membership

  #applyConfigChange(entry: RaftEntry): void {
    let change: RaftConfigChange;
    try {
      change = decodeRaftConfigChange(entry.data);
    } catch {
      return; // Deterministic on every node: a malformed change changes nothing.
    }
    const voters = new Set(this.#voters);
    const observers = new Set(this.#observers);
    switch (change.type) {
      case 'add-voter':
        observers.delete(change.nodeId);
        voters.add(change.nodeId);
        break;
      case 'add-observer':
        if (!voters.has(change.nodeId)) observers.add(change.nodeId);
        break;
      case 'remove':
        if (voters.has(change.nodeId) && voters.size === 1) return;
        voters.delete(change.nodeId);
        observers.delete(change.nodeId);
        break;
    }
    this.#setMembership([...voters], [...observers]);
  }

  #setMembership(voters: readonly string[], observers: readonly string[]): void {
    this.#voters = new Set(voters);
    this.#observers = new Set(observers.filter((id) => !this.#voters.has(id)));
    this.#membership = freezeMembership(this.#voters, this.#observers);
    this.#membershipChanged = true;
    if (this.#state === 'leader') {
      if (!this.#voters.has(this.id)) {
        // Removed: the remaining voters elect a leader among themselves.
        this.#becomeFollower(this.#term, '');
        return;
      }
      for (const id of [...this.#voters, ...this.#observers]) {
        if (id !== this.id && !this.#progress.has(id)) {
          const pr = new RaftProgress(this.#log.lastIndex + 1);
          pr.recentActive = true;
          this.#progress.set(id, pr);
        }
      }
      for (const id of [...this.#progress.keys()]) {
        if (!this.#voters.has(id) && !this.#observers.has(id)) this.#progress.delete(id);
      }
      if (this.#maybeCommit()) this.#broadcastAppend();
      else this.#broadcastAppend();
    } else if (this.#state !== 'follower' && !this.#voters.has(this.id)) {
      this.#becomeFollower(this.#term, '');
    }
  }

  #send(message: Outgoing): void {
    this.#messages.push(Object.freeze({ ...message, from: this.id }));
  }
}
