/**
 * {@link ResidencyGuard}: the decision other parts (placement, replication, tiering) ask
 * for before they store a resource on a node — may this resource be stored on this node,
 * in this region? The rules are the registered CEL policies of type `data-residency`.
 *
 * @packageDocumentation
 */

import type {
  AutoGovernance,
  GovernanceAction,
  GovernanceContext,
  GovernancePolicy,
  GovernanceResourceAttributes,
  GovernanceUserAttributes,
  PolicyViolation,
} from '../../contracts/auto-governance.js';
import type { CallOptions } from '../../contracts/common.js';
import { DistributedError } from '../../contracts/errors.js';
import { ExpressionProblem } from '../policy/check.js';
import {
  decide,
  planPolicy,
  planPolicySet,
  type PlanLimits,
  type PlannedPolicy,
  type PolicySetPlan,
} from '../policy/planner.js';
import { toActivation } from '../policy/schema.js';

/**
 * The operations a residency decision is asked for.
 *
 * - `place`: the first copy of the resource is stored on the node.
 * - `replicate`: a further copy is stored on the node.
 *
 * @since 2.0.0
 */
export type ResidencyOperation = 'place' | 'replicate';

/**
 * The node a resource would be stored on.
 *
 * @since 2.0.0
 */
export interface ResidencyNode {
  /** The node's id (`request.targetNodeId`). */
  readonly nodeId: string;
  /** The node's region, for example `eu-west` (`request.targetRegion`). */
  readonly region: string;
  /** The node's labels, for example `zone` (`request["targetLabel.zone"]`). */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * The resource a residency decision is about.
 *
 * @since 2.0.0
 */
export interface ResidencyResource extends GovernanceResourceAttributes {
  /** The resource's id. */
  readonly resourceId: string;
}

/**
 * One residency question.
 *
 * @since 2.0.0
 */
export interface ResidencyRequest {
  /** The resource; its `region` is where it lives now (its home), when known. */
  readonly resource: ResidencyResource;
  /** The node it would be stored on. */
  readonly node: ResidencyNode;
  /** `place` (default) or `replicate`. */
  readonly operation?: ResidencyOperation;
  /** The user on whose behalf, when there is one. */
  readonly userId?: string;
  /** What is known of the user. */
  readonly user?: GovernanceUserAttributes;
  /** More request metadata, for example `sourceNodeId`; may not use the `target` keys. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * The answer to a residency question.
 *
 * @since 2.0.0
 */
export interface ResidencyDecision {
  /** Whether the resource may be stored on the node. */
  readonly allowed: boolean;
  /** Why not: the violated `data-residency` policies (with a reason when they failed). */
  readonly violations: readonly PolicyViolation[];
  /** The obligations of the applying policies (for example `encrypt`, `audit`). */
  readonly requiredActions: readonly GovernanceAction[];
  /** A summary for the audit trail. */
  readonly auditMessage: string;
  /** The guard's version of the residency policy set: incremented whenever the registered `data-residency` policies change. */
  readonly policySetVersion: number;
}

/**
 * Options of a {@link ResidencyGuard}.
 *
 * @since 2.0.0
 */
export interface ResidencyGuardOptions {
  /**
   * Where the policies are registered; only the enabled `data-residency` ones are
   * considered. Usually the node's `CelAutoGovernance`, so residency rules replicate with
   * the other policies.
   */
  readonly governance: Pick<AutoGovernance, 'getActivePolicies'>;
  /** The clock for `now` in expressions. Default `Date.now`. */
  readonly now?: () => number;
  /** The cost bound of one policy's evaluation. Default 10,000. */
  readonly maxEvaluationCost?: number;
  /** The most items of `resource.labels` and `user.roles`. Default 256. */
  readonly maxListItems?: number;
  /** The most entries of the request metadata and `user.attributes`. Default 256. */
  readonly maxMapEntries?: number;
}

/** The request metadata keys the guard sets. */
const TARGET_NODE = 'targetNodeId';
const TARGET_REGION = 'targetRegion';
const TARGET_LABEL = 'targetLabel.';

function invalid(message: string): never {
  throw new DistributedError('INVALID_ARGUMENT', message);
}

/**
 * Decides whether a resource may be stored on a node, from the registered
 * `data-residency` policies, evaluated by the governance planner against a context with
 *
 * - `operation`: `place` or `replicate`;
 * - `resource`: the resource's attributes (`resource.region` is its home, when known);
 * - `request.targetNodeId`, `request.targetRegion` and `request["targetLabel.<name>"]`
 *   for each label of the target node, plus the caller's own metadata;
 * - `user`, when the caller gives one.
 *
 * Policies combine as in `CelAutoGovernance` (priority, deny overrides allow at equal
 * priority, obligations collected). It fails closed: a policy whose evaluation fails
 * denies (with a reason), and so does a `data-residency` policy the guard cannot plan
 * (for example one written for another engine) — every decision is then denied until it
 * is removed. A resource that no policy restricts may go anywhere.
 *
 * @example
 * ```ts
 * await governance.registerPolicy({
 *   policyId: 'eu-stays-in-eu', name: 'EU data stays in the EU', description: '…',
 *   type: 'data-residency', action: 'deny', priority: 100, isEnabled: true,
 *   expression: '"residency.eu" in resource.labels && !request.targetRegion.startsWith("eu-")',
 * });
 * const guard = new ResidencyGuard({ governance });
 * (await guard.mayStore({ resource, node: { nodeId: 'n3', region: 'us-east' } })).allowed; // false
 * ```
 *
 * @since 2.0.0
 */
export class ResidencyGuard {
  readonly #governance: Pick<AutoGovernance, 'getActivePolicies'>;
  readonly #now: () => number;
  readonly #limits: PlanLimits;
  // Plans are kept per registered policy object: a registered policy is immutable.
  readonly #planned = new WeakMap<GovernancePolicy, PlannedPolicy | ExpressionProblem>();
  #lastPolicies: readonly GovernancePolicy[] = [];
  #set: PolicySetPlan = planPolicySet([], 0);
  #unplannable: readonly { policy: GovernancePolicy; problem: string }[] = [];

  /**
   * @param options - The policies' source, the clock and bounds.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a bound that is not a positive integer.
   */
  constructor(options: ResidencyGuardOptions) {
    const positive = (name: string, value: number) => {
      if (!Number.isSafeInteger(value) || value < 1) invalid(`${name} must be a positive integer`);
      return value;
    };
    this.#governance = options.governance;
    this.#now = options.now ?? Date.now;
    this.#limits = Object.freeze({
      maxEvaluationCost: positive('maxEvaluationCost', options.maxEvaluationCost ?? 10_000),
      maxListItems: positive('maxListItems', options.maxListItems ?? 256),
      maxMapEntries: positive('maxMapEntries', options.maxMapEntries ?? 256),
    });
  }

  /**
   * Decides whether `request.resource` may be stored on `request.node`.
   *
   * @param request - The resource, the node, the operation.
   * @param options - Cancellation.
   * @returns The decision.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a malformed request (for
   *   example a node without a region, or metadata using the `target` keys).
   */
  async mayStore(request: ResidencyRequest, options?: CallOptions): Promise<ResidencyDecision> {
    options?.signal?.throwIfAborted();
    const context = this.#context(request);
    const policies = await this.#governance.getActivePolicies(options);
    options?.signal?.throwIfAborted();
    this.#refresh(policies);
    const now = this.#now();
    const activation = toActivation(context, now, this.#limits);
    const decision = decide(this.#set, activation, this.#limits);
    const result = decision.result;
    if (this.#unplannable.length > 0) {
      const violations: PolicyViolation[] = this.#unplannable.map(({ policy, problem }) =>
        Object.freeze({
          policyId: policy.policyId,
          policyName: policy.name,
          description: policy.description,
          action: 'deny',
          reason: `evaluation failed (fail closed): the residency guard cannot plan it: ${problem}`,
        }),
      );
      const required = result.requiredActions.includes('audit')
        ? result.requiredActions
        : [...result.requiredActions, 'audit' as const];
      return Object.freeze({
        allowed: false,
        violations: Object.freeze([...violations, ...result.violations]),
        requiredActions: Object.freeze(required),
        auditMessage: `denied ${context.operationType} of '${context.resourceId}' on '${request.node.nodeId}': ${violations.length} data-residency policies cannot be evaluated`,
        policySetVersion: this.#set.version,
      });
    }
    return Object.freeze({
      allowed: result.isAllowed,
      violations: result.violations,
      requiredActions: result.requiredActions,
      auditMessage: `${result.auditMessage ?? ''} (target node '${request.node.nodeId}' in '${request.node.region}')`,
      policySetVersion: this.#set.version,
    });
  }

  #context(request: ResidencyRequest): GovernanceContext {
    if (typeof request !== 'object' || (request as unknown) === null) {
      invalid('a residency request must be an object');
    }
    const { resource, node } = request;
    if (typeof resource !== 'object' || (resource as unknown) === null) {
      invalid('resource must be an object');
    }
    if (typeof node !== 'object' || (node as unknown) === null) invalid('node must be an object');
    if (typeof node.nodeId !== 'string' || node.nodeId.length === 0) {
      invalid('node.nodeId must be a non-empty string');
    }
    if (typeof node.region !== 'string' || node.region.length === 0) {
      invalid('node.region must be a non-empty string');
    }
    const operation = request.operation ?? 'place';
    if ((operation as string) !== 'place' && operation !== 'replicate') {
      invalid("operation must be 'place' or 'replicate'");
    }
    const metadata: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.metadata ?? {})) {
      if (key === TARGET_NODE || key === TARGET_REGION || key.startsWith(TARGET_LABEL)) {
        invalid(`metadata may not set '${key}': the guard sets the target keys from the node`);
      }
      metadata[key] = value;
    }
    metadata[TARGET_NODE] = node.nodeId;
    metadata[TARGET_REGION] = node.region;
    for (const [key, value] of Object.entries(node.labels ?? {})) {
      metadata[`${TARGET_LABEL}${key}`] = value;
    }
    const { resourceId, ...attributes } = resource;
    return {
      operationType: operation,
      resourceId,
      metadata,
      resource: attributes,
      ...(request.userId === undefined ? {} : { userId: request.userId }),
      ...(request.user === undefined ? {} : { user: request.user }),
    };
  }

  /** Re-plans when the registered residency policies changed (by identity). */
  #refresh(all: readonly GovernancePolicy[]): void {
    const residency = all.filter((policy) => policy.type === 'data-residency');
    if (
      residency.length === this.#lastPolicies.length &&
      residency.every((policy, i) => policy === this.#lastPolicies[i])
    ) {
      return;
    }
    const planned: PlannedPolicy[] = [];
    const unplannable: { policy: GovernancePolicy; problem: string }[] = [];
    // getActivePolicies lists highest priority first with ties in registration order; the
    // set plan sorts stably by priority, so this order is kept.
    for (const policy of residency) {
      let plan = this.#planned.get(policy);
      if (plan === undefined) {
        try {
          plan = planPolicy(policy, this.#limits);
        } catch (error) {
          if (!(error instanceof ExpressionProblem)) throw error;
          plan = error;
        }
        this.#planned.set(policy, plan);
      }
      if (plan instanceof ExpressionProblem) {
        if (policy.isEnabled) unplannable.push({ policy, problem: plan.message });
      } else {
        planned.push(plan);
      }
    }
    this.#lastPolicies = residency;
    this.#set = planPolicySet(planned, this.#set.version + 1);
    this.#unplannable = Object.freeze(unplannable);
  }
}
