/**
 * The trail's two sealed records besides its entries: the head (where the chain ends)
 * and the checkpoint (what compaction removed).
 *
 * @packageDocumentation
 */

import { canonicalHash, GENESIS_HASH, isHash, macMatches, macOf } from './canonical.js';

/**
 * Where the chain ends: the last entry's sequence number, hash and timestamp (0,
 * {@link GENESIS_HASH} and 0 before the first append). It is rewritten with every
 * append, in the same transaction, so deleting the newest entries is detected.
 *
 * @since 2.0.0
 */
export interface AuditHead {
  /** The last entry's sequence number. */
  readonly seq: number;
  /** The last entry's hash. */
  readonly hash: string;
  /** The last entry's timestamp: the next entry's is at least this. */
  readonly timestamp: number;
}

/**
 * A sealed record of a compaction: the entries up to {@link AuditCheckpoint.seq} were
 * removed, and the chain continues from {@link AuditCheckpoint.lastHash}.
 *
 * Sealed means: {@link AuditCheckpoint.sealHash} is SHA-256 of the canonical encoding of
 * the other fields, which include the previous checkpoint's seal (a chain of
 * checkpoints) and the last removed entry's hash (the link to the entries); with an
 * HMAC key, {@link AuditCheckpoint.mac} authenticates the seal.
 *
 * @since 2.0.0
 */
export interface AuditCheckpoint {
  /** The sequence number of the last removed entry. */
  readonly seq: number;
  /** The hash of the last removed entry: the next entry's `prevHash`. */
  readonly lastHash: string;
  /** The timestamp of the last removed entry. */
  readonly lastTimestamp: number;
  /** How many entries this compaction removed. */
  readonly removedCount: number;
  /** How many entries all compactions so far removed. */
  readonly totalRemoved: number;
  /** When the compaction ran, in milliseconds since the Unix epoch. */
  readonly compactedAt: number;
  /** The previous checkpoint's seal, or {@link GENESIS_HASH} for the first. */
  readonly previousSeal: string;
  /** SHA-256 of the canonical encoding of the fields above (with `v` and `kind`). */
  readonly sealHash: string;
  /** HMAC of the seal when the trail has a key, else null. */
  readonly mac: string | null;
}

const HEAD_DOMAIN = 'audit-head';
const CHECKPOINT_DOMAIN = 'audit-checkpoint';

function headHash(head: AuditHead): string {
  return canonicalHash({
    v: 1,
    kind: HEAD_DOMAIN,
    seq: head.seq,
    hash: head.hash,
    timestamp: head.timestamp,
  });
}

/**
 * The stored form of a head: the head and, with a key, the MAC of its hash.
 *
 * @param head - The head.
 * @param key - The trail's HMAC key, if any.
 * @since 2.0.0
 */
export function encodeHead(head: AuditHead, key: Uint8Array | undefined): string {
  const mac = key === undefined ? null : macOf(key, HEAD_DOMAIN, headHash(head));
  return JSON.stringify({ seq: head.seq, hash: head.hash, timestamp: head.timestamp, mac });
}

/**
 * The initial head of an empty trail.
 *
 * @since 2.0.0
 */
export const EMPTY_HEAD: AuditHead = Object.freeze({ seq: 0, hash: GENESIS_HASH, timestamp: 0 });

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function parseObject(text: unknown): Record<string, unknown> | string {
  if (typeof text !== 'string') return 'is not text';
  if (text.length > 4096) return 'is too long';
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
    return 'is not a JSON object';
  } catch {
    return 'is not valid JSON';
  }
}

/**
 * Decodes and checks a stored head; never throws.
 *
 * @param text - The stored value (anything).
 * @param key - The trail's HMAC key: when given, the MAC must match.
 * @returns The head, or why it is not valid.
 * @since 2.0.0
 */
export function decodeHead(text: unknown, key: Uint8Array | undefined): AuditHead | string {
  const value = parseObject(text);
  if (typeof value === 'string') return `head ${value}`;
  const { seq, hash, timestamp, mac } = value;
  if (!isCount(seq) || !isHash(hash) || !isCount(timestamp)) return 'head has malformed fields';
  const head = Object.freeze({ seq, hash, timestamp });
  if (key !== undefined && !macMatches(key, HEAD_DOMAIN, headHash(head), mac))
    return 'head MAC does not match';
  return head;
}

/**
 * Seals a checkpoint: computes its seal hash and, with a key, its MAC.
 *
 * @param fields - Everything but the seal and MAC.
 * @param key - The trail's HMAC key, if any.
 * @since 2.0.0
 */
export function sealCheckpoint(
  fields: Omit<AuditCheckpoint, 'sealHash' | 'mac'>,
  key: Uint8Array | undefined,
): AuditCheckpoint {
  const sealHash = checkpointSeal(fields);
  return Object.freeze({
    ...fields,
    sealHash,
    mac: key === undefined ? null : macOf(key, CHECKPOINT_DOMAIN, sealHash),
  });
}

function checkpointSeal(fields: Omit<AuditCheckpoint, 'sealHash' | 'mac'>): string {
  return canonicalHash({
    v: 1,
    kind: CHECKPOINT_DOMAIN,
    seq: fields.seq,
    lastHash: fields.lastHash,
    lastTimestamp: fields.lastTimestamp,
    removedCount: fields.removedCount,
    totalRemoved: fields.totalRemoved,
    compactedAt: fields.compactedAt,
    previousSeal: fields.previousSeal,
  });
}

/**
 * Decodes a stored checkpoint and checks its seal (and MAC, with a key); never throws.
 *
 * @param text - The stored value (anything).
 * @param key - The trail's HMAC key: when given, the MAC must match.
 * @returns The checkpoint, or why it is not valid.
 * @since 2.0.0
 */
export function decodeCheckpoint(
  text: unknown,
  key: Uint8Array | undefined,
): AuditCheckpoint | string {
  const value = parseObject(text);
  if (typeof value === 'string') return `checkpoint ${value}`;
  const {
    seq,
    lastHash,
    lastTimestamp,
    removedCount,
    totalRemoved,
    compactedAt,
    previousSeal,
    sealHash,
    mac,
  } = value;
  if (
    !isCount(seq) ||
    seq < 1 ||
    !isHash(lastHash) ||
    !isCount(lastTimestamp) ||
    !isCount(removedCount) ||
    !isCount(totalRemoved) ||
    !isCount(compactedAt) ||
    !isHash(previousSeal) ||
    !isHash(sealHash) ||
    (mac !== null && !isHash(mac))
  ) {
    return 'checkpoint has malformed fields';
  }
  const fields = {
    seq,
    lastHash,
    lastTimestamp,
    removedCount,
    totalRemoved,
    compactedAt,
    previousSeal,
  };
  if (checkpointSeal(fields) !== sealHash) return 'checkpoint seal does not match its contents';
  if (key !== undefined && !macMatches(key, CHECKPOINT_DOMAIN, sealHash, mac))
    return 'checkpoint MAC does not match';
  return Object.freeze({ ...fields, sealHash, mac });
}

/**
 * The stored form of a checkpoint.
 *
 * @param checkpoint - A sealed checkpoint.
 * @since 2.0.0
 */
export function encodeCheckpoint(checkpoint: AuditCheckpoint): string {
  return JSON.stringify(checkpoint);
}
