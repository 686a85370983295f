/**
 * One named {@link DurableStore} inside the node's SQLite database.
 *
 * @packageDocumentation
 */

import type { Database, Statement } from 'better-sqlite3';
import { DistributedError } from '../../contracts/errors.js';
import type { DurableStore } from '../runtime.js';

/**
 * The bounds a store enforces, and the unsynced-bytes budget it shares with the
 * other stores of its database.
 *
 * @since 2.0.0
 */
export interface SqliteStoreLimits {
  /** The longest key, in UTF-8 bytes. */
  readonly maxKeyBytes: number;
  /** The largest value, in bytes. */
  readonly maxValueBytes: number;
  /** The most bytes (keys plus values) written but not yet synced, over all stores. */
  readonly maxUnsyncedBytes: number;
  /** The running total of unsynced bytes over all stores; mutated by the stores. */
  readonly unsynced: UnsyncedBudget;
}

/**
 * The running total of unsynced bytes, shared by the stores of one database.
 *
 * @since 2.0.0
 */
export interface UnsyncedBudget {
  /** Bytes (keys plus values) written and not yet synced. */
  bytes: number;
}

/** Matches a UTF-16 surrogate without its partner: not representable in UTF-8 (nor in SQLite TEXT). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The prepared statements a store runs; shared by the stores of one database.
 *
 * @since 2.0.0
 */
export interface SqliteStoreStatements {
  /** Reads one value by store and key. */
  readonly get: Statement<[string, string], Buffer | undefined>;
  /** Lists a store's keys from a lower bound, in SQLite's (UTF-8 byte) order. */
  readonly keysFrom: Statement<[string, string], string>;
  /** Writes one value. */
  readonly upsert: Statement<[string, string, Uint8Array]>;
  /** Deletes one key. */
  readonly remove: Statement<[string, string]>;
}

/**
 * Prepares the statements every store of `db` uses.
 *
 * @param db - An open database with the `kv` table.
 * @since 2.0.0
 */
export function prepareStoreStatements(db: Database): SqliteStoreStatements {
  return {
    get: db
      .prepare<[string, string], Buffer>('SELECT value FROM kv WHERE store = ? AND key = ?')
      .pluck(),
    keysFrom: db
      .prepare<[string, string], string>(
        'SELECT key FROM kv WHERE store = ? AND key >= ? ORDER BY key',
      )
      .pluck(),
    upsert: db.prepare<[string, string, Uint8Array]>(
      'INSERT INTO kv (store, key, value) VALUES (?, ?, ?) ' +
        'ON CONFLICT (store, key) DO UPDATE SET value = excluded.value',
    ),
    remove: db.prepare<[string, string]>('DELETE FROM kv WHERE store = ? AND key = ?'),
  };
}

/**
 * A {@link DurableStore} kept in the `kv` table of the node's SQLite database,
 * under its own name.
 *
 * Writes go to an in-memory overlay first, so they are visible at once but not
 * durable; {@link SqliteDurableStore.sync} writes the overlay to SQLite in one
 * transaction whose commit is fsynced (see `SqliteStorage` for the fsync
 * discipline) and only then empties it. What is still in the overlay when the
 * process dies, or when the storage is closed, is lost: exactly the contract's
 * "durable once a later sync has resolved", and what the simulator does on a
 * crash.
 *
 * @since 2.0.0
 */
export class SqliteDurableStore implements DurableStore {
  /** The store's name. */
  readonly name: string;
  readonly #statements: SqliteStoreStatements;
  readonly #transaction: (entries: [string, Uint8Array | null][]) => void;
  readonly #limits: SqliteStoreLimits;
  /** Unsynced writes: a value, or `null` for a delete. */
  readonly #pending = new Map<string, Uint8Array | null>();
  #pendingBytes = 0;
  #closed = false;

  /**
   * Made by `SqliteStorage.open`; not meant to be constructed directly.
   *
   * @param name - The store's name.
   * @param db - The open database.
   * @param statements - From {@link prepareStoreStatements} on `db`.
   * @param limits - Bounds and the shared unsynced budget.
   */
  constructor(
    name: string,
    db: Database,
    statements: SqliteStoreStatements,
    limits: SqliteStoreLimits,
  ) {
    this.name = name;
    this.#statements = statements;
    this.#limits = limits;
    this.#transaction = db.transaction((entries: [string, Uint8Array | null][]) => {
      for (const [key, value] of entries) {
        if (value === null) statements.remove.run(name, key);
        else statements.upsert.run(name, key, value);
      }
    });
  }

  /** Bytes (keys plus values) written to this store and not yet synced. */
  get unsyncedBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Reads one key, seeing every earlier write, synced or not.
   *
   * @param key - The key.
   * @returns A copy the caller owns, or `undefined`.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad key; `CLOSED` once the storage is closed.
   */
  get(key: string): Uint8Array | undefined {
    this.#checkOpen();
    this.#checkKey(key);
    const pending = this.#pending.get(key);
    if (pending !== undefined) return pending === null ? undefined : pending.slice();
    const stored = this.#statements.get.get(this.name, key);
    // better-sqlite3 returns a fresh Buffer per read; a plain view of it is the caller's own.
    return stored && new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
  }

  /**
   * Writes one key; visible at once, durable after the next sync.
   *
   * @param key - At most `maxKeyBytes` UTF-8 bytes, without lone surrogates.
   * @param value - At most `maxValueBytes` bytes; copied.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad key or value;
   *   `CAPACITY_EXCEEDED` when the unsynced writes would pass
   *   `maxUnsyncedBytes` (sync first); `CLOSED` once the storage is closed. The
   *   store is unchanged when it throws.
   */
  put(key: string, value: Uint8Array): void {
    this.#checkOpen();
    const keyBytes = this.#checkKey(key);
    if (!(value instanceof Uint8Array)) {
      throw new DistributedError('INVALID_ARGUMENT', 'value must be a Uint8Array');
    }
    if (value.byteLength > this.#limits.maxValueBytes) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `value of ${value.byteLength} bytes exceeds maxValueBytes (${this.#limits.maxValueBytes})`,
      );
    }
    this.#stage(key, keyBytes, value.slice());
  }

  /**
   * Deletes one key; visible at once, durable after the next sync.
   *
   * @param key - The key.
   * @throws DistributedError as {@link SqliteDurableStore.put} does.
   */
  delete(key: string): void {
    this.#checkOpen();
    this.#stage(key, this.#checkKey(key), null);
  }

  /**
   * The keys starting with `prefix`, synced or not, in ascending UTF-16
   * code-unit order (JavaScript's default string order, which differs from
   * SQLite's UTF-8 byte order above U+FFFF, hence the sort here).
   *
   * @param prefix - The prefix; empty for every key.
   * @throws DistributedError `INVALID_ARGUMENT` when `prefix` is not a string; `CLOSED` once closed.
   */
  keys(prefix = ''): string[] {
    this.#checkOpen();
    if (typeof prefix !== 'string') {
      throw new DistributedError('INVALID_ARGUMENT', 'prefix must be a string');
    }
    // Keys sharing a prefix are contiguous in SQLite's byte order, so the scan
    // can stop at the first key past them. A lone surrogate cannot reach SQLite
    // intact, so the seek uses only the well-formed part before it.
    const cut = prefix.search(LONE_SURROGATE);
    const seek = cut === -1 ? prefix : prefix.slice(0, cut);
    const found = new Set<string>();
    for (const key of this.#statements.keysFrom.iterate(this.name, seek)) {
      if (!key.startsWith(seek)) break;
      if (key.startsWith(prefix) && this.#pending.get(key) !== null) found.add(key);
    }
    for (const [key, value] of this.#pending) {
      if (value !== null && key.startsWith(prefix)) found.add(key);
    }
    return [...found].sort();
  }

  /**
   * Writes every unsynced write of this store to SQLite in one transaction and
   * resolves once its commit is on disk (fsynced). On failure it rejects with
   * SQLite's error and keeps the writes pending, so a later sync can retry.
   *
   * @throws DistributedError `CLOSED` once the storage is closed.
   */
  sync(): Promise<void> {
    try {
      this.#checkOpen();
      if (this.#pending.size > 0) {
        this.#transaction([...this.#pending]);
        this.#release();
      }
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Discards the unsynced writes and refuses further use; called by the storage
   * when it closes.
   */
  close(): void {
    this.#release();
    this.#closed = true;
  }

  #stage(key: string, keyBytes: number, value: Uint8Array | null): void {
    const previous = this.#pending.get(key);
    const previousCost = previous === undefined ? 0 : keyBytes + (previous?.byteLength ?? 0);
    const cost = keyBytes + (value?.byteLength ?? 0);
    const total = this.#limits.unsynced.bytes - previousCost + cost;
    if (total > this.#limits.maxUnsyncedBytes) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `unsynced writes would reach ${total} bytes, above maxUnsyncedBytes ` +
          `(${this.#limits.maxUnsyncedBytes}): sync first`,
      );
    }
    this.#pending.set(key, value);
    this.#pendingBytes += cost - previousCost;
    this.#limits.unsynced.bytes = total;
  }

  #release(): void {
    this.#limits.unsynced.bytes -= this.#pendingBytes;
    this.#pendingBytes = 0;
    this.#pending.clear();
  }

  #checkKey(key: string): number {
    if (typeof key !== 'string') {
      throw new DistributedError('INVALID_ARGUMENT', 'key must be a string');
    }
    if (LONE_SURROGATE.test(key)) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'key contains a lone UTF-16 surrogate, which cannot be stored',
      );
    }
    const bytes = Buffer.byteLength(key, 'utf8');
    if (bytes > this.#limits.maxKeyBytes) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `key of ${bytes} UTF-8 bytes exceeds maxKeyBytes (${this.#limits.maxKeyBytes})`,
      );
    }
    return bytes;
  }

  #checkOpen(): void {
    if (this.#closed) throw new DistributedError('CLOSED', 'the storage is closed');
  }
}
