/** Every benchmark suite, by name. */

import type { BenchSuite } from './harness.js';
import { electionSuite } from './election/index.js';
import { gossipSuite } from './gossip.js';
import { governanceSuite } from './governance.js';
import { lbSuite } from './lb/index.js';
import { simSuite } from './sim.js';
import { transportSuite } from './transport.js';

/** The registered suites; `npm run bench -- <name>` runs one. */
export const suites: readonly BenchSuite[] = [
  lbSuite,
  simSuite,
  gossipSuite,
  transportSuite,
  governanceSuite,
  electionSuite,
];
