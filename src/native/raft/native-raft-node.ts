/**
 * A Raft member on a {@link Runtime}: the pure {@link RaftNode} driven by the
 * runtime's clock (ticks), its durable storage (term, vote, log, snapshot) and
 * a {@link GossipTransport} (messages), replicating a
 * {@link ConfigStateMachine}: the cluster configuration log.
 *
 * @packageDocumentation
 */

import type { ClusterNodeRole } from '../../contracts/cluster-membership.js';
import type { CallOptions, Listener, Unsubscribe } from '../../contracts/common.js';
import { EventHub } from '../../core/events.js';
import {
  ConfigStateMachine,
  DEFAULT_CONFIG_LIMITS,
  encodeConfigCommand,
  type ConfigCommand,
  type ConfigRecord,
  type ConfigLimits,
  type ConfigResult,
  type ConfigValue,
} from '../../core/raft/config-state-machine.js';
import {
  DEFAULT_RAFT_CODEC_LIMITS,
  decodeRaftMessage,
  encodeRaftMessage,
  isRaftMessage,
  type RaftCodecLimits,
} from '../../core/raft/message-codec.js';
import { RaftNode } from '../../core/raft/raft-node.js';
import type { RaftNodeStats, RaftProposeResult } from '../../core/raft/raft-node-options.js';
import type {
  RaftConfigChange,
  RaftCoreRole,
  RaftEntryType,
  RaftMembership,
  RaftMessage,
  RaftReady,
  RaftSnapshot,
} from '../../core/raft/types.js';
import {
  WireError,
  createRejectCounters,
  type WireRejectReason,
} from '../../core/wire/wire-error.js';
import type { Runtime, Timer } from '../../runtime/runtime.js';
import type { GossipTransport } from '../gossip/gossip-transport.js';
import { RaftError } from './raft-error.js';
import { RaftStorage, type RaftDurableState } from './raft-storage.js';

/**
 * A member's role as `ClusterMembership` reports it (a pre-candidate is a `candidate`).
 *
 * @since 2.0.0
 */
export type RaftRole = ClusterNodeRole;

/**
 * A change of the leader this member knows of.
 *
 * @since 2.0.0
 */
export interface RaftLeaderChange {
  /** The new leader, or `''` when none is known. */
  readonly leaderId: string;
  /** The previous one, or `''`. */
  readonly previousLeaderId: string;
  /** The term now. */
  readonly term: number;
}

/**
 * A change of this member's role.
 *
 * @since 2.0.0
 */
export interface RaftRoleChange {
  /** The new role. */
  readonly role: RaftRole;
  /** The previous role. */
  readonly previousRole: RaftRole;
  /** The term now. */
  readonly term: number;
}

/**
 * One committed entry as applied here.
 *
 * @since 2.0.0
 */
export interface RaftAppliedEntry {
  /** Its index. */
  readonly index: number;
  /** Its term. */
  readonly term: number;
  /** What it carried. */
  readonly type: RaftEntryType;
  /** Its data (a copy). */
  readonly data: Uint8Array;
  /** For a command: what applying it returned. */
  readonly result?: ConfigResult;
}

/**
 * Options of {@link NativeRaftNode}.
 *
 * @since 2.0.0
 */
export interface NativeRaftNodeOptions {
  /** This member's id (its peer id on the transport). Default the runtime's node id. */
  readonly nodeId?: string;
  /**
   * The voters a brand-new cluster starts with; used only when the store holds
   * no state yet. Every founding member gets the same list. Default none: the
   * member waits to be added by the leader (`addVoter`/`addObserver`).
   */
  readonly initialVoters?: readonly string[];
  /** Founding observers, as `initialVoters`. Default none. */
  readonly initialObservers?: readonly string[];
  /** The store holding term, vote, log and snapshot. Default `raft`. */
  readonly storeName?: string;
  /** One tick, in ms. Default 100 (so the election timeout is 1–2 s at 10 ticks). */
  readonly tickMs?: number;
  /** Ticks without a leader before campaigning (the timeout is drawn from [n, 2n)). Default 10. */
  readonly electionTicks?: number;
  /** Ticks between leader heartbeats. Default 1. */
  readonly heartbeatTicks?: number;
  /** Pre-vote before elections. Default true. */
  readonly preVote?: boolean;
  /** Check-quorum and leader stickiness. Default true. */
  readonly checkQuorum?: boolean;
  /** Unacknowledged appends per follower. Default 64. */
  readonly maxInflightAppends?: number;
  /** Linearizable reads waiting at once. Default 1 024. */
  readonly maxPendingReads?: number;
  /** Proposals (commands and membership changes) waiting for their outcome. Default 1 024. */
  readonly maxPendingProposals?: number;
  /** Uncommitted entries a leader holds before refusing proposals. Default 4 096. */
  readonly maxUncommittedEntries?: number;
  /** Take a snapshot and compact the log after this many applied entries. Default 1 000. */
  readonly snapshotEntries?: number;
  /** A proposal or read without an outcome by then fails with `timeout`. Default 30 election timeouts. */
  readonly requestTimeoutMs?: number;
  /** Bounds of the configuration. Default {@link DEFAULT_CONFIG_LIMITS}. */
  readonly configLimits?: ConfigLimits;
  /** Bounds of the message decoder. Default {@link DEFAULT_RAFT_CODEC_LIMITS}. */
  readonly codecLimits?: RaftCodecLimits;
  /** Receives errors thrown by event listeners. Default: printed to standard error. */
  readonly onListenerError?: (error: unknown) => void;
  /** Told of every message the decoder refused (it changed nothing and was counted). */
  readonly onRejectedMessage?: (fromPeerId: string, reason: WireRejectReason) => void;
  /**
   * Told when the node stopped because its storage failed or its log broke an
   * invariant; it is closed then. Default: printed to standard error.
   */
  readonly onFatalError?: (error: unknown) => void;
}

/**
 * Counters of a {@link NativeRaftNode}.
 *
 * @since 2.0.0
 */
export interface NativeRaftStats extends RaftNodeStats {
  /** Messages sent. */
  readonly messagesSent: number;
  /** Messages received and stepped. */
  readonly messagesReceived: number;
  /** Messages refused by the decoder, by reason (`misdirected`: not for us or a forged sender). */
  readonly rejected: Readonly<Record<WireRejectReason, number>>;
  /** Syncs of the store. */
  readonly syncs: number;
  /** Snapshots taken here. */
  readonly snapshotsTaken: number;
}

interface PendingProposal {
  readonly term: number;
  readonly kind: 'command' | 'config';
  readonly resolve: (value: ConfigResult | RaftMembership) => void;
  readonly reject: (error: unknown) => void;
  readonly cleanup: () => void;
}

interface PendingRead {
  index: number | undefined;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly cleanup: () => void;
}

const DEFAULT_TICK_MS = 100;

function publicRole(role: RaftCoreRole): RaftRole {
  return role === 'pre-candidate' ? 'candidate' : role;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RaftError('invalid', `${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * One Raft member replicating the cluster configuration.
 *
 * Proposals (`propose`, `put`, `delete`, `cas`, membership changes) are
 * accepted by the leader only; elsewhere they fail with reason `not-leader`
 * and the leader's id, for the caller to forward. A proposal resolves with
 * its result once its entry is applied here. Reads are linearizable by
 * default (read-index: see docs/raft.md) and may be served by any member.
 *
 * @since 2.0.0
 */
export class NativeRaftNode implements Disposable {
  /** This member's id. */
  readonly nodeId: string;
  /** One tick, in ms. */
  readonly tickMs: number;
  readonly #runtime: Runtime;
  readonly #transport: GossipTransport;
  readonly #storage: RaftStorage;
  readonly #core: RaftNode;
  readonly #machine: ConfigStateMachine;
  readonly #configLimits: ConfigLimits;
  readonly #codecLimits: RaftCodecLimits;
  readonly #maxPendingProposals: number;
  readonly #maxPendingReads: number;
  readonly #snapshotEntries: number;
  readonly #requestTimeoutMs: number;
  readonly #onRejected: ((fromPeerId: string, reason: WireRejectReason) => void) | undefined;
  readonly #onFatal: (error: unknown) => void;
  readonly #leaderChanges: EventHub<RaftLeaderChange>;
  readonly #roleChanges: EventHub<RaftRoleChange>;
  readonly #applied: EventHub<RaftAppliedEntry>;
  readonly #proposals = new Map<number, PendingProposal>();
  readonly #reads = new Map<number, PendingRead>();
  readonly #offReceive: Unsubscribe;
  readonly #rejected = createRejectCounters();
  #readSeq = 0;
  #tickTimer: Timer | undefined;
  #processing = false;
  #closed = false;
  #role: RaftRole;
  #leaderId: string;
  #term: number;
  #membership: RaftMembership;
  #sent = 0;
  #received = 0;
  #syncs = 0;
  #snapshotsTaken = 0;

  /**
   * Loads the durable state and starts ticking.
   *
   * @param runtime - Clock, randomness, storage.
   * @param transport - The channel to the other members (ids are member ids).
   * @param options - Identity, founding membership, timing, bounds.
   * @throws RaftError `invalid` for bad options; WireError when the stored state is corrupt.
   */
  constructor(runtime: Runtime, transport: GossipTransport, options: NativeRaftNodeOptions = {}) {
    this.nodeId = options.nodeId ?? runtime.nodeId;
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    if (!Number.isFinite(this.tickMs) || this.tickMs <= 0) {
      throw new RaftError('invalid', 'tickMs must be positive');
    }
    const electionTicks = positiveInteger('electionTicks', options.electionTicks ?? 10);
    this.#runtime = runtime;
    this.#transport = transport;
    this.#configLimits = options.configLimits ?? DEFAULT_CONFIG_LIMITS;
    this.#codecLimits = options.codecLimits ?? DEFAULT_RAFT_CODEC_LIMITS;
    this.#maxPendingProposals = positiveInteger(
      'maxPendingProposals',
      options.maxPendingProposals ?? 1_024,
    );
    this.#maxPendingReads = positiveInteger('maxPendingReads', options.maxPendingReads ?? 1_024);
    this.#snapshotEntries = positiveInteger('snapshotEntries', options.snapshotEntries ?? 1_000);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30 * electionTicks * this.tickMs;
    this.#onRejected = options.onRejectedMessage;
    const onListenerError =
      options.onListenerError ??
      ((error: unknown) => {
        console.error('a raft listener threw:', error);
      });
    this.#onFatal =
      options.onFatalError ??
      ((error: unknown) => {
        console.error(`raft member ${this.nodeId} stopped:`, error);
      });
    this.#leaderChanges = new EventHub(onListenerError);
    this.#roleChanges = new EventHub(onListenerError);
    this.#applied = new EventHub(onListenerError);

    this.#storage = new RaftStorage(runtime.storage.open(options.storeName ?? 'raft'));
    const durable = this.#bootstrap(this.#storage.load(), options);
    this.#machine = new ConfigStateMachine(this.#configLimits);
    if (durable.snapshot !== undefined) this.#machine.restore(durable.snapshot.data);
    // Entry data is bounded so one append or snapshot chunk fits one transport batch.
    const maxBatch = transport.maxBatchBytes ?? 65_507;
    const maxMessageBytes = Math.max(1_024, Math.min(60_000, maxBatch - 1_024));
    try {
      this.#core = new RaftNode({
        id: this.nodeId,
        random: runtime.random,
        electionTicks,
        heartbeatTicks: options.heartbeatTicks ?? 1,
        preVote: options.preVote ?? true,
        checkQuorum: options.checkQuorum ?? true,
        maxInflightAppends: options.maxInflightAppends ?? 64,
        maxMessageBytes,
        maxPendingReads: this.#maxPendingReads,
        maxUncommittedEntries: options.maxUncommittedEntries ?? 4_096,
        maxSnapshotBytes: this.#codecLimits.maxSnapshotBytes,
        ...(durable.hardState === undefined ? {} : { hardState: durable.hardState }),
        ...(durable.snapshot === undefined ? {} : { snapshot: durable.snapshot }),
        entries: durable.entries,
      });
    } catch (error) {
      throw new RaftError('invalid', `bad raft options: ${String(error)}`);
    }
    this.#role = publicRole(this.#core.role);
    this.#leaderId = this.#core.leaderId;
    this.#term = this.#core.term;
    this.#membership = this.#core.membership;
    this.#offReceive = transport.onReceive((fromPeerId, bytes) => {
      this.#receive(fromPeerId, bytes);
    });
    // The first tick at a random offset, so members restarted together do not tick in step.
    this.#armTick(runtime.random.int(Math.max(1, Math.ceil(this.tickMs))));
    this.#kick();
  }

  /**
   * A founding member with no durable state starts from a bootstrap snapshot
   * at index 1, term 1, holding the founding membership. Every founder builds
   * the same one, and a member that joins later (empty, no founders given)
   * receives it — or a later snapshot — from the leader, so every member
   * derives the membership from the replicated history alone.
   */
  #bootstrap(durable: RaftDurableState, options: NativeRaftNodeOptions): RaftDurableState {
    const voters = options.initialVoters ?? [];
    const fresh =
      durable.hardState === undefined &&
      durable.snapshot === undefined &&
      durable.entries.length === 0;
    if (!fresh || voters.length === 0) return durable;
    const machine = new ConfigStateMachine(this.#configLimits);
    machine.skip(1);
    const snapshot: RaftSnapshot = Object.freeze({
      meta: Object.freeze({
        index: 1,
        term: 1,
        membership: Object.freeze({
          voters: Object.freeze([...new Set(voters)].sort()),
          observers: Object.freeze(
            [...new Set(options.initialObservers ?? [])]
              .filter((id) => !voters.includes(id))
              .sort(),
          ),
        }),
      }),
      data: machine.snapshot(),
    });
    // Durable with the first sync; a crash before it bootstraps the same way again.
    this.#storage.writeSnapshot(snapshot);
    return Object.freeze({ snapshot, entries: [] });
  }

  /** This member's role. */
  get role(): RaftRole {
    return this.#role;
  }

  /** The leader this member knows of, or `''`. */
  get leaderId(): string {
    return this.#leaderId;
  }

  /** The current term. */
  get term(): number {
    return this.#term;
  }

  /** The membership as of the last applied entry. */
  get membership(): RaftMembership {
    return this.#membership;
  }

  /** The highest index known committed. */
  get commitIndex(): number {
    return this.#core.commitIndex;
  }

  /** The highest index applied to the configuration. */
  get appliedIndex(): number {
    return this.#machine.appliedIndex;
  }

  /** The index the log is compacted up to. */
  get snapshotIndex(): number {
    return this.#core.snapshotIndex;
  }

  /** The last log index. */
  get lastIndex(): number {
    return this.#core.lastIndex;
  }

  /** Whether {@link NativeRaftNode.close} was called (or a fatal error closed it). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Counters. */
  get stats(): Readonly<NativeRaftStats> {
    return Object.freeze({
      ...this.#core.stats,
      messagesSent: this.#sent,
      messagesReceived: this.#received,
      rejected: Object.freeze({ ...this.#rejected }),
      syncs: this.#syncs,
      snapshotsTaken: this.#snapshotsTaken,
    });
  }

  /**
   * The term of the log entry at `index` (for checks and diagnostics).
   *
   * @param index - An index.
   * @returns Its term, or `undefined` when compacted or beyond the end.
   */
  termAt(index: number): number | undefined {
    return this.#core.termAt(index);
  }

  /**
   * The configuration as applied here, in its snapshot encoding: equal states
   * at the same applied index encode to equal bytes (for checks and diagnostics).
   *
   * @returns The encoding.
   */
  configSnapshot(): Uint8Array {
    return this.#machine.snapshot();
  }

  // ---------------------------------------------------------------- events

  /**
   * Subscribes to changes of the known leader (including to none).
   *
   * @param listener - Called after the change is durable.
   * @returns A disposer.
   */
  onLeaderChange(listener: Listener<RaftLeaderChange>): Unsubscribe {
    return this.#leaderChanges.subscribe(listener);
  }

  /**
   * Subscribes to changes of this member's role.
   *
   * @param listener - Called after the change is durable.
   * @returns A disposer.
   */
  onRoleChange(listener: Listener<RaftRoleChange>): Unsubscribe {
    return this.#roleChanges.subscribe(listener);
  }

  /**
   * Subscribes to entries as they are applied here, in index order.
   *
   * @param listener - Called once per entry (again after a restart replays the log).
   * @returns A disposer.
   */
  onApplied(listener: Listener<RaftAppliedEntry>): Unsubscribe {
    return this.#applied.subscribe(listener);
  }

  // ---------------------------------------------------------------- writes

  /**
   * Proposes a command (leader only).
   *
   * @param command - The command.
   * @param options - Cancellation (the command may still apply; only the wait is cancelled).
   * @returns The result once applied here.
   * @throws RaftError: `invalid`, `not-leader` (with `leaderId`), `overloaded`,
   *   `dropped`, `unknown-outcome`, `timeout`, `closed`.
   */
  async propose(command: ConfigCommand, options?: CallOptions): Promise<ConfigResult> {
    options?.signal?.throwIfAborted();
    this.#assertOpen();
    let data: Uint8Array;
    try {
      data = encodeConfigCommand(command, this.#configLimits);
    } catch (error) {
      throw new RaftError('invalid', `bad command: ${String(error)}`);
    }
    this.#assertRoom();
    const outcome = this.#checkProposal(this.#core.propose(data));
    return (await this.#wait(outcome.index, outcome.term, 'command', options)) as ConfigResult;
  }

  /**
   * Sets a key (leader only).
   *
   * @param key - The key.
   * @param value - A string or bytes (copied).
   * @param options - Cancellation.
   * @returns The result once applied.
   */
  put(key: string, value: ConfigValue, options?: CallOptions): Promise<ConfigResult> {
    return this.propose({ op: 'put', key, value }, options);
  }

  /**
   * Deletes a key (leader only).
   *
   * @param key - The key.
   * @param options - Cancellation.
   * @returns The result once applied.
   */
  delete(key: string, options?: CallOptions): Promise<ConfigResult> {
    return this.propose({ op: 'delete', key }, options);
  }

  /**
   * Compare-and-set (leader only): writes `value` (`null` deletes) when the
   * key's current state matches `expect` — a revision (`0`: absent) or a value
   * (`null`: absent). The result's `ok` tells whether it matched.
   *
   * @param key - The key.
   * @param expect - What the key must hold.
   * @param value - The new value, or `null` to delete.
   * @param options - Cancellation.
   * @returns The result once applied.
   */
  cas(
    key: string,
    expect: { readonly revision: number } | { readonly value: ConfigValue | null },
    value: ConfigValue | null,
    options?: CallOptions,
  ): Promise<ConfigResult> {
    const command: ConfigCommand =
      'revision' in expect
        ? { op: 'cas', key, expectRevision: expect.revision, value }
        : { op: 'cas', key, expectValue: expect.value, value };
    return this.propose(command, options);
  }

  /**
   * Adds a voter, or promotes an observer (leader only; one change at a time).
   *
   * @param nodeId - The member.
   * @param options - Cancellation.
   * @returns The membership once the change is applied.
   */
  addVoter(nodeId: string, options?: CallOptions): Promise<RaftMembership> {
    return this.#changeMembership({ type: 'add-voter', nodeId }, options);
  }

  /**
   * Adds a non-voting observer (leader only).
   *
   * @param nodeId - The member.
   * @param options - Cancellation.
   * @returns The membership once applied.
   */
  addObserver(nodeId: string, options?: CallOptions): Promise<RaftMembership> {
    return this.#changeMembership({ type: 'add-observer', nodeId }, options);
  }

  /**
   * Removes a voter or observer (leader only). Removing the leader itself
   * makes it step down once applied.
   *
   * @param nodeId - The member.
   * @param options - Cancellation.
   * @returns The membership once applied.
   */
  removeVoter(nodeId: string, options?: CallOptions): Promise<RaftMembership> {
    return this.#changeMembership({ type: 'remove', nodeId }, options);
  }

  async #changeMembership(
    change: RaftConfigChange,
    options?: CallOptions,
  ): Promise<RaftMembership> {
    options?.signal?.throwIfAborted();
    this.#assertOpen();
    if (typeof change.nodeId !== 'string' || change.nodeId === '') {
      throw new RaftError('invalid', 'nodeId must be a non-empty string');
    }
    this.#assertRoom();
    const outcome = this.#checkProposal(this.#core.proposeConfigChange(change));
    return (await this.#wait(outcome.index, outcome.term, 'config', options)) as RaftMembership;
  }

  #assertRoom(): void {
    if (this.#proposals.size >= this.#maxPendingProposals) {
      throw new RaftError('overloaded', 'too many proposals waiting', this.#leaderId);
    }
  }

  #checkProposal(result: RaftProposeResult): { index: number; term: number } {
    if (!result.ok) {
      const reason =
        result.reason === 'not-leader' && result.leaderId === '' ? 'no-leader' : result.reason;
      throw new RaftError(reason, `proposal refused: ${reason}`, result.leaderId);
    }
    return result;
  }

  #wait(
    index: number,
    term: number,
    kind: 'command' | 'config',
    options: CallOptions | undefined,
  ): Promise<ConfigResult | RaftMembership> {
    this.#kick();
    return new Promise((resolve, reject) => {
      const timer = this.#runtime.clock.setTimer(this.#requestTimeoutMs, () => {
        this.#settleProposal(index, new RaftError('timeout', `entry ${index} not applied in time`));
      });
      const signal = options?.signal;
      const onAbort = (): void => {
        this.#settleProposal(index, signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#proposals.set(index, {
        term,
        kind,
        resolve,
        reject,
        cleanup: () => {
          timer.cancel();
          signal?.removeEventListener('abort', onAbort);
        },
      });
    });
  }

  #settleProposal(index: number, error: unknown): void {
    const pending = this.#proposals.get(index);
    if (pending === undefined) return;
    this.#proposals.delete(index);
    pending.cleanup();
    pending.reject(error);
  }

  // ---------------------------------------------------------------- reads

  /**
   * Reads a key.
   *
   * @param key - The key.
   * @param options - `linearizable` (default true): reflect every write
   *   committed before the call, via read-index; false reads this member's
   *   applied state at once (possibly stale). And cancellation.
   * @returns A copy of the key's state, or `undefined`.
   * @throws RaftError `no-leader`, `overloaded`, `timeout`, `closed` (linearizable only).
   */
  async read(
    key: string,
    options?: CallOptions & { readonly linearizable?: boolean },
  ): Promise<ConfigRecord | undefined> {
    options?.signal?.throwIfAborted();
    this.#assertOpen();
    if (options?.linearizable ?? true) await this.#readBarrier(options);
    return this.#machine.get(key);
  }

  /**
   * The keys starting with `prefix`, sorted.
   *
   * @param prefix - The prefix; `''` for all.
   * @param options - As for {@link NativeRaftNode.read}.
   * @returns The keys.
   */
  async keys(
    prefix = '',
    options?: CallOptions & { readonly linearizable?: boolean },
  ): Promise<string[]> {
    options?.signal?.throwIfAborted();
    this.#assertOpen();
    if (options?.linearizable ?? true) await this.#readBarrier(options);
    return this.#machine.keys(prefix);
  }

  /**
   * The keys starting with `prefix` and their states, sorted by key, taken at
   * one applied index (one read barrier for all, so the list is one consistent
   * state, not a key-by-key read).
   *
   * @param prefix - The prefix; `''` for all.
   * @param options - As for {@link NativeRaftNode.read}.
   * @returns Copies of the records.
   */
  async list(
    prefix = '',
    options?: CallOptions & { readonly linearizable?: boolean },
  ): Promise<ConfigRecord[]> {
    options?.signal?.throwIfAborted();
    this.#assertOpen();
    if (options?.linearizable ?? true) await this.#readBarrier(options);
    const records: ConfigRecord[] = [];
    for (const key of this.#machine.keys(prefix)) {
      const record = this.#machine.get(key);
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  #readBarrier(options: CallOptions | undefined): Promise<void> {
    if (this.#reads.size >= this.#maxPendingReads) {
      return Promise.reject(new RaftError('overloaded', 'too many reads waiting', this.#leaderId));
    }
    const id = ++this.#readSeq;
    if (!this.#core.readIndex(id)) {
      return Promise.reject(new RaftError('no-leader', 'no leader to confirm the read'));
    }
    const promise = new Promise<void>((resolve, reject) => {
      const timer = this.#runtime.clock.setTimer(this.#requestTimeoutMs, () => {
        this.#settleRead(id, new RaftError('timeout', 'read not confirmed in time'));
      });
      const signal = options?.signal;
      const onAbort = (): void => {
        this.#settleRead(id, signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#reads.set(id, {
        index: undefined,
        resolve,
        reject,
        cleanup: () => {
          timer.cancel();
          signal?.removeEventListener('abort', onAbort);
        },
      });
    });
    this.#kick();
    return promise;
  }

  #settleRead(id: number, error?: unknown): void {
    const pending = this.#reads.get(id);
    if (pending === undefined) return;
    this.#reads.delete(id);
    pending.cleanup();
    if (error === undefined) pending.resolve();
    else pending.reject(error);
  }

  // ---------------------------------------------------------------- failure detection hooks

  /**
   * Starts an election now (pre-vote first), e.g. when failure detection says
   * the leader is gone; pre-vote keeps it from disrupting a live leader.
   */
  campaign(): void {
    if (this.#closed) return;
    this.#core.campaign();
    this.#kick();
  }

  /** Forgets the leader (failure detection says it is gone), so pre-votes are granted at once. */
  forgetLeader(): void {
    if (this.#closed) return;
    this.#core.forgetLeader();
    this.#kick();
  }

  // ---------------------------------------------------------------- lifecycle

  /** Stops ticking and receiving; every waiting call fails with `closed`. The transport stays open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tickTimer?.cancel();
    this.#offReceive();
    for (const index of [...this.#proposals.keys()]) {
      this.#settleProposal(index, new RaftError('closed', 'raft member closed'));
    }
    for (const id of [...this.#reads.keys()]) {
      this.#settleRead(id, new RaftError('closed', 'raft member closed'));
    }
  }

  /** Same as {@link NativeRaftNode.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new RaftError('closed', 'raft member closed');
  }

  #armTick(delayMs: number): void {
    this.#tickTimer = this.#runtime.clock.setTimer(delayMs, () => {
      if (this.#closed) return;
      this.#core.tick();
      this.#kick();
      this.#armTick(this.tickMs);
    });
  }

  #receive(fromPeerId: string, bytes: Uint8Array): void {
    if (this.#closed || !isRaftMessage(bytes)) return;
    let message: RaftMessage;
    try {
      message = decodeRaftMessage(bytes, this.#codecLimits);
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      this.#reject(fromPeerId, error.reason);
      return;
    }
    if (message.to !== this.nodeId || message.from !== fromPeerId) {
      this.#reject(fromPeerId, 'misdirected');
      return;
    }
    this.#received++;
    try {
      this.#core.step(message);
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#kick();
  }

  #reject(fromPeerId: string, reason: WireRejectReason): void {
    this.#rejected[reason] += 1;
    this.#onRejected?.(fromPeerId, reason);
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.close();
    this.#onFatal(error);
  }

  // ---------------------------------------------------------------- the Ready loop

  #kick(): void {
    if (this.#processing || this.#closed) return;
    this.#processing = true;
    this.#drain().then(
      () => {
        this.#processing = false;
        // Work stepped in while the last sync was finishing.
        if (!this.#closed && this.#core.hasReady()) this.#kick();
      },
      (error: unknown) => {
        this.#processing = false;
        this.#fail(error);
      },
    );
  }

  async #drain(): Promise<void> {
    while (!this.#closed && this.#core.hasReady()) {
      const ready = this.#core.ready();
      // FSYNC DISCIPLINE. Every message in this Ready may promise durable
      // state: a vote grant promises the vote and term are on disk (else a
      // restarted node could vote twice in one term), an append acknowledgement
      // promises the entries are (else a leader could count a copy that a crash
      // erases, and a committed entry could vanish). So: write the snapshot,
      // entries and hard state, sync, and only then send. Applying committed
      // entries needs no sync (they are durable on a quorum already), and the
      // leader counts its own log towards a commit only up to what `advance()`
      // reported durable.
      if (this.#storage.write(ready)) {
        await this.#storage.store.sync();
        this.#syncs++;
        // Closed (or crashed) while syncing: nothing more may be sent.
        if (this.closed) return;
      }
      this.#core.advance();
      for (const message of ready.messages) this.#send(message);
      this.#apply(ready);
      this.#report(ready);
      await this.#maybeCompact();
    }
  }

  #send(message: RaftMessage): void {
    const bytes = encodeRaftMessage(message);
    this.#transport.send(message.to, bytes);
    this.#sent++;
  }

  #apply(ready: RaftReady): void {
    // During `onApplied`, `term` is at least the term the entries were committed in.
    if (ready.soft !== undefined) this.#term = ready.soft.term;
    if (ready.snapshot !== undefined) {
      this.#machine.restore(ready.snapshot.data);
      // Proposals covered by the snapshot will not be applied one by one here.
      for (const index of [...this.#proposals.keys()]) {
        if (index <= ready.snapshot.meta.index) {
          this.#settleProposal(
            index,
            new RaftError('unknown-outcome', 'the log was replaced by a snapshot', this.#leaderId),
          );
        }
      }
    }
    if (ready.membership !== undefined) this.#membership = ready.membership;
    for (const entry of ready.committed) {
      let result: ConfigResult | undefined;
      if (entry.type === 'command') result = this.#machine.apply(entry.index, entry.data);
      else this.#machine.skip(entry.index);
      const pending = this.#proposals.get(entry.index);
      if (pending !== undefined) {
        this.#proposals.delete(entry.index);
        pending.cleanup();
        if (pending.term !== entry.term) {
          pending.reject(new RaftError('dropped', `entry ${entry.index} was overwritten`));
        } else if (pending.kind === 'config') {
          pending.resolve(this.#core.membership);
        } else if (result !== undefined) {
          pending.resolve(result);
        }
      }
      if (this.#applied.size > 0) {
        this.#applied.emit(
          Object.freeze({
            index: entry.index,
            term: entry.term,
            type: entry.type,
            data: entry.data.slice(),
            ...(result === undefined ? {} : { result }),
          }),
        );
      }
    }
    if (ready.committed.length > 0) this.#membership = this.#core.membership;
    for (const state of ready.readStates) {
      const pending = this.#reads.get(state.id);
      if (pending === undefined) continue;
      if (!state.ok) {
        this.#settleRead(state.id, new RaftError('no-leader', 'leadership not confirmed'));
      } else pending.index = state.index;
    }
    const applied = this.#machine.appliedIndex;
    for (const [id, pending] of this.#reads) {
      if (pending.index !== undefined && pending.index <= applied) this.#settleRead(id);
    }
  }

  #report(ready: RaftReady): void {
    const soft = ready.soft;
    if (soft === undefined) return;
    const previousRole = this.#role;
    const previousLeader = this.#leaderId;
    this.#role = publicRole(soft.role);
    this.#leaderId = soft.leaderId;
    this.#term = soft.term;
    if (previousLeader !== soft.leaderId) {
      // A read-index request sent to the old leader may never be answered.
      for (const [id, pending] of this.#reads) {
        if (pending.index === undefined) {
          this.#settleRead(id, new RaftError('no-leader', 'the leader changed', soft.leaderId));
        }
      }
      this.#leaderChanges.emit(
        Object.freeze({
          leaderId: soft.leaderId,
          previousLeaderId: previousLeader,
          term: soft.term,
        }),
      );
    }
    if (previousRole !== this.#role) {
      this.#roleChanges.emit(Object.freeze({ role: this.#role, previousRole, term: soft.term }));
    }
  }

  async #maybeCompact(): Promise<void> {
    if (this.#machine.appliedIndex - this.#core.snapshotIndex < this.#snapshotEntries) return;
    const snapshot = this.#core.compact(this.#machine.snapshot());
    if (snapshot === undefined) return;
    this.#snapshotsTaken++;
    // The snapshot must be durable before the entries it covers are deleted.
    this.#storage.writeSnapshot(snapshot);
    await this.#storage.store.sync();
    this.#syncs++;
    if (this.closed) return;
    this.#storage.dropCompacted(snapshot.meta.index);
  }
}
