/**
 * Custom detectors from a regular expression, with the guards that make running a
 * user's pattern on stored content safe enough.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../../contracts/errors.js';
import { keywordNear } from './evidence.js';
import type { ClassificationDetector, DetectorHit } from './types.js';

/**
 * What a custom regular-expression detector is registered with.
 *
 * @since 2.0.0
 */
export interface PatternDetectorSpec {
  /** The detector's unique name: 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit. */
  readonly name: string;
  /** The label it reports, in the `<family>.<kind>` scheme (see {@link LABEL_PATTERN}). */
  readonly label: string;
  /** The JavaScript regular expression source (without slashes). */
  readonly pattern: string;
  /** Flags among `i`, `m`, `s`, `u`; `g` is added. Default none. */
  readonly flags?: string;
  /** The confidence of a match, in [0, 1]. */
  readonly confidence: number;
  /** Lower-case words that raise a nearby match to `keywordConfidence`. Default none. */
  readonly keywords?: readonly string[];
  /** The confidence of a match near a keyword, in [0, 1]. Default `confidence`. */
  readonly keywordConfidence?: number;
}

/**
 * The bounds a custom detector is built under.
 *
 * @since 2.0.0
 */
export interface PatternDetectorLimits {
  /** The longest pattern source, in code units. */
  readonly maxPatternLength: number;
  /**
   * The most code units of the scanned text a custom pattern runs over. Patterns are
   * screened for the common catastrophic-backtracking shapes, but not every slow
   * pattern can be recognised, so the input is bounded as well: the worst case of a
   * polynomial pattern is then bounded too.
   */
  readonly maxPatternScanChars: number;
}

/**
 * The default {@link PatternDetectorLimits}: 512-character patterns, run over at most
 * the first 64 Ki code units of the text.
 *
 * @since 2.0.0
 */
export const DEFAULT_PATTERN_LIMITS: PatternDetectorLimits = Object.freeze({
  maxPatternLength: 512,
  maxPatternScanChars: 64 * 1024,
});

/**
 * Detector names: 1–64 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
 *
 * @since 2.0.0
 */
export const DETECTOR_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * Labels: two or more dot-separated lower-case segments (`<family>.<kind>`), at most
 * 128 characters, for example `pii.employee-id`.
 *
 * @since 2.0.0
 */
export const LABEL_PATTERN = /^(?=.{3,128}$)[a-z][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)+$/;

function invalid(message: string): DistributedError {
  return new DistributedError('INVALID_ARGUMENT', message);
}

function checkConfidence(value: unknown, what: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw invalid(`${what} must be a number in [0, 1], got ${String(value)}`);
  }
  return value;
}

/**
 * Why a pattern source is refused before it is compiled, or `undefined` when it passes
 * the screen: a backreference (matching with one is NP-hard in general) or a group
 * with an unbounded quantifier (`*`, `+`, `{n,}`) that itself contains an unbounded
 * quantifier, the nested-quantifier shape (`(a+)+`, `(\w+\s?)*`) behind most
 * catastrophic backtracking. Overlapping alternations (`(a|a)*`) are not recognised;
 * the scan bound limits them.
 *
 * @param source - The pattern source.
 * @since 2.0.0
 */
export function screenPattern(source: string): string | undefined {
  // Per open group: whether it contains an unbounded quantifier.
  const stack: boolean[] = [false];
  let lastGroupUnbounded = false;
  let afterGroup = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'backreferences are not allowed';
      i++;
      afterGroup = false;
      continue;
    }
    if (c === '[') {
      // Skip the class; `]` right after `[` or `[^` is a literal.
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      i = j;
      afterGroup = false;
      continue;
    }
    if (c === '(') {
      stack.push(false);
      afterGroup = false;
      continue;
    }
    if (c === ')') {
      lastGroupUnbounded = stack.pop() ?? false;
      if (stack.length === 0) stack.push(false);
      if (lastGroupUnbounded) stack[stack.length - 1] = true;
      afterGroup = true;
      continue;
    }
    const unbounded =
      c === '*' || c === '+' || (c === '{' && /^\{\d+,\}/.test(source.slice(i, i + 12)));
    if (unbounded) {
      if (afterGroup && lastGroupUnbounded) {
        return 'a group containing an unbounded quantifier may not itself be repeated without bound (nested quantifiers backtrack catastrophically)';
      }
      stack[stack.length - 1] = true;
    }
    afterGroup = false;
  }
  return undefined;
}

/**
 * Builds a custom detector from a regular expression, after checking the spec.
 * Custom detectors are not exclusive (see {@link ClassificationDetector.exclusive}).
 *
 * @param spec - The detector's name, label, pattern and confidences.
 * @param limits - Bounds; default {@link DEFAULT_PATTERN_LIMITS}.
 * @throws DistributedError `INVALID_ARGUMENT` for a bad name, label or confidence, a
 *   pattern that is too long, fails {@link screenPattern}, does not compile, or
 *   matches the empty string.
 * @since 2.0.0
 */
export function createPatternDetector(
  spec: PatternDetectorSpec,
  limits: PatternDetectorLimits = DEFAULT_PATTERN_LIMITS,
): ClassificationDetector {
  // Callers may be untyped (a policy file, an HTTP body): check the shape anyway.
  if (typeof spec !== 'object' || (spec as unknown) === null)
    throw invalid('spec must be an object');
  const { name, label, pattern } = spec;
  if (typeof name !== 'string' || !DETECTOR_NAME_PATTERN.test(name)) {
    throw invalid(`detector name must match ${String(DETECTOR_NAME_PATTERN)}`);
  }
  if (typeof label !== 'string' || !LABEL_PATTERN.test(label)) {
    throw invalid(`label must match ${String(LABEL_PATTERN)} (<family>.<kind>)`);
  }
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw invalid('pattern must be a non-empty string');
  }
  if (pattern.length > limits.maxPatternLength) {
    throw invalid(
      `pattern of ${pattern.length} characters exceeds maxPatternLength (${limits.maxPatternLength})`,
    );
  }
  const flags = spec.flags ?? '';
  if (typeof flags !== 'string' || !/^(?!.*(.).*\1)[imsu]*$/.test(flags)) {
    throw invalid('flags must be distinct letters among i, m, s, u');
  }
  const confidence = checkConfidence(spec.confidence, 'confidence');
  const keywordConfidence = checkConfidence(
    spec.keywordConfidence ?? confidence,
    'keywordConfidence',
  );
  const keywords: unknown = spec.keywords ?? [];
  if (!isKeywordList(keywords)) {
    throw invalid('keywords must be at most 32 lower-case strings of 1-32 characters');
  }
  const refused = screenPattern(pattern);
  if (refused !== undefined) throw invalid(`pattern refused: ${refused}`);
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, `${flags}g`);
  } catch (error) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `pattern does not compile: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (new RegExp(pattern, flags).test('')) throw invalid('pattern matches the empty string');
  const frozenKeywords = Object.freeze([...keywords]);
  const maxChars = limits.maxPatternScanChars;
  return Object.freeze({
    name,
    label,
    exclusive: false,
    scan(text: string, maxHits: number): readonly DetectorHit[] {
      const scanned = text.length > maxChars ? text.slice(0, maxChars) : text;
      const hits: DetectorHit[] = [];
      const local = new RegExp(regex.source, regex.flags);
      let m: RegExpExecArray | null;
      while (hits.length < maxHits && (m = local.exec(scanned)) !== null) {
        const start = m.index;
        const end = start + m[0].length;
        // A pattern that matches the empty string somewhere must still make progress.
        if (end === start) {
          local.lastIndex = start + 1;
          continue;
        }
        const near = keywordNear(scanned, start, end, frozenKeywords);
        hits.push(Object.freeze({ start, end, confidence: near ? keywordConfidence : confidence }));
      }
      return hits;
    },
  });
}

function isKeywordList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.length <= 32 && value.every(isKeyword);
}

function isKeyword(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= 32 &&
    value === value.toLowerCase()
  );
}
