/**
 * The vector clock that versions replicated data across the SDK.
 *
 * @packageDocumentation
 */

import { DistributedError } from './errors.js';

/**
 * Every outcome of comparing two vector clocks `a.compare(b)`.
 *
 * - `before`: `a` happened before `b` (every counter of `a` ≤ `b`'s, at least one <).
 * - `after`: `a` happened after `b`.
 * - `equal`: the clocks are identical.
 * - `concurrent`: neither happened before the other; the versions conflict.
 *
 * @since 2.0.0
 */
export const CLOCK_ORDERINGS = Object.freeze(['before', 'after', 'equal', 'concurrent'] as const);

/**
 * The outcome of comparing two vector clocks; see {@link CLOCK_ORDERINGS}.
 *
 * @since 2.0.0
 */
export type ClockOrdering = (typeof CLOCK_ORDERINGS)[number];

/**
 * An immutable vector clock: one counter per node that has written. Every
 * operation returns a new clock; a clock never changes after it is made.
 *
 * Counters that are zero are not stored, so `{}` and `{ a: 0 }` are the same
 * clock and compare `equal`.
 *
 * @example
 * ```ts
 * const a = VectorClock.empty().increment('node-a');
 * const b = a.increment('node-b');
 * a.compare(b); // 'before'
 * a.increment('node-a').compare(b); // 'concurrent'
 * a.merge(b).counters; // { 'node-a': 1, 'node-b': 1 }
 * ```
 *
 * @since 2.0.0
 */
export class VectorClock {
  /** The counters, keyed by node id, frozen. Only positive counters are present. */
  readonly counters: Readonly<Record<string, number>>;

  // Counters are always built with Object.fromEntries or spreads, which create own
  // properties, so a node id such as "__proto__" cannot reach the prototype.
  private constructor(counters: Record<string, number>) {
    this.counters = Object.freeze(counters);
  }

  /** A clock with no counters: the version of something never written. */
  static empty(): VectorClock {
    return new VectorClock({});
  }

  /**
   * Builds a clock from plain counters, for example ones decoded from JSON.
   *
   * @param counters - Node id to counter. Every counter must be a non-negative safe integer.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` when `counters` is not an object or a
   *   counter is negative, fractional or not a safe integer.
   */
  static from(counters: Readonly<Record<string, number>>): VectorClock {
    if (typeof counters !== 'object' || (counters as unknown) === null || Array.isArray(counters)) {
      throw new DistributedError('INVALID_ARGUMENT', 'vector clock counters must be an object');
    }
    const entries = Object.entries(counters);
    for (const [nodeId, counter] of entries) {
      if (!Number.isSafeInteger(counter) || counter < 0) {
        throw new DistributedError(
          'INVALID_ARGUMENT',
          `vector clock counter for '${nodeId}' must be a non-negative integer`,
        );
      }
    }
    return new VectorClock(Object.fromEntries(entries.filter(([, counter]) => counter > 0)));
  }

  /** The counter of one node; zero when the node has never written. */
  get(nodeId: string): number {
    return Object.hasOwn(this.counters, nodeId) ? (this.counters[nodeId] ?? 0) : 0;
  }

  /**
   * Returns a clock with `nodeId`'s counter one higher: the version after a write by `nodeId`.
   *
   * @param nodeId - The node that writes.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` when the counter is already
   *   `Number.MAX_SAFE_INTEGER`, past which increments would stop advancing.
   */
  increment(nodeId: string): VectorClock {
    if (this.get(nodeId) >= Number.MAX_SAFE_INTEGER) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `vector clock counter for '${nodeId}' cannot advance past Number.MAX_SAFE_INTEGER`,
      );
    }
    return new VectorClock(
      Object.fromEntries([
        ...Object.entries(this.counters).filter(([id]) => id !== nodeId),
        [nodeId, this.get(nodeId) + 1],
      ]),
    );
  }

  /**
   * Returns the least clock that is after-or-equal both clocks: the counter-wise maximum.
   * Merge is commutative, associative and idempotent.
   *
   * @param other - The clock to merge with.
   */
  merge(other: VectorClock): VectorClock {
    const nodeIds = new Set([...Object.keys(this.counters), ...Object.keys(other.counters)]);
    return new VectorClock(
      Object.fromEntries(
        [...nodeIds].map((nodeId) => [nodeId, Math.max(this.get(nodeId), other.get(nodeId))]),
      ),
    );
  }

  /**
   * Compares this clock with another.
   *
   * @param other - The clock to compare with.
   * @returns How this clock is ordered relative to `other`.
   */
  compare(other: VectorClock): ClockOrdering {
    let less = false;
    let greater = false;
    const nodeIds = new Set([...Object.keys(this.counters), ...Object.keys(other.counters)]);
    for (const nodeId of nodeIds) {
      const mine = this.get(nodeId);
      const theirs = other.get(nodeId);
      if (mine < theirs) less = true;
      if (mine > theirs) greater = true;
    }
    if (less && greater) return 'concurrent';
    if (less) return 'before';
    if (greater) return 'after';
    return 'equal';
  }

  /** The plain counters, so `JSON.stringify` gives `{ "node-a": 1, ... }`. */
  toJSON(): Readonly<Record<string, number>> {
    return this.counters;
  }
}
