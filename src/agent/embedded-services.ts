/**
 * The embedded defaults assembled into one node: zero configuration, one node,
 * every contract honest about what one node can and cannot do.
 */

import { randomUUID } from 'node:crypto';
import { InMemoryAutoScaler } from '../inmemory/in-memory-auto-scaler.js';
import { InMemoryAutoTier } from '../inmemory/in-memory-auto-tier.js';
import { InMemoryClusterConfig } from '../inmemory/in-memory-cluster-config.js';
import { InMemoryClusterMembership } from '../inmemory/in-memory-cluster-membership.js';
import { InMemoryGossipProtocol } from '../inmemory/in-memory-gossip-protocol.js';
import { InMemoryLoadBalancer } from '../inmemory/in-memory-load-balancer.js';
import { InMemoryP2PNetwork } from '../inmemory/in-memory-p2p-network.js';
import { InMemoryReplicationSync } from '../inmemory/in-memory-replication-sync.js';
import type { EmbeddedOptions } from '../inmemory/options.js';
import { CelAutoGovernance } from '../governance/policy/cel-auto-governance.js';
import { createLoadBalancer } from '../loadbalancing/factory.js';
import { ThresholdScalingPolicy } from '../inmemory/threshold-scaling-policy.js';
import type { NodeServices } from './services.js';

/** Options for {@link createEmbeddedServices}. */
export interface EmbeddedServicesOptions extends EmbeddedOptions {
  /** This node's id; defaults to `node-` and eight random hex digits. */
  readonly nodeId?: string;
  /**
   * A load-balancing strategy by name (see `LOAD_BALANCER_NAMES`); defaults to the
   * embedded round robin.
   */
  readonly loadBalancer?: string;
}

/** One embedded default per contract, sharing this node's id and clock. */
export function createEmbeddedServices(options: EmbeddedServicesOptions = {}): NodeServices {
  const nodeId = options.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
  const shared: EmbeddedOptions = {
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.onListenerError === undefined ? {} : { onListenerError: options.onListenerError }),
  };
  const membership = new InMemoryClusterMembership({ ...shared, nodeId });
  return {
    mode: 'embedded',
    membership,
    clusterConfig: new InMemoryClusterConfig(shared),
    loadBalancer:
      options.loadBalancer === undefined
        ? new InMemoryLoadBalancer(shared)
        : createLoadBalancer(
            options.loadBalancer,
            shared.now === undefined ? {} : { now: shared.now },
          ),
    network: new InMemoryP2PNetwork({ ...shared, peerId: nodeId }),
    gossip: new InMemoryGossipProtocol({ ...shared, nodeId }),
    autoScaler: new InMemoryAutoScaler({
      ...shared,
      policies: [loadPolicy(() => membership.getMembers().length)],
    }),
    replication: new InMemoryReplicationSync({ ...shared, nodeId }),
    autoTier: new InMemoryAutoTier(shared),
    governance: new CelAutoGovernance(shared),
  };
}

/**
 * The node's built-in scaling policy: scale out under sustained pressure on CPU,
 * memory or storage; scale in only when CPU and memory are both quiet. The
 * thresholds are the common starting points of cloud autoscalers.
 */
function loadPolicy(currentNodeCount: () => number): ThresholdScalingPolicy {
  return new ThresholdScalingPolicy({
    name: 'load',
    scaleOutAbove: { cpuUsage: 80, memoryUsage: 85, storageUsage: 90 },
    scaleInBelow: { cpuUsage: 20, memoryUsage: 30 },
    currentNodeCount,
  });
}
