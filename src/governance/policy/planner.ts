/**
 * The pure planner of CEL governance: plans each policy once (check, compile, guards,
 * cost), plans a policy set (evaluation order and index), and decides one request against
 * a planned set. No clock, no I/O, no events: the caller passes the time in the activation
 * and emits events from the returned {@link Decision}, so the same planner serves the
 * `CelAutoGovernance` class, `dw policy test` and a replicated policy set.
 *
 * @packageDocumentation
 */

import { celEnv, isCelError, plan, type CelInput, type CelResult } from '@bufbuild/cel';
import type {
  GovernanceAction,
  GovernancePolicy,
  PolicyEvaluationResult,
  PolicyViolation,
} from '../../contracts/auto-governance.js';
import {
  buildPolicyIndex,
  indexCandidates,
  type PolicyGuards,
  type PolicyIndex,
} from '../../core/governance/policy-index.js';
import {
  checkExpression,
  ExpressionProblem,
  type CelExpr,
  type CheckedExpression,
} from './check.js';
import {
  compileExpression,
  EvaluationFailure,
  uncompiledReason,
  type CompiledExpression,
  type CostMeter,
} from './compile.js';
import { findGuards } from './guards.js';
import { toCelBindings, type Activation, type ContextLimits } from './schema.js';

/**
 * The bounds a plan and its evaluations respect.
 *
 * @since 2.0.0
 */
export interface PlanLimits extends ContextLimits {
  /**
   * The most one policy's evaluation may cost, in cost units: one per expression node,
   * plus, per loop iteration, the nodes of the loop's condition and step.
   */
  readonly maxEvaluationCost: number;
}

/**
 * One policy, planned once at registration.
 *
 * @since 2.0.0
 */
export interface PlannedPolicy {
  /** The policy. */
  readonly policy: GovernancePolicy;
  /** Its checked expression. */
  readonly checked: CheckedExpression;
  /** The compiled closure, when the expression is in the compiled subset. */
  readonly compiled: CompiledExpression | undefined;
  /** Why it is not compiled, when it is not. */
  readonly uncompiledReason?: string;
  /** The library's planned program: the reference, and the evaluator when not compiled. */
  readonly program: (bindings: Record<string, CelInput>) => CelResult;
  /**
   * The worst-case cost of a library evaluation given the context limits, for an
   * uncompiled expression; `undefined` for a compiled one, which is metered as it runs.
   */
  readonly worstCaseCost: number | undefined;
  /** Its index guards. */
  readonly guards: PolicyGuards;
}

const ENV = celEnv();

/**
 * Plans one policy: parses, checks, compiles (or plans with the library) and finds its
 * guards.
 *
 * @param policy - The policy (already validated as a record).
 * @param limits - The bounds.
 * @returns The planned policy.
 * @throws `ExpressionProblem` for an expression that does not parse or check, or
 *   that can never be evaluated within `maxEvaluationCost`.
 * @since 2.0.0
 */
export function planPolicy(policy: GovernancePolicy, limits: PlanLimits): PlannedPolicy {
  const checked = checkExpression(policy.expression);
  if (checked.nodeCount > limits.maxEvaluationCost) {
    throw new ExpressionProblem(
      1,
      1,
      `the expression has ${checked.nodeCount} nodes, more than maxEvaluationCost (${limits.maxEvaluationCost}) allows`,
    );
  }
  const compiled = compileExpression(checked);
  const program = plan(ENV, checked.parsed) as (bindings: Record<string, CelInput>) => CelResult;
  let worstCaseCost: number | undefined;
  if (compiled === undefined) {
    worstCaseCost = estimateCost(checked.parsed.expr, limits);
    if (worstCaseCost > limits.maxEvaluationCost) {
      throw new ExpressionProblem(
        1,
        1,
        Number.isFinite(worstCaseCost)
          ? `its worst-case cost ${worstCaseCost} exceeds maxEvaluationCost (${limits.maxEvaluationCost})`
          : 'its cost cannot be bounded: loop over resource.labels, user.roles, a map or a list literal',
      );
    }
  }
  const reason = compiled === undefined ? uncompiledReason(checked) : undefined;
  return Object.freeze({
    policy,
    checked,
    compiled,
    ...(reason === undefined ? {} : { uncompiledReason: reason }),
    program,
    worstCaseCost,
    guards: findGuards(checked.parsed.expr),
  });
}

/**
 * An upper bound on the cost of evaluating an expression with the library, given the
 * context limits: `Infinity` when a loop runs over something without a bound.
 *
 * @param node - The expression.
 * @param limits - The context limits.
 * @returns The bound.
 * @since 2.0.0
 */
export function estimateCost(node: CelExpr, limits: ContextLimits): number {
  const kind = node.exprKind;
  switch (kind.case) {
    case 'selectExpr':
      return 1 + (kind.value.operand === undefined ? 0 : estimateCost(kind.value.operand, limits));
    case 'callExpr':
      return (
        1 +
        (kind.value.target === undefined ? 0 : estimateCost(kind.value.target, limits)) +
        kind.value.args.reduce((sum, arg) => sum + estimateCost(arg, limits), 0)
      );
    case 'listExpr':
      return 1 + kind.value.elements.reduce((sum, each) => sum + estimateCost(each, limits), 0);
    case 'structExpr':
      return (
        1 +
        kind.value.entries.reduce(
          (sum, entry) =>
            sum +
            (entry.keyKind.case === 'mapKey' ? estimateCost(entry.keyKind.value, limits) : 0) +
            (entry.value === undefined ? 0 : estimateCost(entry.value, limits)),
          0,
        )
      );
    case 'comprehensionExpr': {
      const loop = kind.value;
      const part = (each: CelExpr | undefined) =>
        each === undefined ? 0 : estimateCost(each, limits);
      const iterations = loop.iterRange === undefined ? 0 : rangeBound(loop.iterRange, limits);
      return (
        1 +
        part(loop.iterRange) +
        part(loop.accuInit) +
        part(loop.result) +
        iterations * (part(loop.loopCondition) + part(loop.loopStep))
      );
    }
    default:
      return 1;
  }
}

/** How many items a loop's range can have at most. */
function rangeBound(node: CelExpr, limits: ContextLimits): number {
  const kind = node.exprKind;
  switch (kind.case) {
    case 'listExpr':
      return kind.value.elements.length;
    case 'identExpr':
      return kind.value.name === 'request' ? limits.maxMapEntries : Number.POSITIVE_INFINITY;
    case 'selectExpr': {
      const operand = kind.value.operand?.exprKind;
      const owner = operand?.case === 'identExpr' ? operand.value.name : undefined;
      const field = kind.value.field;
      if (owner === 'resource' && field === 'labels') return limits.maxListItems;
      if (owner === 'user' && field === 'roles') return limits.maxListItems;
      if (owner === 'user' && field === 'attributes') return limits.maxMapEntries;
      return Number.POSITIVE_INFINITY;
    }
    case 'comprehensionExpr':
      // map() and filter() produce at most one item per item of their range.
      return kind.value.iterRange === undefined ? 0 : rangeBound(kind.value.iterRange, limits);
    case 'callExpr': {
      const [x, y, z] = kind.value.args;
      if (kind.value.function === '_+_' && x !== undefined && y !== undefined) {
        return rangeBound(x, limits) + rangeBound(y, limits);
      }
      if (kind.value.function === '_?_:_' && y !== undefined && z !== undefined) {
        return Math.max(rangeBound(y, limits), rangeBound(z, limits));
      }
      return Number.POSITIVE_INFINITY;
    }
    default:
      return Number.POSITIVE_INFINITY;
  }
}

/**
 * What evaluating one policy gave.
 *
 * @since 2.0.0
 */
export interface PolicyOutcomeDetail {
  /** `holds`, `does-not-hold` or `failed`. */
  readonly outcome: 'holds' | 'does-not-hold' | 'failed';
  /** Why it failed, when it did. */
  readonly reason?: string;
  /** Whether the failure was the cost bound. */
  readonly costExceeded?: boolean;
}

const HOLDS: PolicyOutcomeDetail = Object.freeze({ outcome: 'holds' });
const DOES_NOT_HOLD: PolicyOutcomeDetail = Object.freeze({ outcome: 'does-not-hold' });

/**
 * Evaluates one planned policy's expression.
 *
 * @param planned - The policy.
 * @param activation - The values.
 * @param limits - The cost bound.
 * @param mode - `auto` (compiled when possible), `library` (always the library).
 * @param bindings - A cache for the library's bindings of this activation.
 * @returns The outcome.
 * @since 2.0.0
 */
export function evaluatePolicy(
  planned: PlannedPolicy,
  activation: Activation,
  limits: Pick<PlanLimits, 'maxEvaluationCost'>,
  mode: 'auto' | 'library' = 'auto',
  bindings?: { value?: Record<string, CelInput> },
): PolicyOutcomeDetail {
  const compiled = mode === 'auto' ? planned.compiled : undefined;
  if (compiled !== undefined) {
    const meter: CostMeter = { steps: 0, limit: limits.maxEvaluationCost };
    let value: unknown;
    try {
      value = compiled(activation, meter);
    } catch (error) {
      return failureOf(error);
    }
    return outcomeOf(value);
  }
  const cost = planned.worstCaseCost ?? planned.checked.nodeCount;
  if (mode === 'auto' && cost > limits.maxEvaluationCost) {
    return Object.freeze({
      outcome: 'failed',
      reason: `worst-case cost ${cost} exceeds the bound ${limits.maxEvaluationCost}`,
      costExceeded: true,
    });
  }
  const cache = bindings ?? {};
  cache.value ??= toCelBindings(activation);
  let value: unknown;
  try {
    value = planned.program(cache.value);
  } catch (error) {
    return Object.freeze({ outcome: 'failed', reason: `internal error: ${String(error)}` });
  }
  if (isCelError(value)) return Object.freeze({ outcome: 'failed', reason: value.message });
  return outcomeOf(value);
}

/** The outcome of a compiled evaluation that threw `error` or gave the non-bool `error`. */
function failureOf(error: unknown): PolicyOutcomeDetail {
  if (error instanceof EvaluationFailure) {
    return Object.freeze({
      outcome: 'failed',
      reason: error.message,
      ...(error.costExceeded ? { costExceeded: true } : {}),
    });
  }
  if (error instanceof Error) {
    return Object.freeze({ outcome: 'failed', reason: `internal error: ${error.message}` });
  }
  return Object.freeze({ outcome: 'failed', reason: 'the expression did not give a bool' });
}

function outcomeOf(value: unknown): PolicyOutcomeDetail {
  if (value === true) return HOLDS;
  if (value === false) return DOES_NOT_HOLD;
  return Object.freeze({ outcome: 'failed', reason: 'the expression did not give a bool' });
}

/**
 * A planned policy set: the policies in evaluation order and their index.
 *
 * @since 2.0.0
 */
export interface PolicySetPlan {
  /** The version of the set this plan was made from. */
  readonly version: number;
  /** Every registered policy, highest priority first, ties in registration order. */
  readonly ordered: readonly PlannedPolicy[];
  /** The positions in `ordered` of the enabled policies. */
  readonly enabled: readonly number[];
  /** The index over the enabled policies, by position in `ordered`. */
  readonly index: PolicyIndex;
}

/**
 * Plans a policy set.
 *
 * @param registered - The planned policies in registration order.
 * @param version - The policy set's version.
 * @returns The plan.
 * @since 2.0.0
 */
export function planPolicySet(
  registered: readonly PlannedPolicy[],
  version: number,
): PolicySetPlan {
  // Array.prototype.sort is stable: equal priorities keep registration order.
  const ordered = [...registered].sort((a, b) => b.policy.priority - a.policy.priority);
  const enabled: number[] = [];
  ordered.forEach((planned, order) => {
    if (planned.policy.isEnabled) enabled.push(order);
  });
  const index = buildPolicyIndex(
    enabled.map((order) => ({ order, guards: (ordered[order] as PlannedPolicy).guards })),
  );
  return Object.freeze({
    version,
    ordered: Object.freeze(ordered),
    enabled: Object.freeze(enabled),
    index,
  });
}

/**
 * How one policy took part in a decision.
 *
 * @since 2.0.0
 */
export interface AppliedPolicy {
  /** The policy. */
  readonly policy: GovernancePolicy;
  /** Whether it is one of the decision's violations. */
  readonly violated: boolean;
  /** Why its evaluation failed, when it applied because it failed (fail closed). */
  readonly failure?: string;
}

/**
 * One candidate policy's part in a decision, for traces.
 *
 * @since 2.0.0
 */
export interface CandidateTrace {
  /** The policy's id. */
  readonly policyId: string;
  /** Its priority. */
  readonly priority: number;
  /** Its action. */
  readonly action: GovernanceAction;
  /** Its expression. */
  readonly expression: string;
  /** What its expression gave. */
  readonly outcome: 'holds' | 'does-not-hold' | 'failed';
  /** Why it failed, when it did. */
  readonly reason?: string;
  /** Whether it was evaluated by compiled closures (else by the library). */
  readonly compiled: boolean;
  /** Whether it applied. */
  readonly applied: boolean;
  /** Whether it is a violation. */
  readonly violated: boolean;
}

/**
 * A decision and how it was reached.
 *
 * @since 2.0.0
 */
export interface Decision {
  /** The answer for the caller. */
  readonly result: PolicyEvaluationResult;
  /** Every applying policy, in evaluation order. */
  readonly applied: readonly AppliedPolicy[];
  /** Every candidate evaluated, in evaluation order; present when a trace was asked for. */
  readonly trace?: readonly CandidateTrace[];
  /** How many enabled policies the index let the decision skip. */
  readonly skipped: number;
}

/**
 * Options of {@link decide}.
 *
 * @since 2.0.0
 */
export interface DecideOptions {
  /** The cost bound of each policy's evaluation. */
  readonly maxEvaluationCost: number;
  /** Whether to use the index (default) or evaluate every enabled policy. */
  readonly useIndex?: boolean;
  /** `auto` (compiled when possible, the default) or `library` (the reference). */
  readonly mode?: 'auto' | 'library';
  /** Whether to record a trace of every candidate. */
  readonly trace?: boolean;
}

const OBLIGATION = new Set<GovernanceAction>(['audit', 'quarantine', 'encrypt', 'notify']);

/**
 * Decides one request against a planned policy set, by the rules of `docs/governance.md`
 * (the same as `combinePolicies` with `failedPolicy: 'denies'`).
 *
 * @param set - The planned set.
 * @param activation - The request's values.
 * @param options - The cost bound, and whether to use the index and trace.
 * @returns The decision.
 * @since 2.0.0
 */
export function decide(
  set: PolicySetPlan,
  activation: Activation,
  options: DecideOptions,
): Decision {
  const useIndex = options.useIndex ?? true;
  const mode = options.mode ?? 'auto';
  const candidates = useIndex
    ? indexCandidates(set.index, activation.operation, activation.resource.path, [])
    : set.enabled;
  const trace: CandidateTrace[] | undefined = options.trace === true ? [] : undefined;
  const applied: AppliedPolicy[] = [];
  const violations: PolicyViolation[] = [];
  const required: GovernanceAction[] = [];
  const failures: string[] = [];
  const bindings: { value?: Record<string, CelInput> } = {};
  const meter: CostMeter = { steps: 0, limit: options.maxEvaluationCost };
  let firstAllow: GovernancePolicy | undefined;
  let firstViolation: GovernancePolicy | undefined;
  for (const order of candidates) {
    const planned = set.ordered[order] as PlannedPolicy;
    const policy = planned.policy;
    const compiled = mode === 'auto' ? planned.compiled : undefined;
    let detail: PolicyOutcomeDetail;
    if (compiled !== undefined) {
      // The hot path: compiled closures, inline, with one meter per decision.
      meter.steps = 0;
      let value: unknown;
      try {
        value = compiled(activation, meter);
      } catch (error) {
        value = error;
      }
      detail = value === true ? HOLDS : value === false ? DOES_NOT_HOLD : failureOf(value);
    } else {
      detail = evaluatePolicy(planned, activation, options, mode, bindings);
    }
    const failed = detail.outcome === 'failed';
    const applies = failed || detail.outcome === 'holds';
    let violated = false;
    if (applies) {
      const action = policy.action;
      if (OBLIGATION.has(action) && !required.includes(action)) required.push(action);
      if (failed) {
        if (!required.includes('audit')) required.push('audit');
        failures.push(`'${policy.policyId}': ${detail.reason ?? ''}`);
      }
      if (!failed && action === 'allow') {
        firstAllow ??= policy;
      } else if (failed || action === 'deny') {
        // Candidates come highest priority first, so an allow seen earlier overrides
        // this deny exactly when its priority is strictly higher.
        violated = firstAllow === undefined || firstAllow.priority <= policy.priority;
        if (violated) {
          firstViolation ??= policy;
          violations.push(
            Object.freeze({
              policyId: policy.policyId,
              policyName: policy.name,
              description: policy.description,
              action: 'deny',
              ...(failed
                ? { reason: `evaluation failed (fail closed): ${detail.reason ?? ''}` }
                : {}),
            }),
          );
        }
      }
      // Internal records, read by the caller to emit events: not frozen, to spare the time.
      applied.push(
        failed ? { policy, violated, failure: detail.reason ?? '' } : { policy, violated },
      );
    }
    if (trace !== undefined) {
      trace.push(
        Object.freeze({
          policyId: policy.policyId,
          priority: policy.priority,
          action: policy.action,
          expression: policy.expression,
          outcome: detail.outcome,
          ...(detail.reason === undefined ? {} : { reason: detail.reason }),
          compiled: mode === 'auto' && planned.compiled !== undefined,
          applied: applies,
          violated,
        }),
      );
    }
  }
  const operation = `${activation.operation} on '${activation.resourceId}'`;
  const note =
    failures.length === 0 ? '' : `; evaluation failed (fail closed) for ${failures.join(', ')}`;
  const result: PolicyEvaluationResult =
    firstViolation !== undefined
      ? {
          isAllowed: false,
          violations: Object.freeze(violations),
          requiredActions: Object.freeze(required),
          auditMessage: `denied ${operation} by policy '${firstViolation.policyId}' (priority ${firstViolation.priority})${note}`,
        }
      : {
          isAllowed: true,
          violations: Object.freeze([]),
          requiredActions: Object.freeze(required),
          auditMessage:
            firstAllow === undefined
              ? `allowed ${operation}: no allow or deny policy applies${note}`
              : `allowed ${operation} by policy '${firstAllow.policyId}' (priority ${firstAllow.priority})${note}`,
        };
  return {
    result: Object.freeze(result),
    applied,
    ...(trace === undefined ? {} : { trace }),
    skipped: set.enabled.length - candidates.length,
  };
}
