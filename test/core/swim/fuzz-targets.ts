/**
 * Property-based fuzz targets for the SWIM packet decoder, shared by the test
 * suite (small runs) and `npm run fuzz` (large campaigns, once registered):
 * valid packets round-trip; arbitrary or mutated bytes either decode to a
 * valid packet within the limits or are refused with a WireError.
 */

import fc from 'fast-check';
import {
  decodeSwimPacket,
  DEFAULT_SWIM_CODEC_LIMITS,
  encodeSwimPacket,
  type SwimCodecLimits,
} from '../../../src/core/swim/codec.js';
import {
  decodeFallbackAck,
  decodeFallbackPing,
  encodeFallbackAck,
  encodeFallbackPing,
} from '../../../src/core/swim/fallback.js';
import {
  SWIM_MEMBER_STATUSES,
  type SwimMessage,
  type SwimPeer,
} from '../../../src/core/swim/messages.js';
import {
  expectValueOrWireError,
  idString,
  mutatedBytes,
  type FuzzTarget,
} from '../wire/fuzz-targets.js';

const seq = fc.nat({ max: 0xffff_ffff });
const peer: fc.Arbitrary<SwimPeer> = fc.record({
  nodeId: idString(1, 24),
  host: idString(1, 24),
  port: fc.nat({ max: 0xffff }),
});
const meta = fc
  .dictionary(idString(1, 8), idString(0, 12), { maxKeys: 4 })
  .map((record) => ({ ...record }));

/** Valid SWIM messages. */
export const swimMessageArbitrary: fc.Arbitrary<SwimMessage> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), seq, target: idString(1, 24), from: peer }),
  fc.record({ type: fc.constantFrom('ack' as const, 'nack' as const), seq, from: idString(1, 24) }),
  fc.record({
    type: fc.constant('ping-req' as const),
    seq,
    target: peer,
    wantNack: fc.boolean(),
    from: peer,
  }),
  fc.record({ type: fc.constant('alive' as const), member: peer, incarnation: seq, meta }),
  fc.record({
    type: fc.constantFrom('suspect' as const, 'dead' as const),
    nodeId: idString(1, 24),
    incarnation: seq,
    from: idString(1, 24),
  }),
  fc.record({
    type: fc.constant('push-pull' as const),
    exchange: seq,
    reply: fc.boolean(),
    join: fc.boolean(),
    from: peer,
    entries: fc.array(
      fc.record({
        member: peer,
        incarnation: seq,
        status: fc.constantFrom(...SWIM_MEMBER_STATUSES),
        meta,
      }),
      { maxLength: 6 },
    ),
  }),
);

/** Valid fallback pings (a packet holding exactly one ping). */
export const fallbackPingArbitrary = fc.record({
  type: fc.constant('ping' as const),
  seq,
  target: idString(1, 24),
  from: peer,
});

/** Valid fallback acks. */
export const fallbackAckArbitrary = fc.record({
  type: fc.constant('ack' as const),
  seq,
  from: idString(1, 24),
});

/** Valid packets (1..5 messages). */
export const swimPacketArbitrary = fc.array(swimMessageArbitrary, { minLength: 1, maxLength: 5 });

/** Checks a decoded packet is within `limits`; throws otherwise. */
export function checkSwimPacket(messages: readonly SwimMessage[], limits: SwimCodecLimits): void {
  const utf8 = new TextEncoder();
  if (!Object.isFrozen(messages) || messages.length === 0 || messages.length > limits.maxMessages) {
    throw new Error('bad message list');
  }
  const id = (text: string, max: number): void => {
    const length = utf8.encode(text).length;
    if (length === 0 || length > max) throw new Error(`bad id length ${length}`);
  };
  for (const message of messages) {
    if (!Object.isFrozen(message)) throw new Error('message not frozen');
    switch (message.type) {
      case 'ping':
        id(message.target, limits.maxIdBytes);
        id(message.from.nodeId, limits.maxIdBytes);
        break;
      case 'push-pull':
        if (message.entries.length > limits.maxStateEntries) throw new Error('too many entries');
        for (const entry of message.entries) id(entry.member.nodeId, limits.maxIdBytes);
        break;
      default:
        break;
    }
  }
}

const SMALL: SwimCodecLimits = {
  ...DEFAULT_SWIM_CODEC_LIMITS,
  maxPacketBytes: 256,
  maxMessages: 3,
  maxIdBytes: 12,
  maxHostBytes: 12,
  maxMetaEntries: 2,
  maxMetaBytes: 16,
  maxStateEntries: 2,
};

/** The SWIM decoder fuzz targets. */
export const SWIM_FUZZ_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'swim packet: round trip',
    run: (numRuns, seed) => {
      fc.assert(
        fc.property(swimPacketArbitrary, (messages) => {
          const decoded = decodeSwimPacket(encodeSwimPacket(messages));
          checkSwimPacket(decoded, DEFAULT_SWIM_CODEC_LIMITS);
          if (JSON.stringify(decoded) !== JSON.stringify(messages))
            throw new Error('round trip changed it');
        }),
        { numRuns, ...(seed === undefined ? {} : { seed }) },
      );
    },
  },
  {
    name: 'swim packet: mutated or arbitrary bytes',
    run: (numRuns, seed) => {
      fc.assert(
        fc.property(mutatedBytes(swimPacketArbitrary.map((m) => encodeSwimPacket(m))), (bytes) => {
          for (const limits of [DEFAULT_SWIM_CODEC_LIMITS, SMALL]) {
            const decoded = expectValueOrWireError(() => decodeSwimPacket(bytes, limits));
            if (decoded !== undefined) checkSwimPacket(decoded, limits);
          }
        }),
        { numRuns, ...(seed === undefined ? {} : { seed }) },
      );
    },
  },
  {
    name: 'swim fallback ping and ack: round trip',
    run: (numRuns, seed) => {
      fc.assert(
        fc.property(fallbackPingArbitrary, fallbackAckArbitrary, (ping, ack) => {
          const decodedPing = decodeFallbackPing(encodeFallbackPing(ping));
          const decodedAck = decodeFallbackAck(encodeFallbackAck(ack));
          checkSwimPacket(Object.freeze([decodedPing, decodedAck]), DEFAULT_SWIM_CODEC_LIMITS);
          if (JSON.stringify(decodedPing) !== JSON.stringify(ping))
            throw new Error('ping round trip changed it');
          if (JSON.stringify(decodedAck) !== JSON.stringify(ack))
            throw new Error('ack round trip changed it');
        }),
        { numRuns, ...(seed === undefined ? {} : { seed }) },
      );
    },
  },
  {
    name: 'swim fallback ping and ack: mutated or arbitrary bytes',
    run: (numRuns, seed) => {
      // Seeds: valid pings and acks, and valid packets of other shapes (refused as a whole).
      const valid = fc.oneof(
        fallbackPingArbitrary.map((ping) => encodeFallbackPing(ping)),
        fallbackAckArbitrary.map((ack) => encodeFallbackAck(ack)),
        swimPacketArbitrary.map((m) => encodeSwimPacket(m)),
      );
      fc.assert(
        fc.property(mutatedBytes(valid), (bytes) => {
          for (const limits of [DEFAULT_SWIM_CODEC_LIMITS, SMALL]) {
            // The types promise a ping or an ack; the check is on the decoded value, not the type.
            const ping: { type: string } | undefined = expectValueOrWireError(() =>
              decodeFallbackPing(bytes, limits),
            );
            if (ping !== undefined) {
              if (ping.type !== 'ping') throw new Error('a fallback ping decoded as another type');
              checkSwimPacket(Object.freeze([ping as SwimMessage]), limits);
            }
            const ack: { type: string } | undefined = expectValueOrWireError(() =>
              decodeFallbackAck(bytes, limits),
            );
            if (ack !== undefined && ack.type !== 'ack') {
              throw new Error('a fallback ack decoded as another type');
            }
            if (ping !== undefined && ack !== undefined) throw new Error('both a ping and an ack');
          }
        }),
        { numRuns, ...(seed === undefined ? {} : { seed }) },
      );
    },
  },
];
