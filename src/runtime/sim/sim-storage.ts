/**
 * A node's storage in the simulator: writes are visible at once, `sync()`
 * resolves after a modelled fsync delay, and a crash keeps exactly the writes
 * a completed sync covered.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import type { DurableStore, Storage } from '../runtime.js';
import type { SimKernel, SimNodeState } from './kernel.js';
import { StoreData } from './store-data.js';

const STORE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * One store as one incarnation sees it. After that incarnation crashed, its
 * handles do nothing (writes are ignored, syncs never resolve): a dead process
 * cannot write.
 */
class SimDurableStore implements DurableStore {
  readonly #kernel: SimKernel;
  readonly #node: SimNodeState;
  readonly #incarnation: number;
  readonly #data: StoreData;
  readonly #name: string;

  constructor(
    kernel: SimKernel,
    node: SimNodeState,
    incarnation: number,
    data: StoreData,
    name: string,
  ) {
    this.#kernel = kernel;
    this.#node = node;
    this.#incarnation = incarnation;
    this.#data = data;
    this.#name = name;
  }

  #current(): boolean {
    return this.#node.incarnation === this.#incarnation;
  }

  get(key: string): Uint8Array | undefined {
    const value = this.#data.live.get(key);
    return value === undefined ? undefined : value.slice();
  }

  put(key: string, value: Uint8Array): void {
    if (typeof key !== 'string') throw new DistributedError('INVALID_ARGUMENT', 'key: string');
    if (!(value instanceof Uint8Array)) {
      throw new DistributedError('INVALID_ARGUMENT', 'value must be a Uint8Array');
    }
    if (!this.#current()) return;
    this.#data.write(key, value.slice());
  }

  delete(key: string): void {
    if (!this.#current()) return;
    if (!this.#data.live.has(key)) return;
    this.#data.write(key, undefined);
  }

  keys(prefix = ''): string[] {
    const out: string[] = [];
    for (const key of this.#data.live.keys()) if (key.startsWith(prefix)) out.push(key);
    // Code-unit order, as the contract says (not locale order).
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  sync(): Promise<void> {
    const kernel = this.#kernel;
    const node = this.#node;
    if (!this.#current()) return new Promise<void>(() => undefined);
    const position = this.#data.position;
    const { fsyncBaseMs, fsyncJitterMs } = kernel.options.storage;
    const delay = fsyncBaseMs + node.random.next() * fsyncJitterMs;
    return new Promise<void>((resolve) => {
      kernel.at(kernel.now + delay, node.index, this.#incarnation, () => {
        this.#data.makeDurable(position);
        kernel.trace.record(kernel.now, 'sync', node.index, 0, -1, 0, 0, this.#name);
        resolve();
      });
    });
  }
}

/**
 * The {@link Storage} of one node incarnation.
 *
 * @since 2.0.0
 */
export class SimStorage implements Storage {
  readonly #kernel: SimKernel;
  readonly #node: SimNodeState;
  readonly #incarnation: number;

  /**
   * @param kernel - The simulation kernel.
   * @param node - The node (its stores outlive incarnations).
   * @param incarnation - The incarnation this view serves.
   */
  constructor(kernel: SimKernel, node: SimNodeState, incarnation: number) {
    this.#kernel = kernel;
    this.#node = node;
    this.#incarnation = incarnation;
  }

  /**
   * Opens a store, creating it when new.
   *
   * @param name - 1–128 letters, digits, `-` and `_`.
   * @returns The store.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad name, `CAPACITY_EXCEEDED` beyond
   *   `storage.maxStoresPerNode`.
   */
  open(name: string): DurableStore {
    if (typeof name !== 'string' || !STORE_NAME.test(name)) {
      throw new DistributedError('INVALID_ARGUMENT', `bad store name '${name}'`);
    }
    let data = this.#node.stores.get(name);
    if (data === undefined) {
      const { maxStoresPerNode, maxUnsyncedWrites } = this.#kernel.options.storage;
      if (this.#node.stores.size >= maxStoresPerNode) {
        throw new DistributedError('CAPACITY_EXCEEDED', `at most ${maxStoresPerNode} stores`);
      }
      data = new StoreData(maxUnsyncedWrites);
      this.#node.stores.set(name, data);
    }
    return new SimDurableStore(this.#kernel, this.#node, this.#incarnation, data, name);
  }
}
