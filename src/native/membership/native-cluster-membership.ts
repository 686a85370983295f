/**
 * The native {@link ClusterMembership}: SWIM (with Lifeguard) says who is a
 * member and how healthy, Raft says who leads and keeps the cluster
 * configuration, and both travel over one {@link NativeP2PNetwork}.
 *
 * @packageDocumentation
 */

import type {
  ClusterJoinRequest,
  ClusterMembership,
  ClusterMembershipEvent,
  ClusterMembershipEventType,
  ClusterNode,
  ClusterNodeRole,
  ClusterNodeStatus,
} from '../../contracts/cluster-membership.js';
import type { CallOptions, Listener, Unsubscribe } from '../../contracts/common.js';
import { DistributedError } from '../../contracts/errors.js';
import type { FederationNode } from '../../contracts/federation-node.js';
import { EventHub } from '../../core/events.js';
import {
  checkJoinable,
  checkJoinRequest,
  type JoinPhase,
} from '../../core/membership/join-request.js';
import {
  RAFT_ROLE_META_KEY,
  nextVoterChange,
  type VoterChange,
} from '../../core/membership/voter-plan.js';
import { isRaftMessage } from '../../core/raft/message-codec.js';
import { isSwimPacket } from '../../core/swim/codec.js';
import type { SwimConfig, SwimProfile } from '../../core/swim/config.js';
import type { SwimMember } from '../../core/swim/member-table.js';
import type { SwimEvent } from '../../core/swim/swim-node.js';
import { InMemoryFederationNode } from '../../inmemory/in-memory-federation-node.js';
import type { NetworkAddress, Runtime, Timer } from '../../runtime/runtime.js';
import { p2pGossipTransport, type ClosableGossipTransport } from '../gossip/gossip-transport.js';
import type { NativeP2PNetwork } from '../p2p/native-p2p-network.js';
import { NativeRaftNode, type NativeRaftNodeOptions } from '../raft/native-raft-node.js';
import { RaftClusterConfig } from '../raft/raft-cluster-config.js';
import { isForwardMessage } from '../raft/raft-forward-codec.js';
import { NativeSwim } from '../swim/native-swim.js';
import { addressPeerId } from '../swim/swim-transport.js';
import { LeaderFailover } from './leader-failover.js';

/**
 * The Raft settings {@link NativeClusterMembership} passes through.
 *
 * @since 2.0.0
 */
export type NativeMembershipRaftOptions = Pick<
  NativeRaftNodeOptions,
  | 'tickMs'
  | 'electionTicks'
  | 'heartbeatTicks'
  | 'snapshotEntries'
  | 'requestTimeoutMs'
  | 'configLimits'
  | 'storeName'
>;

/**
 * Options of {@link NativeClusterMembership}.
 *
 * @since 2.0.0
 */
export interface NativeClusterMembershipOptions {
  /** Clock, randomness and the durable store Raft keeps its term, vote and log in. */
  readonly runtime: Runtime;
  /** The started network SWIM, Raft and forwarded writes travel over; its peer id is the node id. */
  readonly network: NativeP2PNetwork;
  /** Cluster addresses of members to join through (the network should dial them too). */
  readonly seeds?: readonly NetworkAddress[];
  /**
   * Found a new cluster with this node as its only voter, when Raft's store
   * holds no state yet. Default: when there are no seeds. A node with state
   * ignores it and rejoins as what its log says it is.
   */
  readonly bootstrap?: boolean;
  /** The most voters; further members become observers. Default 5. */
  readonly maxVoters?: number;
  /** How long a member must stay dead before the leader removes it from Raft, in ms. Default 600 000. */
  readonly removeDeadAfterMs?: number;
  /** How often the leader compares Raft's configuration with SWIM's members, in ms. Default 1 000. */
  readonly reconcileIntervalMs?: number;
  /** Campaign at once when the leader's connections fail or SWIM says it is gone. Default true. */
  readonly fastFailover?: boolean;
  /** Raft timing and bounds. */
  readonly raft?: NativeMembershipRaftOptions;
  /** The SWIM profile. Default `'lan'`. */
  readonly swimProfile?: SwimProfile;
  /** SWIM tunables that differ from the profile. */
  readonly swimConfig?: Partial<SwimConfig>;
  /** How long {@link NativeClusterMembership.join} waits for a seed, in ms. Default 30 000. */
  readonly joinTimeoutMs?: number;
  /** The wall clock for `joinedAt` and event times. Default the runtime's. */
  readonly now?: () => number;
  /** Node-level RPC to this node; default an {@link InMemoryFederationNode}. */
  readonly federationNode?: FederationNode;
  /** Node-level RPC to another member; default none (only this node is reachable). */
  readonly federation?: (node: ClusterNode) => FederationNode | undefined;
  /** Receives errors listeners throw. Default: printed to standard error. */
  readonly onListenerError?: (error: unknown) => void;
  /** Told when a configuration change the leader proposed failed (it is retried). Default: ignored. */
  readonly onReconcileError?: (change: VoterChange, error: unknown) => void;
}

/**
 * Counters of a {@link NativeClusterMembership}.
 *
 * @since 2.0.0
 */
export interface NativeMembershipStats {
  /** Failure hints that named the leader this member followed. */
  readonly failoverHints: number;
  /** Campaigns those hints started. */
  readonly failoverCampaigns: number;
  /** Raft configuration changes this member proposed as leader and saw applied. */
  readonly configurationChanges: number;
}

const SWIM_EVENTS: Partial<Record<SwimEvent['type'], ClusterMembershipEventType>> = {
  joined: 'node-joined',
  suspect: 'node-suspected',
  dead: 'node-dead',
  left: 'node-left',
};

function invalid(message: string): DistributedError {
  return new DistributedError('INVALID_ARGUMENT', message);
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw invalid(`${name} must be a duration >= 0`);
  return value;
}

/**
 * Cluster membership with no external service: SWIM for membership and
 * health, Raft for the leader and the cluster configuration ({@link config}).
 *
 * - **Join**: through seed addresses (SWIM's full-state exchange). The
 *   leader then adds the member to Raft: a voter while fewer than
 *   `maxVoters` vote, otherwise (or when it asked for `observer`) an
 *   observer. A node with no seeds founds a new cluster.
 * - **Roles**: `leader` is Raft's leader; `follower` a voter, `observer` a
 *   non-voter, `candidate` this node while it stands. **Status** comes from
 *   SWIM: `active`, `suspected`, `dead`; `joining` while SWIM knows a
 *   member but Raft has not taken it in yet.
 * - **Failover**: when a follower's connections to the leader fail (a
 *   crashed process's sockets close at once) or SWIM says the leader died
 *   or left, followers forget it and one campaigns at once (see
 *   {@link LeaderFailover}); pre-vote still protects a live leader.
 * - **Leave**: SWIM gossips it; the leader removes the member from Raft.
 *   Members dead for `removeDeadAfterMs` are removed too.
 *
 * @example
 * ```ts
 * const membership = new NativeClusterMembership({ runtime, network, seeds: [{ host: '10.0.0.1', port: 7946 }] });
 * await membership.join({ nodeId: network.localPeerId, address: '10.0.0.2', port: 7946, requestedRole: 'follower', metadata: {} });
 * await membership.config.put('tiers/hot', '{"maxBytes":1e9}');
 * ```
 *
 * @since 2.0.0
 */
export class NativeClusterMembership implements ClusterMembership, AsyncDisposable {
  /** The cluster configuration: a Raft-replicated key-value store, linearizable on any member. */
  readonly config: RaftClusterConfig;
  /** The Raft member (leadership, the configuration log). */
  readonly raft: NativeRaftNode;
  /** This node's id (the network's peer id). */
  readonly nodeId: string;

  readonly #runtime: Runtime;
  readonly #network: NativeP2PNetwork;
  readonly #raftTransport: ClosableGossipTransport;
  readonly #seeds: readonly NetworkAddress[];
  readonly #maxVoters: number;
  readonly #removeDeadAfterMs: number;
  readonly #reconcileIntervalMs: number;
  readonly #joinTimeoutMs: number;
  readonly #options: NativeClusterMembershipOptions;
  readonly #now: () => number;
  readonly #events: EventHub<ClusterMembershipEvent>;
  readonly #federationNode: FederationNode;
  readonly #failover: LeaderFailover | undefined;
  readonly #peerByAddress = new Map<string, string>();
  readonly #firstSeen = new Map<string, number>();
  readonly #deadSince = new Map<string, number>();
  readonly #subscriptions: Unsubscribe[] = [];
  #swimTransport: ClosableGossipTransport | undefined;
  #swim: NativeSwim | undefined;
  #phase: JoinPhase = 'idle';
  #self: ClusterNode;
  #reconcileTimer: Timer | undefined;
  /** Aborted by leave and close, so a join in progress ends with them. */
  readonly #lifetime = new AbortController();
  #changing = false;
  #changesApplied = 0;

  /**
   * Opens Raft on the runtime's store (it starts following or, when
   * founding, leading at once) and the configuration; SWIM starts on
   * {@link NativeClusterMembership.join}.
   *
   * @param options - The runtime, network, seeds and tunables.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for bad options.
   */
  constructor(options: NativeClusterMembershipOptions) {
    const { runtime, network } = options;
    this.#options = options;
    this.#runtime = runtime;
    this.#network = network;
    this.nodeId = network.localPeerId;
    this.#seeds = Object.freeze([...(options.seeds ?? [])]);
    this.#maxVoters = options.maxVoters ?? 5;
    if (!Number.isSafeInteger(this.#maxVoters) || this.#maxVoters < 1) {
      throw invalid('maxVoters must be a positive integer');
    }
    this.#removeDeadAfterMs = nonNegative(
      'removeDeadAfterMs',
      options.removeDeadAfterMs ?? 600_000,
    );
    this.#reconcileIntervalMs = nonNegative(
      'reconcileIntervalMs',
      options.reconcileIntervalMs ?? 1_000,
    );
    this.#joinTimeoutMs = nonNegative('joinTimeoutMs', options.joinTimeoutMs ?? 30_000);
    this.#now = options.now ?? (() => runtime.clock.now());
    const onListenerError =
      options.onListenerError ??
      ((error: unknown) => {
        console.error('a membership listener threw:', error);
      });
    this.#events = new EventHub(onListenerError);
    this.#federationNode =
      options.federationNode ?? new InMemoryFederationNode({ nodeId: this.nodeId });
    this.#self = Object.freeze({
      nodeId: this.nodeId,
      address: '',
      port: 0,
      role: 'follower',
      status: 'joining',
      joinedAt: this.#now(),
      metadata: Object.freeze({}),
    });
    const bootstrap = options.bootstrap ?? this.#seeds.length === 0;
    this.#raftTransport = p2pGossipTransport(network, {
      accepts: (bytes) => isRaftMessage(bytes) || isForwardMessage(bytes),
    });
    try {
      this.raft = new NativeRaftNode(runtime, this.#raftTransport, {
        ...options.raft,
        nodeId: this.nodeId,
        ...(bootstrap ? { initialVoters: [this.nodeId] } : {}),
        onListenerError,
      });
    } catch (error) {
      this.#raftTransport.close();
      throw error;
    }
    this.config = new RaftClusterConfig(this.raft, {
      transport: this.#raftTransport,
      clock: runtime.clock,
      onListenerError,
    });
    this.#failover =
      options.fastFailover === false
        ? undefined
        : new LeaderFailover({ raft: this.raft, clock: runtime.clock, random: runtime.random });
  }

  /** Counters: failover hints and campaigns, configuration changes applied. */
  get stats(): NativeMembershipStats {
    return Object.freeze({
      failoverHints: this.#failover?.stats.hints ?? 0,
      failoverCampaigns: this.#failover?.stats.campaigns ?? 0,
      configurationChanges: this.#changesApplied,
    });
  }

  /** SWIM, once joined (for its counters and health score). */
  get swim(): NativeSwim | undefined {
    return this.#swim;
  }

  /**
   * Subscribes to membership changes: `node-joined`, `node-suspected`,
   * `node-dead`, `node-left` (from SWIM) and `leader-changed` (from Raft).
   *
   * @param listener - Called for every change.
   * @returns A disposer.
   */
  onMembershipChanged(listener: Listener<ClusterMembershipEvent>): Unsubscribe {
    return this.#events.subscribe(listener);
  }

  /** Every member SWIM knows that has not left (dead ones until reaped), this node included while joined. */
  getMembers(): readonly ClusterNode[] {
    const swim = this.#swim;
    if (this.#phase !== 'joined' || swim === undefined) return Object.freeze([]);
    return Object.freeze(
      swim
        .members()
        .filter((member) => member.status !== 'left')
        .map((member) => this.#toNode(member)),
    );
  }

  /** Raft's leader, when SWIM knows it as a member. */
  getLeader(): ClusterNode | undefined {
    const member = this.#memberOrUndefined(this.raft.leaderId);
    return member === undefined || member.status === 'left' ? undefined : this.#toNode(member);
  }

  /** This node: `joining` before {@link NativeClusterMembership.join} completes, `leaving` after a leave. */
  getSelf(): ClusterNode {
    const member = this.#phase === 'joined' ? this.#swim?.member(this.nodeId) : undefined;
    if (member !== undefined) return this.#toNode(member);
    return Object.freeze({
      ...this.#self,
      role: this.#roleOf(this.nodeId),
      status: this.#phase === 'left' ? 'leaving' : 'joining',
    });
  }

  /**
   * Node-level RPC to a member.
   *
   * @param nodeId - The member.
   * @returns This node's federation node, the `federation` option's answer for another member, or `undefined`.
   */
  getFederationNode(nodeId: string): FederationNode | undefined {
    if (nodeId === this.nodeId) return this.#federationNode;
    const member = this.#memberOrUndefined(nodeId);
    return member === undefined || member.status === 'left'
      ? undefined
      : this.#options.federation?.(this.#toNode(member));
  }

  /**
   * Joins: starts SWIM at `request`'s address and exchanges state with a
   * seed (the network must know one: it dials the seeds it was given). With
   * no seeds, this node is the whole cluster until others join it.
   *
   * @param request - This node; its `nodeId` must be the network's peer id.
   * @param options - Cancellation.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for a bad request,
   *   `ALREADY_JOINED`, `CLOSED` after a leave, `UNAVAILABLE` when no seed
   *   answered within `joinTimeoutMs` (SWIM is stopped again then).
   */
  async join(request: ClusterJoinRequest, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    checkJoinRequest(request, this.nodeId);
    if (RAFT_ROLE_META_KEY in request.metadata) {
      throw invalid(`metadata key '${RAFT_ROLE_META_KEY}' is reserved`);
    }
    checkJoinable(this.#phase, request.nodeId);
    this.#phase = 'joining';
    const metadata = Object.freeze({ ...request.metadata });
    this.#self = Object.freeze({
      ...this.#self,
      address: request.address,
      port: request.port,
      metadata,
    });
    const swimTransport = p2pGossipTransport(this.#network, { accepts: isSwimPacket });
    const swim = new NativeSwim(this.#runtime, swimTransport, {
      nodeId: this.nodeId,
      advertise: { host: request.address, port: request.port },
      meta: {
        ...metadata,
        [RAFT_ROLE_META_KEY]: request.requestedRole === 'observer' ? 'observer' : 'voter',
      },
      ...(this.#options.swimProfile === undefined ? {} : { profile: this.#options.swimProfile }),
      ...(this.#options.swimConfig === undefined ? {} : { config: this.#options.swimConfig }),
      joinTimeoutMs: this.#joinTimeoutMs,
      peerIdFor: (to, nodeId) =>
        nodeId ?? this.#peerByAddress.get(addressPeerId(to)) ?? addressPeerId(to),
      ...(this.#options.onListenerError === undefined
        ? {}
        : { onListenerError: this.#options.onListenerError }),
    });
    this.#swimTransport = swimTransport;
    this.#swim = swim;
    this.#listen(swim);
    const signal =
      options?.signal === undefined
        ? this.#lifetime.signal
        : AbortSignal.any([options.signal, this.#lifetime.signal]);
    try {
      const seeds = await this.#knownSeeds({ signal });
      await swim.join(seeds, { signal });
    } catch (error) {
      if (this.#stillJoining()) {
        this.#stopSwim();
        this.#phase = 'idle';
      }
      throw error;
    }
    if (!this.#stillJoining()) {
      throw new DistributedError('CLOSED', 'the membership left or closed while joining');
    }
    this.#phase = 'joined';
    this.#firstSeen.set(this.nodeId, this.#self.joinedAt);
    this.#emit('node-joined', this.getSelf(), `${this.nodeId} joined`);
    // Peers the network met while SWIM was joining, but SWIM has not heard of
    // (two joiners that chose each other as seeds): exchange state with them too.
    for (const peer of await this.#network.discoverPeers()) this.#meet(swim, peer);
    this.#scheduleReconcile(0);
  }

  /** Whether no leave or close came while a join awaited (the compiler cannot see that it may). */
  #stillJoining(): boolean {
    return this.#phase === 'joining';
  }

  /** Exchanges SWIM state with a network peer SWIM does not know, so no island of members forms. */
  #meet(
    swim: NativeSwim,
    peer: { readonly peerId: string; readonly address: string; readonly port: number },
  ): void {
    this.#learnAddress(peer);
    if (this.#phase !== 'joined' || swim.member(peer.peerId) !== undefined) return;
    swim.join([{ host: peer.address, port: peer.port }]).catch(() => undefined);
  }

  /**
   * Leaves gracefully: Raft stops, SWIM gossips the leave (the leader, or
   * the successor the others elect at once, then removes this node from
   * Raft), then SWIM stops. Leaving twice is harmless.
   *
   * @param reason - Passed on in the `node-left` event.
   * @param options - Cancellation (checked before anything changes).
   */
  async leave(reason: string, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    if (this.#phase === 'left') return;
    const wasJoined = this.#phase === 'joined';
    const self = this.getSelf();
    this.#phase = 'left';
    this.#emit('node-left', Object.freeze({ ...self, status: 'leaving' }), reason);
    // Raft stops first: a leader that kept heartbeating while its leave spreads
    // would hold its followers back from electing a successor on the news.
    this.config.close();
    this.raft.close();
    try {
      if (wasJoined) await this.#swim?.leave();
    } finally {
      this.#stop();
    }
  }

  /**
   * Whether a member is alive to SWIM (this node: while joined).
   *
   * @param nodeId - The member.
   * @param options - Cancellation.
   */
  isHealthy(nodeId: string, options?: CallOptions): Promise<boolean> {
    try {
      options?.signal?.throwIfAborted();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (this.#phase !== 'joined') return Promise.resolve(false);
    return Promise.resolve(this.#memberOrUndefined(nodeId)?.status === 'alive');
  }

  /** Stops SWIM and Raft without telling anyone (a crash, as the others see it). */
  close(): void {
    if (this.#phase !== 'left') this.#phase = 'left';
    this.#stop();
  }

  /** Same as {@link NativeClusterMembership.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- joining

  /** The seeds the network has greeted (SWIM needs a peer id to reach one), waiting for the first. */
  async #knownSeeds(options: CallOptions | undefined): Promise<NetworkAddress[]> {
    if (this.#seeds.length === 0) return [];
    const known = (): NetworkAddress[] =>
      this.#seeds.filter((seed) => this.#peerByAddress.has(addressPeerId(seed)));
    for (const peer of await this.#network.discoverPeers(options)) this.#learnAddress(peer);
    if (known().length > 0) return known();
    return new Promise<NetworkAddress[]>((resolve, reject) => {
      const signal = options?.signal;
      const finish = (error?: unknown): void => {
        timer.cancel();
        off();
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve(known());
        else reject(error instanceof Error ? error : new Error('join aborted', { cause: error }));
      };
      const onAbort = (): void => {
        finish(signal?.reason);
      };
      const off = this.#network.onPeerEvent(() => {
        if (known().length > 0) finish();
      });
      const timer = this.#runtime.clock.setTimer(this.#joinTimeoutMs, () => {
        finish(
          new DistributedError(
            'UNAVAILABLE',
            `no seed reachable within ${String(this.#joinTimeoutMs)} ms (${this.#seeds.map(addressPeerId).join(', ')})`,
          ),
        );
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #learnAddress(peer: {
    readonly peerId: string;
    readonly address: string;
    readonly port: number;
  }): void {
    this.#peerByAddress.set(addressPeerId({ host: peer.address, port: peer.port }), peer.peerId);
  }

  #listen(swim: NativeSwim): void {
    const network = this.#network;
    this.#subscriptions.push(
      network.onPeerEvent((event) => {
        const peer = event.peer;
        if (event.eventType === 'peer-lost') {
          this.#failover?.memberGone(peer.peerId);
          return;
        }
        // A peer SWIM does not know (this node restarted alone, or joined an
        // island): exchange state with it rather than wait for a reconnect round.
        this.#meet(swim, peer);
      }),
      network.onConnectionFailed((peer) => {
        this.#failover?.memberGone(peer.peerId);
      }),
      swim.onMembershipEvent((event) => {
        this.#onSwimEvent(event);
      }),
      this.raft.onLeaderChange((change) => {
        const leader =
          change.leaderId === ''
            ? this.#memberOrUndefined(change.previousLeaderId)
            : this.#memberOrUndefined(change.leaderId);
        if (this.#phase === 'joined' && leader !== undefined) {
          this.#emit(
            'leader-changed',
            this.#toNode(leader),
            change.leaderId === '' ? 'no leader' : `term ${String(change.term)}`,
          );
        }
      }),
      this.raft.onRoleChange((change) => {
        if (change.role === 'leader') this.#scheduleReconcile(0);
      }),
    );
  }

  #onSwimEvent(event: SwimEvent): void {
    const { member } = event;
    if (!this.#firstSeen.has(member.nodeId)) this.#firstSeen.set(member.nodeId, this.#now());
    if (event.type === 'dead') this.#deadSince.set(member.nodeId, event.at);
    else if (event.type === 'alive' || event.type === 'joined') {
      this.#deadSince.delete(member.nodeId);
    }
    if (event.type === 'dead' || event.type === 'left') this.#failover?.memberGone(member.nodeId);
    if (event.type === 'reaped') this.#firstSeen.delete(member.nodeId);
    const eventType = SWIM_EVENTS[event.type];
    if (eventType !== undefined && member.nodeId !== this.nodeId && this.#phase === 'joined') {
      this.#emit(eventType, this.#toNode(member), `SWIM: ${event.type}`);
    }
    if (this.raft.role === 'leader') this.#scheduleReconcile(0);
  }

  // ---------------------------------------------------------------- the leader's reconciler

  #scheduleReconcile(delayMs: number): void {
    if (this.#phase === 'left' || this.#changing) return;
    if (this.#reconcileTimer !== undefined) {
      if (delayMs > 0) return;
      this.#reconcileTimer.cancel();
    }
    this.#reconcileTimer = this.#runtime.clock.setTimer(delayMs, () => {
      this.#reconcileTimer = undefined;
      void this.#reconcile();
    });
  }

  async #reconcile(): Promise<void> {
    const swim = this.#swim;
    if (this.#phase !== 'joined' || swim === undefined || this.raft.role !== 'leader') return;
    const change = nextVoterChange({
      selfId: this.nodeId,
      raft: this.raft.membership,
      members: swim.members(),
      maxVoters: this.#maxVoters,
      deadSince: this.#deadSince,
      now: this.#runtime.clock.monotonic(),
      removeDeadAfterMs: this.#removeDeadAfterMs,
    });
    if (change === undefined) {
      this.#scheduleReconcile(this.#reconcileIntervalMs);
      return;
    }
    this.#changing = true;
    try {
      if (change.action === 'add-voter') await this.raft.addVoter(change.nodeId);
      else if (change.action === 'add-observer') await this.raft.addObserver(change.nodeId);
      else await this.raft.removeVoter(change.nodeId);
      this.#changesApplied++;
      this.#changing = false;
      this.#scheduleReconcile(0);
    } catch (error) {
      this.#changing = false;
      this.#options.onReconcileError?.(change, error);
      this.#scheduleReconcile(this.#reconcileIntervalMs);
    }
  }

  // ---------------------------------------------------------------- views

  #memberOrUndefined(nodeId: string): SwimMember | undefined {
    if (nodeId === '' || this.#phase !== 'joined') return undefined;
    return this.#swim?.member(nodeId);
  }

  #roleOf(nodeId: string): ClusterNodeRole {
    if (nodeId === this.raft.leaderId) return 'leader';
    if (nodeId === this.nodeId && this.raft.role === 'candidate') return 'candidate';
    const { voters } = this.raft.membership;
    return voters.includes(nodeId) ? 'follower' : 'observer';
  }

  #statusOf(member: SwimMember): ClusterNodeStatus {
    switch (member.status) {
      case 'alive': {
        const { voters, observers } = this.raft.membership;
        const inRaft = voters.includes(member.nodeId) || observers.includes(member.nodeId);
        return inRaft ? 'active' : 'joining';
      }
      case 'suspect':
        return 'suspected';
      case 'dead':
        return 'dead';
      case 'left':
        return 'leaving';
    }
  }

  #toNode(member: SwimMember): ClusterNode {
    const metadata: Record<string, string> = {};
    for (const [key, value] of Object.entries(member.meta)) {
      if (key !== RAFT_ROLE_META_KEY) metadata[key] = value;
    }
    return Object.freeze({
      nodeId: member.nodeId,
      address: member.host,
      port: member.port,
      role: this.#roleOf(member.nodeId),
      status: this.#statusOf(member),
      joinedAt: this.#firstSeen.get(member.nodeId) ?? this.#now(),
      metadata: Object.freeze(metadata),
    });
  }

  #emit(eventType: ClusterMembershipEventType, node: ClusterNode, reason: string): void {
    this.#events.emit(Object.freeze({ eventType, node, timestamp: this.#now(), reason }));
  }

  /** Stops SWIM and what listens to it; Raft stays (a failed join can be retried). */
  #stopSwim(): void {
    this.#reconcileTimer?.cancel();
    this.#reconcileTimer = undefined;
    for (const off of this.#subscriptions.splice(0)) off();
    this.#swim?.close();
    this.#swimTransport?.close();
    this.#swim = undefined;
    this.#swimTransport = undefined;
  }

  #stop(): void {
    this.#lifetime.abort(
      new DistributedError('CLOSED', 'the membership left or closed while joining'),
    );
    this.#stopSwim();
    this.#failover?.close();
    this.config.close();
    this.raft.close();
    this.#raftTransport.close();
  }
}
