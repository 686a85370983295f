/**
 * The simple policy matcher of the embedded governance default (DIST-07): a policy
 * expression that matches an operation by its type and its resource. The full
 * expression language (CEL) is a separate implementation.
 *
 * Grammar:
 *
 * ```text
 * expression := ws* ( "*" | term ( ws+ term )* ) ws*
 * term       := ( "operation" | "resource" ) "=" glob
 * glob       := one or more characters other than whitespace
 * ```
 *
 * - `operation=<glob>` holds when the context's `operationType` matches the glob;
 *   `resource=<glob>` when its `resourceId` does. Several terms must all hold.
 * - Each field may appear at most once. A field that does not appear matches anything.
 * - `*` alone, as the whole expression, matches every operation.
 * - In a glob, `*` matches any run of characters, including none; every other character
 *   matches itself, case-sensitively. There is no escape, so a glob cannot match a
 *   literal `*` on its own (a `*` in the glob still matches it, as any character).
 *   Whitespace ends a glob, so no glob matches whitespace literally.
 *
 * Examples: `*`, `operation=read`, `operation=delete resource=tenant-a/*`,
 * `resource=*.tmp`.
 *
 * @packageDocumentation
 */

/**
 * The fields a term can test.
 *
 * @since 2.0.0
 */
export const SIMPLE_MATCHER_FIELDS = Object.freeze(['operation', 'resource'] as const);

/**
 * A field a term can test; see {@link SIMPLE_MATCHER_FIELDS}.
 *
 * @since 2.0.0
 */
export type SimpleMatcherField = (typeof SIMPLE_MATCHER_FIELDS)[number];

/**
 * What a matcher tests: the two fields of a governance context it looks at.
 *
 * @since 2.0.0
 */
export interface SimpleMatcherSubject {
  /** The operation's type, tested by `operation=`. */
  readonly operationType: string;
  /** The resource's id, tested by `resource=`. */
  readonly resourceId: string;
}

/**
 * A parsed expression, ready to test many operations.
 *
 * @since 2.0.0
 */
export interface SimpleMatcher {
  /** The expression it was parsed from. */
  readonly expression: string;
  /** The glob of each field that has a term. */
  readonly globs: Readonly<Partial<Record<SimpleMatcherField, string>>>;
  /**
   * Whether the expression holds for an operation.
   *
   * @param subject - The operation's type and resource.
   * @returns `true` when every term holds.
   */
  matches(subject: SimpleMatcherSubject): boolean;
}

/**
 * The outcome of parsing an expression: a matcher, or where and why it is malformed.
 *
 * @since 2.0.0
 */
export type SimpleMatcherParseResult =
  | {
      /** The expression is well-formed. */
      readonly ok: true;
      /** The parsed matcher. */
      readonly matcher: SimpleMatcher;
    }
  | {
      /** The expression is malformed. */
      readonly ok: false;
      /** The zero-based offset in the expression where the problem is. */
      readonly position: number;
      /** What is wrong, for people. */
      readonly message: string;
    };

/**
 * Whether `text` matches `glob`: `*` matches any run of characters (including none),
 * every other character matches itself.
 *
 * Runs in O(|glob| × |text|) at worst: each `*` is tried at growing offsets, and only the
 * most recent `*` is ever backtracked to.
 *
 * @param glob - The pattern.
 * @param text - The text to test.
 * @returns `true` when the whole text matches the whole pattern.
 * @since 2.0.0
 */
export function matchGlob(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (t < text.length) {
    if (g < glob.length && glob[g] === '*') {
      starAt = g;
      resumeAt = t;
      g += 1;
    } else if (g < glob.length && glob[g] === text[t]) {
      g += 1;
      t += 1;
    } else if (starAt >= 0) {
      // Let the last `*` swallow one more character and retry the rest of the pattern.
      g = starAt + 1;
      resumeAt += 1;
      t = resumeAt;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g += 1;
  return g === glob.length;
}

/**
 * Parses an expression of the grammar in this module's documentation.
 *
 * @param expression - The policy's expression.
 * @returns The matcher, or the zero-based position and reason of the first problem.
 * @since 2.0.0
 */
export function parseSimpleMatcher(expression: string): SimpleMatcherParseResult {
  const tokens = [...expression.matchAll(/\S+/g)].map((match) => ({
    text: match[0],
    position: match.index,
  }));
  const fail = (position: number, message: string): SimpleMatcherParseResult => ({
    ok: false,
    position,
    message,
  });
  const first = tokens[0];
  if (first === undefined) {
    return fail(expression.length, "the expression is empty; use '*' to match everything");
  }
  if (first.text === '*') {
    const extra = tokens[1];
    if (extra !== undefined) {
      return fail(extra.position, "'*' must be the whole expression; nothing may follow it");
    }
    return { ok: true, matcher: buildMatcher(expression, {}) };
  }
  const globs: Partial<Record<SimpleMatcherField, string>> = {};
  for (const token of tokens) {
    const equals = token.text.indexOf('=');
    if (equals < 0) {
      return fail(
        token.position,
        `expected a term 'operation=<glob>' or 'resource=<glob>', found '${token.text}'`,
      );
    }
    const field = token.text.slice(0, equals);
    if (!isField(field)) {
      return fail(
        token.position,
        `unknown field '${field}'; the fields are ${SIMPLE_MATCHER_FIELDS.join(' and ')}`,
      );
    }
    if (globs[field] !== undefined) {
      return fail(token.position, `'${field}' appears more than once`);
    }
    const glob = token.text.slice(equals + 1);
    if (glob.length === 0) {
      return fail(token.position + equals + 1, `'${field}=' needs a glob after '='`);
    }
    globs[field] = glob;
  }
  return { ok: true, matcher: buildMatcher(expression, globs) };
}

function isField(name: string): name is SimpleMatcherField {
  return (SIMPLE_MATCHER_FIELDS as readonly string[]).includes(name);
}

function buildMatcher(
  expression: string,
  globs: Partial<Record<SimpleMatcherField, string>>,
): SimpleMatcher {
  const frozen = Object.freeze({ ...globs });
  const { operation, resource } = frozen;
  return Object.freeze({
    expression,
    globs: frozen,
    matches(subject: SimpleMatcherSubject): boolean {
      return (
        (operation === undefined || matchGlob(operation, subject.operationType)) &&
        (resource === undefined || matchGlob(resource, subject.resourceId))
      );
    },
  });
}
