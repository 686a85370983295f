/**
 * The content classifier: runs detectors over (the start of) a piece of content and
 * reports which labels it carries, with a confidence each.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../../contracts/errors.js';
import { createCardDetector, createIbanDetector } from './financial-detectors.js';
import { createIpv4Detector, createIpv6Detector } from './network-detectors.js';
import {
  createPatternDetector,
  DEFAULT_PATTERN_LIMITS,
  type PatternDetectorSpec,
} from './pattern-detector.js';
import {
  createEmailDetector,
  createPhoneDetector,
  createSsnDetector,
} from './personal-detectors.js';
import type {
  ClassificationDetector,
  ClassificationLabel,
  ClassificationResult,
  ClassificationSpan,
  DetectorHit,
} from './types.js';

/**
 * The built-in detectors, most specific first (which decides overlaps; see
 * {@link ClassificationDetector.exclusive}): IBAN, e-mail, payment card, IPv6, SSN,
 * phone, IPv4.
 *
 * @since 2.0.0
 */
export function createDefaultDetectors(): readonly ClassificationDetector[] {
  return Object.freeze([
    createIbanDetector(),
    createEmailDetector(),
    createCardDetector(),
    createIpv6Detector(),
    createSsnDetector(),
    createPhoneDetector(),
    createIpv4Detector(),
  ]);
}

/**
 * Per-call options of {@link Classifier.classify} and {@link classify}.
 *
 * @since 2.0.0
 */
export interface ClassifyOptions {
  /** Report each label's matches (at most `maxSpansPerLabel`). Default false. */
  readonly includeSpans?: boolean;
  /** Scan at most this many bytes; at most the classifier's own `maxScanBytes`. */
  readonly maxScanBytes?: number;
  /** Drop matches below this confidence. Default 0 (keep all). */
  readonly minConfidence?: number;
}

/**
 * Options of a {@link Classifier}. Every bound has a default.
 *
 * @since 2.0.0
 */
export interface ClassifierOptions {
  /** The detectors to start with. Default {@link createDefaultDetectors}. */
  readonly detectors?: readonly ClassificationDetector[];
  /** The most detectors, built-in and custom together. Default 64. */
  readonly maxDetectors?: number;
  /**
   * The most bytes of a content scanned: UTF-8 bytes of a string, raw bytes of a
   * `Uint8Array` (decoded as UTF-8, invalid sequences replaced). The rest is not looked
   * at, and the result says `truncated`. Default 1 MiB.
   */
  readonly maxScanBytes?: number;
  /** The most matches kept per detector and scan. Default 10,000. */
  readonly maxHitsPerDetector?: number;
  /** The most spans reported per label when spans are asked for. Default 100. */
  readonly maxSpansPerLabel?: number;
  /** The longest custom pattern. Default 512. */
  readonly maxPatternLength?: number;
  /** The most code units a custom pattern runs over. Default 64 Ki. */
  readonly maxPatternScanChars?: number;
}

const DEFAULTS = Object.freeze({
  maxDetectors: 64,
  maxScanBytes: 1024 * 1024,
  maxHitsPerDetector: 10_000,
  maxSpansPerLabel: 100,
  maxPatternLength: DEFAULT_PATTERN_LIMITS.maxPatternLength,
  maxPatternScanChars: DEFAULT_PATTERN_LIMITS.maxPatternScanChars,
});

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `${what} must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * A set of detectors and the bounds they run under. Pure and synchronous: no I/O, no
 * clock, the same result for the same content.
 *
 * Confidence rule: each match has the confidence its detector gives it (checksum- or
 * structure-validated values a base confidence, raised when a context keyword is
 * within 48 characters; see each detector); a label's confidence is the highest of its
 * matches' — more matches of the same kind do not add certainty, they are reported as
 * `matchCount`.
 *
 * @example
 * ```ts
 * const classifier = new Classifier();
 * classifier.registerPattern({ name: 'employee-id', label: 'pii.employee-id', pattern: 'EMP-\\d{6}', confidence: 0.9 });
 * classifier.classify('card 4111 1111 1111 1111').labels; // [{ label: 'pci.card', confidence: 0.99, matchCount: 1 }]
 * ```
 *
 * @since 2.0.0
 */
export class Classifier {
  readonly #detectors: ClassificationDetector[] = [];
  readonly #maxDetectors: number;
  readonly #maxScanBytes: number;
  readonly #maxHits: number;
  readonly #maxSpans: number;
  readonly #patternLimits: { maxPatternLength: number; maxPatternScanChars: number };

  /**
   * @param options - Detectors and bounds.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad bound, more detectors than
   *   `maxDetectors`, or two detectors with the same name.
   */
  constructor(options: ClassifierOptions = {}) {
    this.#maxDetectors = positiveInteger(
      options.maxDetectors,
      DEFAULTS.maxDetectors,
      'maxDetectors',
    );
    this.#maxScanBytes = positiveInteger(
      options.maxScanBytes,
      DEFAULTS.maxScanBytes,
      'maxScanBytes',
    );
    this.#maxHits = positiveInteger(
      options.maxHitsPerDetector,
      DEFAULTS.maxHitsPerDetector,
      'maxHitsPerDetector',
    );
    this.#maxSpans = positiveInteger(
      options.maxSpansPerLabel,
      DEFAULTS.maxSpansPerLabel,
      'maxSpansPerLabel',
    );
    this.#patternLimits = {
      maxPatternLength: positiveInteger(
        options.maxPatternLength,
        DEFAULTS.maxPatternLength,
        'maxPatternLength',
      ),
      maxPatternScanChars: positiveInteger(
        options.maxPatternScanChars,
        DEFAULTS.maxPatternScanChars,
        'maxPatternScanChars',
      ),
    };
    for (const detector of options.detectors ?? createDefaultDetectors()) this.register(detector);
  }

  /** The names of the registered detectors, in the order they run. */
  get detectorNames(): readonly string[] {
    return Object.freeze(this.#detectors.map((detector) => detector.name));
  }

  /**
   * Adds a detector after the registered ones.
   *
   * @param detector - The detector; its name must be new.
   * @throws DistributedError `INVALID_ARGUMENT` when the name is taken, the detector is
   *   malformed, or `maxDetectors` are registered already. Nothing changes then.
   */
  register(detector: ClassificationDetector): void {
    if (
      typeof detector !== 'object' ||
      typeof detector.name !== 'string' ||
      typeof detector.label !== 'string' ||
      typeof detector.scan !== 'function'
    ) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'a detector needs a name, a label and a scan function',
      );
    }
    if (this.#detectors.some((existing) => existing.name === detector.name)) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `a detector named '${detector.name}' is already registered`,
      );
    }
    if (this.#detectors.length >= this.#maxDetectors) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `cannot register '${detector.name}': maxDetectors (${this.#maxDetectors}) reached`,
      );
    }
    this.#detectors.push(detector);
  }

  /**
   * Builds a custom regular-expression detector ({@link createPatternDetector}) under
   * this classifier's pattern bounds and registers it.
   *
   * @param spec - The detector's name, label, pattern and confidence.
   * @returns The registered detector.
   * @throws DistributedError `INVALID_ARGUMENT` as {@link createPatternDetector} and
   *   {@link Classifier.register} do; nothing is registered then.
   */
  registerPattern(spec: PatternDetectorSpec): ClassificationDetector {
    const detector = createPatternDetector(spec, this.#patternLimits);
    this.register(detector);
    return detector;
  }

  /**
   * Removes a detector.
   *
   * @param name - The detector's name.
   * @returns Whether it was registered.
   */
  unregister(name: string): boolean {
    const index = this.#detectors.findIndex((detector) => detector.name === name);
    if (index === -1) return false;
    this.#detectors.splice(index, 1);
    return true;
  }

  /**
   * Classifies content: runs every detector over its first `maxScanBytes` bytes,
   * resolves overlaps between exclusive detectors (the one registered first keeps the
   * span), and groups the matches by label.
   *
   * @param content - Text, or bytes decoded as UTF-8.
   * @param options - Spans, a smaller scan bound, a confidence floor.
   * @throws DistributedError `INVALID_ARGUMENT` when `content` is neither a string nor
   *   a `Uint8Array`, or an option is out of range.
   */
  classify(content: string | Uint8Array, options: ClassifyOptions = {}): ClassificationResult {
    const limit = Math.min(
      this.#maxScanBytes,
      positiveInteger(options.maxScanBytes, this.#maxScanBytes, 'maxScanBytes'),
    );
    const minConfidence = options.minConfidence ?? 0;
    if (typeof minConfidence !== 'number' || !(minConfidence >= 0 && minConfidence <= 1)) {
      throw new DistributedError('INVALID_ARGUMENT', 'minConfidence must be a number in [0, 1]');
    }
    const { text, scannedBytes, truncated } = textOf(content, limit);
    const accepted = this.#scanAll(text);
    return Object.freeze({
      labels: groupByLabel(accepted, minConfidence, options.includeSpans === true, this.#maxSpans),
      scannedBytes,
      truncated,
    });
  }

  #scanAll(text: string): ClassificationSpan[] {
    // Hits of exclusive detectors accepted so far, sorted by start and non-overlapping.
    let claimed: ClassificationSpan[] = [];
    const free: ClassificationSpan[] = [];
    for (const detector of this.#detectors) {
      const hits = safeScan(detector, text, this.#maxHits);
      if (!detector.exclusive) {
        for (const hit of hits) free.push(spanOf(detector, hit));
        continue;
      }
      claimed = mergeExclusive(claimed, hits, detector);
    }
    return [...claimed, ...free];
  }
}

function safeScan(detector: ClassificationDetector, text: string, maxHits: number): DetectorHit[] {
  const hits = detector.scan(text, maxHits).slice(0, maxHits);
  // A custom detector's output is checked, not trusted: spans inside the text, sorted.
  return hits
    .filter(
      (hit) =>
        Number.isSafeInteger(hit.start) &&
        Number.isSafeInteger(hit.end) &&
        hit.start >= 0 &&
        hit.start < hit.end &&
        hit.end <= text.length &&
        hit.confidence >= 0 &&
        hit.confidence <= 1,
    )
    .sort((a, b) => a.start - b.start);
}

function spanOf(detector: ClassificationDetector, hit: DetectorHit): ClassificationSpan {
  return Object.freeze({
    start: hit.start,
    end: hit.end,
    confidence: hit.confidence,
    detector: detector.name,
    label: detector.label,
  });
}

/** Merges a detector's sorted hits into the claimed spans, dropping the overlapping ones. */
function mergeExclusive(
  claimed: readonly ClassificationSpan[],
  hits: readonly DetectorHit[],
  detector: ClassificationDetector,
): ClassificationSpan[] {
  const merged: ClassificationSpan[] = [];
  let c = 0;
  let lastEnd = -1;
  for (const hit of hits) {
    while (c < claimed.length && (claimed[c]?.end ?? 0) <= hit.start)
      merged.push(claimed[c++] as ClassificationSpan);
    const next = claimed[c];
    const overlapsClaimed = next !== undefined && next.start < hit.end;
    const prev = merged[merged.length - 1];
    const overlapsMerged = prev !== undefined && prev.end > hit.start;
    if (overlapsClaimed || overlapsMerged || hit.start < lastEnd) continue;
    merged.push(spanOf(detector, hit));
    lastEnd = hit.end;
  }
  while (c < claimed.length) merged.push(claimed[c++] as ClassificationSpan);
  return merged;
}

function groupByLabel(
  spans: readonly ClassificationSpan[],
  minConfidence: number,
  includeSpans: boolean,
  maxSpans: number,
): readonly ClassificationLabel[] {
  const byLabel = new Map<
    string,
    { confidence: number; count: number; spans: ClassificationSpan[] }
  >();
  for (const span of spans) {
    if (span.confidence < minConfidence) continue;
    const label = span.label;
    let entry = byLabel.get(label);
    if (entry === undefined) {
      entry = { confidence: 0, count: 0, spans: [] };
      byLabel.set(label, entry);
    }
    entry.confidence = Math.max(entry.confidence, span.confidence);
    entry.count++;
    if (includeSpans && entry.spans.length < maxSpans) entry.spans.push(span);
  }
  return Object.freeze(
    [...byLabel.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([label, entry]) =>
        Object.freeze({
          label,
          confidence: entry.confidence,
          matchCount: entry.count,
          ...(includeSpans
            ? { spans: Object.freeze(entry.spans.sort((a, b) => a.start - b.start)) }
            : {}),
        }),
      ),
  );
}

// Stateless for whole-buffer decodes, so one instance serves every call.
const UTF8 = new TextDecoder('utf-8', { fatal: false });

/** The text to scan: at most `limit` bytes of the content. */
function textOf(
  content: string | Uint8Array,
  limit: number,
): { text: string; scannedBytes: number; truncated: boolean } {
  if (content instanceof Uint8Array) {
    const truncated = content.byteLength > limit;
    const bytes = truncated ? content.subarray(0, limit) : content;
    return { text: UTF8.decode(bytes), scannedBytes: bytes.byteLength, truncated };
  }
  if (typeof content !== 'string') {
    throw new DistributedError('INVALID_ARGUMENT', 'content must be a string or a Uint8Array');
  }
  let bytes = 0;
  let i = 0;
  for (; i < content.length; i++) {
    const c = content.charCodeAt(i);
    let size = c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    const pair = c >= 0xd800 && c <= 0xdbff && (content.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    if (pair) size = 4;
    if (bytes + size > limit) break;
    bytes += size;
    if (pair) i++;
  }
  return {
    text: i === content.length ? content : content.slice(0, i),
    scannedBytes: bytes,
    truncated: i < content.length,
  };
}

const DEFAULT_CLASSIFIER = new Classifier();

/**
 * Classifies content with the built-in detectors and default bounds (a shared,
 * immutable {@link Classifier}); build a {@link Classifier} to add custom detectors.
 *
 * @param content - Text, or bytes decoded as UTF-8.
 * @param options - Spans, a smaller scan bound, a confidence floor.
 * @throws DistributedError `INVALID_ARGUMENT` as {@link Classifier.classify} does.
 * @since 2.0.0
 */
export function classify(
  content: string | Uint8Array,
  options: ClassifyOptions = {},
): ClassificationResult {
  return DEFAULT_CLASSIFIER.classify(content, options);
}

/**
 * The labels of a result as a plain record from label to confidence, for callers
 * that weigh evidence themselves (policies see the label list of
 * {@link labelsAtLeast} as `resource.labels`).
 *
 * @param result - A classification result.
 * @param minConfidence - Leave out labels below this confidence. Default 0.
 * @since 2.0.0
 */
export function labelConfidences(
  result: ClassificationResult,
  minConfidence = 0,
): Readonly<Record<string, number>> {
  const record: Record<string, number> = {};
  for (const label of result.labels)
    if (label.confidence >= minConfidence) record[label.label] = label.confidence;
  return Object.freeze(record);
}

/**
 * The labels of a result with at least `minConfidence`, sorted: the shape of a
 * policy's `resource.labels` list (for example `"pci.card" in resource.labels`).
 *
 * @param result - A classification result.
 * @param minConfidence - The confidence a label needs to be listed. Default 0.5.
 * @since 2.0.0
 */
export function labelsAtLeast(
  result: ClassificationResult,
  minConfidence = 0.5,
): readonly string[] {
  return Object.freeze(
    result.labels.filter((label) => label.confidence >= minConfidence).map((label) => label.label),
  );
}
