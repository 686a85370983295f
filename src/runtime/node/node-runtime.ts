/**
 * The Node runtime: the {@link Runtime} seam on real timers, sockets, SQLite
 * and `node:crypto`.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import type { RandomSource, Runtime } from '../runtime.js';
import type { RuntimeErrorHandler } from './error-handler.js';
import { reportRuntimeError } from './error-handler.js';
import { NodeClock, type NodeClockOptions } from './node-clock.js';
import { NodeNetwork, type NodeNetworkOptions } from './node-network.js';
import { createNodeRandom } from './node-random.js';
import { SqliteStorage, type SqliteStorageOptions } from './sqlite-storage.js';

/**
 * Options of {@link createNodeRuntime}. Only `nodeId` is required.
 *
 * @since 2.0.0
 */
export interface NodeRuntimeOptions {
  /** The node's id, for logs and traces; a non-empty string of at most 256 characters. */
  readonly nodeId: string;
  /**
   * This node's data directory, holding its SQLite database. Default: a
   * temporary directory deleted on close (see `SqliteStorageOptions.dataDir`).
   */
  readonly dataDir?: string;
  /**
   * Makes the random source reproducible: a seeded generator, forked by
   * `node:<nodeId>` so nodes given one seed still draw different numbers. Not
   * cryptographically strong. Default: `node:crypto`.
   */
  readonly seed?: number | string;
  /**
   * Receives errors no caller can receive (callback exceptions, asynchronous
   * I/O failures). Default: printed to standard error.
   */
  readonly onError?: RuntimeErrorHandler;
  /** Timer options (`keepAlive`, `maxPendingTimers`). */
  readonly clock?: Omit<NodeClockOptions, 'onError'>;
  /** Socket options and bounds. */
  readonly network?: Omit<NodeNetworkOptions, 'onError'>;
  /** Storage bounds and the database file name. */
  readonly storage?: Omit<SqliteStorageOptions, 'dataDir'>;
}

/**
 * The Node runtime: a {@link Runtime} that owns real resources, released by
 * {@link NodeRuntime.close} (or `await using`).
 *
 * @since 2.0.0
 */
export interface NodeRuntime extends Runtime, AsyncDisposable {
  /** Timers on `setTimeout`. */
  readonly clock: NodeClock;
  /** Datagrams on `node:dgram`, streams on `node:net`. */
  readonly network: NodeNetwork;
  /** SQLite, one database file per node. */
  readonly storage: SqliteStorage;
  /**
   * Cancels every timer, closes every socket (open connections are reset) and
   * closes the database, discarding unsynced writes. Resolves once all sockets
   * are released. Harmless to call twice.
   */
  close(): Promise<void>;
}

/**
 * Creates a Node runtime. The database is opened at once, so a data directory
 * already in use by another process fails here, not at the first write.
 *
 * @example
 * ```ts
 * await using runtime = createNodeRuntime({ nodeId: 'n1', dataDir: '/var/lib/dw/n1' });
 * const store = runtime.storage.open('raft');
 * store.put('term', new Uint8Array([1]));
 * await store.sync();
 * ```
 *
 * @param options - The node id and optional settings; see {@link NodeRuntimeOptions}.
 * @throws DistributedError `INVALID_ARGUMENT` for a bad id, seed, bound or data directory.
 * @since 2.0.0
 */
export function createNodeRuntime(options: NodeRuntimeOptions): NodeRuntime {
  const { nodeId } = options;
  if (typeof nodeId !== 'string' || nodeId.length === 0 || nodeId.length > 256) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      'nodeId must be a non-empty string of at most 256 characters',
    );
  }
  const onError = options.onError ?? reportRuntimeError;
  const random: RandomSource = createNodeRandom(
    options.seed === undefined ? {} : { seed: options.seed, label: `node:${nodeId}` },
  );
  const clock = new NodeClock({ ...options.clock, onError });
  const network = new NodeNetwork({ ...options.network, onError });
  const storage = new SqliteStorage(
    options.dataDir === undefined
      ? { ...options.storage }
      : { ...options.storage, dataDir: options.dataDir },
  );
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clock.close();
      try {
        await network.close();
      } finally {
        storage.close();
      }
    })();
    return closing;
  };
  return Object.freeze({
    nodeId,
    clock,
    random,
    network,
    storage,
    close,
    [Symbol.asyncDispose]: close,
  });
}
