/**
 * DIST-07: automatic governance — SDK-level policy enforcement. Plugins ask before an
 * operation whether the registered policies allow it and what they require; the plugin
 * then enforces the answer.
 *
 * How {@link AutoGovernance.evaluate} decides:
 *
 * - A policy applies to a context when it is enabled and its expression holds for the
 *   context. An expression that fails while being evaluated counts as holding for every
 *   action except `allow` (fail closed).
 * - Policies are considered highest {@link GovernancePolicy.priority} first. The
 *   highest-priority applying `allow` or `deny` policy decides whether the operation is
 *   allowed; at equal priority `deny` overrides `allow`. When no `allow` or `deny` policy
 *   applies, the operation is allowed.
 * - `audit`, `quarantine`, `encrypt` and `notify` policies never decide; every one that
 *   applies adds its action to {@link PolicyEvaluationResult.requiredActions}, whatever the
 *   decision.
 *
 * The expression language is implementation-defined in 2.0: the embedded default uses a
 * simple matcher, the full implementation uses CEL (the Common Expression Language).
 *
 * An implementation may fail closed more strictly than the first rule above, never less:
 * the CEL implementation counts a policy whose evaluation fails (an error, an exceeded cost
 * bound, a missing attribute), whatever its action, as an applying `deny` at its priority,
 * reports it as a violation with a {@link PolicyViolation.reason} and requires `audit`
 * (see `docs/governance.md`).
 *
 * @packageDocumentation
 */

import type { CallOptions, Listener, Unsubscribe } from './common.js';

/**
 * Every kind of governance policy.
 *
 * - `retention`: how long data is kept, and when it may or must be deleted.
 * - `classification`: how data is labelled (for example public, internal, confidential).
 * - `compliance`: rules imposed by a regulation or standard (for example GDPR, HIPAA).
 * - `access`: who may perform which operations on which resources.
 * - `data-residency`: where (in which regions or jurisdictions) data may be stored or processed.
 *
 * @since 2.0.0
 */
export const GOVERNANCE_POLICY_TYPES = Object.freeze([
  'retention',
  'classification',
  'compliance',
  'access',
  'data-residency',
] as const);

/**
 * A kind of governance policy; see {@link GOVERNANCE_POLICY_TYPES}.
 *
 * @since 2.0.0
 */
export type GovernancePolicyType = (typeof GOVERNANCE_POLICY_TYPES)[number];

/**
 * Every action a policy can take when it applies.
 *
 * - `allow`: the operation is allowed (an exception to lower-priority `deny` policies).
 * - `deny`: the operation is refused.
 * - `audit`: the operation must be recorded in the audit log.
 * - `quarantine`: the resource must be isolated for review.
 * - `encrypt`: the data must be encrypted.
 * - `notify`: the responsible people or systems must be notified.
 *
 * `allow` and `deny` decide whether the operation may go ahead; the others are obligations
 * the caller must carry out.
 *
 * @since 2.0.0
 */
export const GOVERNANCE_ACTIONS = Object.freeze([
  'allow',
  'deny',
  'audit',
  'quarantine',
  'encrypt',
  'notify',
] as const);

/**
 * An action a policy takes; see {@link GOVERNANCE_ACTIONS}.
 *
 * @since 2.0.0
 */
export type GovernanceAction = (typeof GOVERNANCE_ACTIONS)[number];

/**
 * Every kind of governance event.
 *
 * - `policy-evaluated`: a policy applied to an evaluated operation without being violated.
 * - `policy-violated`: an evaluated operation violated a `deny` policy.
 * - `policy-registered`: a policy was registered.
 * - `policy-deregistered`: a policy was deregistered.
 *
 * @since 2.0.0
 */
export const GOVERNANCE_EVENT_TYPES = Object.freeze([
  'policy-evaluated',
  'policy-violated',
  'policy-registered',
  'policy-deregistered',
] as const);

/**
 * A kind of governance event; see {@link GOVERNANCE_EVENT_TYPES}.
 *
 * @since 2.0.0
 */
export type GovernanceEventType = (typeof GOVERNANCE_EVENT_TYPES)[number];

/**
 * One governance policy. Policies are immutable once registered: to change one,
 * deregister it and register the new version.
 *
 * @since 2.0.0
 */
export interface GovernancePolicy {
  /** The policy's id, unique among the registered policies. */
  readonly policyId: string;
  /** The policy's short name, for people. */
  readonly name: string;
  /** What the policy is for, for people. */
  readonly description: string;
  /** The kind of policy. */
  readonly type: GovernancePolicyType;
  /**
   * The condition, over the {@link GovernanceContext} being evaluated, under which the
   * policy applies. The language is implementation-defined in 2.0: the embedded default
   * uses a simple matcher, the full implementation uses CEL; see the implementation's
   * documentation.
   */
  readonly expression: string;
  /** What the policy does when it applies. */
  readonly action: GovernanceAction;
  /**
   * The policy's priority, an integer: a higher number is considered first, and a
   * higher-priority `allow` overrides a lower-priority `deny`. At equal priority `deny`
   * overrides `allow`.
   */
  readonly priority: number;
  /** Whether the policy is considered at all; a disabled policy stays registered. */
  readonly isEnabled: boolean;
}

/**
 * The retention state of a resource, as policies see it
 * ({@link GovernanceResourceAttributes.retention}).
 *
 * @since 2.0.0
 */
export interface GovernanceRetentionAttributes {
  /** The retention state, for example `active`, `retained`, `expired` or `deleted`. */
  readonly state?: string;
  /** Until when the resource must be kept, in epoch milliseconds. */
  readonly heldUntil?: number;
  /** Whether a legal hold blocks deleting the resource. */
  readonly legalHold?: boolean;
}

/**
 * What a policy may know about the resource of an operation, beyond its id. Every field is
 * optional: an implementation documents what an expression sees when one is absent (the
 * CEL implementation makes reading an absent field an evaluation error, so the policy
 * fails closed, and offers `has()` to test for presence).
 *
 * @since 2.0.0
 */
export interface GovernanceResourceAttributes {
  /** The resource's path, for example `/tenants/a/orders/2024.parquet`. */
  readonly path?: string;
  /** The resource's labels, for example `pii` or `contains:email`. */
  readonly labels?: readonly string[];
  /** The resource's classification, for example `public`, `internal` or `confidential`. */
  readonly classification?: string;
  /** The resource's size in bytes, a non-negative integer. */
  readonly sizeBytes?: number;
  /** Where the resource is stored, for example `eu-west`. */
  readonly region?: string;
  /** When the resource was created, in epoch milliseconds. */
  readonly createdAt?: number;
  /** When the resource was last read or written, in epoch milliseconds. */
  readonly lastAccessedAt?: number;
  /** The resource's retention state. */
  readonly retention?: GovernanceRetentionAttributes;
}

/**
 * What a policy may know about the user of an operation, beyond its id. Every field is
 * optional, as for {@link GovernanceResourceAttributes}.
 *
 * @since 2.0.0
 */
export interface GovernanceUserAttributes {
  /** The user's roles, for example `admin` or `auditor`. */
  readonly roles?: readonly string[];
  /** Free-form facts about the user, for example `department` or `clearance`. */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Where the user is, for example `eu-west`. */
  readonly region?: string;
}

/**
 * The operation to be checked against the policies.
 *
 * @since 2.0.0
 */
export interface GovernanceContext {
  /** What is about to be done, for example `read`, `write`, `delete` or `replicate`. */
  readonly operationType: string;
  /** The resource it is done to, for example an object or data-set id. */
  readonly resourceId: string;
  /** Who does it, when known. */
  readonly userId?: string;
  /** Free-form facts about the operation, for example `region` or `classification`. */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * What is known about the resource, for implementations whose expressions read resource
   * attributes (the CEL implementation's `resource`). Optional: the simple matcher ignores it.
   */
  readonly resource?: GovernanceResourceAttributes;
  /**
   * What is known about the user, for implementations whose expressions read user attributes
   * (the CEL implementation's `user`). Optional: the simple matcher ignores it.
   */
  readonly user?: GovernanceUserAttributes;
}

/**
 * One policy an operation violates.
 *
 * @since 2.0.0
 */
export interface PolicyViolation {
  /** The violated policy's id. */
  readonly policyId: string;
  /** The violated policy's name. */
  readonly policyName: string;
  /** What was violated, for people (usually the policy's description). */
  readonly description: string;
  /** The violated policy's action (`deny` for violations reported by {@link AutoGovernance.evaluate}). */
  readonly action: GovernanceAction;
  /**
   * Why the policy counts as violated when that is not simply that its expression held: for
   * example that evaluating it failed and the implementation failed closed. Absent otherwise.
   */
  readonly reason?: string;
}

/**
 * The answer to one evaluation. Build it with `PolicyEvaluationResult.allow` or
 * `PolicyEvaluationResult.deny`.
 *
 * @since 2.0.0
 */
export interface PolicyEvaluationResult {
  /** Whether the operation may go ahead. */
  readonly isAllowed: boolean;
  /**
   * Why the operation is refused: every applying `deny` policy not overridden by a
   * higher-priority applying `allow` policy, highest priority first. Empty exactly when
   * `isAllowed` is `true`.
   */
  readonly violations: readonly PolicyViolation[];
  /**
   * The obligations the caller must carry out (`audit`, `quarantine`, `encrypt`, `notify`):
   * each action of an applying policy once, in the order of the highest-priority policy
   * requiring it. Present whether or not the operation is allowed.
   */
  readonly requiredActions: readonly GovernanceAction[];
  /** A summary of the decision for the audit log, when the implementation produces one. */
  readonly auditMessage?: string;
}

/**
 * Builds {@link PolicyEvaluationResult} values.
 *
 * @since 2.0.0
 */
export const PolicyEvaluationResult = Object.freeze({
  /**
   * The operation may go ahead.
   *
   * @param requiredActions - The obligations the caller must carry out; none by default.
   * @param auditMessage - A summary of the decision for the audit log.
   * @returns A result with `isAllowed: true` and no violations.
   * @since 2.0.0
   */
  allow(
    requiredActions: readonly GovernanceAction[] = [],
    auditMessage?: string,
  ): PolicyEvaluationResult {
    return {
      isAllowed: true,
      violations: [],
      requiredActions: [...requiredActions],
      ...(auditMessage === undefined ? {} : { auditMessage }),
    };
  },

  /**
   * The operation is refused.
   *
   * @param violations - Why it is refused; at least one.
   * @param requiredActions - The obligations the caller must still carry out (for example
   *   auditing the refused attempt); none by default.
   * @param auditMessage - A summary of the decision for the audit log.
   * @returns A result with `isAllowed: false`.
   * @since 2.0.0
   */
  deny(
    violations: readonly PolicyViolation[],
    requiredActions: readonly GovernanceAction[] = [],
    auditMessage?: string,
  ): PolicyEvaluationResult {
    return {
      isAllowed: false,
      violations: [...violations],
      requiredActions: [...requiredActions],
      ...(auditMessage === undefined ? {} : { auditMessage }),
    };
  },
});

/**
 * Something that happened in governance.
 *
 * @since 2.0.0
 */
export interface GovernanceEvent {
  /** What happened. */
  readonly eventType: GovernanceEventType;
  /** The policy it concerns. */
  readonly policyId: string;
  /**
   * The evaluated resource, for `policy-evaluated` and `policy-violated`. Absent for
   * `policy-registered` and `policy-deregistered`, which concern no resource.
   */
  readonly resourceId?: string;
  /** When it happened, in epoch milliseconds. */
  readonly timestamp: number;
  /** More about it, for example the operation type evaluated. */
  readonly detail?: string;
}

/**
 * DIST-07: automatic governance. Holds the registered policies and tells callers whether
 * an operation is allowed and what it requires; see the module documentation for how a
 * decision is reached.
 *
 * @since 2.0.0
 */
export interface AutoGovernance {
  /**
   * Checks an operation against the enabled policies. Emits `policy-violated` for each
   * violation and `policy-evaluated` for every other applying policy.
   *
   * @param context - The operation to check.
   * @param options - Cancellation.
   * @returns Whether the operation is allowed, why not, and what it requires.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for a malformed context.
   */
  evaluate(context: GovernanceContext, options?: CallOptions): Promise<PolicyEvaluationResult>;

  /**
   * Lists the registered policies.
   *
   * @param options - Cancellation.
   * @returns Every registered policy, enabled or not, highest priority first (equal
   *   priorities in registration order).
   */
  getActivePolicies(options?: CallOptions): Promise<readonly GovernancePolicy[]>;

  /**
   * Registers a policy and emits `policy-registered`.
   *
   * @param policy - The policy to register.
   * @param options - Cancellation.
   * @returns Resolves once the policy is considered by {@link AutoGovernance.evaluate}.
   * @throws {@link DistributedError} `POLICY_EXISTS` when a policy with the same id is
   *   registered; `INVALID_POLICY_EXPRESSION` when the implementation cannot parse the
   *   expression; `INVALID_ARGUMENT` for an otherwise malformed policy (for example an empty
   *   id or a fractional priority). Nothing is registered when it throws.
   */
  registerPolicy(policy: GovernancePolicy, options?: CallOptions): Promise<void>;

  /**
   * Deregisters a policy and emits `policy-deregistered`.
   *
   * @param policyId - The policy to remove.
   * @param options - Cancellation.
   * @returns Resolves once the policy is no longer considered.
   * @throws {@link DistributedError} `POLICY_NOT_FOUND` when no policy has that id.
   */
  deregisterPolicy(policyId: string, options?: CallOptions): Promise<void>;

  /**
   * Subscribes to governance events.
   *
   * @param listener - Called with every governance event.
   * @returns A disposer that removes the listener.
   */
  onGovernanceEvent(listener: Listener<GovernanceEvent>): Unsubscribe;
}
