/**
 * The embedded {@link ClusterConfigStore}: the configuration of a one-node
 * cluster, kept in memory. On one node every read is trivially linearizable.
 *
 * @packageDocumentation
 */

import type {
  ClusterConfigStore,
  CompareAndSetResult,
  ConfigChange,
  ConfigEntry,
  ConfigExpectation,
} from '../contracts/cluster-config.js';
import type { CallOptions, Listener, Unsubscribe } from '../contracts/common.js';
import { DistributedError } from '../contracts/errors.js';
import {
  checkConfigExpectation,
  checkConfigKey,
  checkConfigValue,
  type ConfigArgumentLimits,
} from '../core/config/config-arguments.js';
import { EventHub } from '../core/events.js';
import { resolveEmbeddedOptions, type EmbeddedOptions } from './options.js';

/**
 * Options of {@link InMemoryClusterConfig}.
 *
 * @since 2.0.0
 */
export interface InMemoryClusterConfigOptions extends EmbeddedOptions {
  /** The most keys held; a put of a new key beyond it fails with `CAPACITY_EXCEEDED`. Default 10,000. */
  readonly maxKeys?: number;
  /** Longest key, in UTF-8 bytes; default 1,024. */
  readonly maxKeyBytes?: number;
  /** Largest value, in UTF-8 bytes; default 256 KiB. */
  readonly maxValueBytes?: number;
}

/**
 * A one-node configuration store in memory (lost when the process ends).
 * Revisions count every write, as in etcd.
 *
 * @since 2.0.0
 */
export class InMemoryClusterConfig implements ClusterConfigStore {
  readonly #entries = new Map<string, ConfigEntry>();
  readonly #changes: EventHub<ConfigChange>;
  readonly #maxKeys: number;
  readonly #limits: ConfigArgumentLimits;
  #revision = 0;

  /** @param options - Bounds and listener error handling. */
  constructor(options: InMemoryClusterConfigOptions = {}) {
    this.#changes = new EventHub(resolveEmbeddedOptions(options).onListenerError);
    this.#maxKeys = options.maxKeys ?? 10_000;
    this.#limits = {
      maxKeyBytes: options.maxKeyBytes ?? 1024,
      maxValueBytes: options.maxValueBytes ?? 256 * 1024,
    };
  }

  /**
   * Reads one key.
   *
   * @param key - The key.
   * @param options - Cancellation.
   */
  async get(key: string, options?: CallOptions): Promise<ConfigEntry | undefined> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    this.#checkKey(key);
    return this.#entries.get(key);
  }

  /**
   * Reads every key under a prefix, in key order.
   *
   * @param prefix - The prefix.
   * @param options - Cancellation.
   */
  async list(prefix: string, options?: CallOptions): Promise<readonly ConfigEntry[]> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    if (typeof prefix !== 'string') {
      throw new DistributedError('INVALID_ARGUMENT', 'prefix must be a string');
    }
    return Object.freeze(
      [...this.#entries.values()]
        .filter((entry) => entry.key.startsWith(prefix))
        .sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0)),
    );
  }

  /**
   * Writes one key.
   *
   * @param key - The key.
   * @param value - The value.
   * @param options - Cancellation.
   */
  async put(key: string, value: string, options?: CallOptions): Promise<ConfigEntry> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    this.#checkWrite(key, value);
    return this.#write(key, value);
  }

  /**
   * Writes one key only when it is as expected.
   *
   * @param key - The key.
   * @param expected - The revision or value it must have (0 / `undefined`: absent).
   * @param value - The new value.
   * @param options - Cancellation.
   */
  async compareAndSet(
    key: string,
    expected: ConfigExpectation,
    value: string,
    options?: CallOptions,
  ): Promise<CompareAndSetResult> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    this.#checkWrite(key, value);
    checkConfigExpectation(expected, this.#limits);
    const current = this.#entries.get(key);
    if (!matches(current, expected)) {
      return Object.freeze({ succeeded: false, ...(current === undefined ? {} : { current }) });
    }
    return Object.freeze({ succeeded: true, current: this.#write(key, value) });
  }

  /**
   * Removes one key.
   *
   * @param key - The key.
   * @param options - Cancellation.
   */
  async delete(key: string, options?: CallOptions): Promise<boolean> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    this.#checkKey(key);
    if (!this.#entries.delete(key)) return false;
    this.#revision += 1;
    this.#changes.emit(Object.freeze({ type: 'delete', key, revision: this.#revision }));
    return true;
  }

  /**
   * Subscribes to changes.
   *
   * @param listener - Called for every change.
   */
  onConfigChanged(listener: Listener<ConfigChange>): Unsubscribe {
    return this.#changes.subscribe(listener);
  }

  #write(key: string, value: string): ConfigEntry {
    this.#revision += 1;
    const entry = Object.freeze({ key, value, revision: this.#revision });
    this.#entries.set(key, entry);
    this.#changes.emit(Object.freeze({ type: 'put', key, value, revision: this.#revision }));
    return entry;
  }

  #checkKey(key: unknown): void {
    checkConfigKey(key, this.#limits);
  }

  #checkWrite(key: string, value: unknown): void {
    this.#checkKey(key);
    checkConfigValue(value, this.#limits);
    if (!this.#entries.has(key) && this.#entries.size >= this.#maxKeys) {
      throw new DistributedError('CAPACITY_EXCEEDED', `already ${String(this.#maxKeys)} keys`);
    }
  }
}

function matches(current: ConfigEntry | undefined, expected: ConfigExpectation): boolean {
  if ('revision' in expected) {
    return expected.revision === 0
      ? current === undefined
      : current?.revision === expected.revision;
  }
  return expected.value === undefined ? current === undefined : current?.value === expected.value;
}
