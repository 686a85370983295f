/**
 * Audit entries: what a caller appends, what the trail stores, the canonical form that
 * is hashed, and the validating decoder of a stored row.
 *
 * @packageDocumentation
 */

import { GOVERNANCE_ACTIONS, type GovernanceAction } from '../../contracts/auto-governance.js';
import { DistributedError } from '../../contracts/errors.js';
import { canonicalHash, isHash, type CanonicalValue } from './canonical.js';

/**
 * Every outcome an audited operation can have: `allowed` and `denied` are the policy
 * decision; `error` means the operation or its evaluation failed (and was refused: the
 * policy engine fails closed).
 *
 * @since 2.0.0
 */
export const AUDIT_OUTCOMES = Object.freeze(['allowed', 'denied', 'error'] as const);

/**
 * An audited operation's outcome; see {@link AUDIT_OUTCOMES}.
 *
 * @since 2.0.0
 */
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/**
 * What a caller appends. The trail adds the sequence number, the timestamp (from its
 * clock, never the caller's) and the chain hashes.
 *
 * @since 2.0.0
 */
export interface AuditEntryInput {
  /** Who performed the operation; non-empty. */
  readonly userId: string;
  /** What it was performed on; non-empty. */
  readonly resourceId: string;
  /** The operation, for example `object.put`; non-empty. */
  readonly operation: string;
  /** The policies that applied, each non-empty and distinct. Default none. */
  readonly policyIds?: readonly string[];
  /** The outcome. */
  readonly outcome: AuditOutcome;
  /** The obligations the decision imposed (`audit`, `encrypt`, …), distinct. Default none. */
  readonly requiredActions?: readonly GovernanceAction[];
  /** A human-readable summary. Default empty. */
  readonly message?: string;
}

/**
 * One entry of the trail, as stored and returned.
 *
 * @since 2.0.0
 */
export interface AuditEntry {
  /** The position in the trail: 1 for the first entry ever, then consecutive. */
  readonly seq: number;
  /** When it was appended, in milliseconds since the Unix epoch; never decreases along the trail. */
  readonly timestamp: number;
  /** Who performed the operation. */
  readonly userId: string;
  /** What it was performed on. */
  readonly resourceId: string;
  /** The operation. */
  readonly operation: string;
  /** The policies that applied. */
  readonly policyIds: readonly string[];
  /** The outcome. */
  readonly outcome: AuditOutcome;
  /** The obligations the decision imposed. */
  readonly requiredActions: readonly GovernanceAction[];
  /** The summary. */
  readonly message: string;
  /** The hash of the previous entry (`GENESIS_HASH`, 64 zeros, for the first entry ever). */
  readonly prevHash: string;
  /** This entry's hash: SHA-256 of {@link auditEntryCanonicalForm}'s canonical encoding. */
  readonly hash: string;
}

/**
 * The bounds on an entry's fields; enforced on append and when decoding a stored row.
 *
 * @since 2.0.0
 */
export interface AuditEntryLimits {
  /** The longest user id, resource id, operation or policy id, in UTF-8 bytes. */
  readonly maxIdBytes: number;
  /** The longest message, in UTF-8 bytes. */
  readonly maxMessageBytes: number;
  /** The most policy ids per entry. */
  readonly maxPolicyIds: number;
}

/**
 * The default {@link AuditEntryLimits}: 512-byte ids, 8 KiB messages, 64 policy ids.
 *
 * @since 2.0.0
 */
export const DEFAULT_AUDIT_ENTRY_LIMITS: AuditEntryLimits = Object.freeze({
  maxIdBytes: 512,
  maxMessageBytes: 8 * 1024,
  maxPolicyIds: 64,
});

/**
 * The domain of an entry's MAC (see `macOf`): HMAC-SHA-256 of `audit-entry:<hash>`.
 *
 * @since 2.0.0
 */
export const AUDIT_ENTRY_MAC_DOMAIN = 'audit-entry';

/** The version of the canonical form; part of every hash, so a format change cannot be confused with tampering. */
const FORMAT_VERSION = 1;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string field is unacceptable, or `undefined`. */
function stringProblem(
  value: unknown,
  what: string,
  maxBytes: number,
  allowEmpty: boolean,
): string | undefined {
  if (typeof value !== 'string') return `${what} must be a string`;
  if (!allowEmpty && value.length === 0) return `${what} must not be empty`;
  // A lone surrogate cannot be stored in SQLite TEXT (nor hashed as UTF-8) faithfully.
  if (LONE_SURROGATE.test(value)) return `${what} contains a lone UTF-16 surrogate`;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBytes) return `${what} of ${bytes} UTF-8 bytes exceeds the limit (${maxBytes})`;
  return undefined;
}

function listProblem(
  value: unknown,
  what: string,
  maxItems: number,
  item: (entry: unknown, index: number) => string | undefined,
): string | undefined {
  if (!Array.isArray(value)) return `${what} must be an array`;
  if (value.length > maxItems)
    return `${what} has ${value.length} items, above the limit (${maxItems})`;
  for (let i = 0; i < value.length; i++) {
    const problem = item(value[i], i);
    if (problem !== undefined) return problem;
  }
  if (new Set(value).size !== value.length) return `${what} has duplicates`;
  return undefined;
}

const ACTIONS: readonly string[] = GOVERNANCE_ACTIONS;

/**
 * Why the fields of an entry are unacceptable under `limits`, or `undefined` when they
 * are fine. Shared by append (bad input) and the row decoder (a damaged row).
 */
function fieldsProblem(
  fields: Record<string, unknown>,
  limits: AuditEntryLimits,
): string | undefined {
  return (
    stringProblem(fields.userId, 'userId', limits.maxIdBytes, false) ??
    stringProblem(fields.resourceId, 'resourceId', limits.maxIdBytes, false) ??
    stringProblem(fields.operation, 'operation', limits.maxIdBytes, false) ??
    listProblem(fields.policyIds, 'policyIds', limits.maxPolicyIds, (id, i) =>
      stringProblem(id, `policyIds[${i}]`, limits.maxIdBytes, false),
    ) ??
    (AUDIT_OUTCOMES.includes(fields.outcome as AuditOutcome)
      ? undefined
      : `outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`) ??
    listProblem(fields.requiredActions, 'requiredActions', ACTIONS.length, (action) =>
      typeof action === 'string' && ACTIONS.includes(action)
        ? undefined
        : `requiredActions must be among ${ACTIONS.join(', ')}`,
    ) ??
    stringProblem(fields.message, 'message', limits.maxMessageBytes, true)
  );
}

/**
 * The fields of an append, checked and copied.
 *
 * @param input - What the caller appends.
 * @param limits - The field bounds.
 * @throws DistributedError `INVALID_ARGUMENT` naming the first bad field.
 * @since 2.0.0
 */
export function checkAuditInput(
  input: AuditEntryInput,
  limits: AuditEntryLimits,
): Omit<AuditEntry, 'seq' | 'timestamp' | 'prevHash' | 'hash'> {
  if (typeof input !== 'object' || (input as unknown) === null) {
    throw new DistributedError('INVALID_ARGUMENT', 'an audit entry must be an object');
  }
  const fields = {
    userId: input.userId,
    resourceId: input.resourceId,
    operation: input.operation,
    policyIds: input.policyIds ?? [],
    outcome: input.outcome,
    requiredActions: input.requiredActions ?? [],
    message: input.message ?? '',
  };
  const problem = fieldsProblem(fields, limits);
  if (problem !== undefined)
    throw new DistributedError('INVALID_ARGUMENT', `bad audit entry: ${problem}`);
  return Object.freeze({
    ...fields,
    policyIds: Object.freeze([...fields.policyIds]),
    requiredActions: Object.freeze([...fields.requiredActions]),
  });
}

/**
 * The object whose canonical encoding is an entry's hash input: every field but the
 * hash itself, plus the format version `v`.
 *
 * @param entry - The entry (its `hash`, if present, is ignored).
 * @since 2.0.0
 */
export function auditEntryCanonicalForm(entry: Omit<AuditEntry, 'hash'>): CanonicalValue {
  return {
    v: FORMAT_VERSION,
    seq: entry.seq,
    timestamp: entry.timestamp,
    userId: entry.userId,
    resourceId: entry.resourceId,
    operation: entry.operation,
    policyIds: entry.policyIds,
    outcome: entry.outcome,
    requiredActions: entry.requiredActions,
    message: entry.message,
    prevHash: entry.prevHash,
  };
}

/**
 * SHA-256 of the canonical encoding of an entry ({@link auditEntryCanonicalForm}).
 *
 * @param entry - The entry.
 * @since 2.0.0
 */
export function hashAuditEntry(entry: Omit<AuditEntry, 'hash'>): string {
  return canonicalHash(auditEntryCanonicalForm(entry));
}

/**
 * A stored row as the decoder sees it: SQLite may hand back any type in any column of
 * a file someone edited.
 *
 * @since 2.0.0
 */
export interface AuditRow {
  /** `seq` column. */
  readonly seq: unknown;
  /** `timestamp` column. */
  readonly timestamp: unknown;
  /** `user_id` column. */
  readonly user_id: unknown;
  /** `resource_id` column. */
  readonly resource_id: unknown;
  /** `operation` column. */
  readonly operation: unknown;
  /** `policy_ids` column: a JSON array of strings. */
  readonly policy_ids: unknown;
  /** `outcome` column. */
  readonly outcome: unknown;
  /** `required_actions` column: a JSON array of strings. */
  readonly required_actions: unknown;
  /** `message` column. */
  readonly message: unknown;
  /** `prev_hash` column. */
  readonly prev_hash: unknown;
  /** `hash` column. */
  readonly hash: unknown;
  /** `mac` column: hex HMAC, or null without a key. */
  readonly mac: unknown;
}

/**
 * What decoding a stored row gave: the entry and its MAC, or why the row is not a
 * valid entry (with its sequence number when that much could be read).
 *
 * @since 2.0.0
 */
export type DecodedAuditRow =
  | {
      /** The row is a valid entry. */
      readonly ok: true;
      /** The entry. */
      readonly entry: AuditEntry;
      /** Its stored MAC, or null. */
      readonly mac: string | null;
    }
  | {
      /** The row is not a valid entry. */
      readonly ok: false;
      /** Its sequence number, when that much is an integer. */
      readonly seq: number | undefined;
      /** Why it is not valid. */
      readonly reason: string;
    };

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

/** Parses a JSON list column of at most `maxItems` items, bounding the text first. */
function parseList(
  value: unknown,
  what: string,
  maxItems: number,
  maxItemBytes: number,
): unknown[] | string {
  if (typeof value !== 'string') return `${what} is not text`;
  // Bound the text before parsing it: an edited row may hold anything.
  if (value.length > 2 + maxItems * (maxItemBytes * 6 + 3)) return `${what} is too long`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return `${what} is not valid JSON`;
  }
  return Array.isArray(parsed) ? parsed : `${what} is not a JSON array`;
}

/**
 * Decodes and validates one stored row. Never throws: whatever the row holds (wrong
 * types, bad JSON, oversize fields, malformed hashes), the answer is a value. Whether
 * the stored hash matches the content is the chain verifier's job, not the decoder's.
 *
 * @param row - A row of the `audit_entries` table, or anything else.
 * @param limits - The field bounds.
 * @since 2.0.0
 */
export function decodeAuditRow(
  row: unknown,
  limits: AuditEntryLimits = DEFAULT_AUDIT_ENTRY_LIMITS,
): DecodedAuditRow {
  if (typeof row !== 'object' || row === null)
    return { ok: false, seq: undefined, reason: 'row is not an object' };
  const r = row as Partial<AuditRow>;
  // Any integer is reported back, so a row at seq 0 or below is named as inserted.
  const seq = typeof r.seq === 'number' && Number.isSafeInteger(r.seq) ? r.seq : undefined;
  const fail = (reason: string): DecodedAuditRow => ({ ok: false, seq, reason });
  if (!isSeq(seq)) return fail('seq is not a positive safe integer');
  if (typeof r.timestamp !== 'number' || !Number.isSafeInteger(r.timestamp) || r.timestamp < 0) {
    return fail('timestamp is not a non-negative safe integer');
  }
  const policyIds = parseList(r.policy_ids, 'policy_ids', limits.maxPolicyIds, limits.maxIdBytes);
  if (typeof policyIds === 'string') return fail(policyIds);
  const requiredActions = parseList(r.required_actions, 'required_actions', ACTIONS.length, 16);
  if (typeof requiredActions === 'string') return fail(requiredActions);
  const fields = {
    userId: r.user_id,
    resourceId: r.resource_id,
    operation: r.operation,
    policyIds,
    outcome: r.outcome,
    requiredActions,
    message: r.message,
  };
  const problem = fieldsProblem(fields, limits);
  if (problem !== undefined) return fail(problem);
  if (!isHash(r.prev_hash)) return fail('prev_hash is not a hex SHA-256 digest');
  if (!isHash(r.hash)) return fail('hash is not a hex SHA-256 digest');
  if (r.mac !== null && !isHash(r.mac)) return fail('mac is neither null nor a hex HMAC');
  const entry: AuditEntry = Object.freeze({
    seq,
    timestamp: r.timestamp,
    userId: fields.userId as string,
    resourceId: fields.resourceId as string,
    operation: fields.operation as string,
    policyIds: Object.freeze(policyIds as string[]),
    outcome: fields.outcome as AuditOutcome,
    requiredActions: Object.freeze(requiredActions as GovernanceAction[]),
    message: fields.message as string,
    prevHash: r.prev_hash,
    hash: r.hash,
  });
  return { ok: true, entry, mac: r.mac ?? null };
}
