/**
 * The cluster configuration store: a small, strongly consistent key-value map
 * every member sees the same way (governance policies, tier definitions). The
 * native membership keeps it in its Raft log; the etcd adapter keeps it in
 * etcd keys.
 *
 * @packageDocumentation
 */

import type { CallOptions, Listener, Unsubscribe } from './common.js';

/**
 * One key of the configuration and the revision that last changed it.
 *
 * @since 2.0.0
 */
export interface ConfigEntry {
  /** The key. */
  readonly key: string;
  /** The value (JSON text by convention). */
  readonly value: string;
  /**
   * The store's revision when this key was last written: grows with every
   * write to the store, so a compare-and-set can name the version it read.
   */
  readonly revision: number;
}

/**
 * A compare-and-set that expects the key at a revision.
 *
 * @since 2.0.0
 */
export interface ExpectRevision {
  /** The revision the key must have; 0 = the key must not exist. */
  readonly revision: number;
}

/**
 * A compare-and-set that expects the key to hold a value.
 *
 * @since 2.0.0
 */
export interface ExpectValue {
  /** The value the key must hold; `undefined` = the key must not exist. */
  readonly value: string | undefined;
}

/**
 * What a compare-and-set expects to find: a revision or a value.
 *
 * @since 2.0.0
 */
export type ConfigExpectation = ExpectRevision | ExpectValue;

/**
 * The result of a compare-and-set.
 *
 * @since 2.0.0
 */
export interface CompareAndSetResult {
  /** Whether the expectation held and the write was applied. */
  readonly succeeded: boolean;
  /** The key after the call: the new entry, or what was found instead; absent when there is no key. */
  readonly current?: ConfigEntry;
}

/**
 * A change to the configuration, as watchers see it.
 *
 * @since 2.0.0
 */
export interface ConfigChange {
  /** `put` for a write, `delete` for a removal. */
  readonly type: 'put' | 'delete';
  /** The key. */
  readonly key: string;
  /** The new value; absent on delete. */
  readonly value?: string;
  /** The store's revision of the change. */
  readonly revision: number;
}

/**
 * A strongly consistent configuration map shared by the cluster. Reads are
 * linearizable: a read returns every write that completed before it began.
 *
 * @since 2.0.0
 */
export interface ClusterConfigStore {
  /**
   * Reads one key.
   *
   * @param key - The key.
   * @param options - Cancellation.
   * @returns The entry, or `undefined` when the key does not exist.
   */
  get(key: string, options?: CallOptions): Promise<ConfigEntry | undefined>;

  /**
   * Reads every key under a prefix, in key order.
   *
   * @param prefix - The prefix (`''` for all).
   * @param options - Cancellation.
   */
  list(prefix: string, options?: CallOptions): Promise<readonly ConfigEntry[]>;

  /**
   * Writes one key.
   *
   * @param key - The key.
   * @param value - The value.
   * @param options - Cancellation.
   * @returns The entry as written.
   */
  put(key: string, value: string, options?: CallOptions): Promise<ConfigEntry>;

  /**
   * Writes one key only when it is as expected, atomically.
   *
   * @param key - The key.
   * @param expected - What the key must hold for the write to happen.
   * @param value - The new value.
   * @param options - Cancellation.
   */
  compareAndSet(
    key: string,
    expected: ConfigExpectation,
    value: string,
    options?: CallOptions,
  ): Promise<CompareAndSetResult>;

  /**
   * Removes one key.
   *
   * @param key - The key.
   * @param options - Cancellation.
   * @returns Whether the key existed.
   */
  delete(key: string, options?: CallOptions): Promise<boolean>;

  /**
   * Subscribes to changes made anywhere in the cluster, in revision order.
   *
   * @param listener - Called for every change.
   * @returns A disposer that removes the listener.
   */
  onConfigChanged(listener: Listener<ConfigChange>): Unsubscribe;
}
