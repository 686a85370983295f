/**
 * Binary encodings of everything Raft sends or stores — messages, entries,
 * snapshots, hard state and membership changes — with validating decoders.
 *
 * A message on the wire (all integers big-endian; terms and indexes as u53 in
 * 8 bytes):
 * ```
 * 'D' 'W' 'R'  u8 version (1)  u8 type (index into RAFT_MESSAGE_TYPES)
 * text from    text to         u53 term
 * type-specific fields (see the encoder), nothing after them
 * ```
 * The decoders trust nothing: every count and length is checked against a
 * named limit before anything is allocated, entries must be consecutive and
 * no newer than the message's term, and any other problem is a
 * {@link WireError} (`truncated`, `malformed`, `unsupported-version`,
 * `limit-exceeded`), never anything else.
 *
 * @packageDocumentation
 */

import { WireError } from '../wire/wire-error.js';
import { ByteReader, ByteWriter } from './byte-codec.js';
import {
  RAFT_MESSAGE_TYPES,
  type RaftConfigChange,
  type RaftEntry,
  type RaftEntryType,
  type RaftHardState,
  type RaftMembership,
  type RaftMessage,
  type RaftSnapshot,
  type RaftSnapshotMeta,
} from './types.js';

/**
 * The version byte this codec writes and accepts.
 *
 * @since 2.0.0
 */
export const RAFT_WIRE_VERSION = 1;

const MAGIC = [0x44, 0x57, 0x52] as const; // "DWR"

/**
 * Bounds the decoders enforce.
 *
 * @since 2.0.0
 */
export interface RaftCodecLimits {
  /** The longest node id, in UTF-8 bytes. Default 256. */
  readonly maxIdBytes: number;
  /** Entries in one append. Default 4 096. */
  readonly maxEntries: number;
  /** The largest entry data or snapshot chunk, in bytes. Default 1 MiB. */
  readonly maxDataBytes: number;
  /** Members in a membership. Default 1 024. */
  readonly maxMembers: number;
  /** The largest whole snapshot a chunk may announce, in bytes. Default 256 MiB. */
  readonly maxSnapshotBytes: number;
}

/**
 * The default {@link RaftCodecLimits}.
 *
 * @since 2.0.0
 */
export const DEFAULT_RAFT_CODEC_LIMITS: RaftCodecLimits = Object.freeze({
  maxIdBytes: 256,
  maxEntries: 4_096,
  maxDataBytes: 1024 * 1024,
  maxMembers: 1_024,
  maxSnapshotBytes: 256 * 1024 * 1024,
});

const ENTRY_TYPES: readonly RaftEntryType[] = ['command', 'config', 'noop'];
const CHANGE_TYPES: readonly RaftConfigChange['type'][] = ['add-voter', 'add-observer', 'remove'];

function writeMembership(w: ByteWriter, membership: RaftMembership): void {
  w.u16(membership.voters.length);
  for (const id of membership.voters) w.text(id);
  w.u16(membership.observers.length);
  for (const id of membership.observers) w.text(id);
}

function readMembership(r: ByteReader, limits: RaftCodecLimits): RaftMembership {
  const read = (what: string): string[] => {
    const count = r.u16(`the ${what} count`);
    if (count > limits.maxMembers) {
      throw new WireError('limit-exceeded', `${count} ${what} > ${limits.maxMembers}`);
    }
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = r.text(limits.maxIdBytes, what);
      if (id === '') throw new WireError('malformed', `an empty id among the ${what}`);
      ids.push(id);
    }
    return ids;
  };
  const voters = read('voters');
  const observers = read('observers');
  const all = new Set([...voters, ...observers]);
  if (all.size !== voters.length + observers.length) {
    throw new WireError('malformed', 'a member is listed twice');
  }
  return Object.freeze({
    voters: Object.freeze(voters.sort()),
    observers: Object.freeze(observers.sort()),
  });
}

function writeMeta(w: ByteWriter, meta: RaftSnapshotMeta): void {
  w.u53(meta.index).u53(meta.term);
  writeMembership(w, meta.membership);
}

function readMeta(r: ByteReader, limits: RaftCodecLimits): RaftSnapshotMeta {
  const index = r.u53('the snapshot index');
  const term = r.u53('the snapshot term');
  const membership = readMembership(r, limits);
  return Object.freeze({ index, term, membership });
}

function writeEntry(w: ByteWriter, entry: RaftEntry): void {
  w.u53(entry.index).u53(entry.term).u8(ENTRY_TYPES.indexOf(entry.type)).bytes(entry.data);
}

function readEntry(r: ByteReader, limits: RaftCodecLimits): RaftEntry {
  const index = r.u53('the entry index');
  const term = r.u53('the entry term');
  const type = ENTRY_TYPES[r.u8('the entry type')];
  if (type === undefined) throw new WireError('malformed', 'unknown entry type');
  const data = r.bytes(limits.maxDataBytes, 'the entry data');
  if (index === 0 || term === 0)
    throw new WireError('malformed', 'entry index and term start at 1');
  return Object.freeze({ index, term, type, data });
}

/**
 * Encodes a message.
 *
 * @param message - The message.
 * @returns Its bytes.
 * @since 2.0.0
 */
export function encodeRaftMessage(message: RaftMessage): Uint8Array {
  const w = new ByteWriter(64);
  w.u8(MAGIC[0]).u8(MAGIC[1]).u8(MAGIC[2]).u8(RAFT_WIRE_VERSION);
  w.u8(RAFT_MESSAGE_TYPES.indexOf(message.type));
  w.text(message.from).text(message.to).u53(message.term);
  switch (message.type) {
    case 'pre-vote':
    case 'vote':
      w.u53(message.lastIndex).u53(message.lastTerm);
      break;
    case 'pre-vote-response':
    case 'vote-response':
      w.u8(message.reject ? 1 : 0);
      break;
    case 'append':
      w.u53(message.prevIndex).u53(message.prevTerm).u53(message.commit);
      w.u32(message.entries.length);
      for (const entry of message.entries) writeEntry(w, entry);
      break;
    case 'append-response':
      w.u53(message.index).u8(message.reject ? 1 : 0);
      w.u53(message.hintIndex).u53(message.hintTerm);
      break;
    case 'heartbeat':
      w.u53(message.commit).u53(message.seq);
      break;
    case 'heartbeat-response':
      w.u53(message.seq);
      break;
    case 'snapshot':
      writeMeta(w, message.meta);
      w.u53(message.offset).u53(message.total).bytes(message.data);
      break;
    case 'snapshot-response':
      w.u53(message.index).u53(message.nextOffset);
      break;
    case 'read-index':
      w.u53(message.id);
      break;
    case 'read-index-response':
      w.u53(message.id)
        .u53(message.index)
        .u8(message.reject ? 1 : 0);
      break;
  }
  return w.finish();
}

/**
 * Whether bytes start like a Raft message (magic only; for demultiplexing).
 *
 * @param bytes - Received bytes.
 * @returns True when the magic matches.
 * @since 2.0.0
 */
export function isRaftMessage(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1] && bytes[2] === MAGIC[2]
  );
}

function flag(r: ByteReader, field: string): boolean {
  const value = r.u8(field);
  if (value > 1) throw new WireError('malformed', `${field} must be 0 or 1`);
  return value === 1;
}

/**
 * Decodes and validates a message.
 *
 * @param bytes - Untrusted bytes.
 * @param limits - Bounds; default {@link DEFAULT_RAFT_CODEC_LIMITS}.
 * @returns A frozen message.
 * @throws WireError for any input that is not a valid message within the bounds; never anything else.
 * @since 2.0.0
 */
export function decodeRaftMessage(
  bytes: Uint8Array,
  limits: RaftCodecLimits = DEFAULT_RAFT_CODEC_LIMITS,
): RaftMessage {
  const r = new ByteReader(bytes, 'raft message');
  if (r.u8('the magic') !== MAGIC[0] || r.u8('the magic') !== MAGIC[1]) {
    throw new WireError('malformed', 'not a raft message');
  }
  if (r.u8('the magic') !== MAGIC[2]) throw new WireError('malformed', 'not a raft message');
  const version = r.u8('the version');
  if (version !== RAFT_WIRE_VERSION) {
    throw new WireError('unsupported-version', `raft message version ${version}`);
  }
  const type = RAFT_MESSAGE_TYPES[r.u8('the type')];
  if (type === undefined) throw new WireError('malformed', 'unknown raft message type');
  const from = r.text(limits.maxIdBytes, 'from');
  const to = r.text(limits.maxIdBytes, 'to');
  if (from === '' || to === '') throw new WireError('malformed', 'empty from or to');
  const term = r.u53('the term');
  const head = { from, to, term };
  let message: RaftMessage;
  switch (type) {
    case 'pre-vote':
    case 'vote': {
      const lastIndex = r.u53('the last index');
      const lastTerm = r.u53('the last term');
      if (lastTerm > term) throw new WireError('malformed', 'last term after the term');
      message = { type, ...head, lastIndex, lastTerm };
      break;
    }
    case 'pre-vote-response':
    case 'vote-response':
      message = { type, ...head, reject: flag(r, 'reject') };
      break;
    case 'append': {
      const prevIndex = r.u53('the previous index');
      const prevTerm = r.u53('the previous term');
      const commit = r.u53('the commit index');
      const count = r.u32('the entry count');
      if (count > limits.maxEntries) {
        throw new WireError('limit-exceeded', `${count} entries > ${limits.maxEntries}`);
      }
      if (prevTerm > term) throw new WireError('malformed', 'previous term after the term');
      const entries: RaftEntry[] = [];
      let lastTerm = prevTerm;
      for (let i = 0; i < count; i++) {
        const entry = readEntry(r, limits);
        if (entry.index !== prevIndex + 1 + i) {
          throw new WireError('malformed', 'entries are not consecutive');
        }
        if (entry.term < lastTerm || entry.term > term) {
          throw new WireError('malformed', 'entry terms out of order');
        }
        lastTerm = entry.term;
        entries.push(entry);
      }
      message = { type, ...head, prevIndex, prevTerm, commit, entries: Object.freeze(entries) };
      break;
    }
    case 'append-response': {
      const index = r.u53('the index');
      const reject = flag(r, 'reject');
      const hintIndex = r.u53('the hint index');
      const hintTerm = r.u53('the hint term');
      message = { type, ...head, index, reject, hintIndex, hintTerm };
      break;
    }
    case 'heartbeat': {
      const commit = r.u53('the commit index');
      message = { type, ...head, commit, seq: r.u53('the sequence number') };
      break;
    }
    case 'heartbeat-response':
      message = { type, ...head, seq: r.u53('the sequence number') };
      break;
    case 'snapshot': {
      const meta = readMeta(r, limits);
      const offset = r.u53('the offset');
      const total = r.u53('the total');
      if (total > limits.maxSnapshotBytes) {
        throw new WireError('limit-exceeded', `snapshot of ${total} bytes`);
      }
      const data = r.bytes(limits.maxDataBytes, 'the chunk');
      if (offset + data.length > total || meta.index === 0 || meta.term > term) {
        throw new WireError('malformed', 'snapshot chunk outside its snapshot');
      }
      message = { type, ...head, meta, offset, total, data };
      break;
    }
    case 'snapshot-response': {
      const index = r.u53('the index');
      message = { type, ...head, index, nextOffset: r.u53('the next offset') };
      break;
    }
    case 'read-index':
      message = { type, ...head, id: r.u53('the request id') };
      break;
    case 'read-index-response': {
      const id = r.u53('the request id');
      const index = r.u53('the index');
      message = { type, ...head, id, index, reject: flag(r, 'reject') };
      break;
    }
  }
  r.end();
  return Object.freeze(message);
}

/**
 * Encodes one entry for storage.
 *
 * @param entry - The entry.
 * @returns Its bytes.
 * @since 2.0.0
 */
export function encodeRaftEntry(entry: RaftEntry): Uint8Array {
  const w = new ByteWriter(entry.data.length + 32);
  w.u8(RAFT_WIRE_VERSION);
  writeEntry(w, entry);
  return w.finish();
}

/**
 * Decodes one stored entry.
 *
 * @param bytes - The stored bytes.
 * @param limits - Bounds.
 * @returns The entry.
 * @throws WireError when the bytes are not a valid entry.
 * @since 2.0.0
 */
export function decodeRaftEntry(
  bytes: Uint8Array,
  limits: RaftCodecLimits = DEFAULT_RAFT_CODEC_LIMITS,
): RaftEntry {
  const r = new ByteReader(bytes, 'raft entry');
  if (r.u8('the version') !== RAFT_WIRE_VERSION) {
    throw new WireError('unsupported-version', 'raft entry version');
  }
  const entry = readEntry(r, limits);
  r.end();
  return entry;
}

/**
 * Encodes hard state for storage.
 *
 * @param state - Term, vote, commit.
 * @returns Its bytes.
 * @since 2.0.0
 */
export function encodeRaftHardState(state: RaftHardState): Uint8Array {
  return new ByteWriter(48)
    .u8(RAFT_WIRE_VERSION)
    .u53(state.term)
    .text(state.vote)
    .u53(state.commit)
    .finish();
}

/**
 * Decodes stored hard state.
 *
 * @param bytes - The stored bytes.
 * @returns The hard state.
 * @throws WireError when the bytes are not valid hard state.
 * @since 2.0.0
 */
export function decodeRaftHardState(bytes: Uint8Array): RaftHardState {
  const r = new ByteReader(bytes, 'raft hard state');
  if (r.u8('the version') !== RAFT_WIRE_VERSION) {
    throw new WireError('unsupported-version', 'raft hard state version');
  }
  const term = r.u53('the term');
  const vote = r.text(DEFAULT_RAFT_CODEC_LIMITS.maxIdBytes, 'the vote');
  const commit = r.u53('the commit index');
  r.end();
  return Object.freeze({ term, vote, commit });
}

/**
 * Encodes a snapshot for storage.
 *
 * @param snapshot - Meta and data.
 * @returns Its bytes.
 * @since 2.0.0
 */
export function encodeRaftSnapshot(snapshot: RaftSnapshot): Uint8Array {
  const w = new ByteWriter(snapshot.data.length + 64);
  w.u8(RAFT_WIRE_VERSION);
  writeMeta(w, snapshot.meta);
  w.bytes(snapshot.data);
  return w.finish();
}

/**
 * Decodes a stored snapshot.
 *
 * @param bytes - The stored bytes.
 * @param limits - Bounds (`maxSnapshotBytes` applies to the data).
 * @returns The snapshot.
 * @throws WireError when the bytes are not a valid snapshot.
 * @since 2.0.0
 */
export function decodeRaftSnapshot(
  bytes: Uint8Array,
  limits: RaftCodecLimits = DEFAULT_RAFT_CODEC_LIMITS,
): RaftSnapshot {
  const r = new ByteReader(bytes, 'raft snapshot');
  if (r.u8('the version') !== RAFT_WIRE_VERSION) {
    throw new WireError('unsupported-version', 'raft snapshot version');
  }
  const meta = readMeta(r, limits);
  const data = r.bytes(limits.maxSnapshotBytes, 'the snapshot data');
  r.end();
  return Object.freeze({ meta, data });
}

/**
 * Encodes a membership change (the data of a `config` entry).
 *
 * @param change - The change.
 * @returns Its bytes.
 * @since 2.0.0
 */
export function encodeRaftConfigChange(change: RaftConfigChange): Uint8Array {
  return new ByteWriter(32)
    .u8(RAFT_WIRE_VERSION)
    .u8(CHANGE_TYPES.indexOf(change.type))
    .text(change.nodeId)
    .finish();
}

/**
 * Decodes a membership change.
 *
 * @param bytes - A `config` entry's data.
 * @returns The change.
 * @throws WireError when the bytes are not a valid change.
 * @since 2.0.0
 */
export function decodeRaftConfigChange(bytes: Uint8Array): RaftConfigChange {
  const r = new ByteReader(bytes, 'raft config change');
  if (r.u8('the version') !== RAFT_WIRE_VERSION) {
    throw new WireError('unsupported-version', 'raft config change version');
  }
  const type = CHANGE_TYPES[r.u8('the change type')];
  if (type === undefined) throw new WireError('malformed', 'unknown change type');
  const nodeId = r.text(DEFAULT_RAFT_CODEC_LIMITS.maxIdBytes, 'the node id');
  if (nodeId === '') throw new WireError('malformed', 'empty node id');
  r.end();
  return Object.freeze({ type, nodeId });
}
