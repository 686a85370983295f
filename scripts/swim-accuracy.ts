/**
 * `tsx scripts/swim-accuracy.ts [--seeds N] [--from S] [--nodes N] [--pause-ms MS] [--slow-ms MS] [--fallback on|off] [--handshake-loss P]`:
 * runs the SWIM accuracy simulation (5% loss, one member paused 2 s in every
 * 10 s) over many seeds with Lifeguard off and on, and prints every count of
 * the accuracy tables in docs/swim.md with its off/on ratio. With `--slow-ms`
 * the member is not paused but slow: what is sent to it arrives that much
 * later for the same 2 s in every 10 s, while its timers run on time. The
 * fallback ping over a stream is on in both modes (memberlist's default);
 * `--fallback off` measures without it; `--handshake-loss 0.05` makes a
 * fallback exchange start 1 s late when its TCP handshake would have lost a
 * packet (the simulator's handshake is lossless). Exits 1 when a member was declared
 * dead with Lifeguard on.
 */

import { parseArgs } from 'node:util';
import {
  emptySwimAccuracyCounts,
  runSwimAccuracy,
  type SwimAccuracyCounts,
} from '../sim/scenarios/swim-accuracy.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    from: { type: 'string', default: '1' },
    nodes: { type: 'string', default: '16' },
    'pause-ms': { type: 'string', default: '2000' },
    'slow-ms': { type: 'string' },
    fallback: { type: 'string', default: 'on' },
    'handshake-loss': { type: 'string', default: '0' },
  },
});
const seeds = Number(values.seeds);
const from = Number(values.from);
const nodes = Number(values.nodes);
const pauseMs = Number(values['pause-ms']);
const slowMs = values['slow-ms'] === undefined ? undefined : Number(values['slow-ms']);
const fallbackPing = values.fallback !== 'off';
const handshakeLoss = Number(values['handshake-loss']);

const started = performance.now();
type Totals = SwimAccuracyCounts & { failedRuns: number; runsWithDeaths: number };
async function measure(lifeguard: boolean): Promise<Totals> {
  const total: Totals = { ...emptySwimAccuracyCounts(), failedRuns: 0, runsWithDeaths: 0 };
  for (let seed = from; seed < from + seeds; seed++) {
    const run = await runSwimAccuracy(seed, {
      nodes,
      lifeguard,
      fallbackPing,
      fallbackHandshakeLoss: handshakeLoss,
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
const off = await measure(false);
const on = await measure(true);
const ratio = (a: number, b: number): string =>
  b === 0 ? (a === 0 ? 'both 0' : 'on is 0') : `${(a / b).toFixed(2)}x`;
const who = slowMs === undefined ? 'paused' : 'slow';
const rows: [string, keyof Totals][] = [
  ['suspicions raised (own failed probe)', 'raised'],
  [`  of the ${who} member`, 'raisedOfPaused'],
  ['  of healthy members', 'raisedOfHealthy'],
  [`    raised by the ${who} member itself`, 'raisedByPaused'],
  ['      at the instant it resumed (stall)', 'raisedByPausedAtResume'],
  ['suspect events at all members', 'suspectEvents'],
  ['  about healthy members', 'suspectEventsOfHealthy'],
  [`refutations by the ${who} member`, 'refutationsByPaused'],
  ['false dead declarations', 'deaths'],
  ['runs with a false death', 'runsWithDeaths'],
  ['fallback pings sent', 'fallbackPings'],
  ['probes only the fallback answered', 'fallbackRescues'],
];
process.stdout.write(
  `swim accuracy: ${nodes} members, 5% loss, one member ${slowMs === undefined ? 'paused' : `receiving everything ${slowMs} ms late`} ${pauseMs} ms in every 10 s, ` +
    `fallback ping ${fallbackPing ? `on${handshakeLoss > 0 ? ` (handshake loss ${handshakeLoss})` : ''}` : 'off'}, ` +
    `${seeds} seeds x 120 s of faults each (${from}..${from + seeds - 1})\n`,
);
process.stdout.write(
  `${'count (Lifeguard off / on)'.padEnd(42)}${'off'.padStart(8)}${'on'.padStart(8)}  off/on\n`,
);
for (const [label, key] of rows) {
  process.stdout.write(
    `${label.padEnd(42)}${String(off[key]).padStart(8)}${String(on[key]).padStart(8)}  ${ratio(off[key], on[key])}\n`,
  );
}
process.stdout.write(`wall ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
process.exit(on.deaths === 0 ? 0 : 1);
