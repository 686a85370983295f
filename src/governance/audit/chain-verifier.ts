/**
 * The chain walk behind `AuditTrail.verify` and compaction: checks stored rows one by
 * one against the chain and names the first bad one.
 *
 * @packageDocumentation
 */

import { macMatches } from './canonical.js';
import {
  AUDIT_ENTRY_MAC_DOMAIN,
  decodeAuditRow,
  hashAuditEntry,
  type AuditEntryLimits,
} from './audit-entry.js';

/**
 * Every reason verification can fail, stable for callers to branch on:
 *
 * - `malformed-entry`: a row does not decode (wrong types, bad JSON, oversize fields).
 * - `hash-mismatch`: an entry's content does not match its stored hash (edited).
 * - `mac-missing` / `mac-mismatch`: with a key, an entry has no MAC or a wrong one
 *   (edited and re-hashed, or forged).
 * - `broken-link`: an entry's `prevHash` is not the previous entry's hash (this entry or
 *   the one before was replaced consistently).
 * - `missing-entry`: a sequence number is absent (deleted), named by the missing number.
 * - `unexpected-entry`: a row that should not exist (before the checkpoint, or past the
 *   head: inserted).
 * - `timestamp-regression`: an entry is older than the one before it.
 * - `checkpoint-invalid`: the checkpoint does not decode, its seal or MAC does not match.
 * - `checkpoint-link-mismatch`: the first entry after the checkpoint does not continue
 *   from it.
 * - `head-invalid`: the head record is missing, does not decode, or its MAC does not match.
 * - `head-mismatch`: the last entry is not the one the head names.
 * - `anchor-mismatch`: the entry at an externally kept anchor has another hash.
 *
 * @since 2.0.0
 */
export const AUDIT_VERIFY_REASONS = Object.freeze([
  'malformed-entry',
  'hash-mismatch',
  'mac-missing',
  'mac-mismatch',
  'broken-link',
  'missing-entry',
  'unexpected-entry',
  'timestamp-regression',
  'checkpoint-invalid',
  'checkpoint-link-mismatch',
  'head-invalid',
  'head-mismatch',
  'anchor-mismatch',
] as const);

/**
 * Why verification failed; see {@link AUDIT_VERIFY_REASONS}.
 *
 * @since 2.0.0
 */
export type AuditVerifyReason = (typeof AUDIT_VERIFY_REASONS)[number];

/**
 * The first problem verification found.
 *
 * @since 2.0.0
 */
export interface AuditChainBreak {
  /** The sequence number of the first bad entry (for a checkpoint problem, the checkpoint's). */
  readonly firstBadSeq: number;
  /** The kind of problem. */
  readonly reason: AuditVerifyReason;
  /** A human-readable explanation. */
  readonly detail: string;
}

/**
 * Where a walk starts: the sequence number and `prevHash` the next entry must have, and
 * the timestamp it must not go below.
 *
 * @since 2.0.0
 */
export interface ChainPosition {
  /** The sequence number the next entry must have. */
  readonly nextSeq: number;
  /** The hash the next entry's `prevHash` must equal. */
  readonly prevHash: string;
  /** The smallest timestamp the next entry may have. */
  readonly timestamp: number;
}

/**
 * Walks stored rows in ascending sequence order, checking each against the chain.
 *
 * @since 2.0.0
 */
export class ChainWalker {
  #position: ChainPosition;
  #checked = 0;
  readonly #key: Uint8Array | undefined;
  readonly #limits: AuditEntryLimits;
  readonly #linkReason: AuditVerifyReason;
  #first = true;

  /**
   * @param start - Where the chain continues from (the checkpoint, or the genesis).
   * @param key - The HMAC key: when given, every entry's MAC must match.
   * @param limits - The field bounds rows are decoded under.
   * @param firstLinkReason - The reason reported when the first entry does not link to
   *   `start` (`checkpoint-link-mismatch` after a checkpoint).
   */
  constructor(
    start: ChainPosition,
    key: Uint8Array | undefined,
    limits: AuditEntryLimits,
    firstLinkReason: AuditVerifyReason = 'broken-link',
  ) {
    this.#position = start;
    this.#key = key;
    this.#limits = limits;
    this.#linkReason = firstLinkReason;
  }

  /** Where the walk has got to: what the next entry must continue from. */
  get position(): ChainPosition {
    return this.#position;
  }

  /** How many entries passed. */
  get checked(): number {
    return this.#checked;
  }

  /**
   * Checks the next stored row.
   *
   * @param row - The row, as SQLite returned it.
   * @returns The problem, or `undefined` when the row continues the chain.
   */
  next(row: unknown): AuditChainBreak | undefined {
    const expected = this.#position.nextSeq;
    const decoded = decodeAuditRow(row, this.#limits);
    const seq = decoded.ok ? decoded.entry.seq : decoded.seq;
    if (seq !== undefined && seq < expected) {
      return {
        firstBadSeq: seq,
        reason: 'unexpected-entry',
        detail: `entry ${seq} is before the expected ${expected}`,
      };
    }
    if (seq !== undefined && seq > expected) {
      return {
        firstBadSeq: expected,
        reason: 'missing-entry',
        detail: `entry ${expected} is missing (next is ${seq})`,
      };
    }
    if (!decoded.ok)
      return { firstBadSeq: expected, reason: 'malformed-entry', detail: decoded.reason };
    const { entry, mac } = decoded;
    if (hashAuditEntry(entry) !== entry.hash) {
      return {
        firstBadSeq: seq ?? expected,
        reason: 'hash-mismatch',
        detail: `entry ${entry.seq}'s content does not match its hash`,
      };
    }
    if (this.#key !== undefined) {
      if (mac === null)
        return {
          firstBadSeq: entry.seq,
          reason: 'mac-missing',
          detail: `entry ${entry.seq} has no MAC`,
        };
      if (!macMatches(this.#key, AUDIT_ENTRY_MAC_DOMAIN, entry.hash, mac)) {
        return {
          firstBadSeq: entry.seq,
          reason: 'mac-mismatch',
          detail: `entry ${entry.seq}'s MAC does not match`,
        };
      }
    }
    if (entry.prevHash !== this.#position.prevHash) {
      const reason = this.#first ? this.#linkReason : 'broken-link';
      return {
        firstBadSeq: entry.seq,
        reason,
        detail: `entry ${entry.seq}'s prevHash is not the hash of entry ${entry.seq - 1}: one of them was replaced`,
      };
    }
    if (entry.timestamp < this.#position.timestamp) {
      return {
        firstBadSeq: entry.seq,
        reason: 'timestamp-regression',
        detail: `entry ${entry.seq} is older than entry ${entry.seq - 1}`,
      };
    }
    this.#position = { nextSeq: entry.seq + 1, prevHash: entry.hash, timestamp: entry.timestamp };
    this.#checked++;
    this.#first = false;
    return undefined;
  }
}
