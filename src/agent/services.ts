/**
 * The seven contracts a `dw` node runs, as one bundle. The HTTP API and the
 * dashboard see only these contracts, so every implementation (embedded,
 * native, adapter) plugs in the same way.
 */

import type {
  AutoGovernance,
  GovernanceContext,
  GovernancePolicy,
} from '../contracts/auto-governance.js';
import type { AutoScaler } from '../contracts/auto-scaler.js';
import type { AutoTier } from '../contracts/auto-tier.js';
import type { ClusterConfigStore } from '../contracts/cluster-config.js';
import type { ClusterMembership } from '../contracts/cluster-membership.js';
import type { LoadBalancerStrategy } from '../contracts/load-balancer.js';
import type { GossipProtocol, P2PNetwork } from '../contracts/p2p-network.js';
import type { ReplicationSync } from '../contracts/replication-sync.js';
import type { AuditTrail } from '../governance/audit/audit-trail.js';

/** One implementation of each contract, assembled into a node. */
export interface NodeServices {
  /** Which implementation family this is, for logs and `/v1/node`: `embedded`, later `native`. */
  readonly mode: string;
  readonly membership: ClusterMembership;
  /** The cluster configuration that goes with the membership (one node's, etcd's, or Raft's). */
  readonly clusterConfig: ClusterConfigStore;
  readonly loadBalancer: LoadBalancerStrategy;
  readonly network: P2PNetwork;
  readonly gossip: GossipProtocol;
  readonly autoScaler: AutoScaler;
  readonly replication: ReplicationSync;
  readonly autoTier: AutoTier;
  readonly governance: AutoGovernance;
  /** Cluster-wide policy administration; without it policies are this node's alone. */
  readonly governanceAdmin?: GovernanceAdmin;
  /** Where governance decisions that deny or require `audit` are recorded. */
  readonly audit?: AuditTrail;
  /** What a networked node reports about its network; absent for the embedded defaults. */
  readonly networkDetails?: NetworkDetails;
  /**
   * Releases what the implementations hold (sockets, timers, storage). The agent
   * calls it last when it stops; absent when there is nothing to release.
   */
  close?(): Promise<void>;
}

/** Facts about a networked node, for `/v1/node`, `/v1/peers` and the log. */
export interface NetworkDetails {
  /** Where this node listens for peers, with the port chosen when `0` was asked for. */
  readonly listenAddress: { readonly host: string; readonly port: number };
  /** Whether traffic is encrypted with the cluster keyring or plaintext (development only). */
  readonly encryption: 'keyring' | 'tls-psk' | 'plaintext';
  /** Which membership runs, said plainly (for example `embedded (single node)`). */
  readonly membership: string;
  /** A snapshot of the network and gossip counters (rejected frames by reason, and so on). */
  stats(): Readonly<Record<string, unknown>>;
}

/** Registers and removes policies for the whole cluster, and explains decisions. */
export interface GovernanceAdmin {
  /** Registers a policy on every node; resolves once this node applies it, with its revision. */
  add(policy: GovernancePolicy): Promise<number>;
  /** Removes a policy from every node; resolves once this node applies it. */
  remove(policyId: string): Promise<void>;
  /** The decision for a context with its trace (which policies applied, matched, and why). */
  explain(context: GovernanceContext): Promise<unknown>;
  /** Whether the cluster's policies are loaded; until then operations are refused. */
  readonly loaded: boolean;
  /** The policy set this node evaluates. */
  readonly version: {
    readonly configRevision: number;
    readonly policies: number;
    readonly rejected: number;
  };
}
