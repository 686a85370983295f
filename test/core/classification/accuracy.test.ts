// Precision and recall of the built-in detectors on a generated labelled corpus
// (seeded, so every run measures the same corpus): valid values and near misses
// (card numbers failing Luhn, IBANs with a wrong check digit or length, SSNs with area
// 000/666/9xx, malformed addresses, ...) embedded in filler text. A detected span counts
// as a true positive only when it is exactly a valid value's span with its label.
import { describe, expect, it } from 'vitest';
import { BUILTIN_LABELS } from '../../../src/core/governance/classification/types.js';
import { measure, precision, recall } from './corpus.js';

describe('classification accuracy on a generated labelled corpus', () => {
  const scores = measure(20_261_127, 300, 12);
  const table = [...scores].map(([label, s]) => ({
    label,
    valid: s.tp + s.fn,
    nearMisses: s.nearMisses,
    tp: s.tp,
    fp: s.fp,
    fn: s.fn,
    precision: precision(s).toFixed(4),
    recall: recall(s).toFixed(4),
  }));
  // The measured numbers, for the report (docs/audit-and-classification.md quotes them).
  console.table(table);

  it('has enough valid values and near misses of every label to mean something', () => {
    for (const [label, s] of scores) {
      expect(s.tp + s.fn, label).toBeGreaterThan(100);
      expect(s.nearMisses, label).toBeGreaterThan(100);
    }
  });

  it('finds payment cards and IBANs with precision and recall of at least 0.99', () => {
    for (const label of [BUILTIN_LABELS.card, BUILTIN_LABELS.iban]) {
      const s = scores.get(label)!;
      expect(precision(s), `${label} precision`).toBeGreaterThanOrEqual(0.99);
      expect(recall(s), `${label} recall`).toBeGreaterThanOrEqual(0.99);
    }
  });

  it('keeps the other detectors at precision and recall of at least 0.95', () => {
    for (const [label, s] of scores) {
      expect(precision(s), `${label} precision`).toBeGreaterThanOrEqual(0.95);
      expect(recall(s), `${label} recall`).toBeGreaterThanOrEqual(0.95);
    }
  });
});
