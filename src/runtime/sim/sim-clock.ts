/**
 * A node's clock in the simulator: virtual time seen through the node's drift
 * (a rate in parts per million) and offset (a wrongly set wall clock).
 *
 * @packageDocumentation
 */

import type { Clock, Timer } from '../runtime.js';
import type { SimEvent } from './event-queue.js';
import type { SimKernel, SimNodeState } from './kernel.js';

/** A timer handle over a kernel event. */
class SimTimer implements Timer {
  readonly #kernel: SimKernel;
  #event: SimEvent | undefined;

  constructor(kernel: SimKernel, event: SimEvent | undefined) {
    this.#kernel = kernel;
    this.#event = event;
  }

  cancel(): void {
    if (this.#event === undefined) return;
    this.#kernel.cancel(this.#event);
    this.#event = undefined;
  }
}

/**
 * The {@link Clock} of one node incarnation. `monotonic()` is the node's own
 * elapsed time since the simulation began (it runs fast or slow with drift, and
 * continues across restarts, like a hardware clock); `now()` adds the
 * simulation's epoch and the node's offset. Timers wait in the node's time:
 * with +100 ppm drift a 1 000 ms timer fires after 999.9 virtual ms. Timers of
 * a crashed incarnation never fire; a paused node's expired timers fire on
 * resume, before the deliveries held during the pause (see `SimKernel.resume`).
 *
 * @since 2.0.0
 */
export class SimClock implements Clock {
  readonly #kernel: SimKernel;
  readonly #node: SimNodeState;
  readonly #incarnation: number;

  /**
   * @param kernel - The simulation kernel.
   * @param node - The node.
   * @param incarnation - The incarnation this clock serves.
   */
  constructor(kernel: SimKernel, node: SimNodeState, incarnation: number) {
    this.#kernel = kernel;
    this.#node = node;
    this.#incarnation = incarnation;
  }

  /** Wall-clock epoch ms, with the node's drift and offset. */
  now(): number {
    return this.#kernel.options.epochMs + this.#node.offsetMs + this.#kernel.localTime(this.#node);
  }

  /** The node's monotonic ms. */
  monotonic(): number {
    return this.#kernel.localTime(this.#node);
  }

  /**
   * Calls `callback` once after `delayMs` of the node's time.
   *
   * @param delayMs - Delay; negative or NaN is treated as zero.
   * @param callback - Called on the node's event loop.
   * @returns The timer.
   */
  setTimer(delayMs: number, callback: () => void): Timer {
    const kernel = this.#kernel;
    const node = this.#node;
    // A dead incarnation's timers never fire.
    if (node.incarnation !== this.#incarnation) return new SimTimer(kernel, undefined);
    const delay = delayMs > 0 ? delayMs : 0;
    let fireAt = kernel.now + delay / node.rate;
    if (node.rate !== 1) {
      // Never early in the node's own time, despite float rounding.
      const wanted = kernel.localTime(node) + delay;
      while (node.localBase + (fireAt - node.globalBase) * node.rate < wanted) {
        fireAt += Math.max(1e-9, Math.abs(fireAt) * 1e-15);
      }
    }
    return new SimTimer(kernel, kernel.at(fireAt, node.index, this.#incarnation, callback, true));
  }
}
