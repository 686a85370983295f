/**
 * The seven contracts a `dw` node runs, as one bundle. The HTTP API and the
 * dashboard see only these contracts, so every implementation (embedded,
 * native, adapter) plugs in the same way.
 */

import type { AutoGovernance } from '../contracts/auto-governance.js';
import type { AutoScaler } from '../contracts/auto-scaler.js';
import type { AutoTier } from '../contracts/auto-tier.js';
import type { ClusterConfigStore } from '../contracts/cluster-config.js';
import type { ClusterMembership } from '../contracts/cluster-membership.js';
import type { LoadBalancerStrategy } from '../contracts/load-balancer.js';
import type { GossipProtocol, P2PNetwork } from '../contracts/p2p-network.js';
import type { ReplicationSync } from '../contracts/replication-sync.js';

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
  readonly encryption: 'keyring' | 'plaintext';
  /** Which membership runs, said plainly (for example `embedded (single node)`). */
  readonly membership: string;
  /** A snapshot of the network and gossip counters (rejected frames by reason, and so on). */
  stats(): Readonly<Record<string, unknown>>;
}
