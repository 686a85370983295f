/**
 * `tsx scripts/swim-completeness.ts [--seeds N] [--from S] [--nodes N] [--lifeguard on|off] [--fallback on|off] [--loss P]`:
 * runs the SWIM completeness simulation over many seeds (a crashed member must
 * be declared dead by every live member within `failureDetectionBoundMs`), and
 * prints the pass rate (target: at least 99.9%) and the distribution of the
 * detection time. Exits 1 when the pass rate is below 99.9%.
 */

import { parseArgs } from 'node:util';
import { runSwimCompleteness } from '../sim/scenarios/swim-completeness.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1000' },
    from: { type: 'string', default: '1' },
    nodes: { type: 'string', default: '20' },
    lifeguard: { type: 'string', default: 'on' },
    fallback: { type: 'string', default: 'on' },
    loss: { type: 'string', default: '0.01' },
  },
});
const seeds = Number(values.seeds);
const from = Number(values.from);
const nodes = Number(values.nodes);
const loss = Number(values.loss);
const lifeguard = values.lifeguard !== 'off';
const fallbackPing = values.fallback !== 'off';

const started = performance.now();
const detections: number[] = [];
const suspicions: number[] = [];
const failures: string[] = [];
let bound = 0;
for (let seed = from; seed < from + seeds; seed++) {
  const run = await runSwimCompleteness(seed, { nodes, lifeguard, fallbackPing }, loss);
  bound = run.boundMs;
  if (run.failure !== undefined) {
    failures.push(run.failure);
    process.stdout.write(`FAIL ${run.failure}\n`);
  }
  if (Number.isFinite(run.detectionMs)) detections.push(run.detectionMs);
  if (Number.isFinite(run.firstSuspectMs)) suspicions.push(run.firstSuspectMs);
}
const pct = (list: number[], p: number): string => {
  const sorted = [...list].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return value === undefined ? '-' : `${(value / 1000).toFixed(2)} s`;
};
const rate = (seeds - failures.length) / seeds;
process.stdout.write(
  [
    `swim completeness: ${nodes} members, ${(loss * 100).toFixed(1)}% loss, Lifeguard ${lifeguard ? 'on' : 'off'}, fallback ping ${fallbackPing ? 'on' : 'off'}, seeds ${from}..${from + seeds - 1}`,
    `bound failureDetectionBoundMs = ${(bound / 1000).toFixed(2)} s after the crash`,
    `passed ${seeds - failures.length}/${seeds} = ${(rate * 100).toFixed(2)}% (target >= 99.9%)`,
    `crash -> first suspicion: p50 ${pct(suspicions, 0.5)}, p99 ${pct(suspicions, 0.99)}, max ${pct(suspicions, 1)}`,
    `crash -> dead at every live member: p50 ${pct(detections, 0.5)}, p99 ${pct(detections, 0.99)}, p99.9 ${pct(detections, 0.999)}, max ${pct(detections, 1)}`,
    `wall ${((performance.now() - started) / 1000).toFixed(1)} s`,
  ].join('\n') + '\n',
);
process.exit(rate >= 0.999 ? 0 : 1);
