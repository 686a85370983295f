/**
 * The shapes of retention: rules (keep-for and delete-after), the resources they apply
 * to, and what resolving them gives. The rules and their precedence are written down in
 * `docs/governance-types.md`.
 *
 * @packageDocumentation
 */

/**
 * Every kind of retention rule.
 *
 * - `keep-for`: the resource must be kept for a period (it may not be deleted before).
 * - `delete-after`: the resource is to be deleted (or archived) once a period has passed.
 *
 * @since 2.0.0
 */
export const RETENTION_RULE_KINDS = Object.freeze(['keep-for', 'delete-after'] as const);

/**
 * A kind of retention rule; see {@link RETENTION_RULE_KINDS}.
 *
 * @since 2.0.0
 */
export type RetentionRuleKind = (typeof RETENTION_RULE_KINDS)[number];

/**
 * When a `keep-for` period starts: at creation, or at the last modification.
 *
 * @since 2.0.0
 */
export type KeepForAnchor = 'created' | 'modified';

/**
 * When a `delete-after` period starts: at creation, or at the last access.
 *
 * @since 2.0.0
 */
export type DeleteAfterAnchor = 'created' | 'accessed';

/**
 * What happens to a resource whose deletion time has passed: it is deleted, or moved to
 * an archive.
 *
 * @since 2.0.0
 */
export type RetentionDisposition = 'delete' | 'archive';

/**
 * The resources with these ids: a rule applied to them by name.
 *
 * @since 2.0.0
 */
export interface ResourcesScope {
  /** Always `resources`. */
  readonly kind: 'resources';
  /** The ids, at least one. */
  readonly resourceIds: readonly string[];
}

/**
 * The resources carrying a label.
 *
 * @since 2.0.0
 */
export interface LabelScope {
  /** Always `label`. */
  readonly kind: 'label';
  /** The label. */
  readonly label: string;
}

/**
 * The resources whose path starts with a prefix.
 *
 * @since 2.0.0
 */
export interface PathPrefixScope {
  /** Always `path-prefix`. */
  readonly kind: 'path-prefix';
  /** The prefix, for example `/finance/`. */
  readonly prefix: string;
}

/**
 * Every resource.
 *
 * @since 2.0.0
 */
export interface AllScope {
  /** Always `all`. */
  readonly kind: 'all';
}

/**
 * The resources for which a CEL expression holds. Needs a scope evaluator: the
 * `RetentionRuleSet` of `src/governance/retention` plans it with the governance planner.
 *
 * @since 2.0.0
 */
export interface ExpressionScope {
  /** Always `expression`. */
  readonly kind: 'expression';
  /** The CEL expression, over `resource` and `now`. */
  readonly expression: string;
}

/**
 * Which resources a rule applies to.
 *
 * @since 2.0.0
 */
export type RetentionScope =
  ResourcesScope | LabelScope | PathPrefixScope | AllScope | ExpressionScope;

/**
 * What every retention rule has.
 *
 * @since 2.0.0
 */
export interface RetentionRuleBase {
  /** The rule's id, unique in its rule set. */
  readonly ruleId: string;
  /** Which resources it applies to. */
  readonly scope: RetentionScope;
  /**
   * Whether the rule is applied to the resource directly (by id or by a label on it), as a
   * Purview retention label is, rather than through a broad scope. Explicit deletion
   * beats implicit deletion. Default: `true` for `resources` and `label` scopes, `false`
   * for the others.
   */
  readonly explicit?: boolean;
  /** The period, in milliseconds: a non-negative safe integer. */
  readonly durationMs: number;
}

/**
 * Keep the resource for `durationMs` from its creation or last modification.
 *
 * @since 2.0.0
 */
export interface KeepForRule extends RetentionRuleBase {
  /** Always `keep-for`. */
  readonly kind: 'keep-for';
  /** When the period starts. */
  readonly from: KeepForAnchor;
}

/**
 * Delete (or archive) the resource `durationMs` after its creation or last access.
 *
 * @since 2.0.0
 */
export interface DeleteAfterRule extends RetentionRuleBase {
  /** Always `delete-after`. */
  readonly kind: 'delete-after';
  /** When the period starts. */
  readonly from: DeleteAfterAnchor;
  /** Whether the resource is deleted or archived. Default `delete`. */
  readonly disposition?: RetentionDisposition;
}

/**
 * A retention rule.
 *
 * @since 2.0.0
 */
export type RetentionRule = KeepForRule | DeleteAfterRule;

/**
 * What retention needs to know about one resource. Times are epoch milliseconds.
 *
 * Missing times are filled conservatively (so a resource is never deleted earlier than
 * its true times would allow): the last modification is at least the creation, and the
 * last access at least the last modification (a write is an access).
 *
 * @since 2.0.0
 */
export interface RetentionSubject {
  /** The resource's id. */
  readonly resourceId: string;
  /** The resource's path, for `path-prefix` scopes. */
  readonly path?: string;
  /** The resource's labels, for `label` scopes. */
  readonly labels?: readonly string[];
  /** When it was created. */
  readonly createdAt: number;
  /** When it was last modified. */
  readonly modifiedAt?: number;
  /** When it was last read or written. */
  readonly accessedAt?: number;
  /** Whether a legal hold is on it: it may not be deleted, whatever the rules say. */
  readonly legalHold?: boolean;
  /** Its classification, for expression scopes and governance contexts. */
  readonly classification?: string;
  /** Its region, for expression scopes and governance contexts. */
  readonly region?: string;
  /** Its size in bytes, for expression scopes and governance contexts. */
  readonly sizeBytes?: number;
}

/**
 * A resource's retention state.
 *
 * - `held`: a legal hold is on it; it may not be deleted.
 * - `retained`: a `keep-for` rule keeps it until `retainUntil`, which has not come.
 * - `expired`: its deletion time has come (`deleteAt` is at or before now).
 * - `none`: nothing keeps it and it is not due: either no rule applies, or its deletion
 *   is scheduled (`deleteAt` in the future), or its retention has ended and no rule
 *   deletes it.
 *
 * @since 2.0.0
 */
export type RetentionState = 'retained' | 'expired' | 'held' | 'none';

/**
 * The retention of one resource at one time, from `resolveRetention`.
 *
 * @since 2.0.0
 */
export interface RetentionResolution {
  /** The resource's id. */
  readonly resourceId: string;
  /** The state at the time of resolution. */
  readonly state: RetentionState;
  /** The resolution time, epoch milliseconds. */
  readonly evaluatedAt: number;
  /** Until when the longest applying `keep-for` rule keeps it; absent when none applies. */
  readonly retainUntil?: number;
  /**
   * When it becomes due for deletion (never before `retainUntil`); absent when no
   * `delete-after` rule applies, when a legal hold is on it, or when a deletion scope
   * failed to evaluate.
   */
  readonly deleteAt?: number;
  /** Delete or archive at `deleteAt`; present with `deleteAt`. */
  readonly disposition?: RetentionDisposition;
  /**
   * The rule that decides the state: the retaining rule for `retained`, the deleting rule
   * for `expired` and for `none` with a `deleteAt`; absent for `held` (the hold decides)
   * and when no rule decides.
   */
  readonly winningRule?: string;
  /** The `keep-for` rule giving `retainUntil`. */
  readonly retentionRule?: string;
  /** The `delete-after` rule giving `deleteAt` (before retention defers it). */
  readonly deletionRule?: string;
  /** Whether a legal hold is on it. */
  readonly legalHold: boolean;
  /** How the state was reached, for people and the audit trail. */
  readonly reasons: readonly string[];
}
