/**
 * The long run of the Raft simulation: many seeds of `raft-3` and `raft-5`
 * (crashes, restarts, partitions, pauses, 0–20% loss, duplication,
 * reordering), every invariant checked after every event.
 *
 *   npx tsx scripts/raft-seeds.ts --seeds 10000            both sizes, seeds 1..10000
 *   npx tsx scripts/raft-seeds.ts --seeds 10000 --nodes 5 --from 20001
 *   npx tsx scripts/raft-seeds.ts --nodes 3 --seed 1234     replay one seed (prints the failure)
 *   npx tsx scripts/raft-seeds.ts --nodes 3 --seed 1234 --trace   ... with the simulator's trace
 *   npx tsx scripts/raft-seeds.ts --nodes 3 --seed 1234 --fast    replay a seed of the test command
 *
 * Prints every failing seed with its failure line, then per scenario the
 * seeds passed and how long the members took to agree after the faults
 * stopped (p50, p99, max), and exits 1 when any seed failed.
 */

import { parseArgs } from 'node:util';
import { runScenario, type SimScenario } from '../src/runtime/sim/scenario.js';
import { Simulation, formatFailure } from '../src/runtime/sim/simulation.js';
import {
  RAFT_LIVENESS_BOUND_MS,
  raft3,
  raft5,
  runRaftSeed,
  setupRaftCluster,
} from '../sim/scenarios/raft-cluster.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10000' },
    from: { type: 'string', default: '1' },
    nodes: { type: 'string', default: 'both' },
    seed: { type: 'string' },
    trace: { type: 'boolean', default: false },
    fast: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: npx tsx scripts/raft-seeds.ts [--seeds N] [--from S] [--nodes 3|5|both] [--seed S [--trace | --fast]]\n',
  );
  process.exit(0);
}

function integer(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    process.stderr.write(`${flag} must be an integer, got '${text}'\n`);
    process.exit(2);
  }
  return value;
}

const scenarios = values.nodes === '3' ? [raft3] : values.nodes === '5' ? [raft5] : [raft3, raft5];

if (values.seed !== undefined && values.fast) {
  // Replays a seed of the test command (6 s of faults, stops soon after agreement).
  const seed = integer(values.seed, '--seed');
  let failed = false;
  for (const nodes of scenarios.map((s) => (s === raft5 ? 5 : 3))) {
    const run = await runRaftSeed(nodes, seed);
    process.stdout.write(`raft-${nodes} (fast) seed ${seed}: ${run.failure ?? 'ok'}\n`);
    failed ||= run.failure !== undefined;
  }
  process.exitCode = failed ? 1 : 0;
} else if (values.seed !== undefined) {
  const seed = integer(values.seed, '--seed');
  let failed = false;
  for (const scenario of scenarios) {
    const run = await runScenario(scenario, seed, values.trace ? {} : { traceCapacity: 0 });
    if (values.trace) process.stdout.write(`${run.sim.trace.format()}\n`);
    process.stdout.write(
      `${scenario.name} seed ${seed}: ${run.failure === undefined ? 'ok' : formatFailure(run.failure)}\n`,
    );
    failed ||= run.failure !== undefined;
  }
  // exitCode, not exit(): a long trace is still being written to a pipe.
  process.exitCode = failed ? 1 : 0;
} else {
  await longRun();
}

async function longRun(): Promise<void> {
  const count = integer(values.seeds, '--seeds');
  const from = integer(values.from, '--from');

  /** Runs one seed as `runScenario` does, keeping the record for the agreement times. */
  async function runOne(
    scenario: SimScenario,
    seed: number,
  ): Promise<{ failure: string | undefined; agreementMs: number | undefined }> {
    const sim = new Simulation({ seed, traceCapacity: 0 });
    const record = setupRaftCluster(sim, { nodes: scenario === raft5 ? 5 : 3 });
    await sim.runFor(scenario.durationMs);
    const result = sim.runFinalChecks();
    return {
      failure: result.failure === undefined ? undefined : formatFailure(result.failure),
      agreementMs:
        record.convergedAtMs === undefined ? undefined : record.convergedAtMs - record.quietFromMs,
    };
  }

  function percentile(sorted: readonly number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
  }

  let failures = 0;
  for (const scenario of scenarios) {
    const started = performance.now();
    let failed = 0;
    const agreement: number[] = [];
    for (let seed = from; seed < from + count; seed++) {
      const run = await runOne(scenario, seed);
      if (run.agreementMs !== undefined) agreement.push(run.agreementMs);
      if (run.failure !== undefined) {
        failed++;
        process.stdout.write(`FAIL ${scenario.name} ${run.failure}\n`);
      }
      if ((seed - from + 1) % 1_000 === 0) {
        process.stdout.write(
          `${scenario.name}: ${seed - from + 1}/${count} seeds, ${failed} failed, ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
        );
      }
    }
    failures += failed;
    agreement.sort((a, b) => a - b);
    process.stdout.write(
      `${scenario.name}: ${count - failed}/${count} seeds passed (seeds ${from}..${from + count - 1}, ${((performance.now() - started) / 1000).toFixed(1)} s)\n` +
        `  agreement after the faults stopped: p50 ${percentile(agreement, 50).toFixed(0)} ms, p99 ${percentile(agreement, 99).toFixed(0)} ms, max ${(agreement.at(-1) ?? Number.NaN).toFixed(0)} ms (bound ${RAFT_LIVENESS_BOUND_MS} ms)\n`,
    );
  }
  if (failures > 0) {
    process.stdout.write(
      'replay one with: npx tsx scripts/raft-seeds.ts --nodes 3|5 --seed <seed> --trace\n',
    );
    process.exit(1);
  }
}
