/**
 * The runtime one simulated node incarnation sees.
 *
 * @packageDocumentation
 */

import type { SeededRandom } from '../../core/random/seeded-random.js';
import type { Runtime } from '../runtime.js';
import type { SimKernel, SimNodeState } from './kernel.js';
import { SimClock } from './sim-clock.js';
import { SimNetwork } from './sim-network.js';
import { SimStorage } from './sim-storage.js';

/**
 * A {@link Runtime} over the simulator: virtual clock with the node's drift,
 * the node's forked random stream (a new, seed-derived stream per
 * incarnation), the modelled network and crash-aware storage. Everything it
 * hands out belongs to one incarnation: after a crash, its timers never fire,
 * its sockets are gone and its store handles ignore writes.
 *
 * @since 2.0.0
 */
export class SimRuntime implements Runtime {
  /** The node id. */
  readonly nodeId: string;
  /** The node's clock. */
  readonly clock: SimClock;
  /** The node's random stream for this incarnation. */
  readonly random: SeededRandom;
  /** The node's network. */
  readonly network: SimNetwork;
  /** The node's storage. */
  readonly storage: SimStorage;
  /** Which incarnation this is (1 for the first start). */
  readonly incarnation: number;

  /**
   * @param kernel - The simulation kernel.
   * @param node - The node.
   * @param incarnation - The incarnation.
   */
  constructor(kernel: SimKernel, node: SimNodeState, incarnation: number) {
    this.nodeId = node.id;
    this.incarnation = incarnation;
    this.clock = new SimClock(kernel, node, incarnation);
    this.random = node.random.fork(`incarnation:${incarnation}`);
    this.network = new SimNetwork(kernel, node, incarnation);
    this.storage = new SimStorage(kernel, node, incarnation);
  }
}
