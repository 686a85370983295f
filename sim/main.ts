/**
 * `npm run sim -- <scenario> [--seeds N] [--from S]`: runs a scenario over
 * many seeds and prints the failing ones with their failure.
 * `npm run sim -- <scenario> --seed S [--trace] [--trace-limit N]`: replays one
 * seed exactly and prints its outcome (and its trace).
 */

import { parseArgs } from 'node:util';
import { findFailingSeeds, runScenario } from '../src/runtime/sim/scenario.js';
import { formatFailure } from '../src/runtime/sim/simulation.js';
import { scenarios } from './scenarios/registry.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seeds: { type: 'string' },
    from: { type: 'string' },
    seed: { type: 'string' },
    trace: { type: 'boolean', default: false },
    'trace-limit': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const usage = `usage: npm run sim -- <scenario> [--seeds N] [--from S]
       npm run sim -- <scenario> --seed S [--trace] [--trace-limit N]
scenarios:
${scenarios.map((s) => `  ${s.name.padEnd(18)} ${s.description}`).join('\n')}`;

const name = positionals[0];
if (values.help || name === undefined) {
  process.stdout.write(`${usage}\n`);
  process.exit(values.help ? 0 : 2);
}
const scenario = scenarios.find((candidate) => candidate.name === name);
if (scenario === undefined) {
  process.stderr.write(`unknown scenario '${name}'\n${usage}\n`);
  process.exit(2);
}

function integer(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    process.stderr.write(`${flag} must be an integer, got '${text}'\n`);
    process.exit(2);
  }
  return value;
}

if (values.seed !== undefined) {
  const seed = /^-?\d+$/.test(values.seed) ? Number(values.seed) : values.seed;
  const started = performance.now();
  const run = await runScenario(scenario, seed, values.trace ? {} : { traceCapacity: 0 });
  const wallMs = performance.now() - started;
  if (values.trace) {
    const limit = integer(values['trace-limit'], Number.POSITIVE_INFINITY, '--trace-limit');
    process.stdout.write(`${run.sim.trace.format(limit)}\n\n`);
  }
  const stats = run.sim.stats;
  process.stdout.write(
    `${scenario.name} seed ${String(seed)}: ${run.failure === undefined ? 'ok' : 'FAILED'}` +
      ` (${run.result.timeMs.toFixed(0)} virtual ms, ${stats.events} events, ${wallMs.toFixed(0)} ms wall, trace digest ${run.digest})\n`,
  );
  if (run.failure !== undefined) {
    process.stdout.write(`${formatFailure(run.failure)}\n`);
    process.exit(1);
  }
} else {
  const count = integer(values.seeds, 10, '--seeds');
  const from = integer(values.from, 1, '--from');
  const started = performance.now();
  const failing = await findFailingSeeds(scenario, {
    from,
    count,
    onRun: (run) => {
      if (run.failure !== undefined) process.stdout.write(`FAIL ${formatFailure(run.failure)}\n`);
    },
  });
  const wallS = (performance.now() - started) / 1000;
  process.stdout.write(
    `${scenario.name}: ${count - failing.length}/${count} seeds passed (seeds ${from}..${from + count - 1}, ${wallS.toFixed(1)} s)\n`,
  );
  if (failing.length > 0) {
    process.stdout.write(
      `replay one with: npm run sim -- ${scenario.name} --seed ${String(failing[0]?.seed)} --trace\n`,
    );
    process.exit(1);
  }
}
