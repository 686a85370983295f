/**
 * The state of one simulated durable store: what a reader sees now (`live`),
 * what survives a crash (`durable`), and the journal of writes in between.
 *
 * A sync snapshots the journal's length when it is called; when its modelled
 * fsync completes, exactly the writes made before the call become durable.
 * A crash replaces `live` with `durable` and drops the journal.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';

/**
 * One store's data, kept by the simulation across restarts of its node.
 *
 * @since 2.0.0
 */
export class StoreData {
  /** What readers see. Values are owned by the store (copied in and out). */
  live = new Map<string, Uint8Array>();
  /** What survives a crash. */
  readonly durable = new Map<string, Uint8Array>();
  /** Writes not yet durable, oldest first; `undefined` value means delete. */
  #journal: [string, Uint8Array | undefined][] = [];
  /** Journal entries already applied and dropped, so positions stay absolute. */
  #applied = 0;
  readonly #maxUnsyncedWrites: number;

  /**
   * @param maxUnsyncedWrites - Journal bound; `put`/`delete` throw beyond it.
   */
  constructor(maxUnsyncedWrites: number) {
    this.#maxUnsyncedWrites = maxUnsyncedWrites;
  }

  /** Writes not yet durable. */
  get unsyncedWrites(): number {
    return this.#journal.length;
  }

  /** The absolute journal position a sync called now must reach. */
  get position(): number {
    return this.#applied + this.#journal.length;
  }

  /**
   * Records a write (value already copied) or a delete (`undefined`).
   *
   * @param key - The key.
   * @param value - The value, or `undefined` to delete.
   * @throws DistributedError `CAPACITY_EXCEEDED` when too many writes are unsynced.
   */
  write(key: string, value: Uint8Array | undefined): void {
    if (this.#journal.length >= this.#maxUnsyncedWrites) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `more than ${this.#maxUnsyncedWrites} unsynced writes: call sync()`,
      );
    }
    if (value === undefined) this.live.delete(key);
    else this.live.set(key, value);
    this.#journal.push([key, value]);
  }

  /**
   * Makes durable every write before the absolute `position` (an fsync completing).
   *
   * @param position - A value of {@link StoreData.position} taken earlier.
   */
  makeDurable(position: number): void {
    const count = position - this.#applied;
    if (count <= 0) return;
    for (let i = 0; i < count; i++) {
      const [key, value] = this.#journal[i] as [string, Uint8Array | undefined];
      if (value === undefined) this.durable.delete(key);
      else this.durable.set(key, value);
    }
    this.#journal = this.#journal.slice(count);
    this.#applied = position;
  }

  /** A crash: everything unsynced is lost. Pending syncs of the dead incarnation never complete. */
  crash(): void {
    this.live = new Map(this.durable);
    this.#applied += this.#journal.length;
    this.#journal = [];
  }
}
