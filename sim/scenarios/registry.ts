/** The scenarios `npm run sim` knows, by name. */

import type { SimScenario } from '../../src/runtime/sim/scenario.js';
import { broadcastFlood } from './broadcast-flood.js';
import { gossipDissemination } from './gossip-dissemination.js';
import { nativeMembership } from './native-membership.js';
import { pingMesh } from './ping-mesh.js';
import { raft3, raft5 } from './raft-cluster.js';
import { swimAccuracy } from './swim-accuracy.js';
import { swimCompleteness } from './swim-completeness.js';
import { swimLoad } from './swim-load.js';

/** Every registered scenario. The deliberately buggy one lives in the tests only. */
export const scenarios: readonly SimScenario[] = [
  pingMesh,
  broadcastFlood,
  gossipDissemination,
  swimCompleteness,
  swimAccuracy,
  swimLoad,
  raft3,
  raft5,
  nativeMembership,
];
