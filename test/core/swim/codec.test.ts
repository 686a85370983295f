import { describe, expect, it } from 'vitest';
import {
  decodeSwimPacket,
  DEFAULT_SWIM_CODEC_LIMITS,
  encodeSwimMessage,
  encodeSwimPacket,
  isSwimPacket,
  SWIM_WIRE_VERSION,
} from '../../../src/core/swim/codec.js';
import { DistributedError } from '../../../src/contracts/errors.js';
import { WireError } from '../../../src/core/wire/wire-error.js';
import type { SwimMessage } from '../../../src/core/swim/messages.js';
import { SWIM_FUZZ_TARGETS } from './fuzz-targets.js';

const from = { nodeId: 'a', host: 'h', port: 7946 };

function reason(bytes: Uint8Array): string | undefined {
  try {
    decodeSwimPacket(bytes);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(WireError);
    return (error as WireError).reason;
  }
}

describe('SWIM packet codec', () => {
  for (const target of SWIM_FUZZ_TARGETS) {
    it(`fuzz: ${target.name}`, () => {
      target.run(300, 42);
    });
  }

  it('carries a probe and its piggybacked updates in one packet', () => {
    const messages: SwimMessage[] = [
      { type: 'ping', seq: 7, target: 'b', from },
      { type: 'suspect', nodeId: 'c', incarnation: 3, from: 'a' },
      {
        type: 'alive',
        member: { nodeId: 'd', host: 'h2', port: 1 },
        incarnation: 1,
        meta: { zone: 'z1' },
      },
    ];
    const bytes = encodeSwimPacket(messages);
    expect(isSwimPacket(bytes)).toBe(true);
    expect(bytes[3]).toBe(SWIM_WIRE_VERSION);
    expect(decodeSwimPacket(bytes)).toEqual(messages);
  });

  it('refuses other versions, unknown types, bad flags, trailing bytes and oversize input', () => {
    const good = encodeSwimPacket([{ type: 'ack', seq: 1, from: 'a' }]);
    const version = good.slice();
    version[3] = 2;
    expect(reason(version)).toBe('unsupported-version');
    const type = good.slice();
    type[6] = 99;
    expect(reason(type)).toBe('malformed');
    expect(reason(new Uint8Array([...good, 0]))).toBe('malformed');
    expect(reason(good.subarray(0, good.length - 1))).toBe('truncated');
    const pingReq = encodeSwimPacket([
      { type: 'ping-req', seq: 1, target: from, wantNack: true, from },
    ]);
    const flagAt = 6 + 1 + 4 + 2 + 1 + 2 + 1 + 2;
    expect(pingReq[flagAt]).toBe(1);
    pingReq[flagAt] = 4;
    expect(reason(pingReq)).toBe('malformed');
    expect(reason(new Uint8Array(DEFAULT_SWIM_CODEC_LIMITS.maxPacketBytes + 1))).toBe(
      'limit-exceeded',
    );
    expect(reason(new Uint8Array([0x44, 0x57]))).toBe('truncated');
    expect(reason(new Uint8Array([1, 2, 3, 4, 5, 6, 7]))).toBe('malformed');
    const empty = good.slice(0, 6);
    empty[5] = 0;
    expect(reason(empty)).toBe('malformed');
  });

  it('refuses ids and metadata beyond the limits, on both ends', () => {
    const long = 'x'.repeat(300);
    expect(() => encodeSwimMessage({ type: 'ack', seq: 1, from: long })).toThrow(DistributedError);
    expect(() =>
      encodeSwimMessage({
        type: 'alive',
        member: from,
        incarnation: 0,
        meta: { k: 'v'.repeat(600) },
      }),
    ).toThrow(DistributedError);
    expect(() => encodeSwimMessage({ type: 'ack', seq: -1, from: 'a' })).toThrow(DistributedError);
    expect(() => encodeSwimMessage({ type: 'ack', seq: 1, from: '\ud800' })).toThrow(
      DistributedError,
    );
    const bytes = encodeSwimPacket([{ type: 'ack', seq: 1, from: 'x'.repeat(20) }]);
    expect(() => decodeSwimPacket(bytes, { ...DEFAULT_SWIM_CODEC_LIMITS, maxIdBytes: 10 })).toThrow(
      expect.objectContaining({ reason: 'limit-exceeded' }),
    );
  });
});
