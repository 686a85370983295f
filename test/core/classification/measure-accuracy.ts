// The long run of the accuracy measurement (the test runs one seed):
//   npx tsx test/core/classification/measure-accuracy.ts [seeds=20] [documents=200]
// prints per-label precision and recall summed over seeds 1..seeds.
import { measure, precision, recall, type Score } from './corpus.js';

const seeds = Number(process.argv[2] ?? 20);
const documents = Number(process.argv[3] ?? 200);
const total = new Map<string, Score>();
for (let seed = 1; seed <= seeds; seed++) {
  for (const [label, s] of measure(seed, documents, 12)) {
    const t = total.get(label) ?? { tp: 0, fp: 0, fn: 0, nearMisses: 0 };
    total.set(label, {
      tp: t.tp + s.tp,
      fp: t.fp + s.fp,
      fn: t.fn + s.fn,
      nearMisses: t.nearMisses + s.nearMisses,
    });
  }
}
console.log(`seeds 1..${seeds}, ${documents} documents of 12 values each per seed`);
console.table(
  [...total].map(([label, s]) => ({
    label,
    valid: s.tp + s.fn,
    nearMisses: s.nearMisses,
    fp: s.fp,
    fn: s.fn,
    precision: precision(s).toFixed(4),
    recall: recall(s).toFixed(4),
  })),
);
