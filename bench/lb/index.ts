/**
 * `npm run bench -- lb`: every load-balancing strategy's selection rate, the
 * consistent-hashing variants against the npm `hashring` package (balance,
 * disruption, speed), and tail latency with one slow node.
 */

import type { BenchSuite } from '../harness.js';
import { hashingRows, hashingWorkload } from './hashing.js';
import { strategyRows, strategyWorkload } from './strategies.js';
import { tailLatencyRows, tailLatencyWorkload } from './tail-latency.js';

/** The `lb` suite. */
export const lbSuite: BenchSuite = {
  name: 'lb',
  workload: (options) =>
    [hashingWorkload(options), strategyWorkload(options), tailLatencyWorkload(options)].join(
      '\n          ',
    ),
  run: async (options, log) => [
    ...(await hashingRows(options, log)),
    ...(await strategyRows(options, log)),
    ...(await tailLatencyRows(options, log)),
  ],
};
