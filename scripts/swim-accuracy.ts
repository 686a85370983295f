/**
 * `tsx scripts/swim-accuracy.ts [--seeds N] [--from S] [--nodes N] [--pause-ms MS] [--slow-ms MS]`:
 * runs the SWIM accuracy simulation (5% loss, one member paused 2 s in every
 * 10 s) over many seeds with Lifeguard on and off, and prints the false
 * suspicions and false deaths of each and their ratio. With `--slow-ms` the
 * member is not paused but slow: what is sent to it arrives that much later
 * for the same 2 s in every 10 s, while its timers run on time. Exits 1 when a member
 * was declared dead with Lifeguard on.
 */

import { parseArgs } from 'node:util';
import { runSwimAccuracy, type SwimAccuracyCounts } from '../sim/scenarios/swim-accuracy.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    from: { type: 'string', default: '1' },
    nodes: { type: 'string', default: '16' },
    'pause-ms': { type: 'string', default: '2000' },
    'slow-ms': { type: 'string' },
  },
});
const seeds = Number(values.seeds);
const from = Number(values.from);
const nodes = Number(values.nodes);
const pauseMs = Number(values['pause-ms']);
const slowMs = values['slow-ms'] === undefined ? undefined : Number(values['slow-ms']);

const started = performance.now();
type Totals = SwimAccuracyCounts & { failedRuns: number; runsWithDeaths: number };
async function measure(lifeguard: boolean): Promise<Totals> {
  const total: Totals = {
    raised: 0,
    raisedOfPaused: 0,
    raisedOfHealthy: 0,
    suspectEvents: 0,
    suspectEventsOfHealthy: 0,
    refutationsByPaused: 0,
    deaths: 0,
    failedRuns: 0,
    runsWithDeaths: 0,
  };
  for (let seed = from; seed < from + seeds; seed++) {
    const run = await runSwimAccuracy(seed, {
      nodes,
      lifeguard,
      pauseMs,
      forbidFalseDeaths: false,
      ...(slowMs === undefined ? {} : { slowInboundMs: slowMs }),
    });
    if (run.failure !== undefined) {
      total.failedRuns += 1;
      process.stdout.write(`FAIL (Lifeguard ${lifeguard ? 'on' : 'off'}) ${run.failure}\n`);
    }
    for (const key of Object.keys(run.counts) as (keyof SwimAccuracyCounts)[]) {
      total[key] += run.counts[key];
    }
    if (run.counts.deaths > 0) total.runsWithDeaths += 1;
  }
  return total;
}
const on = await measure(true);
const off = await measure(false);
const ratio = (a: number, b: number): string =>
  b === 0 ? (a === 0 ? 'both 0' : 'on is 0') : `${(a / b).toFixed(2)}x`;
const rows: [string, keyof typeof on][] = [
  ['suspicions raised (own failed probe)', 'raised'],
  ['  of the paused member', 'raisedOfPaused'],
  ['  of healthy members', 'raisedOfHealthy'],
  ['suspect events at all members', 'suspectEvents'],
  ['  about healthy members', 'suspectEventsOfHealthy'],
  ['refutations by the paused member', 'refutationsByPaused'],
  ['false dead declarations', 'deaths'],
  ['runs with a false death', 'runsWithDeaths'],
];
process.stdout.write(
  `swim accuracy: ${nodes} members, 5% loss, one member ${slowMs === undefined ? 'paused' : `receiving everything ${slowMs} ms late`} ${pauseMs} ms in every 10 s, ` +
    `${seeds} seeds x 120 s of faults each (${from}..${from + seeds - 1})\n`,
);
process.stdout.write(`${'count'.padEnd(40)}${'off'.padStart(8)}${'on'.padStart(8)}  off/on\n`);
for (const [label, key] of rows) {
  process.stdout.write(
    `${label.padEnd(40)}${String(off[key]).padStart(8)}${String(on[key]).padStart(8)}  ${ratio(off[key], on[key])}\n`,
  );
}
process.stdout.write(`wall ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
process.exit(on.deaths === 0 ? 0 : 1);
