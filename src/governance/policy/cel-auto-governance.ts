/**
 * {@link CelAutoGovernance}: the full {@link AutoGovernance}, with policy expressions in CEL
 * (the Common Expression Language), checked once at registration, compiled into closures
 * where possible, indexed by operation and path prefix, bounded in cost, and failing
 * closed. The rules are written down in `docs/governance.md`.
 *
 * @packageDocumentation
 */

import {
  type AutoGovernance,
  type GovernanceContext,
  type GovernanceEvent,
  type GovernanceEventType,
  type GovernancePolicy,
  type PolicyEvaluationResult,
} from '../../contracts/auto-governance.js';
import type { CallOptions, Listener, Unsubscribe } from '../../contracts/common.js';
import { DistributedError } from '../../contracts/errors.js';
import { EventHub } from '../../core/events.js';
import type { PolicyGuards } from '../../core/governance/policy-index.js';
import { resolveEmbeddedOptions, type EmbeddedOptions } from '../../inmemory/options.js';
import { ExpressionProblem } from './check.js';
import {
  decide,
  planPolicy,
  planPolicySet,
  type CandidateTrace,
  type Decision,
  type PlanLimits,
  type PlannedPolicy,
  type PolicySetPlan,
} from './planner.js';
import { toActivation } from './schema.js';
import { checkPolicyFields } from '../../core/governance/policy-fields.js';

/**
 * Options for {@link CelAutoGovernance}. Every bound has a default.
 *
 * @since 2.0.0
 */
export interface CelAutoGovernanceOptions extends EmbeddedOptions {
  /** How many policies may be registered at once (`CAPACITY_EXCEEDED` beyond). Default 1024. */
  readonly maxPolicies?: number;
  /** The longest expression accepted, in characters (`INVALID_ARGUMENT` beyond). Default 4096. */
  readonly maxExpressionLength?: number;
  /**
   * The cost bound of one policy's evaluation, in cost units: one per expression node, plus,
   * per loop iteration, the nodes of the loop's condition and step. An evaluation that
   * would exceed it fails closed. Default 10,000.
   */
  readonly maxEvaluationCost?: number;
  /** The most items of `resource.labels` and `user.roles` in a context. Default 256. */
  readonly maxListItems?: number;
  /** The most entries of `metadata` and `user.attributes` in a context. Default 256. */
  readonly maxMapEntries?: number;
}

/** The defaults of {@link CelAutoGovernanceOptions}. */
const DEFAULTS = Object.freeze({
  maxPolicies: 1024,
  maxExpressionLength: 4096,
  maxEvaluationCost: 10_000,
  maxListItems: 256,
  maxMapEntries: 256,
});

/**
 * One registered policy as `explain` describes it when the index skipped it.
 *
 * @since 2.0.0
 */
export interface SkippedPolicy {
  /** The policy's id. */
  readonly policyId: string;
  /** The guards that ruled it out. */
  readonly guards: PolicyGuards;
}

/**
 * A decision with its trace, from {@link CelAutoGovernance.explain}.
 *
 * @since 2.0.0
 */
export interface PolicyExplanation {
  /** The decision, as `evaluate` would return it. */
  readonly result: PolicyEvaluationResult;
  /** The policy set version the decision was made with. */
  readonly policySetVersion: number;
  /** The `now` the policies saw, epoch milliseconds. */
  readonly evaluatedAt: number;
  /** Every candidate policy the index chose, in evaluation order, with its outcome. */
  readonly candidates: readonly CandidateTrace[];
  /** The enabled policies the index ruled out, with the guards that did. */
  readonly skipped: readonly SkippedPolicy[];
  /** The ids of the disabled policies, never considered. */
  readonly disabled: readonly string[];
}

/**
 * What {@link CelAutoGovernance.describePolicy} tells about one registered policy.
 *
 * @since 2.0.0
 */
export interface PolicyPlanInfo {
  /** The policy's id. */
  readonly policyId: string;
  /** Whether its expression is compiled into closures (else evaluated by the library). */
  readonly compiled: boolean;
  /** Why it is not compiled, when it is not. */
  readonly uncompiledReason?: string;
  /** Its index guards. */
  readonly guards: PolicyGuards;
  /** Its node count (its cost without loops). */
  readonly nodeCount: number;
}

function invalid(message: string): never {
  throw new DistributedError('INVALID_ARGUMENT', message);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) invalid(`${name} must be a positive integer`);
  return value;
}

/**
 * Governance with CEL policies. See `docs/governance.md` for the variables a policy sees,
 * how policies combine, how failures fail closed and how the index works.
 *
 * - Registering checks the expression once: a malformed one, or one naming an unknown
 *   variable, field or function, is refused with `INVALID_POLICY_EXPRESSION` and its
 *   `line:column`; nothing is registered.
 * - Every change increments {@link CelAutoGovernance.policySetVersion}.
 * - {@link CelAutoGovernance.evaluateSync} is the synchronous core of `evaluate`;
 *   {@link CelAutoGovernance.explain} adds a trace and emits nothing.
 *
 * @since 2.0.0
 */
export class CelAutoGovernance implements AutoGovernance {
  /** How many policies may be registered at once. */
  readonly maxPolicies: number;
  /** The longest expression accepted, in characters. */
  readonly maxExpressionLength: number;
  readonly #limits: PlanLimits;
  readonly #events: EventHub<GovernanceEvent>;
  readonly #now: () => number;
  // Registration order, which breaks priority ties.
  readonly #registered = new Map<string, PlannedPolicy>();
  #plan: PolicySetPlan;

  /**
   * @param options - Bounds and clock; everything has a default.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` when a bound is not a positive integer.
   */
  constructor(options: CelAutoGovernanceOptions = {}) {
    const resolved = resolveEmbeddedOptions(options);
    this.#now = resolved.now;
    this.#events = new EventHub(resolved.onListenerError);
    this.maxPolicies = positiveInteger('maxPolicies', options.maxPolicies ?? DEFAULTS.maxPolicies);
    this.maxExpressionLength = positiveInteger(
      'maxExpressionLength',
      options.maxExpressionLength ?? DEFAULTS.maxExpressionLength,
    );
    this.#limits = Object.freeze({
      maxEvaluationCost: positiveInteger(
        'maxEvaluationCost',
        options.maxEvaluationCost ?? DEFAULTS.maxEvaluationCost,
      ),
      maxListItems: positiveInteger('maxListItems', options.maxListItems ?? DEFAULTS.maxListItems),
      maxMapEntries: positiveInteger(
        'maxMapEntries',
        options.maxMapEntries ?? DEFAULTS.maxMapEntries,
      ),
    });
    this.#plan = planPolicySet([], 0);
  }

  /** The cost bound of one policy's evaluation. */
  get maxEvaluationCost(): number {
    return this.#limits.maxEvaluationCost;
  }

  /**
   * The version of the policy set: 0 when empty and never changed, incremented by every
   * registration and deregistration.
   */
  get policySetVersion(): number {
    return this.#plan.version;
  }

  /**
   * Subscribes to governance events.
   *
   * @param listener - Called with every governance event.
   */
  onGovernanceEvent(listener: Listener<GovernanceEvent>): Unsubscribe {
    return this.#events.subscribe(listener);
  }

  /**
   * Checks an operation against the enabled policies; see {@link CelAutoGovernance.evaluateSync}.
   *
   * @param context - The operation to check.
   * @param options - Cancellation.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a malformed context.
   */
  async evaluate(
    context: GovernanceContext,
    options?: CallOptions,
  ): Promise<PolicyEvaluationResult> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    return this.evaluateSync(context);
  }

  /**
   * Checks an operation against the enabled policies, synchronously. Emits, highest
   * priority first, `policy-violated` for each violation and `policy-evaluated` for every
   * other applying policy, with the resource and, as `detail`, the operation (and, for a
   * policy that failed closed, `evaluation failed (fail closed): <reason>`).
   *
   * @param context - The operation to check.
   * @returns Whether it is allowed, why not, and what it requires.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a malformed context.
   */
  evaluateSync(context: GovernanceContext): PolicyEvaluationResult {
    const now = this.#now();
    const activation = toActivation(context, now, this.#limits);
    const decision = decide(this.#plan, activation, this.#limits);
    if (this.#events.size > 0) this.#emitDecision(context, decision, now);
    return decision.result;
  }

  /**
   * Decides like `evaluate` and explains how, emitting nothing: which policies the index
   * made candidates (and which it ruled out, by which guards), what each candidate's
   * expression gave and why, and which applied and were violations. For `dw policy test`.
   *
   * @param context - The operation to check.
   * @param options - Cancellation.
   * @returns The decision and its trace.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a malformed context.
   */
  async explain(context: GovernanceContext, options?: CallOptions): Promise<PolicyExplanation> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    const set = this.#plan;
    const now = this.#now();
    const activation = toActivation(context, now, this.#limits);
    const decision = decide(set, activation, { ...this.#limits, trace: true });
    const candidates = decision.trace ?? [];
    const seen = new Set(candidates.map((each) => each.policyId));
    const skipped: SkippedPolicy[] = [];
    const disabled: string[] = [];
    for (const planned of set.ordered) {
      const { policyId, isEnabled } = planned.policy;
      if (!isEnabled) disabled.push(policyId);
      else if (!seen.has(policyId))
        skipped.push(Object.freeze({ policyId, guards: planned.guards }));
    }
    return Object.freeze({
      result: decision.result,
      policySetVersion: set.version,
      evaluatedAt: now,
      candidates: Object.freeze(candidates),
      skipped: Object.freeze(skipped),
      disabled: Object.freeze(disabled),
    });
  }

  /**
   * Every registered policy, enabled or not, highest priority first (equal priorities in
   * registration order).
   *
   * @param options - Cancellation.
   */
  async getActivePolicies(options?: CallOptions): Promise<readonly GovernancePolicy[]> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    return Object.freeze(this.#plan.ordered.map((planned) => planned.policy));
  }

  /**
   * How a registered policy is planned: compiled or not, its guards and its size.
   *
   * @param policyId - The policy.
   * @returns Its plan, or `undefined` when no policy has that id.
   */
  describePolicy(policyId: string): PolicyPlanInfo | undefined {
    const planned = this.#registered.get(policyId);
    if (planned === undefined) return undefined;
    return Object.freeze({
      policyId,
      compiled: planned.compiled !== undefined,
      ...(planned.uncompiledReason === undefined
        ? {}
        : { uncompiledReason: planned.uncompiledReason }),
      guards: planned.guards,
      nodeCount: planned.checked.nodeCount,
    });
  }

  /**
   * Validates, checks, plans and registers a policy, and emits `policy-registered` (its
   * `detail` names the new policy set version).
   *
   * @param policy - The policy to register; a frozen copy is kept.
   * @param options - Cancellation.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a malformed policy or an
   *   expression longer than `maxExpressionLength`; `POLICY_EXISTS` for a registered id;
   *   `INVALID_POLICY_EXPRESSION` (message with `line:column`) for an expression that does
   *   not parse, names an unknown variable, field or function, is not a bool, or can never
   *   be evaluated within `maxEvaluationCost`; `CAPACITY_EXCEEDED` when `maxPolicies` are
   *   registered. Nothing is registered when it throws.
   */
  async registerPolicy(policy: GovernancePolicy, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    this.#validatePolicy(policy);
    if (this.#registered.has(policy.policyId)) {
      throw new DistributedError(
        'POLICY_EXISTS',
        `a policy with id '${policy.policyId}' is already registered; deregister it first to replace it`,
      );
    }
    const stored: GovernancePolicy = Object.freeze({
      policyId: policy.policyId,
      name: policy.name,
      description: policy.description,
      type: policy.type,
      expression: policy.expression,
      action: policy.action,
      priority: policy.priority,
      isEnabled: policy.isEnabled,
    });
    let planned: PlannedPolicy;
    try {
      planned = planPolicy(stored, this.#limits);
    } catch (error) {
      if (error instanceof ExpressionProblem) {
        throw new DistributedError(
          'INVALID_POLICY_EXPRESSION',
          `policy '${stored.policyId}': invalid expression at ${error.message}`,
          { cause: error },
        );
      }
      throw error;
    }
    if (this.#registered.size >= this.maxPolicies) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `cannot register policy '${stored.policyId}': ${this.maxPolicies} policies are ` +
          'registered, the most allowed (maxPolicies)',
      );
    }
    this.#registered.set(stored.policyId, planned);
    this.#replan();
    this.#emit('policy-registered', stored.policyId);
  }

  /**
   * Removes a policy and emits `policy-deregistered` (its `detail` names the new policy set
   * version).
   *
   * @param policyId - The policy to remove.
   * @param options - Cancellation.
   * @throws A {@link DistributedError} `POLICY_NOT_FOUND` when no policy has that id;
   *   `INVALID_ARGUMENT` for an empty or non-string id.
   */
  async deregisterPolicy(policyId: string, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    if (typeof policyId !== 'string' || policyId.length === 0) {
      invalid('policyId must be a non-empty string');
    }
    if (!this.#registered.delete(policyId)) {
      throw new DistributedError(
        'POLICY_NOT_FOUND',
        `no policy with id '${policyId}' is registered`,
      );
    }
    this.#replan();
    this.#emit('policy-deregistered', policyId);
  }

  #replan(): void {
    this.#plan = planPolicySet([...this.#registered.values()], this.#plan.version + 1);
  }

  #emit(eventType: GovernanceEventType, policyId: string): void {
    this.#events.emit(
      Object.freeze({
        eventType,
        policyId,
        timestamp: this.#now(),
        detail: `policy set version ${this.#plan.version}`,
      }),
    );
  }

  #emitDecision(context: GovernanceContext, decision: Decision, timestamp: number): void {
    for (const applied of decision.applied) {
      this.#events.emit(
        Object.freeze({
          eventType: applied.violated ? 'policy-violated' : 'policy-evaluated',
          policyId: applied.policy.policyId,
          resourceId: context.resourceId,
          timestamp,
          detail:
            applied.failure === undefined
              ? context.operationType
              : `${context.operationType}: evaluation failed (fail closed): ${applied.failure}`,
        }),
      );
    }
  }

  #validatePolicy(policy: GovernancePolicy): void {
    checkPolicyFields(policy);
    if (policy.expression.length > this.maxExpressionLength) {
      invalid(
        `expression has ${policy.expression.length} characters, more than maxExpressionLength (${this.maxExpressionLength})`,
      );
    }
  }
}
