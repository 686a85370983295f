/**
 * How governance (DIST-07) combines the policies that apply to one operation into a
 * decision, independently of the expression language that decided which apply. Both
 * the embedded simple matcher and the CEL implementation feed it.
 *
 * The rules are the contract's (see `src/contracts/auto-governance.ts`):
 *
 * - A policy applies when it is enabled and its expression holds. An expression that
 *   failed while being evaluated counts as holding for every action except `allow`
 *   (fail closed).
 * - Policies are considered highest priority first, equal priorities in the order given
 *   (registration order).
 * - The highest-priority applying `allow` or `deny` policy decides; at equal priority
 *   `deny` overrides `allow`; with no applying `allow` or `deny` the operation is allowed.
 * - The violations are the applying `deny` policies not overridden by a higher-priority
 *   applying `allow`, highest priority first; there are none exactly when allowed.
 * - The required actions are the `audit`, `quarantine`, `encrypt` and `notify` actions of
 *   the applying policies, each once, in the order of the highest-priority policy
 *   requiring it, whatever the decision.
 *
 * {@link CombineOptions.failedPolicy} `denies` selects the stricter fail-closed rule of the
 * CEL implementation (`docs/governance.md`): a failed enabled policy, whatever its action,
 * applies as a `deny` at its priority (overridable, like any deny, only by a strictly
 * higher-priority applying `allow`), its violation carries the failure as `reason`, and it
 * requires its own obligation (when its action is one) followed by `audit`. A failure can
 * therefore never make a decision more permissive than either outcome of the policy.
 *
 * @packageDocumentation
 */

import type {
  GovernanceAction,
  GovernanceContext,
  GovernancePolicy,
  PolicyViolation,
} from '../../contracts/auto-governance.js';
import { PolicyEvaluationResult } from '../../contracts/auto-governance.js';

/**
 * What evaluating one policy's expression against a context gave.
 *
 * - `holds`: the expression is true for the context.
 * - `does-not-hold`: the expression is false for the context.
 * - `failed`: evaluating the expression failed (for example a missing field); the policy
 *   applies unless its action is `allow`.
 *
 * @since 2.0.0
 */
export type ExpressionOutcome = 'holds' | 'does-not-hold' | 'failed';

/**
 * One registered policy and what its expression gave for the context being evaluated.
 *
 * @since 2.0.0
 */
export interface PolicyOutcome {
  /** The policy. */
  readonly policy: GovernancePolicy;
  /** What its expression gave; ignored for a disabled policy. */
  readonly outcome: ExpressionOutcome;
  /** Why evaluating it failed, when `outcome` is `failed`; reported with its violation. */
  readonly reason?: string;
}

/**
 * How a policy whose evaluation failed takes part in the decision.
 *
 * - `applies-unless-allow`: the contract's baseline: the policy applies, with its own
 *   action, unless that action is `allow` (then it does not apply).
 * - `denies`: the CEL implementation's stricter rule: the policy applies as a `deny` at its
 *   priority whatever its action, with a reason, and requires its obligation and `audit`.
 *
 * @since 2.0.0
 */
export const FAILED_POLICY_RULES = Object.freeze(['applies-unless-allow', 'denies'] as const);

/**
 * A rule for failed policies; see {@link FAILED_POLICY_RULES}.
 *
 * @since 2.0.0
 */
export type FailedPolicyRule = (typeof FAILED_POLICY_RULES)[number];

/**
 * Options of {@link combinePolicies}.
 *
 * @since 2.0.0
 */
export interface CombineOptions {
  /** How a failed policy takes part; defaults to `applies-unless-allow`. */
  readonly failedPolicy?: FailedPolicyRule;
}

/**
 * A combined decision: the result for the caller, and which policies played which part,
 * so the implementation can emit its events.
 *
 * @since 2.0.0
 */
export interface CombinedDecision {
  /** The answer to return from `evaluate`. */
  readonly result: PolicyEvaluationResult;
  /** Every applying policy, highest priority first (equal priorities in the given order). */
  readonly applied: readonly GovernancePolicy[];
  /** The applying policies that are violations, in the same order; a subset of `applied`. */
  readonly violated: readonly GovernancePolicy[];
  /** The policy that decided (the first violation, or the deciding `allow`); absent when none did. */
  readonly decidedBy?: GovernancePolicy;
  /**
   * The enabled policies whose evaluation failed and that applied because of it, in the
   * order of `applied` (a subset of it); empty when nothing failed.
   */
  readonly failed: readonly GovernancePolicy[];
}

/** The actions that are obligations rather than decisions. */
const OBLIGATIONS: ReadonlySet<GovernanceAction> = new Set([
  'audit',
  'quarantine',
  'encrypt',
  'notify',
]);

/**
 * Orders policies highest priority first; equal priorities keep their given order.
 *
 * @param policies - Policies in registration order.
 * @returns A new array in evaluation order.
 * @since 2.0.0
 */
export function orderPolicies(policies: readonly GovernancePolicy[]): GovernancePolicy[] {
  // Array.prototype.sort is stable, so equal priorities keep registration order.
  return [...policies].sort((a, b) => b.priority - a.priority);
}

/**
 * Whether a policy applies, given what its expression gave.
 *
 * @param policy - The policy.
 * @param outcome - What its expression gave for the context.
 * @returns `true` when the policy is enabled and its expression holds, or failed and the
 *   action is not `allow`.
 * @since 2.0.0
 */
export function policyApplies(policy: GovernancePolicy, outcome: ExpressionOutcome): boolean {
  if (!policy.isEnabled) return false;
  if (outcome === 'failed') return policy.action !== 'allow';
  return outcome === 'holds';
}

/**
 * Combines the outcomes of every registered policy into the decision for one operation.
 *
 * @param context - The operation evaluated; used for the audit message.
 * @param outcomes - Every registered policy with its expression's outcome, in
 *   registration order.
 * @param options - How failed policies take part; the contract's baseline by default.
 * @returns The result, and which policies applied and were violated.
 * @since 2.0.0
 */
export function combinePolicies(
  context: GovernanceContext,
  outcomes: readonly PolicyOutcome[],
  options: CombineOptions = {},
): CombinedDecision {
  const failedDenies = options.failedPolicy === 'denies';
  const reasons = new Map<GovernancePolicy, string>();
  const applying = outcomes.filter(({ policy, outcome }) =>
    failedDenies && outcome === 'failed' ? policy.isEnabled : policyApplies(policy, outcome),
  );
  for (const { policy, outcome, reason } of applying) {
    if (failedDenies && outcome === 'failed') reasons.set(policy, reason ?? 'evaluation failed');
  }
  const applied = orderPolicies(applying.map(({ policy }) => policy));
  const failed = applied.filter((policy) => reasons.has(policy));
  const decides = (policy: GovernancePolicy): GovernanceAction | undefined =>
    reasons.has(policy)
      ? 'deny'
      : policy.action === 'allow' || policy.action === 'deny'
        ? policy.action
        : undefined;
  const allows = applied.filter((policy) => decides(policy) === 'allow');
  const highestAllow = allows[0]?.priority ?? Number.NEGATIVE_INFINITY;
  // A deny is overridden only by an allow of strictly higher priority.
  const violated = applied.filter(
    (policy) => decides(policy) === 'deny' && policy.priority >= highestAllow,
  );
  const requiredActions: GovernanceAction[] = [];
  const require = (action: GovernanceAction): void => {
    if (!requiredActions.includes(action)) requiredActions.push(action);
  };
  for (const policy of applied) {
    if (OBLIGATIONS.has(policy.action)) require(policy.action);
    // A failure is recorded in the audit log whatever the decision.
    if (reasons.has(policy)) require('audit');
  }
  const operation = `${context.operationType} on '${context.resourceId}'`;
  const failureNote =
    failed.length === 0
      ? ''
      : `; evaluation failed (fail closed) for ${failed
          .map((policy) => `'${policy.policyId}': ${reasons.get(policy) ?? ''}`)
          .join(', ')}`;
  const firstViolation = violated[0];
  if (firstViolation !== undefined) {
    const violations: PolicyViolation[] = violated.map((policy) => {
      const reason = reasons.get(policy);
      return Object.freeze({
        policyId: policy.policyId,
        policyName: policy.name,
        description: policy.description,
        action: 'deny' as const,
        ...(reason === undefined ? {} : { reason: `evaluation failed (fail closed): ${reason}` }),
      });
    });
    return Object.freeze({
      result: freezeResult(
        PolicyEvaluationResult.deny(
          violations,
          requiredActions,
          `denied ${operation} by policy '${firstViolation.policyId}' ` +
            `(priority ${firstViolation.priority})${failureNote}`,
        ),
      ),
      applied,
      violated,
      decidedBy: firstViolation,
      failed,
    });
  }
  const decidingAllow = allows[0];
  const auditMessage =
    decidingAllow === undefined
      ? `allowed ${operation}: no allow or deny policy applies${failureNote}`
      : `allowed ${operation} by policy '${decidingAllow.policyId}' (priority ${decidingAllow.priority})${failureNote}`;
  return Object.freeze({
    result: freezeResult(PolicyEvaluationResult.allow(requiredActions, auditMessage)),
    applied,
    violated: [],
    ...(decidingAllow === undefined ? {} : { decidedBy: decidingAllow }),
    failed,
  });
}

function freezeResult(result: PolicyEvaluationResult): PolicyEvaluationResult {
  return Object.freeze({
    ...result,
    violations: Object.freeze([...result.violations]),
    requiredActions: Object.freeze([...result.requiredActions]),
  });
}
