/**
 * Full-state (push-pull) exchanges: a member sends every member it knows, with
 * status and incarnation, and the other answers with its own; both merge.
 * Run on join (so a newcomer learns the cluster at once), periodically with a
 * random member (so updates lost to the transmit limit are repaired), and
 * towards dead members (so a healed partition merges). A state larger than one
 * packet travels as several packets, each merged on its own.
 *
 * @packageDocumentation
 */

import {
  concatSwimPacket,
  encodeSwimMessage,
  encodeSwimStateEntry,
  SWIM_PACKET_HEADER_BYTES,
  type SwimCodecLimits,
} from './codec.js';
import type { SwimMessage, SwimPeer, SwimStateEntry } from './messages.js';

/**
 * What merging one received entry means, as memberlist's `mergeRemoteState`
 * does it: an `alive` entry is an alive message; `left` is the member's own
 * dead message (it left); `suspect` and `dead` become a suspicion from the
 * sender — a remote dead verdict is not taken on trust, it starts a suspicion
 * the member can refute, which is how the two sides of a healed partition
 * (each believing the other dead) come back together.
 *
 * @param entry - The entry received.
 * @param sender - Who sent the state.
 * @returns The message to apply.
 * @since 2.0.0
 */
export function stateEntryToUpdate(entry: SwimStateEntry, sender: string): SwimMessage {
  switch (entry.status) {
    case 'alive':
      return {
        type: 'alive',
        member: entry.member,
        incarnation: entry.incarnation,
        meta: entry.meta,
      };
    case 'left':
      return {
        type: 'dead',
        nodeId: entry.member.nodeId,
        incarnation: entry.incarnation,
        from: entry.member.nodeId,
      };
    case 'suspect':
    case 'dead':
      return {
        type: 'suspect',
        nodeId: entry.member.nodeId,
        incarnation: entry.incarnation,
        from: sender,
      };
  }
}

/**
 * The packets of one push-pull message carrying `entries`, each at most
 * `maxPacketBytes` long.
 *
 * @param header - The exchange id, flags and sender.
 * @param header.exchange - The exchange id.
 * @param header.reply - Whether this answers an exchange.
 * @param header.join - Whether the sender joins through it.
 * @param header.from - The sender.
 * @param entries - The members.
 * @param maxPacketBytes - The packet size bound.
 * @param limits - The codec bounds.
 * @returns At least one packet (an empty state still travels, so it can be answered).
 * @since 2.0.0
 */
export function pushPullPackets(
  header: { exchange: number; reply: boolean; join: boolean; from: SwimPeer },
  entries: readonly SwimStateEntry[],
  maxPacketBytes: number,
  limits: SwimCodecLimits,
): Uint8Array[] {
  const empty = encodeSwimMessage({ type: 'push-pull', ...header, entries: [] }, limits);
  const prefix = empty.subarray(0, empty.length - 2); // everything before the u16 entry count
  const budget = maxPacketBytes - SWIM_PACKET_HEADER_BYTES - empty.length;
  const maxPerPacket = Math.min(limits.maxStateEntries, 0xffff);
  const packets: Uint8Array[] = [];
  let chunk: Uint8Array[] = [];
  let used = 0;
  const flush = (): void => {
    let size = empty.length;
    for (const entry of chunk) size += entry.length;
    const message = new Uint8Array(size);
    message.set(prefix, 0);
    new DataView(message.buffer).setUint16(prefix.length, chunk.length);
    let at = prefix.length + 2;
    for (const entry of chunk) {
      message.set(entry, at);
      at += entry.length;
    }
    packets.push(concatSwimPacket([message]));
    chunk = [];
    used = 0;
  };
  for (const entry of entries) {
    const bytes = encodeSwimStateEntry(entry, limits);
    if (bytes.length > budget) continue; // cannot happen within the codec limits and 1 200-byte packets
    if (used + bytes.length > budget || chunk.length >= maxPerPacket) flush();
    chunk.push(bytes);
    used += bytes.length;
  }
  if (chunk.length > 0 || packets.length === 0) flush();
  return packets;
}
