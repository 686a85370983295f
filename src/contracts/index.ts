/**
 * The seven distributed contracts (DIST-01 to DIST-07) and the shared SDK types
 * they use. Types and tiny result factories only: no runtime dependencies.
 *
 * @packageDocumentation
 */

export * from './common.js';
export * from './errors.js';
export * from './vector-clock.js';
export * from './consistency-level.js';
export * from './conflict-resolution.js';
export * from './load-balancing-algorithm.js';
export * from './health.js';
export * from './federation-node.js';
export * from './cluster-membership.js';
export * from './cluster-config.js';
export * from './load-balancer.js';
export * from './p2p-network.js';
export * from './auto-scaler.js';
export * from './replication-sync.js';
export * from './auto-tier.js';
export * from './auto-governance.js';
