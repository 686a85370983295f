/**
 * DIST-01: cluster membership — which nodes form the cluster, their health, and
 * which one leads.
 *
 * @packageDocumentation
 */

import type { CallOptions, Listener, Unsubscribe } from './common.js';
import type { FederationNode } from './federation-node.js';

/**
 * Every role a member can hold.
 *
 * - `leader`: coordinates the cluster (at most one per term).
 * - `follower`: a voting member that follows the leader.
 * - `observer`: receives state but does not vote or lead.
 * - `candidate`: a member currently standing for election.
 *
 * @since 2.0.0
 */
export const CLUSTER_NODE_ROLES = Object.freeze([
  'leader',
  'follower',
  'observer',
  'candidate',
] as const);

/**
 * A member's role; see {@link CLUSTER_NODE_ROLES}.
 *
 * @since 2.0.0
 */
export type ClusterNodeRole = (typeof CLUSTER_NODE_ROLES)[number];

/**
 * Every status a member can be in.
 *
 * - `active`: a live, participating member.
 * - `joining`: admitted but not yet fully participating.
 * - `leaving`: leaving, or has left, gracefully.
 * - `suspected`: failed to answer probes; may be refuted.
 * - `dead`: confirmed failed.
 *
 * @since 2.0.0
 */
export const CLUSTER_NODE_STATUSES = Object.freeze([
  'active',
  'joining',
  'leaving',
  'suspected',
  'dead',
] as const);

/**
 * A member's status; see {@link CLUSTER_NODE_STATUSES}.
 *
 * @since 2.0.0
 */
export type ClusterNodeStatus = (typeof CLUSTER_NODE_STATUSES)[number];

/**
 * Every kind of membership change.
 *
 * - `node-joined`: a node became a member.
 * - `node-left`: a member left gracefully.
 * - `node-suspected`: a member is suspected of having failed.
 * - `node-dead`: a member is confirmed failed.
 * - `leader-changed`: a different member (or none) now leads.
 *
 * @since 2.0.0
 */
export const CLUSTER_MEMBERSHIP_EVENT_TYPES = Object.freeze([
  'node-joined',
  'node-left',
  'node-suspected',
  'node-dead',
  'leader-changed',
] as const);

/**
 * A kind of membership change; see {@link CLUSTER_MEMBERSHIP_EVENT_TYPES}.
 *
 * @since 2.0.0
 */
export type ClusterMembershipEventType = (typeof CLUSTER_MEMBERSHIP_EVENT_TYPES)[number];

/**
 * One member of the cluster, as plain serialisable data. Node-level RPC to the
 * member goes through {@link ClusterMembership.getFederationNode}.
 *
 * @since 2.0.0
 */
export interface ClusterNode {
  /** The member's id, unique in the cluster. */
  readonly nodeId: string;
  /** The member's network address (host name or IP). */
  readonly address: string;
  /** The member's cluster port. */
  readonly port: number;
  /** The member's current role. */
  readonly role: ClusterNodeRole;
  /** The member's current status. */
  readonly status: ClusterNodeStatus;
  /** When the member joined, in epoch milliseconds. */
  readonly joinedAt: number;
  /** Free-form labels, for example `zone` or `rack`. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * A request to join a cluster.
 *
 * @since 2.0.0
 */
export interface ClusterJoinRequest {
  /** The id the joining node will have. */
  readonly nodeId: string;
  /** The address of the joining node. */
  readonly address: string;
  /** The cluster port of the joining node. */
  readonly port: number;
  /** The role the node asks for; the cluster may assign another. */
  readonly requestedRole: ClusterNodeRole;
  /** Free-form labels for the node. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * A change in membership.
 *
 * @since 2.0.0
 */
export interface ClusterMembershipEvent {
  /** What changed. */
  readonly eventType: ClusterMembershipEventType;
  /** The member the change concerns (for `leader-changed`, the new leader, or the old one when none leads). */
  readonly node: ClusterNode;
  /** When the change was observed, in epoch milliseconds. */
  readonly timestamp: number;
  /** Why it changed, when known (for example the reason given on leave). */
  readonly reason?: string;
}

/**
 * DIST-01: cluster membership. Tracks which nodes form the cluster, their status
 * and role, and the leader, and tells subscribers when any of that changes.
 *
 * @since 2.0.0
 */
export interface ClusterMembership {
  /**
   * Subscribes to membership changes.
   *
   * @param listener - Called with every change.
   * @returns A disposer that removes the listener.
   */
  onMembershipChanged(listener: Listener<ClusterMembershipEvent>): Unsubscribe;

  /** Every known member, including this node while it is a member. */
  getMembers(): readonly ClusterNode[];

  /** The current leader, or `undefined` when none is known. */
  getLeader(): ClusterNode | undefined;

  /** This node, as the cluster sees it. */
  getSelf(): ClusterNode;

  /**
   * Node-level RPC to a member.
   *
   * @param nodeId - The member to reach.
   * @returns The member's federation handle, or `undefined` when `nodeId` is not a known member.
   */
  getFederationNode(nodeId: string): FederationNode | undefined;

  /**
   * Joins a cluster: `request` describes this node, and the implementation's
   * configuration says how to find the cluster.
   *
   * @param request - This node's identity and requested role.
   * @param options - Cancellation.
   * @throws {@link DistributedError} with a code saying why the join is impossible, for
   *   example `JOIN_NOT_SUPPORTED` on a single-node membership.
   */
  join(request: ClusterJoinRequest, options?: CallOptions): Promise<void>;

  /**
   * Leaves the cluster gracefully. Members are told; this node stops
   * participating. Leaving twice is harmless.
   *
   * @param reason - Why the node leaves, passed on in the `node-left` event.
   * @param options - Cancellation.
   */
  leave(reason: string, options?: CallOptions): Promise<void>;

  /**
   * Whether a member is alive and participating.
   *
   * @param nodeId - The member to check.
   * @param options - Cancellation.
   * @returns `false` for unknown, suspected, dead or departed members.
   */
  isHealthy(nodeId: string, options?: CallOptions): Promise<boolean>;
}
