/**
 * `npm run sim:membership -- --seeds N [--from S]`: the `membership` scenario
 * (native SWIM + Raft membership on five simulated members under seeded
 * faults) over many seeds, with the agreement time after the faults stop.
 * `--seed S` runs one seed; `npm run sim -- membership --seed S --trace` replays it.
 */

import { parseArgs } from 'node:util';
import {
  MEMBERSHIP_LIVENESS_BOUND_MS,
  runNativeMembershipSeed,
} from '../sim/scenarios/native-membership.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    from: { type: 'string', default: '1' },
    seed: { type: 'string' },
    'no-fast-failover': { type: 'boolean', default: false },
  },
});

function integer(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be an integer`);
  return value;
}

const fastFailover = !values['no-fast-failover'];
const from =
  values.seed === undefined ? integer(values.from, '--from') : integer(values.seed, '--seed');
const count = values.seed === undefined ? integer(values.seeds, '--seeds') : 1;
const agreement: number[] = [];
const started = performance.now();
let failed = 0;
for (let seed = from; seed < from + count; seed++) {
  const { failure, record } = await runNativeMembershipSeed(seed, { fastFailover });
  if (record.convergedAtMs !== undefined && record.quietFromMs !== undefined) {
    agreement.push(record.convergedAtMs - record.quietFromMs);
  }
  if (failure !== undefined) {
    failed++;
    process.stdout.write(`FAIL membership ${failure}\n`);
  } else if (count === 1) {
    process.stdout.write(`membership seed ${String(seed)}: ok\n`);
  }
  if ((seed - from + 1) % 100 === 0) {
    process.stdout.write(
      `${String(seed - from + 1)}/${String(count)} seeds, ${String(failed)} failed, ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
    );
  }
}
agreement.sort((a, b) => a - b);
const at = (p: number): string =>
  (
    agreement[Math.min(agreement.length - 1, Math.floor((p / 100) * agreement.length))] ?? NaN
  ).toFixed(0);
process.stdout.write(
  `membership: ${String(count - failed)}/${String(count)} seeds passed (seeds ${String(from)}..${String(from + count - 1)}, fast failover ${fastFailover ? 'on' : 'off'}, ${((performance.now() - started) / 1000).toFixed(1)} s)\n` +
    `  agreement after the faults stopped: p50 ${at(50)} ms, p99 ${at(99)} ms, max ${(agreement.at(-1) ?? NaN).toFixed(0)} ms (bound ${String(MEMBERSHIP_LIVENESS_BOUND_MS)} ms)\n`,
);
process.exitCode = failed > 0 ? 1 : 0;
