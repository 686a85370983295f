/**
 * Classification on write: runs the content classifier over what is written and fills the
 * resource attributes a policy sees (`resource.labels`, `resource.classification`), so
 * compliance policies can require encryption of labelled data and quarantine what was
 * never classified.
 *
 * @packageDocumentation
 */

import type { GovernanceResourceAttributes } from '../../contracts/auto-governance.js';
import { DistributedError } from '../../contracts/errors.js';
import {
  classify,
  labelConfidences,
  type Classifier,
  type ClassifyOptions,
} from '../../core/governance/classification/classifier.js';
import type { ClassificationResult } from '../../core/governance/classification/types.js';

/**
 * The classification levels {@link classifyForGovernance} gives by default.
 *
 * - `confidential`: a personal (`pii.`) or payment-card (`pci.`) label was found.
 * - `internal`: other labels were found (for example `network.ipv4` or a custom one).
 * - `general`: no detector found anything. This says the detectors found nothing, not that
 *   the content is public.
 *
 * @since 2.0.0
 */
export const CLASSIFICATION_LEVELS = Object.freeze({
  /** Personal or payment-card data was found. */
  confidential: 'confidential',
  /** Other labels were found. */
  internal: 'internal',
  /** Nothing was found. */
  general: 'general',
} as const);

/**
 * The label added when the content was longer than the scan bound and only its start
 * was classified, so a policy can treat partly scanned content with caution.
 *
 * @since 2.0.0
 */
export const PARTIAL_SCAN_LABEL = 'classification.partial';

/**
 * Options of {@link classifyForGovernance}.
 *
 * @since 2.0.0
 */
export interface ClassifyForGovernanceOptions extends ClassifyOptions {
  /** The classifier (with custom detectors). Default: the built-in detectors. */
  readonly classifier?: Classifier;
  /**
   * The confidence a detected label needs to be listed in `resource.labels`. Default 0.5
   * (as `labelsAtLeast`). Every detected label and its confidence is in `confidences`.
   */
  readonly labelConfidence?: number;
  /**
   * Gives the `resource.classification` level from the listed labels. Default:
   * {@link defaultClassificationLevel}.
   */
  readonly level?: (labels: readonly string[]) => string;
  /** The most labels the resource may end with (CEL's `maxListItems`). Default 256. */
  readonly maxLabels?: number;
}

/**
 * What {@link classifyForGovernance} gives.
 *
 * @since 2.0.0
 */
export interface GovernanceClassification {
  /**
   * The resource attributes with `labels` (the given ones, then the detected ones at or
   * above `labelConfidence`, without duplicates) and `classification` filled.
   */
  readonly resource: GovernanceResourceAttributes;
  /** Every detected label with its confidence, in [0, 1]. */
  readonly confidences: Readonly<Record<string, number>>;
  /** The classifier's full result. */
  readonly result: ClassificationResult;
}

/**
 * The default level of a set of labels; see {@link CLASSIFICATION_LEVELS}.
 *
 * @param labels - The labels.
 * @since 2.0.0
 */
export function defaultClassificationLevel(labels: readonly string[]): string {
  if (labels.some((label) => label.startsWith('pii.') || label.startsWith('pci.'))) {
    return CLASSIFICATION_LEVELS.confidential;
  }
  const found = labels.filter((label) => label !== PARTIAL_SCAN_LABEL);
  return found.length > 0 ? CLASSIFICATION_LEVELS.internal : CLASSIFICATION_LEVELS.general;
}

/**
 * Classifies content on write and returns the resource attributes a governance context
 * carries for it: its labels with the detected ones added, and its classification level.
 * A resource that went through this always has `classification`, so a policy can tell
 * unclassified uploads by `!has(resource.classification)`.
 *
 * Labels the resource already has are kept (a label applied by hand is not taken away by
 * a scan), and the level is computed from all the labels, so a hand-applied `pii.` label
 * makes the resource confidential too; a level the resource already had is replaced.
 *
 * @param content - What is written: text, or bytes decoded as UTF-8.
 * @param resource - What is known of the resource already.
 * @param options - Classifier, thresholds, bounds.
 * @returns The attributes, the confidences and the classifier's result.
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` for content that is neither a
 *   string nor bytes, a bad option, or more labels than `maxLabels`.
 * @since 2.0.0
 */
export function classifyForGovernance(
  content: string | Uint8Array,
  resource: GovernanceResourceAttributes = {},
  options: ClassifyForGovernanceOptions = {},
): GovernanceClassification {
  const threshold = options.labelConfidence ?? 0.5;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    throw new DistributedError('INVALID_ARGUMENT', 'labelConfidence must be a number in [0, 1]');
  }
  const maxLabels = options.maxLabels ?? 256;
  const { classifier, labelConfidence: _l, level: _v, maxLabels: _m, ...classifyOptions } = options;
  const result =
    classifier === undefined
      ? classify(content, classifyOptions)
      : classifier.classify(content, classifyOptions);
  const detected = result.labels
    .filter((label) => label.confidence >= threshold)
    .map((label) => label.label);
  if (result.truncated) detected.push(PARTIAL_SCAN_LABEL);
  const labels = [...new Set([...(resource.labels ?? []), ...detected])];
  if (labels.length > maxLabels) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `the resource would have ${labels.length} labels, more than maxLabels (${maxLabels})`,
    );
  }
  const level = (options.level ?? defaultClassificationLevel)(labels);
  return Object.freeze({
    resource: Object.freeze({
      ...resource,
      labels: Object.freeze(labels),
      classification: level,
    }),
    confidences: labelConfidences(result),
    result,
  });
}
