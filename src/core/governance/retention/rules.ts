/**
 * Validating retention rules and subjects, and the small facts derived from a rule
 * (whether it is explicit, where its period starts).
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../../contracts/errors.js';
import type { RetentionRule, RetentionScope, RetentionSubject } from './types.js';

/**
 * The bounds a retention rule set respects.
 *
 * @since 2.0.0
 */
export interface RetentionRuleLimits {
  /** The most rules in a set. Default 1024. */
  readonly maxRules?: number;
  /** The most resource ids in one `resources` scope. Default 1024. */
  readonly maxScopeResources?: number;
  /** The longest scope string (label, prefix, expression), in characters. Default 4096. */
  readonly maxScopeLength?: number;
}

/**
 * The defaults of {@link RetentionRuleLimits}.
 *
 * @since 2.0.0
 */
export const DEFAULT_RETENTION_RULE_LIMITS = Object.freeze({
  /** The most rules in a set. */
  maxRules: 1024,
  /** The most resource ids in one `resources` scope. */
  maxScopeResources: 1024,
  /** The longest scope string, in characters. */
  maxScopeLength: 4096,
});

/**
 * The latest time retention reports, epoch milliseconds (the end of year 9999, the last
 * time a CEL timestamp holds). Periods that would end later end here.
 *
 * @since 2.0.0
 */
export const MAX_RETENTION_TIME_MS = 253_402_300_799_999;

const MIN_TIME_MS = -62_135_596_800_000;

function invalid(message: string): never {
  throw new DistributedError('INVALID_ARGUMENT', message);
}

function nonEmptyString(name: string, value: unknown, maxLength: number): void {
  if (typeof value !== 'string' || value.length === 0)
    invalid(`${name} must be a non-empty string`);
  if (value.length > maxLength) {
    invalid(`${name} has ${value.length} characters, more than maxScopeLength (${maxLength})`);
  }
}

function checkScope(ruleId: string, scope: RetentionScope, limits: Required<RetentionRuleLimits>) {
  if (typeof scope !== 'object' || (scope as unknown) === null) {
    invalid(`rule '${ruleId}': scope must be an object`);
  }
  const where = `rule '${ruleId}': scope`;
  switch (scope.kind) {
    case 'resources': {
      if (!Array.isArray(scope.resourceIds) || scope.resourceIds.length === 0) {
        invalid(`${where}.resourceIds must be a non-empty list of ids`);
      }
      if (scope.resourceIds.length > limits.maxScopeResources) {
        invalid(
          `${where}.resourceIds has ${scope.resourceIds.length} ids, more than maxScopeResources (${limits.maxScopeResources})`,
        );
      }
      for (const id of scope.resourceIds)
        nonEmptyString(`${where}.resourceIds[]`, id, limits.maxScopeLength);
      return;
    }
    case 'label':
      nonEmptyString(`${where}.label`, scope.label, limits.maxScopeLength);
      return;
    case 'path-prefix':
      nonEmptyString(`${where}.prefix`, scope.prefix, limits.maxScopeLength);
      return;
    case 'all':
      return;
    case 'expression':
      nonEmptyString(`${where}.expression`, scope.expression, limits.maxScopeLength);
      return;
    default:
      invalid(`${where}.kind must be resources, label, path-prefix, all or expression`);
  }
}

/**
 * Checks a rule set: every rule well-formed, ids unique, within the limits.
 *
 * @param rules - The rules.
 * @param limits - The bounds; every one has a default.
 * @returns A frozen copy of the rules, in the given order.
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` naming the first problem.
 * @since 2.0.0
 */
export function validateRetentionRules(
  rules: readonly RetentionRule[],
  limits: RetentionRuleLimits = {},
): readonly RetentionRule[] {
  const bounds: Required<RetentionRuleLimits> = { ...DEFAULT_RETENTION_RULE_LIMITS, ...limits };
  const list: unknown = rules;
  if (!Array.isArray(list)) invalid('rules must be a list');
  if (rules.length > bounds.maxRules) {
    invalid(`${rules.length} rules, more than maxRules (${bounds.maxRules})`);
  }
  const seen = new Set<string>();
  const out: RetentionRule[] = [];
  for (const rule of rules) {
    if (typeof rule !== 'object' || (rule as unknown) === null) invalid('a rule must be an object');
    nonEmptyString('ruleId', rule.ruleId, bounds.maxScopeLength);
    if (seen.has(rule.ruleId)) invalid(`two rules have the id '${rule.ruleId}'`);
    seen.add(rule.ruleId);
    const where = `rule '${rule.ruleId}'`;
    if (!Number.isSafeInteger(rule.durationMs) || rule.durationMs < 0) {
      invalid(`${where}: durationMs must be a non-negative integer`);
    }
    if (rule.explicit !== undefined && typeof rule.explicit !== 'boolean') {
      invalid(`${where}: explicit must be a boolean`);
    }
    checkScope(rule.ruleId, rule.scope, bounds);
    // Rules come from configuration files and the API: check the fields as unknown values.
    const { kind, from, disposition } = rule as unknown as Record<string, unknown>;
    if (kind === 'keep-for') {
      if (from !== 'created' && from !== 'modified') {
        invalid(`${where}: a keep-for rule runs from 'created' or 'modified'`);
      }
    } else if (kind === 'delete-after') {
      if (from !== 'created' && from !== 'accessed') {
        invalid(`${where}: a delete-after rule runs from 'created' or 'accessed'`);
      }
      if (disposition !== undefined && disposition !== 'delete' && disposition !== 'archive') {
        invalid(`${where}: disposition must be 'delete' or 'archive'`);
      }
    } else {
      invalid(`${where}: kind must be 'keep-for' or 'delete-after'`);
    }
    out.push(Object.freeze({ ...rule, scope: Object.freeze({ ...rule.scope }) }));
  }
  return Object.freeze(out);
}

function checkTime(name: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (
    typeof value !== 'number' ||
    !Number.isSafeInteger(value) ||
    value < MIN_TIME_MS ||
    value > MAX_RETENTION_TIME_MS
  ) {
    invalid(`${name} must be an integer number of epoch milliseconds within years 1 to 9999`);
  }
}

/**
 * Checks a subject.
 *
 * @param subject - The resource.
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` naming the first problem.
 * @since 2.0.0
 */
export function validateRetentionSubject(subject: RetentionSubject): void {
  if (typeof subject !== 'object' || (subject as unknown) === null) {
    invalid('a retention subject must be an object');
  }
  if (typeof subject.resourceId !== 'string' || subject.resourceId.length === 0) {
    invalid('resourceId must be a non-empty string');
  }
  if (subject.path !== undefined && typeof subject.path !== 'string') {
    invalid('path must be a string');
  }
  if (
    subject.labels !== undefined &&
    (!Array.isArray(subject.labels) || subject.labels.some((label) => typeof label !== 'string'))
  ) {
    invalid('labels must be a list of strings');
  }
  checkTime('createdAt', subject.createdAt, true);
  checkTime('modifiedAt', subject.modifiedAt, false);
  checkTime('accessedAt', subject.accessedAt, false);
  if (subject.legalHold !== undefined && typeof subject.legalHold !== 'boolean') {
    invalid('legalHold must be a boolean');
  }
}

/**
 * Whether a rule is explicit: its own flag, else `true` for `resources` and `label` scopes
 * (applied to the resource directly) and `false` for broad ones.
 *
 * @param rule - The rule.
 * @since 2.0.0
 */
export function isExplicitRule(rule: RetentionRule): boolean {
  return rule.explicit ?? (rule.scope.kind === 'resources' || rule.scope.kind === 'label');
}

/**
 * When a rule's period starts for a subject. Missing times are filled conservatively:
 * last modification = max(created, modified), last access = max(created, modified,
 * accessed), so a missing time never brings a deletion forward.
 *
 * @param rule - The rule.
 * @param subject - The resource.
 * @returns Epoch milliseconds.
 * @since 2.0.0
 */
export function ruleAnchor(rule: RetentionRule, subject: RetentionSubject): number {
  const created = subject.createdAt;
  const modified = Math.max(created, subject.modifiedAt ?? created);
  switch (rule.from) {
    case 'created':
      return created;
    case 'modified':
      return modified;
    case 'accessed':
      return Math.max(modified, subject.accessedAt ?? modified);
  }
}

/**
 * When a rule's period ends for a subject: its anchor plus its duration, at most
 * {@link MAX_RETENTION_TIME_MS}.
 *
 * @param rule - The rule.
 * @param subject - The resource.
 * @returns Epoch milliseconds.
 * @since 2.0.0
 */
export function ruleEnd(rule: RetentionRule, subject: RetentionSubject): number {
  return Math.min(MAX_RETENTION_TIME_MS, ruleAnchor(rule, subject) + rule.durationMs);
}
