/**
 * The field checks every `AutoGovernance` makes on a policy before it looks at
 * its expression: one definition for the embedded matcher and the CEL engine.
 *
 * @packageDocumentation
 */

import {
  GOVERNANCE_ACTIONS,
  GOVERNANCE_POLICY_TYPES,
  type GovernancePolicy,
} from '../../contracts/auto-governance.js';
import { DistributedError } from '../../contracts/errors.js';

function invalid(message: string): never {
  throw new DistributedError('INVALID_ARGUMENT', message);
}

/**
 * Checks a policy's fields (not its expression's language): a non-empty id,
 * string name, description and expression, a known type and action, an integer
 * priority and a boolean `isEnabled`.
 *
 * @param policy - The policy as given (callers may be plain JavaScript).
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` naming the first bad field.
 * @since 2.0.0
 */
export function checkPolicyFields(policy: GovernancePolicy): void {
  if (typeof policy !== 'object' || (policy as unknown) === null) {
    invalid('a policy must be an object');
  }
  if (typeof policy.policyId !== 'string' || policy.policyId.length === 0) {
    invalid('policyId must be a non-empty string');
  }
  for (const field of ['name', 'description', 'expression'] as const) {
    if (typeof policy[field] !== 'string') invalid(`${field} must be a string`);
  }
  if (!GOVERNANCE_POLICY_TYPES.includes(policy.type)) {
    invalid(`type must be one of ${GOVERNANCE_POLICY_TYPES.join(', ')}`);
  }
  if (!GOVERNANCE_ACTIONS.includes(policy.action)) {
    invalid(`action must be one of ${GOVERNANCE_ACTIONS.join(', ')}`);
  }
  if (!Number.isSafeInteger(policy.priority)) invalid('priority must be an integer');
  if (typeof policy.isEnabled !== 'boolean') invalid('isEnabled must be a boolean');
}
