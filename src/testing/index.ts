/**
 * Compliance suites: one reusable Vitest suite per contract. An implementation
 * of a contract is complete when it passes the contract's suite.
 *
 * @packageDocumentation
 */

export * from './compliance/factory.js';
export * from './compliance/cluster-membership.js';
export * from './compliance/cluster-config.js';
export * from './compliance/load-balancer.js';
export * from './compliance/p2p-network.js';
export * from './compliance/auto-scaler.js';
export * from './compliance/replication-sync.js';
export * from './compliance/auto-tier.js';
export * from './compliance/auto-governance.js';
