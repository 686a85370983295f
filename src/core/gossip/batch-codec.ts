/**
 * The binary form of a gossip batch — the unit one node sends another in a
 * gossip round or piggybacks on other traffic — and its validating decoder.
 *
 * Layout (all integers big-endian):
 * ```
 * 'D' 'W' 'G'  u8 version (1)  u16 entry count
 * per entry:   u8 hops
 *              u16 id length      id bytes (UTF-8)
 *              u16 origin length  origin bytes (UTF-8)
 *              f64 generation     f64 timestamp
 *              u32 payload length payload bytes
 * ```
 * The decoder trusts nothing: every count and length is checked against a
 * named limit before anything is allocated, strings must be valid UTF-8, and
 * numbers must satisfy {@link gossipMessageProblem}. Any other input makes it
 * throw a {@link GossipBatchError}, never anything else.
 *
 * @packageDocumentation
 */

import type { GossipMessage } from '../../contracts/p2p-network.js';
import { gossipMessageProblem } from './gossip-message.js';

/**
 * Why a batch was refused: `truncated` (ended early), `malformed` (bad magic,
 * bad UTF-8, bad numbers, trailing bytes), `unsupported-version`, or
 * `limit-exceeded` (a size or count above its limit).
 *
 * @since 2.0.0
 */
export const GOSSIP_BATCH_REJECT_REASONS = Object.freeze([
  'truncated',
  'malformed',
  'unsupported-version',
  'limit-exceeded',
] as const);

/**
 * One of {@link GOSSIP_BATCH_REJECT_REASONS}.
 *
 * @since 2.0.0
 */
export type GossipBatchRejectReason = (typeof GOSSIP_BATCH_REJECT_REASONS)[number];

/**
 * The one error {@link decodeGossipBatch} throws.
 *
 * @since 2.0.0
 */
export class GossipBatchError extends Error {
  /** Why the batch was refused. */
  readonly reason: GossipBatchRejectReason;

  /**
   * @param reason - Why the batch was refused.
   * @param message - Details for logs.
   */
  constructor(reason: GossipBatchRejectReason, message: string) {
    super(`gossip batch refused (${reason}): ${message}`);
    this.name = 'GossipBatchError';
    this.reason = reason;
  }
}

/**
 * The version byte this codec writes and accepts.
 *
 * @since 2.0.0
 */
export const GOSSIP_BATCH_VERSION = 1;

/**
 * Bytes of the batch header: magic, version and entry count.
 *
 * @since 2.0.0
 */
export const GOSSIP_BATCH_HEADER_BYTES = 6;

/** Fixed bytes of one entry besides its id, origin and payload. */
const ENTRY_FIXED_BYTES = 1 + 2 + 2 + 8 + 8 + 4;
const MAGIC = [0x44, 0x57, 0x47] as const; // 'DWG'
const MAX_U16 = 0xffff;

/**
 * One gossip message as it travels: the message and how many hops it has made
 * from its origin (0 when sent by the origin).
 *
 * @since 2.0.0
 */
export interface GossipBatchEntry {
  /** How many nodes relayed the message before this send; 0 from the origin. */
  readonly hops: number;
  /** The message. */
  readonly message: GossipMessage;
}

/**
 * The bounds {@link decodeGossipBatch} enforces. Senders must respect them too.
 *
 * @since 2.0.0
 */
export interface GossipBatchLimits {
  /** The largest batch, in bytes. Default {@link DEFAULT_GOSSIP_BATCH_LIMITS}.maxBatchBytes. */
  readonly maxBatchBytes?: number;
  /** The most entries in one batch. */
  readonly maxEntries?: number;
  /** The longest message id or origin id, in UTF-8 bytes. */
  readonly maxIdBytes?: number;
  /** The largest payload of one message, in bytes. */
  readonly maxPayloadBytes?: number;
}

/**
 * The default {@link GossipBatchLimits}: 16 KiB batches (well inside a UDP
 * datagram), at most 256 entries, 256-byte ids and 8 KiB payloads.
 *
 * @since 2.0.0
 */
export const DEFAULT_GOSSIP_BATCH_LIMITS: Readonly<Required<GossipBatchLimits>> = Object.freeze({
  maxBatchBytes: 16 * 1024,
  maxEntries: 256,
  maxIdBytes: 256,
  maxPayloadBytes: 8 * 1024,
});

/**
 * Fills in and checks limits.
 *
 * @param limits - Partial limits.
 * @returns Complete limits.
 * @throws RangeError when a limit is not a positive integer or ids/payloads
 *   could not fit the u16/u32 fields, or one largest entry could not fit a batch.
 * @since 2.0.0
 */
export function resolveGossipBatchLimits(
  limits: GossipBatchLimits = {},
): Readonly<Required<GossipBatchLimits>> {
  const resolved = { ...DEFAULT_GOSSIP_BATCH_LIMITS, ...stripUndefined(limits) };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
    }
  }
  if (resolved.maxIdBytes > MAX_U16) throw new RangeError(`maxIdBytes must be <= ${MAX_U16}`);
  if (resolved.maxEntries > MAX_U16) throw new RangeError(`maxEntries must be <= ${MAX_U16}`);
  if (resolved.maxPayloadBytes > 0xffffffff) throw new RangeError('maxPayloadBytes too large');
  const largestEntry = ENTRY_FIXED_BYTES + 2 * resolved.maxIdBytes + resolved.maxPayloadBytes;
  if (GOSSIP_BATCH_HEADER_BYTES + largestEntry > resolved.maxBatchBytes) {
    throw new RangeError(
      `maxBatchBytes (${resolved.maxBatchBytes}) must hold one largest entry ` +
        `(${GOSSIP_BATCH_HEADER_BYTES + largestEntry} bytes with the header)`,
    );
  }
  const frozen = Object.freeze(resolved);
  resolvedLimits.add(frozen);
  return frozen;
}

// Limits that went through resolveGossipBatchLimits, so the decoder need not check them again.
const resolvedLimits = new WeakSet<object>();

function stripUndefined(limits: GossipBatchLimits): GossipBatchLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * An entry encoded once, so a queue can size it and a batch can copy it.
 *
 * @since 2.0.0
 */
export interface EncodedGossipEntry {
  /** The entry's bytes, as they appear inside a batch. */
  readonly bytes: Uint8Array;
}

/**
 * Encodes one entry (for {@link concatGossipBatch}).
 *
 * @param entry - The entry; its message must be valid.
 * @returns The entry's bytes.
 * @throws RangeError when hops is not in 0..255 or an id is longer than 65 535 bytes.
 * @since 2.0.0
 */
export function encodeGossipEntry(entry: GossipBatchEntry): Uint8Array {
  const { hops, message } = entry;
  if (!Number.isInteger(hops) || hops < 0 || hops > 0xff) {
    throw new RangeError(`hops must be in 0..255, got ${String(hops)}`);
  }
  const id = encoder.encode(message.messageId);
  const origin = encoder.encode(message.originNodeId);
  if (id.length > MAX_U16 || origin.length > MAX_U16) throw new RangeError('id too long');
  const bytes = new Uint8Array(
    ENTRY_FIXED_BYTES + id.length + origin.length + message.payload.length,
  );
  const view = new DataView(bytes.buffer);
  let at = 0;
  view.setUint8(at, hops);
  at += 1;
  view.setUint16(at, id.length);
  at += 2;
  bytes.set(id, at);
  at += id.length;
  view.setUint16(at, origin.length);
  at += 2;
  bytes.set(origin, at);
  at += origin.length;
  view.setFloat64(at, message.generation);
  at += 8;
  view.setFloat64(at, message.timestamp);
  at += 8;
  view.setUint32(at, message.payload.length);
  at += 4;
  bytes.set(message.payload, at);
  return bytes;
}

/**
 * Joins encoded entries into one batch.
 *
 * @param entries - Entries from {@link encodeGossipEntry}; at most 65 535.
 * @returns The batch.
 * @since 2.0.0
 */
export function concatGossipBatch(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length > MAX_U16) throw new RangeError('too many entries for one batch');
  let size = GOSSIP_BATCH_HEADER_BYTES;
  for (const entry of entries) size += entry.length;
  const batch = new Uint8Array(size);
  batch.set(MAGIC, 0);
  batch[3] = GOSSIP_BATCH_VERSION;
  new DataView(batch.buffer).setUint16(4, entries.length);
  let at = GOSSIP_BATCH_HEADER_BYTES;
  for (const entry of entries) {
    batch.set(entry, at);
    at += entry.length;
  }
  return batch;
}

/**
 * Encodes a batch.
 *
 * @param entries - The entries.
 * @returns The batch bytes.
 * @since 2.0.0
 */
export function encodeGossipBatch(entries: readonly GossipBatchEntry[]): Uint8Array {
  return concatGossipBatch(entries.map(encodeGossipEntry));
}

/**
 * Whether `bytes` starts like a gossip batch (magic only; nothing is validated).
 * Lets a transport shared with other traffic pick gossip out.
 *
 * @param bytes - Received bytes.
 * @since 2.0.0
 */
export function isGossipBatch(bytes: Uint8Array): boolean {
  return (
    bytes.length >= MAGIC.length &&
    bytes[0] === MAGIC[0] &&
    bytes[1] === MAGIC[1] &&
    bytes[2] === MAGIC[2]
  );
}

/**
 * Decodes and validates a batch.
 *
 * @param bytes - Untrusted bytes.
 * @param limits - Bounds; defaults {@link DEFAULT_GOSSIP_BATCH_LIMITS}.
 * @returns The entries, frozen, with their own payload copies.
 * @throws {@link GossipBatchError} for anything but a valid batch within the limits.
 * @since 2.0.0
 */
export function decodeGossipBatch(
  bytes: Uint8Array,
  limits: GossipBatchLimits = DEFAULT_GOSSIP_BATCH_LIMITS,
): readonly GossipBatchEntry[] {
  const bounds: Readonly<Required<GossipBatchLimits>> =
    limits === DEFAULT_GOSSIP_BATCH_LIMITS || resolvedLimits.has(limits)
      ? (limits as Readonly<Required<GossipBatchLimits>>)
      : resolveGossipBatchLimits(limits);
  if (!(bytes instanceof Uint8Array)) throw new GossipBatchError('malformed', 'not bytes');
  if (bytes.length > bounds.maxBatchBytes) {
    throw new GossipBatchError(
      'limit-exceeded',
      `${bytes.length} bytes > maxBatchBytes ${bounds.maxBatchBytes}`,
    );
  }
  if (bytes.length < GOSSIP_BATCH_HEADER_BYTES) {
    throw new GossipBatchError(isGossipBatchPrefix(bytes) ? 'truncated' : 'malformed', 'short');
  }
  if (!isGossipBatch(bytes)) throw new GossipBatchError('malformed', 'bad magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[3] !== GOSSIP_BATCH_VERSION) {
    throw new GossipBatchError('unsupported-version', `version ${String(bytes[3])}`);
  }
  const count = view.getUint16(4);
  if (count > bounds.maxEntries) {
    throw new GossipBatchError('limit-exceeded', `${count} entries > maxEntries`);
  }
  let at = GOSSIP_BATCH_HEADER_BYTES;
  const need = (n: number): void => {
    if (at + n > bytes.length) throw new GossipBatchError('truncated', `entry ends past ${at}`);
  };
  const readId = (what: string): string => {
    need(2);
    const length = view.getUint16(at);
    at += 2;
    if (length === 0) throw new GossipBatchError('malformed', `empty ${what}`);
    if (length > bounds.maxIdBytes) {
      throw new GossipBatchError('limit-exceeded', `${what} of ${length} bytes > maxIdBytes`);
    }
    need(length);
    let text: string;
    try {
      text = decoder.decode(bytes.subarray(at, at + length));
    } catch {
      throw new GossipBatchError('malformed', `${what} is not UTF-8`);
    }
    at += length;
    return text;
  };
  const entries: GossipBatchEntry[] = [];
  for (let i = 0; i < count; i++) {
    need(1);
    const hops = view.getUint8(at);
    at += 1;
    const messageId = readId('message id');
    const originNodeId = readId('origin id');
    need(8 + 8 + 4);
    const generation = view.getFloat64(at);
    const timestamp = view.getFloat64(at + 8);
    const payloadLength = view.getUint32(at + 16);
    at += 20;
    if (payloadLength > bounds.maxPayloadBytes) {
      throw new GossipBatchError('limit-exceeded', `payload of ${payloadLength} bytes`);
    }
    need(payloadLength);
    const payload = bytes.slice(at, at + payloadLength);
    at += payloadLength;
    const message = Object.freeze({ messageId, originNodeId, payload, generation, timestamp });
    const problem = gossipMessageProblem(message);
    if (problem !== undefined) throw new GossipBatchError('malformed', problem);
    entries.push(Object.freeze({ hops, message }));
  }
  if (at !== bytes.length) {
    throw new GossipBatchError('malformed', `${bytes.length - at} trailing bytes`);
  }
  return Object.freeze(entries);
}

function isGossipBatchPrefix(bytes: Uint8Array): boolean {
  for (let i = 0; i < Math.min(bytes.length, MAGIC.length); i++) {
    if (bytes[i] !== MAGIC[i]) return false;
  }
  return true;
}
