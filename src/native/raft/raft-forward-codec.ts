/**
 * The wire format of writes a follower's {@link RaftClusterConfig} forwards
 * to the leader, and of the leader's replies. Magic `DWF`, so it shares a
 * transport with Raft (`DWR`), gossip (`DWG`) and SWIM (`DWS`) messages.
 *
 * @packageDocumentation
 */

import type { ConfigEntry } from '../../contracts/cluster-config.js';
import { ByteReader, ByteWriter } from '../../core/raft/byte-codec.js';
import {
  decodeConfigCommand,
  type ConfigCommand,
  type ConfigLimits,
} from '../../core/raft/config-state-machine.js';
import { WireError } from '../../core/wire/wire-error.js';
import type { RaftErrorReason } from './raft-error.js';

const MAGIC = [0x44, 0x57, 0x46] as const; // 'DWF'
const VERSION = 1;
const REQUEST = 1;
const REPLY = 2;
const MAX_ID_BYTES = 256;
const MAX_MESSAGE_BYTES = 1_024;

const REASONS: readonly RaftErrorReason[] = [
  'not-leader',
  'no-leader',
  'dropped',
  'unknown-outcome',
  'timeout',
  'overloaded',
  'change-in-progress',
  'invalid',
  'closed',
];

const FAILURES = ['too-many-keys', 'malformed'] as const;

/**
 * The outcome of a forwarded write, in the contract's terms.
 *
 * @since 2.0.0
 */
export interface ForwardOutcome {
  /** Whether the command took effect. */
  readonly ok: boolean;
  /** The log index it was applied at. */
  readonly revision: number;
  /** Whether the key existed before. */
  readonly existed: boolean;
  /** The key after (or what a failed compare-and-set found). */
  readonly current?: ConfigEntry;
  /** Why it failed for another reason than a mismatch. */
  readonly failure?: (typeof FAILURES)[number];
}

/**
 * A refusal the leader sends back.
 *
 * @since 2.0.0
 */
export interface ForwardFailure {
  /** The Raft reason. */
  readonly reason: RaftErrorReason;
  /** Details. */
  readonly message: string;
  /** The leader the replying member knows of. */
  readonly leaderId: string;
}

/**
 * A decoded forward message.
 *
 * @since 2.0.0
 */
export type ForwardMessage =
  | { readonly kind: 'request'; readonly id: number; readonly command: ConfigCommand }
  | { readonly kind: 'reply'; readonly id: number; readonly outcome: ForwardOutcome }
  | { readonly kind: 'reply'; readonly id: number; readonly failure: ForwardFailure };

/**
 * Whether bytes start with the forward magic.
 *
 * @param bytes - Untrusted bytes.
 * @returns True for a forward message (not yet validated).
 *
 * @since 2.0.0
 */
export function isForwardMessage(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1] && bytes[2] === MAGIC[2]
  );
}

function header(kind: number, id: number): ByteWriter {
  return new ByteWriter(64).u8(MAGIC[0]).u8(MAGIC[1]).u8(MAGIC[2]).u8(VERSION).u8(kind).u32(id);
}

/**
 * Encodes a request: `commandBytes` is the command as `encodeConfigCommand` checked it.
 *
 * @param id - The request id.
 * @param commandBytes - The encoded command.
 * @returns The message.
 *
 * @since 2.0.0
 */
export function encodeForwardRequest(id: number, commandBytes: Uint8Array): Uint8Array {
  return header(REQUEST, id).bytes(commandBytes).finish();
}

/**
 * Encodes a successful reply.
 *
 * @param id - The request id.
 * @param outcome - What applying the command gave.
 * @returns The message.
 *
 * @since 2.0.0
 */
export function encodeForwardOutcome(id: number, outcome: ForwardOutcome): Uint8Array {
  const w = header(REPLY, id)
    .u8(0)
    .u8(outcome.ok ? 1 : 0)
    .u53(outcome.revision)
    .u8(outcome.existed ? 1 : 0)
    .u8(outcome.failure === undefined ? 0 : FAILURES.indexOf(outcome.failure) + 1);
  if (outcome.current === undefined) w.u8(0);
  else {
    w.u8(1).text(outcome.current.key).text(outcome.current.value).u53(outcome.current.revision);
  }
  return w.finish();
}

/**
 * Encodes a refusal.
 *
 * @param id - The request id.
 * @param failure - Why.
 * @returns The message.
 *
 * @since 2.0.0
 */
export function encodeForwardFailure(id: number, failure: ForwardFailure): Uint8Array {
  return header(REPLY, id)
    .u8(1)
    .u8(REASONS.indexOf(failure.reason))
    .text(failure.message.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_MESSAGE_BYTES))
    .text(failure.leaderId.length > MAX_ID_BYTES / 4 ? '' : failure.leaderId)
    .finish();
}

function flag(r: ByteReader, field: string): boolean {
  const value = r.u8(field);
  if (value > 1) throw new WireError('malformed', `${field} must be 0 or 1`);
  return value === 1;
}

/**
 * Decodes and validates a forward message.
 *
 * @param bytes - Untrusted bytes.
 * @param limits - Bounds of keys and values.
 * @returns The message.
 * @throws WireError when malformed or over a bound.
 *
 * @since 2.0.0
 */
export function decodeForwardMessage(bytes: Uint8Array, limits: ConfigLimits): ForwardMessage {
  if (!isForwardMessage(bytes)) throw new WireError('malformed', 'not a forward message');
  const r = new ByteReader(bytes.subarray(3), 'forward message');
  const version = r.u8('the version');
  if (version !== VERSION) throw new WireError('unsupported-version', `version ${version}`);
  const kind = r.u8('the kind');
  const id = r.u32('the id');
  if (kind === REQUEST) {
    const command = decodeConfigCommand(r.bytes(bytes.length, 'the command'), limits);
    r.end();
    return { kind: 'request', id, command };
  }
  if (kind !== REPLY) throw new WireError('malformed', `unknown kind ${kind}`);
  if (flag(r, 'the status')) {
    const reason = REASONS[r.u8('the reason')];
    if (reason === undefined) throw new WireError('malformed', 'unknown reason');
    const message = r.text(MAX_MESSAGE_BYTES, 'the message');
    const leaderId = r.text(MAX_ID_BYTES, 'the leader id');
    r.end();
    return { kind: 'reply', id, failure: { reason, message, leaderId } };
  }
  const ok = flag(r, 'ok');
  const revision = r.u53('the revision');
  const existed = flag(r, 'existed');
  const failureTag = r.u8('the failure');
  if (failureTag > FAILURES.length) throw new WireError('malformed', 'unknown failure');
  const failure = failureTag === 0 ? undefined : FAILURES[failureTag - 1];
  let current: ConfigEntry | undefined;
  if (flag(r, 'has current')) {
    const key = r.text(limits.maxKeyBytes, 'the key');
    const value = r.text(limits.maxValueBytes, 'the value');
    current = Object.freeze({ key, value, revision: r.u53('the key revision') });
  }
  r.end();
  const outcome: ForwardOutcome = {
    ok,
    revision,
    existed,
    ...(current === undefined ? {} : { current }),
    ...(failure === undefined ? {} : { failure }),
  };
  return { kind: 'reply', id, outcome };
}
