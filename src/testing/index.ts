/**
 * Compliance suites: one reusable Vitest suite per contract. An implementation
 * of a contract is complete when it passes the contract's suite.
 *
 * @packageDocumentation
 */

export * from './compliance/factory.js';
export * from './compliance/cluster-membership.js';
