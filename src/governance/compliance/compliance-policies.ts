/**
 * Compliance as CEL policies: "labelled personal or card data must be encrypted at rest"
 * (the `encrypt` action) and "unclassified uploads are quarantined" (the `quarantine`
 * action), ready to register with `CelAutoGovernance`.
 *
 * @packageDocumentation
 */

import type { GovernancePolicy } from '../../contracts/auto-governance.js';
import { DistributedError } from '../../contracts/errors.js';

/**
 * The request metadata key that says the written data is encrypted at rest; its value
 * must be `"true"`.
 *
 * @since 2.0.0
 */
export const ENCRYPTED_AT_REST_KEY = 'encrypted';

/**
 * Options of {@link createCompliancePolicies}.
 *
 * @since 2.0.0
 */
export interface CompliancePolicyOptions {
  /** The prefix of the policies' ids. Default `compliance.`. */
  readonly idPrefix?: string;
  /** The policies' priority. Default 0 (obligations do not decide, so order hardly matters). */
  readonly priority?: number;
  /** The operations that write data. Default `write`. */
  readonly writeOperations?: readonly string[];
  /** The label prefixes of data that must be encrypted at rest. Default `pii.` and `pci.`. */
  readonly sensitiveLabelPrefixes?: readonly string[];
  /** Whether to add the policy that quarantines unclassified uploads. Default false. */
  readonly quarantineUnclassified?: boolean;
}

const literal = (value: string): string => JSON.stringify(value);

/**
 * Builds the compliance policies:
 *
 * - `<prefix>encrypt-sensitive-at-rest` (`encrypt`): a write of a resource with a label
 *   starting with a sensitive prefix, unless `request.encrypted == "true"`:
 *   `operation in ["write"] && has(resource.labels) && resource.labels.exists(l,
 *   l.startsWith("pii.") || l.startsWith("pci.")) && !(has(request.encrypted) &&
 *   request.encrypted == "true")`;
 * - `<prefix>quarantine-unclassified` (`quarantine`, only with `quarantineUnclassified`):
 *   a write of a resource that never went through classification:
 *   `operation in ["write"] && !has(resource.classification)`.
 *
 * Labels come from `classifyForGovernance` (classified on write). `has()` keeps a write of
 * an unlabelled resource from failing closed.
 *
 * @param options - Ids, priority, operations, prefixes, quarantine.
 * @returns The policies, type `compliance`, enabled.
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` for an empty list of operations or
 *   prefixes.
 * @since 2.0.0
 */
export function createCompliancePolicies(
  options: CompliancePolicyOptions = {},
): readonly GovernancePolicy[] {
  const prefix = options.idPrefix ?? 'compliance.';
  const priority = options.priority ?? 0;
  const operations = options.writeOperations ?? ['write'];
  const sensitive = options.sensitiveLabelPrefixes ?? ['pii.', 'pci.'];
  if (operations.length === 0 || sensitive.length === 0) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      'writeOperations and sensitiveLabelPrefixes must not be empty',
    );
  }
  const isWrite = `operation in [${operations.map(literal).join(', ')}]`;
  const labelled = sensitive.map((each) => `l.startsWith(${literal(each)})`).join(' || ');
  const key = ENCRYPTED_AT_REST_KEY;
  const policies: GovernancePolicy[] = [
    {
      policyId: `${prefix}encrypt-sensitive-at-rest`,
      name: 'Sensitive data is encrypted at rest',
      description: `Data labelled ${sensitive.join(', ')} must be encrypted at rest`,
      type: 'compliance',
      expression:
        `${isWrite} && has(resource.labels) && resource.labels.exists(l, ${labelled}) && ` +
        `!(has(request.${key}) && request.${key} == "true")`,
      action: 'encrypt',
      priority,
      isEnabled: true,
    },
  ];
  if (options.quarantineUnclassified === true) {
    policies.push({
      policyId: `${prefix}quarantine-unclassified`,
      name: 'Unclassified uploads are quarantined',
      description: 'Data written without a classification run is isolated for review',
      type: 'compliance',
      expression: `${isWrite} && !has(resource.classification)`,
      action: 'quarantine',
      priority,
      isEnabled: true,
    });
  }
  return Object.freeze(policies.map((policy) => Object.freeze(policy)));
}
