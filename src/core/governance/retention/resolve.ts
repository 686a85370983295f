/**
 * Resolving the retention rules that apply to one resource, with Microsoft Purview's
 * principles of retention, in order:
 *
 * 1. Retention wins over deletion: a resource is never due for deletion before the end
 *    of every applying `keep-for` period; a deletion that would come earlier is deferred
 *    to that end.
 * 2. The longest retention period wins: `retainUntil` is the latest end of the applying
 *    `keep-for` rules (periods may start at different times, so ends are compared).
 * 3. Explicit beats implicit for deletion: when an explicit `delete-after` rule applies,
 *    implicit ones are ignored.
 * 4. The shortest deletion period wins: among the remaining `delete-after` rules, the
 *    earliest end is the deletion time.
 *
 * A legal hold blocks deletion whatever the rules say. Pure: time comes in as `now`.
 *
 * @packageDocumentation
 */

import type { GovernanceRetentionAttributes } from '../../../contracts/auto-governance.js';
import { isExplicitRule, ruleEnd } from './rules.js';
import type {
  DeleteAfterRule,
  KeepForRule,
  RetentionDisposition,
  RetentionResolution,
  RetentionRule,
  RetentionState,
  RetentionSubject,
} from './types.js';
import { formatIsoTime } from '../../time/iso-time.js';

/**
 * An `expression` scope that could not be evaluated.
 *
 * @since 2.0.0
 */
export interface ScopeFailure {
  /** Why. */
  readonly failed: string;
}

/**
 * What evaluating an `expression` scope gave for a subject.
 *
 * @since 2.0.0
 */
export type ScopeOutcome = 'match' | 'no-match' | ScopeFailure;

/**
 * Evaluates `expression` scopes (the pure core cannot run CEL itself).
 *
 * @since 2.0.0
 */
export type ScopeEvaluator = (rule: RetentionRule, subject: RetentionSubject) => ScopeOutcome;

/**
 * Options of {@link resolveRetention}.
 *
 * @since 2.0.0
 */
export interface ResolveRetentionOptions {
  /**
   * Evaluates `expression` scopes. Without it, every expression scope counts as failed.
   */
  readonly evaluateScope?: ScopeEvaluator;
}

/**
 * Whether a rule's scope takes in a subject. A failed expression scope is never counted
 * as a plain yes or no: see {@link resolveRetention}.
 *
 * @param rule - The rule.
 * @param subject - The resource.
 * @param evaluateScope - Evaluates `expression` scopes.
 * @since 2.0.0
 */
export function scopeOutcome(
  rule: RetentionRule,
  subject: RetentionSubject,
  evaluateScope?: ScopeEvaluator,
): ScopeOutcome {
  const scope = rule.scope;
  switch (scope.kind) {
    case 'resources':
      return scope.resourceIds.includes(subject.resourceId) ? 'match' : 'no-match';
    case 'label':
      return subject.labels?.includes(scope.label) === true ? 'match' : 'no-match';
    case 'path-prefix':
      return subject.path?.startsWith(scope.prefix) === true ? 'match' : 'no-match';
    case 'all':
      return 'match';
    case 'expression':
      if (evaluateScope === undefined) return { failed: 'no evaluator for expression scopes' };
      try {
        return evaluateScope(rule, subject);
      } catch (error) {
        return { failed: error instanceof Error ? error.message : String(error) };
      }
  }
}

function describe(rule: RetentionRule): string {
  const explicit = isExplicitRule(rule) ? 'explicit' : 'implicit';
  return `'${rule.ruleId}' (${rule.kind} ${rule.durationMs} ms from ${rule.from}, ${explicit})`;
}

/** Later end first; then explicit; then the smaller id, so the order of rules never matters. */
function betterRetention(a: KeepForRule, aEnd: number, b: KeepForRule, bEnd: number): boolean {
  if (aEnd !== bEnd) return aEnd > bEnd;
  const ax = isExplicitRule(a);
  if (ax !== isExplicitRule(b)) return ax;
  return a.ruleId < b.ruleId;
}

/** Earlier end first; then archive (the less destructive); then the smaller id. */
function betterDeletion(a: DeleteAfterRule, aEnd: number, b: DeleteAfterRule, bEnd: number) {
  if (aEnd !== bEnd) return aEnd < bEnd;
  const aArchive = a.disposition === 'archive';
  if (aArchive !== (b.disposition === 'archive')) return aArchive;
  return a.ruleId < b.ruleId;
}

/**
 * Resolves the retention of one resource at time `now`; see the module documentation for
 * the precedence. Rules must be valid (`validateRetentionRules`); the result does not
 * depend on their order.
 *
 * Scopes that fail to evaluate never make deletion earlier: a failed `keep-for` scope
 * counts as applying (the resource is kept), and a failed `delete-after` scope blocks
 * deletion of the resource altogether (an explicit rule that failed could have deferred
 * it), each with a reason.
 *
 * @param subject - The resource (valid: `validateRetentionSubject`).
 * @param rules - The rules.
 * @param now - The time, epoch milliseconds.
 * @param options - The evaluator of expression scopes.
 * @returns The resolution, frozen.
 * @since 2.0.0
 */
export function resolveRetention(
  subject: RetentionSubject,
  rules: readonly RetentionRule[],
  now: number,
  options: ResolveRetentionOptions = {},
): RetentionResolution {
  const reasons: string[] = [];
  let keep: { rule: KeepForRule; end: number } | undefined;
  let explicitDelete: { rule: DeleteAfterRule; end: number } | undefined;
  let implicitDelete: { rule: DeleteAfterRule; end: number } | undefined;
  let deletionScopeFailed = false;
  for (const rule of rules) {
    const outcome = scopeOutcome(rule, subject, options.evaluateScope);
    if (outcome === 'no-match') continue;
    if (outcome !== 'match') {
      if (rule.kind === 'keep-for') {
        reasons.push(
          `scope of ${describe(rule)} failed (${outcome.failed}): kept as if it applied`,
        );
      } else {
        deletionScopeFailed = true;
        reasons.push(`scope of ${describe(rule)} failed (${outcome.failed}): deletion blocked`);
        continue;
      }
    }
    const end = ruleEnd(rule, subject);
    if (rule.kind === 'keep-for') {
      if (keep === undefined || betterRetention(rule, end, keep.rule, keep.end))
        keep = { rule, end };
    } else if (isExplicitRule(rule)) {
      if (
        explicitDelete === undefined ||
        betterDeletion(rule, end, explicitDelete.rule, explicitDelete.end)
      ) {
        explicitDelete = { rule, end };
      }
    } else if (
      implicitDelete === undefined ||
      betterDeletion(rule, end, implicitDelete.rule, implicitDelete.end)
    ) {
      implicitDelete = { rule, end };
    }
  }
  if (keep !== undefined) {
    reasons.push(
      `longest retention: ${describe(keep.rule)} keeps it until ${formatIsoTime(keep.end)}`,
    );
  }
  // Principle 3 before 4: an explicit deletion wins over every implicit one, even a shorter one.
  const deletion = explicitDelete ?? implicitDelete;
  if (deletion !== undefined) {
    const kind = explicitDelete !== undefined ? 'explicit deletion' : 'shortest deletion';
    reasons.push(`${kind}: ${describe(deletion.rule)} is due at ${formatIsoTime(deletion.end)}`);
    if (explicitDelete !== undefined && implicitDelete !== undefined) {
      reasons.push(`explicit beats implicit: '${implicitDelete.rule.ruleId}' ignored`);
    }
  }
  const legalHold = subject.legalHold === true;
  let deleteAt: number | undefined;
  let disposition: RetentionDisposition | undefined;
  if (deletion !== undefined && !deletionScopeFailed) {
    deleteAt = deletion.end;
    disposition = deletion.rule.disposition ?? 'delete';
    if (keep !== undefined && keep.end > deleteAt) {
      reasons.push(`retention wins over deletion: deferred to ${formatIsoTime(keep.end)}`);
      deleteAt = keep.end;
    }
  }
  if (legalHold) {
    reasons.push('a legal hold blocks deletion');
    deleteAt = undefined;
    disposition = undefined;
  }
  let state: RetentionState;
  let winningRule: string | undefined;
  if (legalHold) {
    state = 'held';
  } else if (keep !== undefined && now < keep.end) {
    state = 'retained';
    winningRule = keep.rule.ruleId;
  } else if (deleteAt !== undefined) {
    state = now >= deleteAt ? 'expired' : 'none';
    winningRule = deletion?.rule.ruleId;
  } else {
    state = 'none';
  }
  return Object.freeze({
    resourceId: subject.resourceId,
    state,
    evaluatedAt: now,
    ...(keep === undefined ? {} : { retainUntil: keep.end, retentionRule: keep.rule.ruleId }),
    ...(deleteAt === undefined ? {} : { deleteAt }),
    ...(disposition === undefined ? {} : { disposition }),
    ...(winningRule === undefined ? {} : { winningRule }),
    ...(deletion === undefined ? {} : { deletionRule: deletion.rule.ruleId }),
    legalHold,
    reasons: Object.freeze(reasons),
  });
}

/**
 * The retention attributes a governance context carries for a resolution
 * (`resource.retention` in CEL): `state`, `heldUntil` (the end of retention, when one
 * applies) and `legalHold`.
 *
 * @param resolution - The resolution.
 * @since 2.0.0
 */
export function retentionAttributes(
  resolution: RetentionResolution,
): GovernanceRetentionAttributes {
  return Object.freeze({
    state: resolution.state,
    ...(resolution.retainUntil === undefined ? {} : { heldUntil: resolution.retainUntil }),
    legalHold: resolution.legalHold,
  });
}
