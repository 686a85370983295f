/**
 * The embedded defaults: one honest single-node implementation per contract,
 * needing no configuration.
 *
 * @packageDocumentation
 */

export * from './options.js';
export * from './in-memory-federation-node.js';
export * from './in-memory-cluster-membership.js';
