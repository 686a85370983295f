/**
 * The embedded defaults: one honest single-node implementation per contract,
 * needing no configuration.
 *
 * @packageDocumentation
 */

export * from './options.js';
export * from './in-memory-federation-node.js';
export * from './in-memory-cluster-membership.js';
export * from './in-memory-cluster-config.js';
export * from './in-memory-load-balancer.js';
export * from './in-memory-p2p-network.js';
export * from './in-memory-gossip-protocol.js';
export * from './in-memory-auto-scaler.js';
export * from './threshold-scaling-policy.js';
export * from './in-memory-replication-sync.js';
export * from './in-memory-auto-tier.js';
export * from './in-memory-auto-governance.js';
