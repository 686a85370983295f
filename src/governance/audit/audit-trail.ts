/**
 * The tamper-evident audit trail: append-only, hash-chained, persisted in SQLite.
 *
 * @packageDocumentation
 */

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import { DistributedError, type ErrorCode } from '../../contracts/errors.js';
import { GENESIS_HASH, macOf } from './canonical.js';
import {
  AUDIT_ENTRY_MAC_DOMAIN,
  checkAuditInput,
  decodeAuditRow,
  DEFAULT_AUDIT_ENTRY_LIMITS,
  hashAuditEntry,
  type AuditEntry,
  type AuditEntryInput,
  type AuditEntryLimits,
  type AuditOutcome,
} from './audit-entry.js';
import {
  decodeCheckpoint,
  decodeHead,
  EMPTY_HEAD,
  encodeCheckpoint,
  encodeHead,
  sealCheckpoint,
  type AuditCheckpoint,
  type AuditHead,
} from './checkpoint.js';
import { ChainWalker, type AuditChainBreak } from './chain-verifier.js';

/**
 * The error code for a damaged trail (a head or checkpoint that fails its checks, or a
 * chain segment that fails verification when compaction is about to seal it).
 */
const DAMAGED: ErrorCode = 'INTEGRITY_VIOLATION';

/**
 * Options of {@link AuditTrail.open}. Every bound has a default.
 *
 * @since 2.0.0
 */
export interface AuditTrailOptions {
  /** The clock timestamps come from, in milliseconds since the Unix epoch. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * A secret key (at least 32 bytes). With it, every entry, the head and every
   * checkpoint carry an HMAC-SHA-256, so someone who can write the file but does not
   * hold the key cannot rewrite the trail consistently; verify then needs the key.
   * Without it, the chain detects any edit, deletion, insertion or reordering that
   * does not also recompute every later hash and the head.
   */
  readonly hmacKey?: Uint8Array;
  /**
   * The most entries kept. When an append takes the trail past it, the oldest entries
   * are compacted away (see {@link AuditTrail.compact}) until 90% of it remain. Default
   * 1,000,000.
   */
  readonly maxEntries?: number;
  /** The longest id, in UTF-8 bytes. Default 512. */
  readonly maxIdBytes?: number;
  /** The longest message, in UTF-8 bytes. Default 8 KiB. */
  readonly maxMessageBytes?: number;
  /** The most policy ids per entry. Default 64. */
  readonly maxPolicyIds?: number;
  /** The most entries a query returns. Default 1,000 (and 100 when a query gives no limit). */
  readonly maxQueryLimit?: number;
  /**
   * How many rows verify and compaction handle per step; they yield to the event loop
   * between steps, so a long walk does not stall the node. Default 5,000.
   */
  readonly batchSize?: number;
  /** Open the file read-only (for `dw audit query` and `verify`): no append, no compaction. */
  readonly readonly?: boolean;
  /**
   * Called when the automatic compaction after an append fails (the append itself has
   * succeeded). Default: the error is kept in {@link AuditTrail.lastCompactionError}.
   */
  readonly onCompactionError?: (error: unknown) => void;
}

/**
 * A query over the trail. Filters combine with AND; entries come in sequence order.
 *
 * @since 2.0.0
 */
export interface AuditQuery {
  /** Entries with `timestamp >= from`. */
  readonly from?: number;
  /** Entries with `timestamp < to`. */
  readonly to?: number;
  /** Entries of this user. */
  readonly userId?: string;
  /** Entries on this resource. */
  readonly resourceId?: string;
  /** Entries listing this policy id. */
  readonly policyId?: string;
  /** Entries with this outcome. */
  readonly outcome?: AuditOutcome;
  /** The most entries to return; default 100, at most `maxQueryLimit`. */
  readonly limit?: number;
  /** Where to continue: the `nextCursor` of the previous page of the same query. */
  readonly cursor?: string;
  /** `asc` (oldest first, the default) or `desc`. */
  readonly order?: 'asc' | 'desc';
}

/**
 * One page of query results.
 *
 * @since 2.0.0
 */
export interface AuditQueryPage {
  /** The matching entries. */
  readonly entries: readonly AuditEntry[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string;
  /**
   * Rows that matched the filters but do not decode (the file was damaged or edited):
   * their sequence number and why. They are reported, not returned as entries; run
   * {@link AuditTrail.verify}.
   */
  readonly malformed: readonly AuditMalformedRow[];
}

/**
 * A stored row a query matched but could not decode.
 *
 * @since 2.0.0
 */
export interface AuditMalformedRow {
  /** The row's sequence number. */
  readonly seq: number;
  /** Why it does not decode. */
  readonly reason: string;
}

/**
 * An entry's hash as known from outside the file (a published or separately stored
 * head).
 *
 * @since 2.0.0
 */
export interface AuditAnchor {
  /** The entry's sequence number. */
  readonly seq: number;
  /** The entry's hash. */
  readonly hash: string;
}

/**
 * What {@link AuditTrail.verify} found: either the whole trail checks out, or the first
 * bad entry and why.
 *
 * @since 2.0.0
 */
export type AuditVerification =
  | {
      /** The whole trail checks out. */
      readonly ok: true;
      /** How many entries were checked. */
      readonly checkedEntries: number;
      /** Where the chain ends. */
      readonly head: AuditHead;
      /** The checkpoint the chain starts from, when entries were compacted away. */
      readonly checkpoint?: AuditCheckpoint;
      /** Whether MACs were checked (the trail was opened with a key). */
      readonly macChecked: boolean;
    }
  | ({
      /** Verification found a problem, described by the other fields. */
      readonly ok: false;
      /** How many entries passed before it. */
      readonly checkedEntries: number;
    } & AuditChainBreak);

/**
 * Options of {@link AuditTrail.verify}.
 *
 * @since 2.0.0
 */
export interface AuditVerifyOptions {
  /** Cancels the walk between steps. */
  readonly signal?: AbortSignal;
  /**
   * A head kept outside the file (published, or stored elsewhere): the entry at its
   * sequence number must have its hash. Catches a consistent rewrite of the whole tail
   * by someone without the HMAC key.
   */
  readonly anchor?: AuditAnchor;
}

/**
 * Options of {@link AuditTrail.compact}: remove the entries before a sequence number or
 * before a time (entries' timestamps never decrease, so either bound is a prefix).
 *
 * @since 2.0.0
 */
export interface AuditCompactOptions {
  /** Remove the entries with `seq < beforeSeq`. */
  readonly beforeSeq?: number;
  /** Remove the entries with `timestamp < beforeTime`. */
  readonly beforeTime?: number;
  /** Cancels between steps; the steps already done stay done (each is sealed). */
  readonly signal?: AbortSignal;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_entries (
  seq INTEGER PRIMARY KEY,
  timestamp INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  operation TEXT NOT NULL,
  policy_ids TEXT NOT NULL,
  outcome TEXT NOT NULL,
  required_actions TEXT NOT NULL,
  message TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  mac TEXT
);
CREATE INDEX IF NOT EXISTS audit_entries_by_time ON audit_entries (timestamp, seq);
CREATE INDEX IF NOT EXISTS audit_entries_by_user ON audit_entries (user_id, seq);
CREATE INDEX IF NOT EXISTS audit_entries_by_resource ON audit_entries (resource_id, seq);
CREATE INDEX IF NOT EXISTS audit_entries_by_outcome ON audit_entries (outcome, seq);
CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

const DEFAULTS = Object.freeze({
  maxEntries: 1_000_000,
  maxQueryLimit: 1000,
  defaultQueryLimit: 100,
  batchSize: 5000,
});

function positiveInteger(value: unknown, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `${what} must be a positive integer, got ${typeof value === 'number' ? value : typeof value}`,
    );
  }
  return value;
}

function damaged(message: string): DistributedError {
  return new DistributedError(DAMAGED, `the audit trail is damaged: ${message}; run verify`);
}

interface Statements {
  readonly insert: Statement;
  readonly getMeta: Statement<[string], string>;
  readonly setMeta: Statement<[string, string]>;
  readonly rowsFrom: Statement<[number, number]>;
  readonly deleteThrough: Statement<[number]>;
  readonly firstSeqAtTime: Statement<[number], number | null>;
}

/**
 * An append-only, hash-chained audit trail in a SQLite database.
 *
 * Each entry carries the SHA-256 of the previous entry's canonical encoding (see
 * `canonical.ts`), so editing, deleting, inserting or reordering entries breaks the
 * chain, and {@link AuditTrail.verify} names the first bad entry. A head record
 * (rewritten with every append) catches deleting the newest entries; a sealed
 * checkpoint lets old entries be compacted away while the rest still verifies.
 *
 * Durability: the database is in WAL mode with `synchronous = FULL`, so every append
 * is its own transaction whose commit is fsynced before `append` resolves. An audit
 * entry records a decision that may already have been acted on; losing it in a power
 * cut would leave the action unaccounted for, which is what an audit trail exists to
 * prevent. (Appends cost an fsync each; batch them upstream if that is too slow.)
 *
 * Several processes may open the same file (WAL allows concurrent readers, and each
 * append reads the head inside an immediate transaction, so writers serialise), but
 * run compaction from one process: a verify running in another while a compaction
 * removes entries may report a spurious failure.
 *
 * @example
 * ```ts
 * const trail = AuditTrail.open('/var/lib/dw/audit.sqlite');
 * await trail.append({ userId: 'alice', resourceId: 'obj/1', operation: 'object.get', outcome: 'allowed' });
 * const result = await trail.verify();
 * if (!result.ok) console.error(`entry ${result.firstBadSeq}: ${result.reason}`);
 * trail.close();
 * ```
 *
 * @since 2.0.0
 */
export class AuditTrail implements Disposable {
  /** The database file, or `:memory:`. */
  readonly path: string;
  readonly #db: Database;
  readonly #statements: Statements;
  readonly #now: () => number;
  readonly #key: Uint8Array | undefined;
  readonly #limits: AuditEntryLimits;
  readonly #maxEntries: number;
  readonly #maxQueryLimit: number;
  readonly #batchSize: number;
  readonly #readonly: boolean;
  readonly #onCompactionError: ((error: unknown) => void) | undefined;
  readonly #queries = new Map<string, Statement>();
  /** Verify and compaction run one at a time, so a walk never sees a compaction midway. */
  #maintenance: Promise<unknown> = Promise.resolve();
  #lastCompactionError: unknown = undefined;
  #closed = false;

  private constructor(path: string, db: Database, options: AuditTrailOptions) {
    this.path = path;
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#key = options.hmacKey === undefined ? undefined : Uint8Array.from(options.hmacKey);
    this.#limits = Object.freeze({
      maxIdBytes: positiveInteger(
        options.maxIdBytes,
        DEFAULT_AUDIT_ENTRY_LIMITS.maxIdBytes,
        'maxIdBytes',
      ),
      maxMessageBytes: positiveInteger(
        options.maxMessageBytes,
        DEFAULT_AUDIT_ENTRY_LIMITS.maxMessageBytes,
        'maxMessageBytes',
      ),
      maxPolicyIds: positiveInteger(
        options.maxPolicyIds,
        DEFAULT_AUDIT_ENTRY_LIMITS.maxPolicyIds,
        'maxPolicyIds',
      ),
    });
    this.#maxEntries = positiveInteger(options.maxEntries, DEFAULTS.maxEntries, 'maxEntries');
    this.#maxQueryLimit = positiveInteger(
      options.maxQueryLimit,
      DEFAULTS.maxQueryLimit,
      'maxQueryLimit',
    );
    this.#batchSize = positiveInteger(options.batchSize, DEFAULTS.batchSize, 'batchSize');
    this.#readonly = options.readonly === true;
    this.#onCompactionError = options.onCompactionError;
    this.#statements = {
      insert: db.prepare(
        'INSERT INTO audit_entries (seq, timestamp, user_id, resource_id, operation, policy_ids, outcome, ' +
          'required_actions, message, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      getMeta: db.prepare<[string], string>('SELECT value FROM audit_meta WHERE key = ?').pluck(),
      setMeta: db.prepare<[string, string]>(
        'INSERT INTO audit_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      rowsFrom: db.prepare<[number, number]>(
        'SELECT * FROM audit_entries WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      deleteThrough: db.prepare<[number]>('DELETE FROM audit_entries WHERE seq <= ?'),
      firstSeqAtTime: db
        .prepare<[number], number | null>('SELECT min(seq) FROM audit_entries WHERE timestamp >= ?')
        .pluck(),
    };
  }

  /**
   * Opens (creating when missing) the trail in the SQLite database at `path`, or an
   * in-memory trail for `:memory:` (tests and embedded use; gone when closed).
   *
   * @param path - The database file, or `:memory:`.
   * @param options - Clock, key and bounds.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad option (a key shorter than
   *   32 bytes, a bound that is not a positive integer) or when SQLite refuses the file.
   */
  static open(path: string, options: AuditTrailOptions = {}): AuditTrail {
    if (typeof path !== 'string' || path.length === 0) {
      throw new DistributedError('INVALID_ARGUMENT', 'path must be a non-empty string');
    }
    if (
      options.hmacKey !== undefined &&
      (!(options.hmacKey instanceof Uint8Array) || options.hmacKey.byteLength < 32)
    ) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'hmacKey must be a Uint8Array of at least 32 bytes',
      );
    }
    let db: Database;
    try {
      db =
        options.readonly === true
          ? new BetterSqlite3(path, { readonly: true, fileMustExist: true })
          : new BetterSqlite3(path, { timeout: 1000 });
    } catch (error) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `cannot open the audit trail at ${path}: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
    try {
      if (options.readonly !== true) {
        const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
        if (mode !== 'wal' && mode !== 'memory')
          throw new Error(`SQLite refused WAL mode (journal_mode is ${String(mode)})`);
        // FULL: every commit is fsynced before it returns; see the class documentation.
        db.pragma('synchronous = FULL');
        db.exec(SCHEMA);
        const init = db.transaction(() => {
          // Only a brand-new trail gets an empty head: on an existing one a missing head
          // means damage (deleting every entry and the head must not pass as "empty").
          const fresh =
            db.prepare("SELECT 1 FROM audit_meta WHERE key = 'format'").get() === undefined;
          if (!fresh) return;
          const meta = db.prepare<[string, string]>(
            'INSERT INTO audit_meta (key, value) VALUES (?, ?)',
          );
          meta.run('format', '1');
          meta.run('head', encodeHead(EMPTY_HEAD, options.hmacKey));
        });
        init.immediate();
      }
      return new AuditTrail(path, db, options);
    } catch (error) {
      db.close();
      if (error instanceof DistributedError) throw error;
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `cannot open the audit trail at ${path}: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /** The error of the last failed automatic compaction, if any (cleared by a successful one). */
  get lastCompactionError(): unknown {
    return this.#lastCompactionError;
  }

  /**
   * Appends one entry: assigns the next sequence number and the timestamp (the clock,
   * but never below the previous entry's), links it to the head, and commits (fsynced)
   * before resolving. When the trail then holds more than `maxEntries`, the oldest
   * entries are compacted before it resolves.
   *
   * @param input - The entry's fields.
   * @param options - Cancellation.
   * @returns The stored entry.
   * @throws DistributedError `INVALID_ARGUMENT` for missing or bad fields (nothing is
   *   written); `NOT_SUPPORTED` when opened read-only or the head record is damaged;
   *   `CLOSED` once closed.
   */
  async append(
    input: AuditEntryInput,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<AuditEntry> {
    options.signal?.throwIfAborted();
    this.#checkWritable();
    const fields = checkAuditInput(input, this.#limits);
    const now = Math.trunc(this.#now());
    if (!Number.isSafeInteger(now) || now < 0) {
      // A broken clock must not write an entry verify would then call malformed.
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `the clock gave ${now}, not a time since the epoch`,
      );
    }
    const entry = this.#db
      .transaction((): AuditEntry => {
        const head = this.#readHead();
        const stored: AuditEntry = Object.freeze({
          seq: head.seq + 1,
          timestamp: Math.max(now, head.timestamp),
          ...fields,
          prevHash: head.hash,
          hash: '',
        });
        const hash = hashAuditEntry(stored);
        const result = Object.freeze({ ...stored, hash });
        this.#statements.insert.run(
          result.seq,
          result.timestamp,
          result.userId,
          result.resourceId,
          result.operation,
          JSON.stringify(result.policyIds),
          result.outcome,
          JSON.stringify(result.requiredActions),
          result.message,
          result.prevHash,
          hash,
          this.#key === undefined ? null : macOf(this.#key, AUDIT_ENTRY_MAC_DOMAIN, hash),
        );
        this.#statements.setMeta.run(
          'head',
          encodeHead({ seq: result.seq, hash, timestamp: result.timestamp }, this.#key),
        );
        return result;
      })
      .immediate();
    await this.#compactIfFull(entry.seq);
    return entry;
  }

  /**
   * Where the chain ends now, as the head record says (checked, not verified).
   *
   * @throws DistributedError `NOT_SUPPORTED` when the head record is damaged; `CLOSED` once closed.
   */
  head(): AuditHead {
    this.#checkOpen();
    return this.#readHead();
  }

  /**
   * Finds entries by time range, user, resource, policy and outcome, a page at a time.
   *
   * @param query - Filters, limit, cursor and order.
   * @param options - Cancellation.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad filter, limit or cursor;
   *   `CLOSED` once closed.
   */
  query(
    query: AuditQuery = {},
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<AuditQueryPage> {
    // The executor runs at once; a throw in it becomes the rejection.
    return new Promise((resolve) => {
      options.signal?.throwIfAborted();
      resolve(this.#query(query));
    });
  }

  #query(query: AuditQuery): AuditQueryPage {
    this.#checkOpen();
    const limit = positiveInteger(query.limit, DEFAULTS.defaultQueryLimit, 'limit');
    if (limit > this.#maxQueryLimit) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `limit ${limit} exceeds maxQueryLimit (${this.#maxQueryLimit})`,
      );
    }
    const order: unknown = query.order ?? 'asc';
    if (order !== 'asc' && order !== 'desc')
      throw new DistributedError('INVALID_ARGUMENT', "order must be 'asc' or 'desc'");
    const conditions: string[] = [];
    const params: (string | number)[] = [];
    const add = (condition: string, value: string | number): void => {
      conditions.push(condition);
      params.push(value);
    };
    if (query.from !== undefined) add('timestamp >= ?', checkTime(query.from, 'from'));
    if (query.to !== undefined) add('timestamp < ?', checkTime(query.to, 'to'));
    if (query.userId !== undefined) add('user_id = ?', checkText(query.userId, 'userId'));
    if (query.resourceId !== undefined)
      add('resource_id = ?', checkText(query.resourceId, 'resourceId'));
    if (query.outcome !== undefined) {
      if (!['allowed', 'denied', 'error'].includes(query.outcome)) {
        throw new DistributedError('INVALID_ARGUMENT', 'outcome must be allowed, denied or error');
      }
      add('outcome = ?', query.outcome);
    }
    if (query.policyId !== undefined) {
      // CASE keeps json_each away from a damaged (non-JSON) row, which would make SQLite throw.
      add(
        'CASE WHEN json_valid(policy_ids) THEN EXISTS (SELECT 1 FROM json_each(policy_ids) WHERE json_each.value = ?) ELSE 0 END',
        checkText(query.policyId, 'policyId'),
      );
    }
    if (query.cursor !== undefined)
      add(order === 'asc' ? 'seq > ?' : 'seq < ?', decodeCursor(query.cursor, order));
    const sql =
      `SELECT * FROM audit_entries${conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`}` +
      ` ORDER BY seq ${order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`;
    let statement = this.#queries.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      // At most 2^7 filter shapes times two orders: bounded by construction.
      this.#queries.set(sql, statement);
    }
    const rows: unknown[] = statement.all(...params, limit + 1);
    const entries: AuditEntry[] = [];
    const malformed: { seq: number; reason: string }[] = [];
    let lastSeq = 0;
    for (const row of rows.slice(0, limit)) {
      const decoded = decodeAuditRow(row, this.#limits);
      const seq = (row as { seq?: unknown }).seq;
      lastSeq = typeof seq === 'number' ? seq : lastSeq;
      if (decoded.ok) entries.push(decoded.entry);
      else malformed.push(Object.freeze({ seq: lastSeq, reason: decoded.reason }));
    }
    return Object.freeze({
      entries: Object.freeze(entries),
      ...(rows.length > limit ? { nextCursor: `${order}:${lastSeq}` } : {}),
      malformed: Object.freeze(malformed),
    });
  }

  /**
   * Walks the whole trail and checks it: the checkpoint's seal (and MAC), every entry's
   * decoding, hash, MAC (with a key), link to the one before and timestamp order, that
   * sequence numbers have no gaps, and that the last entry is the head. Stops at the
   * first problem and names it.
   *
   * @param options - Cancellation and an external anchor.
   * @throws DistributedError `CLOSED` once closed; rejects with the signal's reason when aborted.
   */
  async verify(options: AuditVerifyOptions = {}): Promise<AuditVerification> {
    options.signal?.throwIfAborted();
    this.#checkOpen();
    return await this.#exclusive(() => this.#verify(options));
  }

  /**
   * Removes the entries before `beforeSeq` (or before `beforeTime`) and records a sealed
   * checkpoint, so the rest still verifies. The removed entries are verified first: a
   * damaged segment is never sealed over. Works in steps of `batchSize` entries, each
   * its own transaction that writes its own checkpoint (chained to the previous one).
   *
   * @param options - The bound (exactly one of `beforeSeq` and `beforeTime`) and cancellation.
   * @returns The last checkpoint written, or `undefined` when nothing was before the bound.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad bound; `NOT_SUPPORTED` when
   *   read-only or when the entries to remove (or the checkpoint) fail verification;
   *   `CLOSED` once closed.
   */
  async compact(options: AuditCompactOptions): Promise<AuditCheckpoint | undefined> {
    options.signal?.throwIfAborted();
    this.#checkWritable();
    const { beforeSeq, beforeTime } = options;
    if ((beforeSeq === undefined) === (beforeTime === undefined)) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'give exactly one of beforeSeq and beforeTime',
      );
    }
    if (beforeSeq !== undefined) positiveInteger(beforeSeq, 1, 'beforeSeq');
    if (beforeTime !== undefined) checkTime(beforeTime, 'beforeTime');
    return await this.#exclusive(() => this.#compact(options));
  }

  /** Closes the database. Idempotent; later calls throw `CLOSED`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  /** Same as {@link AuditTrail.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#maintenance.then(task, task);
    this.#maintenance = run.catch(() => undefined);
    return run;
  }

  async #verify(options: AuditVerifyOptions): Promise<AuditVerification> {
    const start = this.#readCheckpointState();
    if ('reason' in start) return { ok: false, checkedEntries: 0, ...start };
    const { checkpoint } = start;
    const walker = new ChainWalker(
      checkpoint === undefined
        ? { nextSeq: 1, prevHash: GENESIS_HASH, timestamp: 0 }
        : {
            nextSeq: checkpoint.seq + 1,
            prevHash: checkpoint.lastHash,
            timestamp: checkpoint.lastTimestamp,
          },
      this.#key,
      this.#limits,
      checkpoint === undefined ? 'broken-link' : 'checkpoint-link-mismatch',
    );
    const anchor = options.anchor;
    let anchorSeen =
      anchor === undefined || (checkpoint !== undefined && anchor.seq <= checkpoint.seq);
    if (
      anchor !== undefined &&
      checkpoint !== undefined &&
      anchor.seq === checkpoint.seq &&
      anchor.hash !== checkpoint.lastHash
    ) {
      return {
        ok: false,
        checkedEntries: 0,
        firstBadSeq: anchor.seq,
        reason: 'anchor-mismatch',
        detail: 'the checkpoint does not end at the anchor',
      };
    }
    // Rows before the checkpoint (even at seq 0 or below) must not exist: scan from the bottom so they are seen.
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      this.#checkOpen();
      // One read transaction per step: the last step's rows and the head are one snapshot.
      const step = this.#db.transaction(() => ({
        rows: this.#statements.rowsFrom.all(after, this.#batchSize) as { seq: number }[],
        head: this.#statements.getMeta.get('head'),
      }))();
      for (const row of step.rows) {
        const problem = walker.next(row);
        if (problem !== undefined) return { ok: false, checkedEntries: walker.checked, ...problem };
        if (anchor !== undefined && row.seq === anchor.seq) {
          anchorSeen = true;
          if (walker.position.prevHash !== anchor.hash) {
            return {
              ok: false,
              checkedEntries: walker.checked,
              firstBadSeq: anchor.seq,
              reason: 'anchor-mismatch',
              detail: `entry ${anchor.seq} does not have the anchored hash`,
            };
          }
        }
        after = row.seq;
      }
      if (step.rows.length < this.#batchSize) {
        const head = decodeHead(step.head, this.#key);
        const end = walker.position;
        if (typeof head === 'string') {
          return {
            ok: false,
            checkedEntries: walker.checked,
            firstBadSeq: end.nextSeq - 1,
            reason: 'head-invalid',
            detail: step.head === undefined ? 'the head record is missing' : head,
          };
        }
        const lastSeq = end.nextSeq - 1;
        if (head.seq > lastSeq) {
          return {
            ok: false,
            checkedEntries: walker.checked,
            firstBadSeq: lastSeq + 1,
            reason: 'missing-entry',
            detail: `the head names entry ${head.seq} but the trail ends at ${lastSeq}`,
          };
        }
        if (head.seq < lastSeq) {
          return {
            ok: false,
            checkedEntries: walker.checked,
            firstBadSeq: head.seq + 1,
            reason: 'unexpected-entry',
            detail: `entries past the head (${head.seq}) exist`,
          };
        }
        if (head.hash !== end.prevHash || head.timestamp !== end.timestamp) {
          return {
            ok: false,
            checkedEntries: walker.checked,
            firstBadSeq: lastSeq,
            reason: 'head-mismatch',
            detail: `entry ${lastSeq} is not the one the head names`,
          };
        }
        if (!anchorSeen) {
          return {
            ok: false,
            checkedEntries: walker.checked,
            firstBadSeq: anchor?.seq ?? 0,
            reason: 'anchor-mismatch',
            detail: 'the anchored entry is past the end of the trail',
          };
        }
        return Object.freeze({
          ok: true as const,
          checkedEntries: walker.checked,
          head,
          ...(checkpoint === undefined ? {} : { checkpoint }),
          macChecked: this.#key !== undefined,
        });
      }
      await yieldToEventLoop();
      options.signal?.throwIfAborted();
    }
  }

  async #compact(options: AuditCompactOptions): Promise<AuditCheckpoint | undefined> {
    let written: AuditCheckpoint | undefined;
    for (;;) {
      this.#checkOpen();
      const step = this.#db.transaction((): { checkpoint?: AuditCheckpoint; more: boolean } => {
        const state = this.#readCheckpointState();
        if ('reason' in state) throw damaged(state.detail);
        const previous = state.checkpoint;
        const head = this.#readHead();
        let before = options.beforeSeq ?? head.seq + 1;
        if (options.beforeTime !== undefined) {
          before = this.#statements.firstSeqAtTime.get(options.beforeTime) ?? head.seq + 1;
        }
        const first = (previous?.seq ?? 0) + 1;
        const last = Math.min(before - 1, head.seq, first + this.#batchSize - 1);
        if (last < first) return { more: false };
        const walker = new ChainWalker(
          previous === undefined
            ? { nextSeq: 1, prevHash: GENESIS_HASH, timestamp: 0 }
            : {
                nextSeq: previous.seq + 1,
                prevHash: previous.lastHash,
                timestamp: previous.lastTimestamp,
              },
          this.#key,
          this.#limits,
          previous === undefined ? 'broken-link' : 'checkpoint-link-mismatch',
        );
        const rows = this.#statements.rowsFrom.all(first - 1, last - first + 1);
        for (const row of rows) {
          const problem = walker.next(row);
          if (problem !== undefined)
            throw damaged(`entry ${problem.firstBadSeq}: ${problem.reason} (${problem.detail})`);
        }
        if (walker.position.nextSeq !== last + 1)
          throw damaged(`entry ${walker.position.nextSeq} is missing`);
        const checkpoint = sealCheckpoint(
          {
            seq: last,
            lastHash: walker.position.prevHash,
            lastTimestamp: walker.position.timestamp,
            removedCount: last - first + 1,
            totalRemoved: (previous?.totalRemoved ?? 0) + (last - first + 1),
            compactedAt: Math.max(0, Math.trunc(this.#now())),
            previousSeal: previous?.sealHash ?? GENESIS_HASH,
          },
          this.#key,
        );
        this.#statements.deleteThrough.run(last);
        this.#statements.setMeta.run('checkpoint', encodeCheckpoint(checkpoint));
        return { checkpoint, more: last < Math.min(before - 1, head.seq) };
      });
      const result = step.immediate();
      if (result.checkpoint !== undefined) written = result.checkpoint;
      if (!result.more) return written;
      await yieldToEventLoop();
      options.signal?.throwIfAborted();
    }
  }

  async #compactIfFull(headSeq: number): Promise<void> {
    const state = this.#readCheckpointState();
    const compacted = 'reason' in state ? 0 : (state.checkpoint?.seq ?? 0);
    if (headSeq - compacted <= this.#maxEntries) return;
    const keep = Math.max(1, Math.floor(this.#maxEntries * 0.9));
    try {
      await this.#exclusive(() => this.#compact({ beforeSeq: headSeq - keep + 1 }));
      this.#lastCompactionError = undefined;
    } catch (error) {
      this.#lastCompactionError = error;
      this.#onCompactionError?.(error);
    }
  }

  #readHead(): AuditHead {
    const head = decodeHead(this.#statements.getMeta.get('head'), this.#key);
    if (typeof head === 'string') throw damaged(head);
    return head;
  }

  #readCheckpointState(): { checkpoint: AuditCheckpoint | undefined } | AuditChainBreak {
    const stored = this.#statements.getMeta.get('checkpoint');
    if (stored === undefined) return { checkpoint: undefined };
    const checkpoint = decodeCheckpoint(stored, this.#key);
    if (typeof checkpoint === 'string') {
      const seq = (() => {
        try {
          const value = (JSON.parse(stored) as { seq?: unknown }).seq;
          return typeof value === 'number' && Number.isSafeInteger(value) ? value : 0;
        } catch {
          return 0;
        }
      })();
      return { firstBadSeq: seq, reason: 'checkpoint-invalid', detail: checkpoint };
    }
    return { checkpoint };
  }

  #checkOpen(): void {
    if (this.#closed) throw new DistributedError('CLOSED', 'the audit trail is closed');
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.#readonly)
      throw new DistributedError('NOT_SUPPORTED', 'the audit trail was opened read-only');
  }
}

function checkTime(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `${what} must be a safe integer (milliseconds since the epoch)`,
    );
  }
  return value;
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `${what} must be a non-empty string of at most 4096 characters`,
    );
  }
  return value;
}

function decodeCursor(cursor: unknown, order: 'asc' | 'desc'): number {
  const match = typeof cursor === 'string' ? /^(asc|desc):(\d{1,16})$/.exec(cursor) : null;
  if (match === null || match[1] !== order) {
    throw new DistributedError('INVALID_ARGUMENT', `cursor is not a cursor of an ${order} query`);
  }
  return Number(match[2]);
}
