/**
 * `npm run fuzz -- [--runs N] [--seed S] [--target substring]`: a large
 * property-based campaign over every wire decoder (frames, envelopes, sealed
 * frames, keyring files). The test suite runs the same targets with few runs;
 * this runs many. Exits 1 on the first counterexample, printing it with the
 * seed that reproduces it.
 */

import { parseArgs } from 'node:util';
import { CORE_FUZZ_TARGETS } from '../test/core/wire/fuzz-targets.js';
import { SWIM_FUZZ_TARGETS } from '../test/core/swim/fuzz-targets.js';
import { TRANSPORT_FUZZ_TARGETS } from '../test/native/transport/fuzz-targets.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    target: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const targets = [...CORE_FUZZ_TARGETS, ...TRANSPORT_FUZZ_TARGETS, ...SWIM_FUZZ_TARGETS];

if (values.help) {
  console.log(`usage: npm run fuzz -- [--runs N] [--seed S] [--target substring]
targets:
${targets.map((target) => `  ${target.name}`).join('\n')}`);
  process.exit(0);
}

const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 1) {
  console.error(`--runs must be a positive integer, got ${values.runs}`);
  process.exit(2);
}
const seed = values.seed === undefined ? Date.now() | 0 : Number(values.seed);
if (!Number.isSafeInteger(seed)) {
  console.error(`--seed must be an integer, got ${String(values.seed)}`);
  process.exit(2);
}
const selected = targets.filter(
  (target) => values.target === undefined || target.name.includes(values.target),
);
if (selected.length === 0) {
  console.error(`no target matches ${String(values.target)}`);
  process.exit(2);
}

console.log(`fuzz: ${runs} runs per target, seed ${seed}`);
let failed = false;
for (const target of selected) {
  const started = performance.now();
  try {
    target.run(runs, seed);
    const seconds = (performance.now() - started) / 1000;
    console.log(`  ok    ${target.name} (${seconds.toFixed(1)} s)`);
  } catch (error) {
    failed = true;
    console.log(`  FAIL  ${target.name}`);
    console.log(error instanceof Error ? error.message : String(error));
  }
}
process.exit(failed ? 1 : 0);
