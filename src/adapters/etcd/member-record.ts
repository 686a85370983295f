/**
 * The record a member keeps in etcd under `<prefix>members/<nodeId>`, and its
 * validating decoder: values in etcd are written by other processes, so they
 * are untrusted input.
 *
 * @packageDocumentation
 */

import type { ClusterNodeRole } from '../../contracts/cluster-membership.js';

/**
 * A member's registration as stored in etcd (JSON).
 *
 * @since 2.0.0
 */
export interface MemberRecord {
  /** The member's id; equal to the last segment of its key. */
  readonly nodeId: string;
  /** Where it is reached. */
  readonly address: string;
  /** Its port. */
  readonly port: number;
  /** `follower` for a voter (it campaigns for leadership), `observer` otherwise. */
  readonly role: Extract<ClusterNodeRole, 'follower' | 'observer'>;
  /** `active`, or `leaving` just before a graceful leave deletes the record. */
  readonly status: 'active' | 'leaving';
  /** When it joined, epoch ms. */
  readonly joinedAt: number;
  /** Its labels. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Why it leaves, set with `status: 'leaving'`. */
  readonly leaveReason?: string;
}

/**
 * The most bytes a member record may take; larger values are refused.
 *
 * @since 2.0.0
 */
export const MAX_MEMBER_RECORD_BYTES = 16 * 1024;

const MAX_METADATA_ENTRIES = 64;
const MAX_TEXT = 1024;

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT) {
    throw new Error(
      `${field} must be a non-empty string of at most ${String(MAX_TEXT)} characters`,
    );
  }
  return value;
}

/**
 * Decodes and checks a stored record.
 *
 * @param bytes - The value read from etcd.
 * @param keyNodeId - The node id taken from the key; the record must agree.
 * @returns The record, frozen.
 * @throws Error with the reason when the value is not a valid record.
 * @since 2.0.0
 */
export function decodeMemberRecord(bytes: Uint8Array, keyNodeId: string): MemberRecord {
  if (bytes.length > MAX_MEMBER_RECORD_BYTES) {
    throw new Error(
      `record is ${String(bytes.length)} bytes, over ${String(MAX_MEMBER_RECORD_BYTES)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new Error(
      `record is not UTF-8 JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('record must be a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  const nodeId = text(record['nodeId'], 'nodeId');
  if (nodeId !== keyNodeId) throw new Error(`record names ${nodeId} under the key of ${keyNodeId}`);
  const address = text(record['address'], 'address');
  const port = record['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error('port must be an integer in 0–65535');
  }
  const role = record['role'];
  if (role !== 'follower' && role !== 'observer')
    throw new Error('role must be follower or observer');
  const status = record['status'];
  if (status !== 'active' && status !== 'leaving')
    throw new Error('status must be active or leaving');
  const joinedAt = record['joinedAt'];
  if (typeof joinedAt !== 'number' || !Number.isFinite(joinedAt) || joinedAt < 0) {
    throw new Error('joinedAt must be a non-negative number');
  }
  const metadata = record['metadata'];
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new Error('metadata must be an object');
  }
  const entries = Object.entries(metadata);
  if (entries.length > MAX_METADATA_ENTRIES) throw new Error('metadata has too many entries');
  const labels: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (typeof value !== 'string' || key.length > MAX_TEXT || value.length > MAX_TEXT) {
      throw new Error(`metadata ${key} must be a string of at most ${String(MAX_TEXT)} characters`);
    }
    labels[key] = value;
  }
  const leaveReason = record['leaveReason'];
  if (
    leaveReason !== undefined &&
    (typeof leaveReason !== 'string' || leaveReason.length > MAX_TEXT)
  ) {
    throw new Error('leaveReason must be a string');
  }
  return Object.freeze({
    nodeId,
    address,
    port,
    role,
    status,
    joinedAt,
    metadata: Object.freeze(labels),
    ...(leaveReason === undefined ? {} : { leaveReason }),
  });
}

/**
 * Encodes a record for etcd.
 *
 * @param record - The record.
 * @returns Its JSON text.
 * @since 2.0.0
 */
export function encodeMemberRecord(record: MemberRecord): string {
  return JSON.stringify(record);
}
