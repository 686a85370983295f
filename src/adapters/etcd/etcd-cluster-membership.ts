/**
 * `ClusterMembership` backed by etcd: members register under a prefix with a
 * lease kept alive, changes arrive through a watch, the leader comes from
 * etcd's election (campaign, observe, resign), and the cluster configuration
 * lives in etcd keys ({@link EtcdConfigStore}).
 *
 * @packageDocumentation
 */

import {
  Election,
  Etcd3,
  type Campaign,
  type IKeyValue,
  type Lease,
  type Namespace,
  type Watcher,
} from 'etcd3';
import type {
  ClusterJoinRequest,
  ClusterMembership,
  ClusterMembershipEvent,
  ClusterMembershipEventType,
  ClusterNode,
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
import { InMemoryFederationNode } from '../../inmemory/in-memory-federation-node.js';
import { resolveEmbeddedOptions, type EmbeddedOptions } from '../../inmemory/options.js';
import { EtcdConfigStore } from './etcd-config-store.js';
import { etcdCall } from './etcd-errors.js';
import { decodeMemberRecord, encodeMemberRecord, type MemberRecord } from './member-record.js';

/**
 * Options of {@link EtcdClusterMembership}.
 *
 * @since 2.0.0
 */
export interface EtcdClusterMembershipOptions extends EmbeddedOptions {
  /** etcd client URLs, e.g. `http://127.0.0.1:2379`; at least one. */
  readonly endpoints: readonly string[];
  /** This node's id; `join` must describe the same node. */
  readonly nodeId: string;
  /** Key prefix of this cluster in etcd; default `/dw/`. Several clusters can share one etcd. */
  readonly prefix?: string;
  /**
   * TTL of the registration lease and of the election lease, in seconds;
   * default 5. A member that stops renewing (crashed, cut off from etcd) is
   * removed, and `node-dead` reported, within this time; a leader that
   * crashes loses leadership within it too.
   */
  readonly leaseTtlSeconds?: number;
  /** How long a connection attempt to etcd may take, in ms; default 5,000. */
  readonly dialTimeoutMs?: number;
  /** The most members kept; registrations beyond it are ignored and counted. Default 1,024. */
  readonly maxMembers?: number;
  /** Delay before re-registering or re-campaigning after etcd lost our lease, in ms; default 1,000. */
  readonly retryDelayMs?: number;
  /** Node-level RPC to this node; default an {@link InMemoryFederationNode}. */
  readonly federationNode?: FederationNode;
  /** Node-level RPC to another member; default none (only this node is reachable). */
  readonly federation?: (node: ClusterNode) => FederationNode | undefined;
}

const MEMBERS = 'members/';
const ELECTION = 'leader';

/**
 * Counters of {@link EtcdClusterMembership}.
 *
 * @since 2.0.0
 */
export interface EtcdMembershipStats {
  /** Member records in etcd that failed validation and were ignored. */
  readonly rejectedRecords: number;
  /** Registrations ignored because the table was at `maxMembers`. */
  readonly droppedMembers: number;
  /** Times this node registered again after etcd expired its lease. */
  readonly reRegistrations: number;
  /** Times this node campaigned again after its campaign failed. */
  readonly reCampaigns: number;
}

/**
 * Cluster membership through etcd. Roles: the member elected through etcd's
 * election is `leader`; other voters are `follower`; a node that joined as
 * `observer` never campaigns. Health is the liveness of a member's lease.
 *
 * @example
 * ```ts
 * const membership = new EtcdClusterMembership({ endpoints: ['http://127.0.0.1:2379'], nodeId: 'n1' });
 * await membership.join({ nodeId: 'n1', address: '10.0.0.1', port: 7700, requestedRole: 'follower', metadata: {} });
 * await membership.config.put('tiers/hot', '{"maxBytes":1e9}');
 * ```
 *
 * @since 2.0.0
 */
export class EtcdClusterMembership implements ClusterMembership, AsyncDisposable {
  /** The cluster configuration, in etcd keys under `<prefix>config/`. */
  readonly config: EtcdConfigStore;

  readonly #client: Etcd3;
  readonly #namespace: Namespace;
  readonly #election: Election;
  readonly #electionKeys: Namespace;
  readonly #events: EventHub<ClusterMembershipEvent>;
  readonly #now: () => number;
  readonly #ttlSeconds: number;
  readonly #maxMembers: number;
  readonly #retryDelayMs: number;
  readonly #federationNode: FederationNode;
  readonly #federation: ((node: ClusterNode) => FederationNode | undefined) | undefined;
  readonly #members = new Map<string, MemberRecord>();
  readonly #stats = { rejectedRecords: 0, droppedMembers: 0, reRegistrations: 0, reCampaigns: 0 };
  readonly #timers = new Set<NodeJS.Timeout>();
  #phase: JoinPhase = 'idle';
  #record: MemberRecord;
  #leaderId: string | undefined;
  #lease: Lease | undefined;
  #leaseAlive = false;
  #watcher: Watcher | undefined;
  #electionWatcher: Watcher | undefined;
  #refreshing = false;
  #refreshAgain = false;
  #campaign: Campaign | undefined;

  /**
   * @param options - Where etcd is and who this node is.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for no endpoints, an empty node id or a bad bound.
   */
  constructor(options: EtcdClusterMembershipOptions) {
    const endpoints = [...options.endpoints];
    if (endpoints.length === 0 || endpoints.some((url) => !/^https?:\/\/\S+$/.test(url))) {
      throw new DistributedError('INVALID_ARGUMENT', 'endpoints must be one or more http(s) URLs');
    }
    if (
      typeof options.nodeId !== 'string' ||
      options.nodeId === '' ||
      options.nodeId.includes('/')
    ) {
      throw new DistributedError('INVALID_ARGUMENT', 'nodeId must be a non-empty string without /');
    }
    const ttl = options.leaseTtlSeconds ?? 5;
    const maxMembers = options.maxMembers ?? 1024;
    const retryDelayMs = options.retryDelayMs ?? 1000;
    for (const [name, value] of [
      ['leaseTtlSeconds', ttl],
      ['maxMembers', maxMembers],
      ['retryDelayMs', retryDelayMs],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new DistributedError('INVALID_ARGUMENT', `${name} must be an integer ≥ 1`);
      }
    }
    const resolved = resolveEmbeddedOptions(options);
    this.#now = resolved.now;
    this.#events = new EventHub(resolved.onListenerError);
    this.#ttlSeconds = ttl;
    this.#maxMembers = maxMembers;
    this.#retryDelayMs = retryDelayMs;
    const prefix = options.prefix ?? '/dw/';
    if (prefix.includes(MEMBERS)) {
      throw new DistributedError('INVALID_ARGUMENT', `prefix may not contain '${MEMBERS}'`);
    }
    this.#client = new Etcd3({ hosts: endpoints, dialTimeout: options.dialTimeoutMs ?? 5000 });
    this.#namespace = this.#client.namespace(prefix);
    this.#election = this.#namespace.election(ELECTION, ttl);
    this.#electionKeys = this.#namespace.namespace(`${Election.prefix}/${ELECTION}/`);
    this.config = new EtcdConfigStore(this.#client, {
      prefix: `${prefix}config/`,
      onListenerError: resolved.onListenerError,
    });
    this.#federationNode =
      options.federationNode ?? new InMemoryFederationNode({ nodeId: options.nodeId });
    this.#federation = options.federation;
    this.#record = Object.freeze({
      nodeId: options.nodeId,
      address: '127.0.0.1',
      port: 0,
      role: 'follower',
      status: 'active',
      joinedAt: this.#now(),
      metadata: Object.freeze({}),
    });
  }

  /** Counters of ignored input and recoveries. */
  get stats(): EtcdMembershipStats {
    return Object.freeze({ ...this.#stats });
  }

  /**
   * Subscribes to membership changes: `node-joined`, `node-left` (a graceful
   * leave), `node-dead` (a lease that expired), `leader-changed`.
   *
   * @param listener - Called for every change.
   */
  onMembershipChanged(listener: Listener<ClusterMembershipEvent>): Unsubscribe {
    return this.#events.subscribe(listener);
  }

  /** Every registered member, this node included while it is joined. */
  getMembers(): readonly ClusterNode[] {
    if (this.#phase !== 'joined') return Object.freeze([]);
    const members = new Map(this.#members);
    members.set(this.#record.nodeId, this.#record);
    return Object.freeze([...members.values()].map((record) => this.#toNode(record)));
  }

  /** The member etcd's election chose, when it is a known member. */
  getLeader(): ClusterNode | undefined {
    if (this.#phase !== 'joined' || this.#leaderId === undefined) return undefined;
    const record =
      this.#leaderId === this.#record.nodeId ? this.#record : this.#members.get(this.#leaderId);
    return record === undefined ? undefined : this.#toNode(record);
  }

  /** This node: `joining` before `join` completes, `active` while joined, `leaving` after. */
  getSelf(): ClusterNode {
    const status =
      this.#phase === 'joined' ? 'active' : this.#phase === 'left' ? 'leaving' : 'joining';
    return Object.freeze({ ...this.#toNode(this.#record), status });
  }

  /**
   * Node-level RPC to a member.
   *
   * @param nodeId - The member.
   * @returns This node's federation node, the `federation` option's answer for another member, or `undefined`.
   */
  getFederationNode(nodeId: string): FederationNode | undefined {
    if (nodeId === this.#record.nodeId) return this.#federationNode;
    const record = this.#members.get(nodeId);
    return record === undefined ? undefined : this.#federation?.(this.#toNode(record));
  }

  /**
   * Joins: registers this node under a lease kept alive, loads and watches the
   * member list, observes the election and, unless the node is an observer,
   * campaigns for leadership.
   *
   * @param request - This node; its `nodeId` must be the configured one.
   * @param options - Cancellation.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a bad request, `ALREADY_JOINED`,
   *   `CLOSED` after a leave, `UNAVAILABLE` when etcd cannot be reached (nothing stays registered).
   */
  async join(request: ClusterJoinRequest, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    checkJoinRequest(request, this.#record.nodeId);
    checkJoinable(this.#phase, request.nodeId);
    this.#phase = 'joining';
    const observer = request.requestedRole === 'observer';
    this.#record = Object.freeze({
      nodeId: request.nodeId,
      address: request.address,
      port: request.port,
      role: observer ? 'observer' : 'follower',
      status: 'active',
      joinedAt: this.#now(),
      metadata: Object.freeze({ ...request.metadata }),
    });
    try {
      await this.#register();
      const listing = await etcdCall('list members', () =>
        this.#namespace.getAll().prefix(MEMBERS).limit(this.#maxMembers).exec(),
      );
      for (const kv of listing.kvs) this.#applyPut(kv, false);
      const watcher = await etcdCall('watch members', () =>
        this.#namespace
          .watch()
          .prefix(MEMBERS)
          .startRevision(String(Number(listing.header.revision) + 1))
          .create(),
      );
      this.#watcher = watcher;
      watcher.on('put', (kv) => this.#applyPut(kv, true));
      watcher.on('delete', (kv) => this.#applyDelete(kv));
      watcher.on('error', () => undefined); // the client reconnects the watch with backoff
      // Watch first, then read, so no change falls between the two.
      const electionWatcher = await etcdCall('watch election', () =>
        this.#electionKeys.watch().prefix('').create(),
      );
      this.#electionWatcher = electionWatcher;
      electionWatcher.on('put', () => this.#refreshLeader());
      electionWatcher.on('delete', () => this.#refreshLeader());
      electionWatcher.on('error', () => undefined);
      this.#leaderId = await etcdCall('read election', () => this.#readLeader());
      if (this.#hasLeft()) throw new DistributedError('CLOSED', 'left while joining');
      if (!observer) this.#startCampaign();
      this.#phase = 'joined';
    } catch (error) {
      this.#phase = this.#hasLeft() ? 'left' : 'idle';
      await this.#release();
      throw error;
    }
    this.#emit('node-joined', this.#record, `${request.nodeId} joined through etcd`);
    if (this.#leaderId !== undefined) {
      const leader = this.getLeader();
      if (leader !== undefined) this.#emitNode('leader-changed', leader, 'leader observed on join');
    }
  }

  /**
   * Leaves: marks this node `leaving` with the reason, resigns leadership,
   * revokes the lease (which removes the registration) and closes the
   * connection. When etcd is unreachable the registration expires by itself
   * within the lease TTL. A second call does nothing.
   *
   * @param reason - Why the node leaves.
   * @param options - Cancellation.
   */
  async leave(reason: string, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    if (this.#phase === 'left') return;
    const wasJoined = this.#phase === 'joined';
    const wasLeader = this.#leaderId === this.#record.nodeId;
    this.#phase = 'left';
    if (wasJoined && this.#lease !== undefined) {
      this.#record = Object.freeze({ ...this.#record, status: 'leaving', leaveReason: reason });
      const lease = this.#lease;
      try {
        await lease.put(MEMBERS + this.#record.nodeId).value(encodeMemberRecord(this.#record));
        await this.#campaign?.resign();
      } catch {
        // etcd is unreachable: the lease and the campaign expire within the TTL.
      }
    }
    await this.#release();
    this.#emitNode('node-left', this.getSelf(), reason);
    if (wasLeader) this.#emitNode('leader-changed', this.getSelf(), `leader left: ${reason}`);
  }

  /**
   * Whether a member is registered and active; for this node, whether it is
   * joined and its lease is alive.
   *
   * @param nodeId - The member.
   * @param options - Cancellation.
   */
  async isHealthy(nodeId: string, options?: CallOptions): Promise<boolean> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    if (this.#phase !== 'joined') return false;
    if (nodeId === this.#record.nodeId) return this.#leaseAlive;
    return this.#members.get(nodeId)?.status === 'active';
  }

  /** Leaves with reason `closed` and releases the etcd connection. */
  async close(): Promise<void> {
    await this.leave('closed');
  }

  /** Same as {@link EtcdClusterMembership.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #register(): Promise<void> {
    const lease = this.#namespace.lease(this.#ttlSeconds, { autoKeepAlive: true });
    this.#lease = lease;
    lease.on('lost', () => {
      if (lease !== this.#lease) return;
      this.#leaseAlive = false;
      if (this.#phase === 'joined') this.#later(() => this.#reRegister());
    });
    await etcdCall('grant lease', () => lease.grant());
    await etcdCall('register', () =>
      lease
        .put(MEMBERS + this.#record.nodeId)
        .value(encodeMemberRecord(this.#record))
        .exec(),
    );
    this.#leaseAlive = true;
  }

  #reRegister(): void {
    if (this.#phase !== 'joined') return;
    this.#stats.reRegistrations += 1;
    this.#register().catch(() => {
      if (this.#phase === 'joined') this.#later(() => this.#reRegister());
    });
  }

  #startCampaign(): void {
    const campaign = this.#election.campaign(this.#record.nodeId);
    this.#campaign = campaign;
    campaign.on('error', () => {
      if (campaign !== this.#campaign || this.#phase === 'left') return;
      // The campaign's lease was lost (etcd unreachable past the TTL): campaign afresh.
      this.#campaign = undefined;
      this.#later(() => {
        if (this.#phase !== 'joined') return;
        this.#stats.reCampaigns += 1;
        this.#startCampaign();
      });
    });
  }

  #applyPut(kv: IKeyValue, announce: boolean): void {
    if (this.#phase === 'left') return;
    const nodeId = this.#memberId(kv);
    if (nodeId === this.#record.nodeId) return;
    let record: MemberRecord;
    try {
      record = decodeMemberRecord(kv.value, nodeId);
    } catch {
      this.#stats.rejectedRecords += 1;
      return;
    }
    const known = this.#members.has(nodeId);
    if (!known && this.#members.size >= this.#maxMembers) {
      this.#stats.droppedMembers += 1;
      return;
    }
    this.#members.set(nodeId, record);
    if (!known && announce) this.#emit('node-joined', record, `${nodeId} registered`);
  }

  #applyDelete(kv: IKeyValue): void {
    if (this.#phase !== 'joined') return;
    const nodeId = this.#memberId(kv);
    const record = this.#members.get(nodeId);
    if (record === undefined) return;
    this.#members.delete(nodeId);
    if (record.status === 'leaving') {
      this.#emitNode(
        'node-left',
        { ...this.#toNode(record), status: 'leaving' },
        record.leaveReason ?? 'left',
      );
    } else {
      this.#emitNode(
        'node-dead',
        { ...this.#toNode(record), status: 'dead' },
        'its registration lease expired',
      );
    }
  }

  // Range answers carry the full key, watch events the key inside the namespace.
  #memberId(kv: IKeyValue): string {
    const key = kv.key.toString();
    const at = key.indexOf(MEMBERS);
    return at < 0 ? key : key.slice(at + MEMBERS.length);
  }

  // The leader is the campaign key with the lowest create revision (etcd's
  // election recipe). The client library's observer can settle on a later key
  // when several campaigns start together, so the leader is read afresh on
  // every change of the election keys instead.
  async #readLeader(): Promise<string | undefined> {
    const response = await this.#electionKeys.getAll().sort('Create', 'Ascend').limit(1).exec();
    return response.kvs[0]?.value.toString();
  }

  #refreshLeader(): void {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return;
    }
    this.#refreshing = true;
    this.#readLeader()
      .then((leaderId) => {
        this.#leaderChanged(leaderId);
      })
      .catch(() => {
        this.#refreshAgain = true; // etcd unreachable: try again on the next change or retry
        this.#later(() => this.#refreshLeader());
      })
      .finally(() => {
        this.#refreshing = false;
        if (this.#refreshAgain && this.#phase === 'joined') {
          this.#refreshAgain = false;
          this.#refreshLeader();
        }
      });
  }

  #leaderChanged(leaderId: string | undefined): void {
    if (this.#phase === 'left' || leaderId === this.#leaderId) return;
    const previous = this.getLeader();
    this.#leaderId = leaderId;
    const leader = this.getLeader();
    const node = leader ?? previous;
    if (node === undefined || this.#phase !== 'joined') return;
    this.#emitNode(
      'leader-changed',
      node,
      leader === undefined ? 'no leader' : `${leader.nodeId} elected through etcd`,
    );
  }

  // A method, so the check reads the field after an await (a local narrowing would not).
  #hasLeft(): boolean {
    return this.#phase === 'left';
  }

  #later(action: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      action();
    }, this.#retryDelayMs);
    timer.unref();
    this.#timers.add(timer);
  }

  async #release(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const lease = this.#lease;
    this.#lease = undefined;
    this.#leaseAlive = false;
    this.#campaign = undefined;
    const quietly = async (work: (() => Promise<unknown>) | undefined): Promise<void> => {
      try {
        await work?.();
      } catch {
        // Best effort: an unreachable etcd expires what we held within the TTL.
      }
    };
    const watchers = [this.#watcher, this.#electionWatcher];
    this.#watcher = undefined;
    this.#electionWatcher = undefined;
    for (const watcher of watchers) {
      await quietly(watcher === undefined ? undefined : () => watcher.cancel());
    }
    await quietly(lease === undefined ? undefined : () => lease.revoke());
    await quietly(() => this.config.close());
    this.#client.close();
  }

  #toNode(record: MemberRecord): ClusterNode {
    const role = record.nodeId === this.#leaderId ? 'leader' : record.role;
    return Object.freeze({
      nodeId: record.nodeId,
      address: record.address,
      port: record.port,
      role,
      status: record.status === 'leaving' ? 'leaving' : 'active',
      joinedAt: record.joinedAt,
      metadata: record.metadata,
    });
  }

  #emit(eventType: ClusterMembershipEventType, record: MemberRecord, reason: string): void {
    this.#emitNode(eventType, this.#toNode(record), reason);
  }

  #emitNode(eventType: ClusterMembershipEventType, node: ClusterNode, reason: string): void {
    this.#events.emit(
      Object.freeze({
        eventType,
        node: Object.freeze({ ...node }),
        timestamp: this.#now(),
        reason,
      }),
    );
  }
}
