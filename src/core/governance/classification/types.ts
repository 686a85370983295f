/**
 * The shapes shared by the content classifier and its detectors.
 *
 * @packageDocumentation
 */

/**
 * One place in the scanned text where a detector found a value, with how sure it is.
 *
 * Offsets are UTF-16 code-unit indexes into the scanned text (for a `Uint8Array`
 * input, into its UTF-8 decoding), `end` exclusive, as `String.prototype.slice` takes
 * them.
 *
 * @since 2.0.0
 */
export interface DetectorHit {
  /** Index of the first code unit of the value. */
  readonly start: number;
  /** Index one past the last code unit of the value. */
  readonly end: number;
  /** How sure the detector is that this is a value of its label, in [0, 1]. */
  readonly confidence: number;
}

/**
 * A detector: finds the values of one label in text.
 *
 * Detectors are pure and synchronous; `scan` must run in time linear in the text
 * length (times a small constant), return at most `maxHits` hits in ascending `start`
 * order, and never throw for any text.
 *
 * @since 2.0.0
 */
export interface ClassificationDetector {
  /** A unique name, for example `builtin.card` or the name a custom detector was registered under. */
  readonly name: string;
  /** The label it finds; see {@link BUILTIN_LABELS} for the built-in scheme. */
  readonly label: string;
  /**
   * Built-in detectors are exclusive: where the hits of two exclusive detectors overlap,
   * only the one of the detector listed first is kept (the default list goes from the
   * most to the least specific, so an IBAN is not also reported as a phone number).
   * Custom detectors are not exclusive: their hits are always reported.
   */
  readonly exclusive: boolean;
  /**
   * Finds the values of {@link ClassificationDetector.label} in `text`.
   *
   * @param text - The text to scan, already cut to the classifier's scan bound.
   * @param maxHits - The most hits to return.
   */
  scan(text: string, maxHits: number): readonly DetectorHit[];
}

/**
 * One value found, as reported in a {@link ClassificationResult}.
 *
 * @since 2.0.0
 */
export interface ClassificationSpan extends DetectorHit {
  /** The detector that found it. */
  readonly detector: string;
  /** The detector's label. */
  readonly label: string;
}

/**
 * One label found in the content.
 *
 * @since 2.0.0
 */
export interface ClassificationLabel {
  /** The label, for example `pci.card`. */
  readonly label: string;
  /** The highest confidence of its matches, in [0, 1]. */
  readonly confidence: number;
  /** How many values of this label were found (after overlap resolution). */
  readonly matchCount: number;
  /** The matches (at most `maxSpansPerLabel`), when `includeSpans` was set. */
  readonly spans?: readonly ClassificationSpan[];
}

/**
 * What `Classifier.classify` found.
 *
 * @since 2.0.0
 */
export interface ClassificationResult {
  /** The labels found, sorted by label name; empty when nothing was found. */
  readonly labels: readonly ClassificationLabel[];
  /** How many bytes of the content were scanned (UTF-8 bytes for a string). */
  readonly scannedBytes: number;
  /** True when the content was longer than `maxScanBytes` and only its start was scanned. */
  readonly truncated: boolean;
}

/**
 * The built-in labels. The scheme is `<family>.<kind>`: `pii` for personal data,
 * `pci` for payment-card data (PCI DSS), `network` for network identifiers. The
 * names are stable; new labels may be added.
 *
 * @since 2.0.0
 */
export const BUILTIN_LABELS = Object.freeze({
  /** E-mail addresses. */
  email: 'pii.email',
  /** Payment card numbers (PAN). */
  card: 'pci.card',
  /** International bank account numbers. */
  iban: 'pii.iban',
  /** US Social Security numbers. */
  ssn: 'pii.ssn',
  /** Phone numbers. */
  phone: 'pii.phone',
  /** IPv4 addresses. */
  ipv4: 'network.ipv4',
  /** IPv6 addresses. */
  ipv6: 'network.ipv6',
} as const);

/**
 * One of the built-in labels; see {@link BUILTIN_LABELS}.
 *
 * @since 2.0.0
 */
export type BuiltinLabel = (typeof BUILTIN_LABELS)[keyof typeof BUILTIN_LABELS];
