/**
 * The binary form of SWIM packets and their validating decoder.
 *
 * A packet holds one or more messages: a probe message first, then membership
 * updates piggybacked on it (memberlist's compound message). Layout (all
 * integers big-endian):
 * ```
 * 'D' 'W' 'S'  u8 version (1)  u16 message count
 * per message: u8 type, then the body:
 *   ping       u32 seq, str target, peer from
 *   ack, nack  u32 seq, str from
 *   ping-req   u32 seq, peer target, u8 flags (bit 0: want nack), peer from
 *   alive      peer member, u32 incarnation, meta
 *   suspect    str member, u32 incarnation, str from
 *   dead       str member, u32 incarnation, str from
 *   push-pull  u32 exchange, u8 flags (bit 0: reply, bit 1: join), peer from,
 *              u16 entry count, per entry: peer, u32 incarnation, u8 status, meta
 * str  = u16 length, UTF-8 bytes (non-empty)
 * peer = str id, str host, u16 port
 * meta = u8 entry count, per entry: str key, u16 length + UTF-8 value (may be empty)
 * ```
 * The decoder trusts nothing: every count and length is checked against a
 * named limit before anything is allocated, strings must be valid UTF-8,
 * flags may not carry unknown bits, nothing may trail the last message. Any
 * other input makes it throw a {@link WireError}, never anything else.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import { WireError } from '../wire/wire-error.js';
import {
  SWIM_MEMBER_STATUSES,
  type SwimMessage,
  type SwimMessageType,
  type SwimPeer,
  type SwimStateEntry,
} from './messages.js';

/**
 * The packet version this build writes and reads.
 *
 * @since 2.0.0
 */
export const SWIM_WIRE_VERSION = 1;

/**
 * Bytes of the packet header: magic, version, message count.
 *
 * @since 2.0.0
 */
export const SWIM_PACKET_HEADER_BYTES = 6;

const MAGIC = [0x44, 0x57, 0x53] as const; // 'DWS'
const TYPES: readonly SwimMessageType[] = [
  'ping',
  'ack',
  'nack',
  'ping-req',
  'alive',
  'suspect',
  'dead',
  'push-pull',
];
const MAX_U16 = 0xffff;
const MAX_U32 = 0xffff_ffff;

/**
 * The bounds the decoder enforces (and the encoder respects).
 *
 * @since 2.0.0
 */
export interface SwimCodecLimits {
  /** The largest packet, in bytes. Default 65 507 (a UDP datagram). */
  readonly maxPacketBytes: number;
  /** The most messages in one packet. Default 512. */
  readonly maxMessages: number;
  /** The longest member id, in UTF-8 bytes. Default 256. */
  readonly maxIdBytes: number;
  /** The longest host, in UTF-8 bytes. Default 255 (a DNS name). */
  readonly maxHostBytes: number;
  /** The most metadata entries of one member. Default 64. */
  readonly maxMetaEntries: number;
  /** The most metadata bytes (keys and values) of one member. Default 512. */
  readonly maxMetaBytes: number;
  /** The most members in one push-pull packet. Default 4 096. */
  readonly maxStateEntries: number;
}

/**
 * The default {@link SwimCodecLimits}.
 *
 * @since 2.0.0
 */
export const DEFAULT_SWIM_CODEC_LIMITS: SwimCodecLimits = Object.freeze({
  maxPacketBytes: 65_507,
  maxMessages: 512,
  maxIdBytes: 256,
  maxHostBytes: 255,
  maxMetaEntries: 64,
  maxMetaBytes: 512,
  maxStateEntries: 4_096,
});

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /\p{Cs}/u;

function invalid(message: string): DistributedError {
  return new DistributedError('INVALID_ARGUMENT', `cannot encode SWIM message: ${message}`);
}

/** A growable byte buffer for encoding. */
class Writer {
  #bytes = new Uint8Array(64);
  #view = new DataView(this.#bytes.buffer);
  #at = 0;

  #room(n: number): void {
    if (this.#at + n <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < this.#at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#bytes.subarray(0, this.#at));
    this.#bytes = next;
    this.#view = new DataView(next.buffer);
  }

  u8(value: number): void {
    this.#room(1);
    this.#view.setUint8(this.#at, value);
    this.#at += 1;
  }

  u16(value: number): void {
    this.#room(2);
    this.#view.setUint16(this.#at, value);
    this.#at += 2;
  }

  u32(value: number): void {
    this.#room(4);
    this.#view.setUint32(this.#at, value);
    this.#at += 4;
  }

  text(value: string, what: string, maxBytes: number, allowEmpty = false): void {
    if (typeof value !== 'string') throw invalid(`${what} must be a string`);
    if (!allowEmpty && value === '') throw invalid(`${what} must not be empty`);
    if (LONE_SURROGATE.test(value)) throw invalid(`${what} is not well-formed Unicode`);
    const bytes = encoder.encode(value);
    if (bytes.length > maxBytes) throw invalid(`${what} of ${bytes.length} bytes > ${maxBytes}`);
    this.u16(bytes.length);
    this.#room(bytes.length);
    this.#bytes.set(bytes, this.#at);
    this.#at += bytes.length;
  }

  done(): Uint8Array {
    return this.#bytes.slice(0, this.#at);
  }
}

function checkUint(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw invalid(`${what} must be an integer in 0..${max}, got ${String(value)}`);
  }
  return value;
}

function writePeer(w: Writer, peer: SwimPeer, limits: SwimCodecLimits): void {
  w.text(peer.nodeId, 'node id', limits.maxIdBytes);
  w.text(peer.host, 'host', limits.maxHostBytes);
  w.u16(checkUint(peer.port, MAX_U16, 'port'));
}

function writeMeta(
  w: Writer,
  meta: Readonly<Record<string, string>>,
  limits: SwimCodecLimits,
): void {
  const entries = Object.entries(meta);
  if (entries.length > limits.maxMetaEntries) throw invalid('too many metadata entries');
  let total = 0;
  for (const [key, value] of entries)
    total += encoder.encode(key).length + encoder.encode(value).length;
  if (total > limits.maxMetaBytes)
    throw invalid(`metadata of ${total} bytes > ${limits.maxMetaBytes}`);
  w.u8(entries.length);
  for (const [key, value] of entries) {
    w.text(key, 'metadata key', limits.maxMetaBytes);
    w.text(value, 'metadata value', limits.maxMetaBytes, true);
  }
}

/**
 * Encodes one message (type byte and body), for {@link concatSwimPacket}.
 *
 * @param message - The message.
 * @param limits - The receiver's bounds; default {@link DEFAULT_SWIM_CODEC_LIMITS}.
 * @returns The message's bytes.
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a field a receiver would refuse.
 * @since 2.0.0
 */
export function encodeSwimMessage(
  message: SwimMessage,
  limits: SwimCodecLimits = DEFAULT_SWIM_CODEC_LIMITS,
): Uint8Array {
  const w = new Writer();
  const type = TYPES.indexOf(message.type);
  if (type < 0) throw invalid(`unknown type ${String((message as { type: unknown }).type)}`);
  w.u8(type);
  switch (message.type) {
    case 'ping':
      w.u32(checkUint(message.seq, MAX_U32, 'seq'));
      w.text(message.target, 'target', limits.maxIdBytes);
      writePeer(w, message.from, limits);
      break;
    case 'ack':
    case 'nack':
      w.u32(checkUint(message.seq, MAX_U32, 'seq'));
      w.text(message.from, 'from', limits.maxIdBytes);
      break;
    case 'ping-req':
      w.u32(checkUint(message.seq, MAX_U32, 'seq'));
      writePeer(w, message.target, limits);
      w.u8(message.wantNack ? 1 : 0);
      writePeer(w, message.from, limits);
      break;
    case 'alive':
      writePeer(w, message.member, limits);
      w.u32(checkUint(message.incarnation, MAX_U32, 'incarnation'));
      writeMeta(w, message.meta, limits);
      break;
    case 'suspect':
    case 'dead':
      w.text(message.nodeId, 'node id', limits.maxIdBytes);
      w.u32(checkUint(message.incarnation, MAX_U32, 'incarnation'));
      w.text(message.from, 'from', limits.maxIdBytes);
      break;
    case 'push-pull':
      w.u32(checkUint(message.exchange, MAX_U32, 'exchange'));
      w.u8((message.reply ? 1 : 0) | (message.join ? 2 : 0));
      writePeer(w, message.from, limits);
      if (message.entries.length > limits.maxStateEntries) throw invalid('too many state entries');
      w.u16(message.entries.length);
      for (const entry of message.entries) writeStateEntry(w, entry, limits);
      break;
  }
  return w.done();
}

/**
 * Encodes one member of a full-state exchange (so a caller can size chunks).
 *
 * @param entry - The member.
 * @param limits - The receiver's bounds.
 * @returns The entry's bytes as they appear in a push-pull message.
 * @since 2.0.0
 */
export function encodeSwimStateEntry(
  entry: SwimStateEntry,
  limits: SwimCodecLimits = DEFAULT_SWIM_CODEC_LIMITS,
): Uint8Array {
  const w = new Writer();
  writeStateEntry(w, entry, limits);
  return w.done();
}

function writeStateEntry(w: Writer, entry: SwimStateEntry, limits: SwimCodecLimits): void {
  writePeer(w, entry.member, limits);
  w.u32(checkUint(entry.incarnation, MAX_U32, 'incarnation'));
  const status = SWIM_MEMBER_STATUSES.indexOf(entry.status);
  if (status < 0) throw invalid(`unknown status ${entry.status as string}`);
  w.u8(status);
  writeMeta(w, entry.meta, limits);
}

/**
 * Joins encoded messages into one packet.
 *
 * @param messages - Bytes from {@link encodeSwimMessage}; at least one, at most 65 535.
 * @returns The packet.
 * @since 2.0.0
 */
export function concatSwimPacket(messages: readonly Uint8Array[]): Uint8Array {
  if (messages.length === 0 || messages.length > MAX_U16) {
    throw invalid('a packet holds 1..65535 messages');
  }
  let size = SWIM_PACKET_HEADER_BYTES;
  for (const message of messages) size += message.length;
  const packet = new Uint8Array(size);
  packet.set(MAGIC, 0);
  packet[3] = SWIM_WIRE_VERSION;
  new DataView(packet.buffer).setUint16(4, messages.length);
  let at = SWIM_PACKET_HEADER_BYTES;
  for (const message of messages) {
    packet.set(message, at);
    at += message.length;
  }
  return packet;
}

/**
 * Encodes messages as one packet.
 *
 * @param messages - The messages; at least one.
 * @param limits - The receiver's bounds.
 * @returns The packet.
 * @since 2.0.0
 */
export function encodeSwimPacket(
  messages: readonly SwimMessage[],
  limits: SwimCodecLimits = DEFAULT_SWIM_CODEC_LIMITS,
): Uint8Array {
  return concatSwimPacket(messages.map((message) => encodeSwimMessage(message, limits)));
}

/**
 * Whether `bytes` starts like a SWIM packet (magic only; nothing validated), so
 * a transport shared with other traffic can pick SWIM out.
 *
 * @param bytes - Received bytes.
 * @since 2.0.0
 */
export function isSwimPacket(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 3 && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1] && bytes[2] === MAGIC[2]
  );
}

/** A bounds-checked cursor over untrusted bytes. */
class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  at: number;

  constructor(bytes: Uint8Array, at: number) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.at = at;
  }

  get remaining(): number {
    return this.#bytes.length - this.at;
  }

  #need(n: number): void {
    if (this.at + n > this.#bytes.length) {
      throw new WireError(
        'truncated',
        `SWIM packet ends at ${this.#bytes.length}, needed ${this.at + n}`,
      );
    }
  }

  u8(): number {
    this.#need(1);
    const value = this.#view.getUint8(this.at);
    this.at += 1;
    return value;
  }

  u16(): number {
    this.#need(2);
    const value = this.#view.getUint16(this.at);
    this.at += 2;
    return value;
  }

  u32(): number {
    this.#need(4);
    const value = this.#view.getUint32(this.at);
    this.at += 4;
    return value;
  }

  text(what: string, maxBytes: number, allowEmpty = false): string {
    const length = this.u16();
    if (length === 0 && !allowEmpty) throw new WireError('malformed', `empty ${what}`);
    if (length > maxBytes) {
      throw new WireError('limit-exceeded', `${what} of ${length} bytes > ${maxBytes}`);
    }
    this.#need(length);
    const raw = this.#bytes.subarray(this.at, this.at + length);
    this.at += length;
    try {
      return decoder.decode(raw);
    } catch {
      throw new WireError('malformed', `${what} is not UTF-8`);
    }
  }
}

function readPeer(r: Reader, limits: SwimCodecLimits): SwimPeer {
  const nodeId = r.text('node id', limits.maxIdBytes);
  const host = r.text('host', limits.maxHostBytes);
  const port = r.u16();
  return Object.freeze({ nodeId, host, port });
}

function readMeta(r: Reader, limits: SwimCodecLimits): Readonly<Record<string, string>> {
  const count = r.u8();
  if (count > limits.maxMetaEntries) {
    throw new WireError('limit-exceeded', `${count} metadata entries > ${limits.maxMetaEntries}`);
  }
  const meta: Record<string, string> = Object.create(null) as Record<string, string>;
  let total = 0;
  const start = r.at;
  for (let i = 0; i < count; i++) {
    const key = r.text('metadata key', limits.maxMetaBytes);
    const value = r.text('metadata value', limits.maxMetaBytes, true);
    if (Object.prototype.hasOwnProperty.call(meta, key)) {
      throw new WireError('malformed', 'duplicate metadata key');
    }
    meta[key] = value;
  }
  // Length prefixes excluded: the bound is on keys and values, as the encoder counts.
  total = r.at - start - 4 * count;
  if (total > limits.maxMetaBytes) {
    throw new WireError('limit-exceeded', `metadata of ${total} bytes > ${limits.maxMetaBytes}`);
  }
  return Object.freeze({ ...meta });
}

function readMessage(r: Reader, limits: SwimCodecLimits): SwimMessage {
  const typeByte = r.u8();
  const type = TYPES[typeByte];
  switch (type) {
    case 'ping': {
      const seq = r.u32();
      const target = r.text('target', limits.maxIdBytes);
      const from = readPeer(r, limits);
      return Object.freeze({ type, seq, target, from });
    }
    case 'ack':
    case 'nack': {
      const seq = r.u32();
      const from = r.text('from', limits.maxIdBytes);
      return Object.freeze({ type, seq, from });
    }
    case 'ping-req': {
      const seq = r.u32();
      const target = readPeer(r, limits);
      const flags = r.u8();
      if ((flags & ~1) !== 0) throw new WireError('malformed', `unknown ping-req flags ${flags}`);
      const from = readPeer(r, limits);
      return Object.freeze({ type, seq, target, wantNack: flags === 1, from });
    }
    case 'alive': {
      const member = readPeer(r, limits);
      const incarnation = r.u32();
      const meta = readMeta(r, limits);
      return Object.freeze({ type, member, incarnation, meta });
    }
    case 'suspect':
    case 'dead': {
      const nodeId = r.text('node id', limits.maxIdBytes);
      const incarnation = r.u32();
      const from = r.text('from', limits.maxIdBytes);
      return Object.freeze({ type, nodeId, incarnation, from });
    }
    case 'push-pull': {
      const exchange = r.u32();
      const flags = r.u8();
      if ((flags & ~3) !== 0) throw new WireError('malformed', `unknown push-pull flags ${flags}`);
      const from = readPeer(r, limits);
      const count = r.u16();
      if (count > limits.maxStateEntries) {
        throw new WireError('limit-exceeded', `${count} state entries > ${limits.maxStateEntries}`);
      }
      // Each entry takes at least 13 bytes: refuse a count the rest cannot hold before looping.
      if (count * 13 > r.remaining) throw new WireError('truncated', 'state entries cut short');
      const entries: SwimStateEntry[] = [];
      for (let i = 0; i < count; i++) {
        const member = readPeer(r, limits);
        const incarnation = r.u32();
        const status = SWIM_MEMBER_STATUSES[r.u8()];
        if (status === undefined) throw new WireError('malformed', 'unknown member status');
        const meta = readMeta(r, limits);
        entries.push(Object.freeze({ member, incarnation, status, meta }));
      }
      return Object.freeze({
        type,
        exchange,
        reply: (flags & 1) !== 0,
        join: (flags & 2) !== 0,
        from,
        entries: Object.freeze(entries),
      });
    }
    default:
      throw new WireError('malformed', `unknown SWIM message type ${typeByte}`);
  }
}

/**
 * Decodes and validates a packet.
 *
 * @param bytes - Untrusted bytes.
 * @param limits - Bounds; default {@link DEFAULT_SWIM_CODEC_LIMITS}.
 * @returns The messages, frozen, in packet order (at least one).
 * @throws A {@link WireError} (`truncated`, `malformed`, `unsupported-version`,
 *   `limit-exceeded`) for anything but a valid packet within the limits.
 * @since 2.0.0
 */
export function decodeSwimPacket(
  bytes: Uint8Array,
  limits: SwimCodecLimits = DEFAULT_SWIM_CODEC_LIMITS,
): readonly SwimMessage[] {
  if (!(bytes instanceof Uint8Array)) throw new WireError('malformed', 'not bytes');
  if (bytes.length > limits.maxPacketBytes) {
    throw new WireError('limit-exceeded', `${bytes.length} bytes > ${limits.maxPacketBytes}`);
  }
  if (bytes.length < SWIM_PACKET_HEADER_BYTES) {
    throw new WireError(isPrefix(bytes) ? 'truncated' : 'malformed', 'short SWIM packet');
  }
  if (!isSwimPacket(bytes)) throw new WireError('malformed', 'not a SWIM packet (bad magic)');
  if (bytes[3] !== SWIM_WIRE_VERSION) {
    throw new WireError('unsupported-version', `SWIM packet version ${String(bytes[3])}`);
  }
  const count = ((bytes[4] as number) << 8) | (bytes[5] as number);
  if (count === 0) throw new WireError('malformed', 'empty SWIM packet');
  if (count > limits.maxMessages) {
    throw new WireError('limit-exceeded', `${count} messages > ${limits.maxMessages}`);
  }
  const r = new Reader(bytes, SWIM_PACKET_HEADER_BYTES);
  const messages: SwimMessage[] = [];
  for (let i = 0; i < count; i++) messages.push(readMessage(r, limits));
  if (r.remaining !== 0) throw new WireError('malformed', `${r.remaining} trailing bytes`);
  return Object.freeze(messages);
}

function isPrefix(bytes: Uint8Array): boolean {
  for (let i = 0; i < Math.min(bytes.length, MAGIC.length); i++) {
    if (bytes[i] !== MAGIC[i]) return false;
  }
  return true;
}
