/**
 * `tsx scripts/swim-load.ts [--nodes 10,50,100,200,500] [--seed S]`: runs the
 * SWIM load simulation (no faults) for each cluster size and prints packets
 * (and bytes) per member per protocol period, by kind, once membership has
 * converged. The claim: flat as N grows. `fallback` counts fallback pings
 * (stream exchanges, not in `total`): none without loss.
 */

import { parseArgs } from 'node:util';
import { runSwimLoad } from '../sim/scenarios/swim-load.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10,50,100,200,500' },
    seed: { type: 'string', default: '1' },
  },
});
const sizes = values.nodes.split(',').map(Number);
const seed = Number(values.seed);

process.stdout.write(
  'swim load: no faults, window 30..90 s (after convergence); per member per protocol period (1 s)\n',
);
process.stdout.write(
  `${'N'.padStart(5)}${'total'.padStart(9)}${'probe'.padStart(9)}${'gossip'.padStart(9)}${'pushpull'.padStart(10)}${'fallback'.padStart(10)}${'bytes'.padStart(9)}  converged  wall\n`,
);
let first: number | undefined;
for (const nodes of sizes) {
  const started = performance.now();
  const { result, converged, failure } = await runSwimLoad(nodes, seed);
  if (failure !== undefined) process.stdout.write(`FAIL ${failure}\n`);
  if (result === undefined) continue;
  first ??= result.total;
  process.stdout.write(
    `${String(nodes).padStart(5)}${result.total.toFixed(3).padStart(9)}${result.probe.toFixed(3).padStart(9)}` +
      `${result.gossip.toFixed(3).padStart(9)}${result.pushPull.toFixed(3).padStart(10)}${result.fallback.toFixed(3).padStart(10)}${result.bytes.toFixed(0).padStart(9)}` +
      `  ${String(converged).padEnd(9)}  ${((performance.now() - started) / 1000).toFixed(1)} s  (${(result.total / first).toFixed(2)}x N=${sizes[0]})\n`,
  );
}
