/**
 * Pure, deterministic algorithms and protocol state machines: no I/O, no
 * clocks, no randomness of their own.
 *
 * @packageDocumentation
 */

export * from './events.js';
export * from './load-balancing/round-robin.js';
export * from './load-balancing/health-report.js';
export * from './gossip/gossip-message.js';
export * from './scaling/validation.js';
export * from './scaling/combine.js';
export * from './scaling/thresholds.js';
export * from './replication/conflict.js';
export * from './governance/simple-matcher.js';
export * from './governance/combine.js';
