/**
 * {@link RetentionRuleSet}: a validated set of retention rules whose `expression` scopes
 * are CEL, checked and planned once with the governance planner, and the bridge from a
 * resolution to the {@link GovernanceContext} a CEL policy sees.
 *
 * @packageDocumentation
 */

import type {
  GovernanceContext,
  GovernancePolicy,
  GovernanceResourceAttributes,
  GovernanceUserAttributes,
} from '../../contracts/auto-governance.js';
import { DistributedError } from '../../contracts/errors.js';
import {
  resolveRetention,
  retentionAttributes,
  type ScopeOutcome,
} from '../../core/governance/retention/resolve.js';
import {
  validateRetentionRules,
  validateRetentionSubject,
  type RetentionRuleLimits,
} from '../../core/governance/retention/rules.js';
import type {
  RetentionResolution,
  RetentionRule,
  RetentionSubject,
} from '../../core/governance/retention/types.js';
import { ExpressionProblem } from '../policy/check.js';
import {
  evaluatePolicy,
  planPolicy,
  type PlanLimits,
  type PlannedPolicy,
} from '../policy/planner.js';
import { toActivation, type Activation } from '../policy/schema.js';

/**
 * Options of a {@link RetentionRuleSet}.
 *
 * @since 2.0.0
 */
export interface RetentionRuleSetOptions extends RetentionRuleLimits {
  /** The cost bound of one scope expression's evaluation (as for policies). Default 10,000. */
  readonly maxEvaluationCost?: number;
  /** The most labels of a subject an expression scope sees. Default 256. */
  readonly maxListItems?: number;
}

/**
 * Who performs an operation and its request metadata, for {@link RetentionRuleSet.context}.
 *
 * @since 2.0.0
 */
export interface RetentionContextExtras {
  /** The user's id, when known. */
  readonly userId?: string;
  /** What is known of the user. */
  readonly user?: GovernanceUserAttributes;
  /** The request metadata. Default empty. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * The operation an expression scope sees (`operation == "retention"`).
 *
 * @since 2.0.0
 */
export const RETENTION_SCOPE_OPERATION = 'retention';

/**
 * The governance resource attributes of a retention subject, with the retention
 * attributes of its resolution when one is given (`resource.retention` in CEL).
 *
 * @param subject - The resource.
 * @param resolution - Its resolution, if known.
 * @since 2.0.0
 */
export function retentionResourceAttributes(
  subject: RetentionSubject,
  resolution?: RetentionResolution,
): GovernanceResourceAttributes {
  const lastAccessed = Math.max(
    subject.createdAt,
    subject.modifiedAt ?? subject.createdAt,
    subject.accessedAt ?? subject.createdAt,
  );
  return Object.freeze({
    ...(subject.path === undefined ? {} : { path: subject.path }),
    ...(subject.labels === undefined ? {} : { labels: subject.labels }),
    ...(subject.classification === undefined ? {} : { classification: subject.classification }),
    ...(subject.sizeBytes === undefined ? {} : { sizeBytes: subject.sizeBytes }),
    ...(subject.region === undefined ? {} : { region: subject.region }),
    createdAt: subject.createdAt,
    lastAccessedAt: lastAccessed,
    ...(resolution === undefined
      ? subject.legalHold === undefined
        ? {}
        : { retention: Object.freeze({ legalHold: subject.legalHold }) }
      : { retention: retentionAttributes(resolution) }),
  });
}

/**
 * Adds a resolution's retention attributes to a governance context, so CEL policies can
 * read `resource.retention.state`, `heldUntil` and `legalHold` (for example to deny
 * `delete` while a resource is retained).
 *
 * @param context - The context.
 * @param resolution - The resource's resolution.
 * @returns A new context; the other resource attributes are kept.
 * @since 2.0.0
 */
export function withRetention(
  context: GovernanceContext,
  resolution: RetentionResolution,
): GovernanceContext {
  return Object.freeze({
    ...context,
    resource: Object.freeze({
      ...(context.resource ?? {}),
      retention: retentionAttributes(resolution),
    }),
  });
}

/**
 * A set of retention rules, validated once; `expression` scopes are CEL over the same
 * variables as policies (`resource`, `now`; `operation` is `"retention"`, `user` and
 * `request` are empty), checked and planned once, bounded in cost. An expression that
 * fails to evaluate never brings a deletion forward (see `resolveRetention`).
 *
 * @example
 * ```ts
 * const rules = new RetentionRuleSet([
 *   { ruleId: 'finance-7y', kind: 'keep-for', from: 'created', durationMs: 7 * YEAR,
 *     scope: { kind: 'path-prefix', prefix: '/finance/' } },
 *   { ruleId: 'tmp-30d', kind: 'delete-after', from: 'accessed', durationMs: 30 * DAY,
 *     scope: { kind: 'expression', expression: 'resource.path.startsWith("/tmp/")' } },
 * ]);
 * rules.resolve(subject, clock.now()).state; // 'retained' | 'expired' | 'held' | 'none'
 * ```
 *
 * @since 2.0.0
 */
export class RetentionRuleSet {
  /** The rules, validated and frozen, in the given order. */
  readonly rules: readonly RetentionRule[];
  readonly #limits: PlanLimits;
  readonly #scopes = new Map<string, PlannedPolicy>();

  /**
   * @param rules - The rules.
   * @param options - Bounds.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a malformed rule or bound;
   *   `INVALID_POLICY_EXPRESSION` (with `line:column`) for an expression scope that does
   *   not parse or check.
   */
  constructor(rules: readonly RetentionRule[], options: RetentionRuleSetOptions = {}) {
    this.rules = validateRetentionRules(rules, options);
    const positive = (name: string, value: number) => {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new DistributedError('INVALID_ARGUMENT', `${name} must be a positive integer`);
      }
      return value;
    };
    this.#limits = Object.freeze({
      maxEvaluationCost: positive('maxEvaluationCost', options.maxEvaluationCost ?? 10_000),
      maxListItems: positive('maxListItems', options.maxListItems ?? 256),
      maxMapEntries: 1,
    });
    for (const rule of this.rules) {
      if (rule.scope.kind !== 'expression') continue;
      const policy: GovernancePolicy = {
        policyId: `retention-scope:${rule.ruleId}`,
        name: rule.ruleId,
        description: `scope of retention rule '${rule.ruleId}'`,
        type: 'retention',
        expression: rule.scope.expression,
        action: 'audit',
        priority: 0,
        isEnabled: true,
      };
      try {
        this.#scopes.set(rule.ruleId, planPolicy(policy, this.#limits));
      } catch (error) {
        if (error instanceof ExpressionProblem) {
          throw new DistributedError(
            'INVALID_POLICY_EXPRESSION',
            `retention rule '${rule.ruleId}': invalid scope expression at ${error.message}`,
            { cause: error },
          );
        }
        throw error;
      }
    }
  }

  /**
   * Resolves the retention of one resource at `now`.
   *
   * @param subject - The resource.
   * @param now - The time, epoch milliseconds.
   * @returns The resolution.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a malformed subject.
   */
  resolve(subject: RetentionSubject, now: number): RetentionResolution {
    validateRetentionSubject(subject);
    // One activation per resolution, built only when an expression scope needs it.
    let activation: Activation | Error | undefined;
    return resolveRetention(subject, this.rules, now, {
      evaluateScope: (rule, each) => {
        activation ??= this.#activation(each, now);
        return this.#evaluateScope(rule, activation);
      },
    });
  }

  /**
   * The governance context of an operation on a resource, with its retention attributes,
   * ready for `AutoGovernance.evaluate`.
   *
   * @param operationType - The operation, for example `delete`.
   * @param subject - The resource.
   * @param now - The time, epoch milliseconds.
   * @param extra - The user and request metadata of the operation.
   */
  context(
    operationType: string,
    subject: RetentionSubject,
    now: number,
    extra: RetentionContextExtras = {},
  ): GovernanceContext {
    const resolution = this.resolve(subject, now);
    return Object.freeze({
      operationType,
      resourceId: subject.resourceId,
      metadata: extra.metadata ?? {},
      resource: retentionResourceAttributes(subject, resolution),
      ...(extra.userId === undefined ? {} : { userId: extra.userId }),
      ...(extra.user === undefined ? {} : { user: extra.user }),
    });
  }

  #activation(subject: RetentionSubject, now: number): Activation | Error {
    const context: GovernanceContext = {
      operationType: RETENTION_SCOPE_OPERATION,
      resourceId: subject.resourceId,
      metadata: {},
      resource: retentionResourceAttributes(subject),
    };
    try {
      return toActivation(context, now, this.#limits);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  #evaluateScope(rule: RetentionRule, activation: Activation | Error): ScopeOutcome {
    const planned = this.#scopes.get(rule.ruleId);
    if (planned === undefined) return { failed: 'scope not planned' };
    if (activation instanceof Error) return { failed: activation.message };
    const outcome = evaluatePolicy(planned, activation, this.#limits);
    if (outcome.outcome === 'holds') return 'match';
    if (outcome.outcome === 'does-not-hold') return 'no-match';
    return { failed: outcome.reason ?? 'evaluation failed' };
  }
}
