/**
 * The fallback ping: memberlist's TCP ping, carried over a reliable stream
 * when a direct datagram ping missed its timeout. One exchange per stream:
 * the prober writes one framed packet holding exactly one `ping`, the target
 * answers with one framed packet holding exactly one `ack` for the same `seq`,
 * and the stream closes. A stream retransmits what the network loses, so this
 * path is not defeated by the datagram loss that can make the direct ping and
 * every indirect one fail together; it is defeated by a target that is really
 * down, unreachable or too slow to answer before the protocol period ends.
 *
 * Framing (a 4-byte length prefix, `src/core/wire/frame.ts`) is the driver's
 * job; this module encodes and validates the packets inside the frames.
 *
 * @packageDocumentation
 */

import { WireError } from '../wire/wire-error.js';
import { decodeSwimPacket, DEFAULT_SWIM_CODEC_LIMITS, encodeSwimPacket } from './codec.js';
import type { SwimCodecLimits } from './codec.js';
import type { SwimAck, SwimPing } from './messages.js';

/**
 * The largest fallback-ping or fallback-ack frame body a driver should accept,
 * in bytes: a ping with the longest id, host and target fits with room to
 * spare, so a stream announcing more is refused before anything is buffered.
 *
 * @since 2.0.0
 */
export const SWIM_FALLBACK_MAX_FRAME_BYTES = 2_048;

/**
 * Encodes a fallback ping: a packet holding the one ping, nothing piggybacked.
 *
 * @param ping - The ping (the probe's own `seq`).
 * @param limits - The receiver's bounds.
 * @returns The packet (to be framed by the driver).
 * @since 2.0.0
 */
export function encodeFallbackPing(
  ping: SwimPing,
  limits: SwimCodecLimits = DEFAULT_SWIM_CODEC_LIMITS,
): Uint8Array {
  return encodeSwimPacket([ping], limits);
}

/**
 * Encodes the answer to a fallback ping: a packet holding the one ack.
 *
 * @param ack - The ack.
 * @param limits - The receiver's bounds.
 * @returns The packet.
 * @since 2.0.0
 */
export function encodeFallbackAck(
  ack: SwimAck,
  limits: SwimCodecLimits = DEFAULT_SWIM_CODEC_LIMITS,
): Uint8Array {
  return encodeSwimPacket([ack], limits);
}

/**
 * Decodes a fallback ping received on a stream.
 *
 * @param bytes - Untrusted bytes (one frame body).
 * @param limits - Bounds.
 * @returns The ping.
 * @throws A {@link WireError}: whatever {@link decodeSwimPacket} throws, or
 *   `malformed` when the packet is not exactly one ping.
 * @since 2.0.0
 */
export function decodeFallbackPing(
  bytes: Uint8Array,
  limits: SwimCodecLimits = DEFAULT_SWIM_CODEC_LIMITS,
): SwimPing {
  return only(decodeSwimPacket(bytes, limits), 'ping') as SwimPing;
}

/**
 * Decodes the answer to a fallback ping.
 *
 * @param bytes - Untrusted bytes (one frame body).
 * @param limits - Bounds.
 * @returns The ack.
 * @throws A {@link WireError}: whatever {@link decodeSwimPacket} throws, or
 *   `malformed` when the packet is not exactly one ack.
 * @since 2.0.0
 */
export function decodeFallbackAck(
  bytes: Uint8Array,
  limits: SwimCodecLimits = DEFAULT_SWIM_CODEC_LIMITS,
): SwimAck {
  return only(decodeSwimPacket(bytes, limits), 'ack') as SwimAck;
}

function only(
  messages: readonly { readonly type: string }[],
  type: 'ping' | 'ack',
): { readonly type: string } {
  const [first] = messages;
  if (messages.length !== 1 || first?.type !== type) {
    throw new WireError('malformed', `a fallback ${type} packet holds exactly one ${type}`);
  }
  return first;
}
