/**
 * The Node runtime's durable storage: one SQLite database per node.
 *
 * @packageDocumentation
 */

import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { DistributedError } from '../../contracts/errors.js';
import type { Storage } from '../runtime.js';
import {
  prepareStoreStatements,
  SqliteDurableStore,
  type SqliteStoreLimits,
} from './sqlite-durable-store.js';

/**
 * Options of {@link SqliteStorage}. Every bound has a default.
 *
 * @since 2.0.0
 */
export interface SqliteStorageOptions {
  /**
   * This node's data directory, created when missing; the database is one
   * file in it. The database takes an exclusive lock, so two runtimes cannot
   * share a directory. Without it, the database lives in a fresh temporary
   * directory that {@link SqliteStorage.close} deletes: still really fsynced,
   * but gone after the runtime closes — for tests and throwaway nodes.
   */
  readonly dataDir?: string;
  /** The database file's name inside `dataDir`. Default `runtime.sqlite`. */
  readonly databaseFileName?: string;
  /** The longest key, in UTF-8 bytes. Default 1 KiB. */
  readonly maxKeyBytes?: number;
  /**
   * The largest value, in bytes. Default 16 MiB: room for a batch of log
   * entries or a metadata record; object bytes belong in a tier backend.
   */
  readonly maxValueBytes?: number;
  /**
   * The most bytes (keys plus values) written but not yet synced, over all
   * stores; a write past it throws `CAPACITY_EXCEEDED` until a sync. Bounds the
   * in-memory overlay. Default 64 MiB.
   */
  readonly maxUnsyncedBytes?: number;
  /** The most distinct stores that may be open. Default 256. */
  readonly maxStores?: number;
}

const DEFAULT_LIMITS = {
  maxKeyBytes: 1024,
  maxValueBytes: 16 * 1024 * 1024,
  maxUnsyncedBytes: 64 * 1024 * 1024,
  maxStores: 256,
} as const;

/** Store names: what the `Storage` contract allows, with a length bound. */
const STORE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS kv (
    store TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (store, key)
  ) WITHOUT ROWID
`;

/**
 * A {@link Storage} in one SQLite database file per node (`better-sqlite3`),
 * one {@link SqliteDurableStore} per name in a shared `kv` table.
 *
 * **Fsync discipline.** Writes stay in each store's in-memory overlay until
 * `sync`; `sync` writes them in one transaction, and the transaction's commit is
 * the durability point:
 *
 * - `journal_mode = WAL`: a commit appends to the write-ahead log, one
 *   sequential write and one fsync, and readers never block it.
 * - `synchronous = FULL`: in WAL mode SQLite fsyncs the WAL at every commit, so
 *   a commit that has returned survives power loss, not only a process crash.
 *   (`NORMAL` would fsync only at checkpoints and could lose the last commits
 *   on power loss: too weak for a Raft vote or log.) Checkpoints fsync the WAL
 *   before copying pages into the database file and the database file after.
 * - `fullfsync = ON`: on macOS plain fsync does not flush the drive's cache;
 *   F_FULLFSYNC does. Ignored elsewhere.
 * - SQLite fsyncs the directory when it creates the WAL file; the data
 *   directory is also fsynced once after the database file is created, so the
 *   file's own directory entry is durable too.
 * - `locking_mode = EXCLUSIVE`: one process owns the database; a second runtime
 *   on the same directory fails at open instead of two nodes sharing one
 *   identity's state. It also lets WAL work without a shared-memory index.
 *
 * `sync` runs the commit synchronously on the event loop (better-sqlite3 is
 * synchronous); an fsync costs a few milliseconds on an SSD, paid once per
 * batch rather than per write, which is why writes are batched in the overlay.
 *
 * @since 2.0.0
 */
export class SqliteStorage implements Storage {
  /** The database file's path. */
  readonly path: string;
  readonly #db: Database;
  readonly #temporaryDir: string | undefined;
  readonly #limits: SqliteStoreLimits;
  readonly #maxStores: number;
  readonly #statements: ReturnType<typeof prepareStoreStatements>;
  readonly #stores = new Map<string, SqliteDurableStore>();
  #closed = false;

  /**
   * Opens (or creates) the database.
   *
   * @param options - Where, and the bounds; see {@link SqliteStorageOptions}.
   * @throws DistributedError `INVALID_ARGUMENT` for an out-of-range bound, a
   *   bad file name, or a database another process holds open; the file system's
   *   or SQLite's own error when the file cannot be created or opened.
   */
  constructor(options: SqliteStorageOptions = {}) {
    const maxKeyBytes = checkBound(options, 'maxKeyBytes');
    const maxValueBytes = checkBound(options, 'maxValueBytes');
    const maxUnsyncedBytes = checkBound(options, 'maxUnsyncedBytes');
    this.#maxStores = checkBound(options, 'maxStores');
    const fileName = options.databaseFileName ?? 'runtime.sqlite';
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(fileName) || fileName.startsWith('.')) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `databaseFileName must be a plain file name, got ${JSON.stringify(fileName)}`,
      );
    }
    const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'dw-runtime-'));
    this.#temporaryDir = options.dataDir === undefined ? dir : undefined;
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, fileName);
    this.#limits = { maxKeyBytes, maxValueBytes, maxUnsyncedBytes, unsynced: { bytes: 0 } };
    this.#db = openDatabase(this.path);
    fsyncDirectory(dir);
    this.#statements = prepareStoreStatements(this.#db);
  }

  /**
   * Opens a store, creating it when new; the same name gives the same store
   * object, and the same data across restarts.
   *
   * @param name - 1 to 128 letters, digits, `-` and `_`.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad name;
   *   `CAPACITY_EXCEEDED` past `maxStores`; `CLOSED` once closed.
   */
  open(name: string): SqliteDurableStore {
    if (this.#closed) throw new DistributedError('CLOSED', 'the storage is closed');
    if (typeof name !== 'string' || !STORE_NAME.test(name)) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `store name must be 1 to 128 letters, digits, '-' or '_', got ${JSON.stringify(name)}`,
      );
    }
    const existing = this.#stores.get(name);
    if (existing) return existing;
    if (this.#stores.size >= this.#maxStores) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `${this.#maxStores} stores are already open (maxStores)`,
      );
    }
    const store = new SqliteDurableStore(name, this.#db, this.#statements, this.#limits);
    this.#stores.set(name, store);
    return store;
  }

  /**
   * Closes the database. Unsynced writes are discarded, as a crash would
   * discard them: durability comes only from `sync`. A temporary database
   * (no `dataDir`) is deleted. Harmless to call twice.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const store of this.#stores.values()) store.close();
    this.#db.close();
    if (this.#temporaryDir !== undefined) {
      rmSync(this.#temporaryDir, { recursive: true, force: true });
    }
  }
}

function checkBound(options: SqliteStorageOptions, key: keyof typeof DEFAULT_LIMITS): number {
  const value = options[key] ?? DEFAULT_LIMITS[key];
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `${key} must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}

function openDatabase(path: string): Database {
  // No busy wait: the lock is held for the owner's lifetime, so waiting cannot help.
  const db = new BetterSqlite3(path, { timeout: 0 });
  try {
    // Exclusive locking must be chosen before the first WAL access (see above).
    db.pragma('locking_mode = EXCLUSIVE');
    const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal')
      throw new Error(`SQLite refused WAL mode (journal_mode is ${String(mode)})`);
    db.pragma('synchronous = FULL');
    db.pragma('fullfsync = ON');
    db.exec(SCHEMA);
    return db;
  } catch (error) {
    db.close();
    if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') throw error;
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `the database ${path} is in use by another process (one data directory per node)`,
      { cause: error },
    );
  }
}

/** Makes a directory's entries (a newly created file) durable. */
function fsyncDirectory(dir: string): void {
  // Windows cannot open a directory for fsync; NTFS journals directory entries itself.
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
