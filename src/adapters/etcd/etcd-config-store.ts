/**
 * The cluster configuration kept in etcd keys under `<prefix>config/`.
 *
 * @packageDocumentation
 */

import type { Etcd3, IKeyValue, Namespace, Watcher } from 'etcd3';
import type {
  ClusterConfigStore,
  CompareAndSetResult,
  ConfigChange,
  ConfigEntry,
  ConfigExpectation,
} from '../../contracts/cluster-config.js';
import type { CallOptions, Listener, Unsubscribe } from '../../contracts/common.js';
import { DistributedError } from '../../contracts/errors.js';
import {
  checkConfigExpectation,
  checkConfigKey,
  checkConfigValue,
  type ConfigArgumentLimits,
} from '../../core/config/config-arguments.js';
import { EventHub } from '../../core/events.js';
import { etcdCall } from './etcd-errors.js';

/**
 * Options of {@link EtcdConfigStore}.
 *
 * @since 2.0.0
 */
export interface EtcdConfigStoreOptions {
  /** Key prefix of the configuration; default `/dw/config/`. */
  readonly prefix?: string;
  /** Longest key, in UTF-8 bytes; default 1024. */
  readonly maxKeyBytes?: number;
  /** Largest value, in UTF-8 bytes; default 256 KiB (etcd refuses requests over 1.5 MiB). */
  readonly maxValueBytes?: number;
  /** Most entries `list` returns; a longer listing is refused, not cut short. Default 10,000. */
  readonly maxListEntries?: number;
  /** Receives errors thrown by listeners; default: ignored. */
  readonly onListenerError?: (error: unknown) => void;
}

/**
 * A {@link ClusterConfigStore} over etcd. Reads are etcd's default
 * linearizable reads (a quorum round through the etcd leader); writes and
 * compare-and-set are single etcd transactions, so `revision` is etcd's
 * `mod_revision`.
 *
 * @since 2.0.0
 */
export class EtcdConfigStore implements ClusterConfigStore, AsyncDisposable {
  readonly #prefix: string;
  readonly #namespace: Namespace;
  readonly #limits: ConfigArgumentLimits;
  readonly #maxListEntries: number;
  readonly #changes: EventHub<ConfigChange>;
  #watcher: Promise<Watcher> | undefined;
  #closed = false;

  /**
   * @param client - A connected etcd client; the store does not close it.
   * @param options - Prefix and bounds.
   */
  constructor(client: Etcd3, options: EtcdConfigStoreOptions = {}) {
    this.#prefix = options.prefix ?? '/dw/config/';
    this.#namespace = client.namespace(this.#prefix);
    this.#limits = {
      maxKeyBytes: options.maxKeyBytes ?? 1024,
      maxValueBytes: options.maxValueBytes ?? 256 * 1024,
    };
    this.#maxListEntries = options.maxListEntries ?? 10_000;
    this.#changes = new EventHub(options.onListenerError ?? (() => undefined));
  }

  /**
   * Reads one key (linearizable).
   *
   * @param key - The key.
   * @param options - Cancellation.
   */
  async get(key: string, options?: CallOptions): Promise<ConfigEntry | undefined> {
    options?.signal?.throwIfAborted();
    this.#checkKey(key);
    const response = await etcdCall(`get ${key}`, () => this.#namespace.get(key).exec());
    const kv = response.kvs[0];
    return kv === undefined ? undefined : this.#toEntry(kv);
  }

  /**
   * Reads every key under a prefix, in key order (linearizable).
   *
   * @param prefix - The prefix.
   * @param options - Cancellation.
   * @throws A {@link DistributedError} `CAPACITY_EXCEEDED` when more than `maxListEntries` keys match.
   */
  async list(prefix: string, options?: CallOptions): Promise<readonly ConfigEntry[]> {
    options?.signal?.throwIfAborted();
    if (typeof prefix !== 'string' || prefix.length > this.#limits.maxKeyBytes) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'prefix must be a string no longer than a key',
      );
    }
    const response = await etcdCall(`list ${prefix}`, () => {
      const range =
        prefix === '' ? this.#namespace.getAll() : this.#namespace.getAll().prefix(prefix);
      return range
        .sort('Key', 'Ascend')
        .limit(this.#maxListEntries + 1)
        .exec();
    });
    if (response.kvs.length > this.#maxListEntries) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `more than ${String(this.#maxListEntries)} keys under '${prefix}'`,
      );
    }
    return Object.freeze(response.kvs.map((kv) => this.#toEntry(kv)));
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
    this.#checkKey(key);
    this.#checkValue(value);
    const response = await etcdCall(`put ${key}`, () =>
      this.#namespace.put(key).value(value).exec(),
    );
    return Object.freeze({ key, value, revision: Number(response.header.revision) });
  }

  /**
   * Writes one key only when it is as expected, in one etcd transaction.
   *
   * @param key - The key.
   * @param expected - The revision or value the key must have (0 / `undefined`: absent).
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
    this.#checkKey(key);
    this.#checkValue(value);
    checkConfigExpectation(expected, this.#limits);
    const namespace = this.#namespace;
    const condition = (): ReturnType<Namespace['if']> => {
      if ('revision' in expected) {
        return expected.revision === 0
          ? namespace.if(key, 'Version', '==', 0)
          : namespace.if(key, 'Mod', '==', expected.revision);
      }
      return expected.value === undefined
        ? namespace.if(key, 'Version', '==', 0)
        : namespace.if(key, 'Value', '==', expected.value);
    };
    const transaction = condition();
    const response = await etcdCall(`compare-and-set ${key}`, () =>
      transaction.then(namespace.put(key).value(value)).else(namespace.get(key)).commit(),
    );
    if (response.succeeded) {
      return Object.freeze({
        succeeded: true,
        current: Object.freeze({ key, value, revision: Number(response.header.revision) }),
      });
    }
    const found = response.responses[0]?.response_range.kvs[0];
    return Object.freeze({
      succeeded: false,
      ...(found === undefined ? {} : { current: this.#toEntry(found) }),
    });
  }

  /**
   * Removes one key.
   *
   * @param key - The key.
   * @param options - Cancellation.
   */
  async delete(key: string, options?: CallOptions): Promise<boolean> {
    options?.signal?.throwIfAborted();
    this.#checkKey(key);
    const response = await etcdCall(`delete ${key}`, () =>
      this.#namespace.delete().key(key).exec(),
    );
    return Number(response.deleted) > 0;
  }

  /**
   * Subscribes to changes; the first subscription opens one etcd watch on the prefix.
   *
   * @param listener - Called for every change.
   */
  onConfigChanged(listener: Listener<ConfigChange>): Unsubscribe {
    if (this.#watcher === undefined && !this.#closed) this.#watcher = this.#watch();
    return this.#changes.subscribe(listener);
  }

  /** Stops the watch. The client stays open (it is the caller's). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const watcher = this.#watcher;
    this.#watcher = undefined;
    if (watcher !== undefined) await (await watcher.catch(() => undefined))?.cancel();
  }

  /** Same as {@link EtcdConfigStore.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #watch(): Promise<Watcher> {
    const watcher = await this.#namespace.watch().prefix('').create();
    watcher.on('put', (kv) => {
      this.#changes.emit(
        Object.freeze({
          type: 'put',
          key: kv.key.toString(),
          value: kv.value.toString(),
          revision: Number(kv.mod_revision),
        }),
      );
    });
    watcher.on('delete', (kv) => {
      this.#changes.emit(
        Object.freeze({
          type: 'delete',
          key: kv.key.toString(),
          revision: Number(kv.mod_revision),
        }),
      );
    });
    // Watch errors are retried by the client with backoff; nothing to do here.
    watcher.on('error', () => undefined);
    return watcher;
  }

  // Range answers carry the full key; watch events already have the prefix removed.
  #toEntry(kv: IKeyValue): ConfigEntry {
    const key = kv.key.toString();
    return Object.freeze({
      key: key.startsWith(this.#prefix) ? key.slice(this.#prefix.length) : key,
      value: kv.value.toString(),
      revision: Number(kv.mod_revision),
    });
  }

  #checkKey(key: string): void {
    checkConfigKey(key, this.#limits);
  }

  #checkValue(value: string): void {
    checkConfigValue(value, this.#limits);
  }
}
