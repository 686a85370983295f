/**
 * Auto-governance that enforces: the tamper-evident audit trail (and, as it
 * lands, the CEL policy engine).
 *
 * @packageDocumentation
 */

export * from './audit/canonical.js';
export * from './audit/audit-entry.js';
export * from './audit/checkpoint.js';
export * from './audit/chain-verifier.js';
export * from './audit/audit-trail.js';
