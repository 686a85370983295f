/**
 * Every load-balancing strategy, built by one factory from a
 * `LoadBalancingAlgorithm` plus options, with shared health, outlier
 * ejection, panic routing and slow start.
 *
 * @packageDocumentation
 */

export * from './observed-load-balancer.js';
export * from './node-pool.js';
export * from './pooled-load-balancer.js';
export * from './round-robin-load-balancer.js';
export * from './weighted-round-robin-load-balancer.js';
export * from './random-load-balancer.js';
export * from './least-request-load-balancer.js';
export * from './latency-based-load-balancer.js';
export * from './consistent-hashing-load-balancer.js';
export * from './resource-aware-load-balancer.js';
export * from './adaptive-load-balancer.js';
export * from './factory.js';
