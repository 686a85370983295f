/**
 * CEL policies that make retention binding on operations: what `retention` policies a
 * node registers so that `resource.retention` (filled by `RetentionRuleSet.context` or
 * `withRetention`) is enforced by `CelAutoGovernance`.
 *
 * @packageDocumentation
 */

import type { GovernancePolicy } from '../../contracts/auto-governance.js';

/**
 * Options of {@link createRetentionPolicies}.
 *
 * @since 2.0.0
 */
export interface RetentionPolicyOptions {
  /** The prefix of the policies' ids. Default `retention.`. */
  readonly idPrefix?: string;
  /** The policies' priority. Default 1000, above ordinary allows. */
  readonly priority?: number;
  /** The operations that destroy data. Default `delete` and `archive`. */
  readonly destructiveOperations?: readonly string[];
}

/**
 * The retention policies: deny a destructive operation on a resource that is `retained`
 * (its keep-for period has not ended) or under a legal hold. A context without
 * retention attributes is not affected (`has()` tests), so callers that know nothing of
 * retention keep working; a caller that wants unknown retention to deny writes its own
 * policy without the `has()`.
 *
 * @param options - Ids, priority, operations.
 * @returns Two `retention` policies with action `deny`, ready to register.
 * @since 2.0.0
 */
export function createRetentionPolicies(
  options: RetentionPolicyOptions = {},
): readonly GovernancePolicy[] {
  const prefix = options.idPrefix ?? 'retention.';
  const priority = options.priority ?? 1000;
  const operations = JSON.stringify(options.destructiveOperations ?? ['delete', 'archive']);
  const base = `operation in ${operations} && has(resource.retention)`;
  return Object.freeze([
    Object.freeze({
      policyId: `${prefix}no-delete-while-retained`,
      name: 'No deletion while retained',
      description: 'A resource may not be deleted or archived before its retention period ends',
      type: 'retention',
      expression: `${base} && has(resource.retention.state) && resource.retention.state == "retained"`,
      action: 'deny',
      priority,
      isEnabled: true,
    }),
    Object.freeze({
      policyId: `${prefix}legal-hold`,
      name: 'Legal hold',
      description: 'A resource under a legal hold may not be deleted or archived',
      type: 'retention',
      expression: `${base} && has(resource.retention.legalHold) && resource.retention.legalHold`,
      action: 'deny',
      priority,
      isEnabled: true,
    }),
  ] satisfies GovernancePolicy[]);
}
