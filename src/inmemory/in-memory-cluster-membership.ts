/**
 * The embedded {@link ClusterMembership}: a cluster of exactly one node.
 *
 * @packageDocumentation
 */

import { randomUUID } from 'node:crypto';
import type {
  ClusterJoinRequest,
  ClusterMembership,
  ClusterMembershipEvent,
  ClusterMembershipEventType,
  ClusterNode,
} from '../contracts/cluster-membership.js';
import type { CallOptions, Listener, Unsubscribe } from '../contracts/common.js';
import { DistributedError } from '../contracts/errors.js';
import type { FederationNode } from '../contracts/federation-node.js';
import { EventHub } from '../core/events.js';
import { InMemoryFederationNode } from './in-memory-federation-node.js';
import { resolveEmbeddedOptions, type EmbeddedOptions } from './options.js';

/**
 * Options for {@link InMemoryClusterMembership}.
 *
 * @since 2.0.0
 */
export interface InMemoryClusterMembershipOptions extends EmbeddedOptions {
  /** This node's id. Defaults to `node-` and eight random hex digits. */
  readonly nodeId?: string;
  /** This node's address. Defaults to `127.0.0.1`. */
  readonly address?: string;
  /** This node's port. Defaults to `0` (not listening). */
  readonly port?: number;
  /** This node's labels. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Node-level RPC to this node. Defaults to an {@link InMemoryFederationNode}. */
  readonly federationNode?: FederationNode;
}

/**
 * Single-node membership: this node is the only member, active, and the leader.
 * It cannot join another cluster; it says so with `JOIN_NOT_SUPPORTED` rather
 * than pretending. After {@link InMemoryClusterMembership.leave} it has no
 * members and no leader.
 *
 * @since 2.0.0
 */
export class InMemoryClusterMembership implements ClusterMembership {
  readonly #events: EventHub<ClusterMembershipEvent>;
  readonly #now: () => number;
  readonly #federationNode: FederationNode;
  #self: ClusterNode;
  #left = false;

  /**
   * @param options - This node's identity; everything has a default.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for an empty node id or address,
   *   or a port outside 0–65535.
   */
  constructor(options: InMemoryClusterMembershipOptions = {}) {
    const resolved = resolveEmbeddedOptions(options);
    this.#now = resolved.now;
    this.#events = new EventHub(resolved.onListenerError);
    const nodeId = options.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
    const address = options.address ?? '127.0.0.1';
    const port = options.port ?? 0;
    if (typeof nodeId !== 'string' || nodeId === '') {
      throw new DistributedError('INVALID_ARGUMENT', 'nodeId must be a non-empty string');
    }
    if (typeof address !== 'string' || address === '') {
      throw new DistributedError('INVALID_ARGUMENT', 'address must be a non-empty string');
    }
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `port must be an integer in 0–65535, got ${port}`,
      );
    }
    this.#self = Object.freeze({
      nodeId,
      address,
      port,
      role: 'leader',
      status: 'active',
      joinedAt: this.#now(),
      metadata: Object.freeze({ ...options.metadata }),
    });
    this.#federationNode =
      options.federationNode ??
      new InMemoryFederationNode({ nodeId, address, port, now: this.#now });
  }

  /**
   * Subscribes to membership changes.
   *
   * @param listener - Called with every change.
   */
  onMembershipChanged(listener: Listener<ClusterMembershipEvent>): Unsubscribe {
    return this.#events.subscribe(listener);
  }

  /** This node while it is a member; nothing after it has left. */
  getMembers(): readonly ClusterNode[] {
    return this.#left ? [] : [this.#self];
  }

  /** This node while it is a member; `undefined` after it has left. */
  getLeader(): ClusterNode | undefined {
    return this.#left ? undefined : this.#self;
  }

  /** This node; its status is `leaving` after it has left. */
  getSelf(): ClusterNode {
    return this.#self;
  }

  /**
   * This node's federation handle while it is a member.
   *
   * @param nodeId - The member to reach.
   */
  getFederationNode(nodeId: string): FederationNode | undefined {
    return !this.#left && nodeId === this.#self.nodeId ? this.#federationNode : undefined;
  }

  /**
   * Always rejects: a single-node membership has no way to reach another cluster.
   *
   * @param request - The join request.
   * @param options - Cancellation.
   */
  async join(request: ClusterJoinRequest, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    throw new DistributedError(
      'JOIN_NOT_SUPPORTED',
      `single-node membership cannot join '${request.nodeId}' to a cluster: ` +
        'configure a multi-node membership implementation to form a cluster',
    );
  }

  /**
   * Leaves: emits `node-left` and `leader-changed`, and stops participating.
   * A second call does nothing.
   *
   * @param reason - Why the node leaves.
   * @param options - Cancellation.
   */
  async leave(reason: string, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    if (this.#left) return;
    this.#left = true;
    this.#self = Object.freeze({ ...this.#self, status: 'leaving' });
    this.#emit('node-left', reason);
    this.#emit('leader-changed', `leader ${this.#self.nodeId} left: ${reason}`);
  }

  /**
   * Whether `nodeId` is this node and it has not left.
   *
   * @param nodeId - The member to check.
   * @param options - Cancellation.
   */
  async isHealthy(nodeId: string, options?: CallOptions): Promise<boolean> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    return !this.#left && nodeId === this.#self.nodeId;
  }

  #emit(eventType: ClusterMembershipEventType, reason: string): void {
    this.#events.emit(
      Object.freeze({ eventType, node: this.#self, timestamp: this.#now(), reason }),
    );
  }
}
