/**
 * Auto-governance that enforces: CEL policies planned once and compiled to
 * closures, an index over them, and the tamper-evident audit trail.
 *
 * @packageDocumentation
 */

export * from './audit/canonical.js';
export * from './audit/audit-entry.js';
export * from './audit/checkpoint.js';
export * from './audit/chain-verifier.js';
export * from './audit/audit-trail.js';
export * from './policy/schema.js';
export * from './policy/check.js';
export * from './policy/compile.js';
export * from './policy/guards.js';
export * from './policy/planner.js';
export * from './policy/cel-auto-governance.js';
export * from './retention/retention-rule-set.js';
export * from './retention/retention-policies.js';
export * from './retention/retention-sweeper.js';
export * from './residency/residency-guard.js';
export * from './compliance/classify-for-governance.js';
export * from './compliance/compliance-policies.js';
