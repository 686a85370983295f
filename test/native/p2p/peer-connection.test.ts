import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../src/core/wire/frame.js';
import { PeerConnection } from '../../../src/native/p2p/peer-connection.js';
import type { StreamConnection } from '../../../src/runtime/runtime.js';

/** Only `frames` and `release` are exercised: the stream is never touched. */
const STREAM = {} as StreamConnection;

function connection(): PeerConnection {
  return new PeerConnection(STREAM, {
    outbound: false,
    expectedPeerId: undefined,
    seed: undefined,
    maxFrameBytes: undefined,
    now: 0,
  });
}

/** A body that looks sealed (mode byte 0x11) or plaintext (0x12), with bytes telling it apart. */
function body(size: number, tag: number, sealed: boolean): Uint8Array {
  const bytes = new Uint8Array(size).fill(tag + 1);
  bytes[0] = sealed ? 0x11 : 0x12;
  bytes[size - 1] = tag;
  return bytes;
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

describe('PeerConnection.frames', () => {
  it('returns every body intact over interleaved connections, and never reuses memory it handed over', () => {
    const bodyArbitrary = fc.record({
      size: fc.oneof(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 4000, max: 140_000 }),
        fc.constant(270_000),
      ),
      sealed: fc.boolean(),
    });
    let reused = 0;
    fc.assert(
      fc.property(
        fc.array(fc.array(bodyArbitrary, { minLength: 1, maxLength: 6 }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
        (streams, cuts, picks) => {
          const peers = streams.map((specs, p) => {
            const bodies = specs.map((spec, i) => body(spec.size, p * 16 + i, spec.sealed));
            return {
              connection: connection(),
              bodies,
              bytes: join(bodies.map((b) => encodeFrame(b))),
              sent: 0,
              received: 0,
            };
          });
          const handedOver = new Set<ArrayBufferLike>();
          let step = 0;
          while (peers.some((peer) => peer.sent < peer.bytes.length)) {
            const open = peers.filter((peer) => peer.sent < peer.bytes.length);
            const peer = open[(picks[step % picks.length] as number) % open.length]!;
            const size = cuts[step % cuts.length] as number;
            step += 1;
            // Each chunk in memory of its own, as a socket delivers it.
            const chunk = peer.bytes.slice(peer.sent, peer.sent + size);
            peer.sent += chunk.length;
            for (const got of peer.connection.frames(chunk)) {
              const expected = peer.bodies[peer.received]!;
              peer.received += 1;
              expect(got.length).toBe(expected.length);
              expect(Buffer.compare(got, expected)).toBe(0);
              const whole = got.byteOffset === 0 && got.byteLength === got.buffer.byteLength;
              if (PeerConnection.ownsBody(got, chunk)) {
                // Memory handed over whole is never handed out again.
                if (whole) expect(handedOver.has(got.buffer)).toBe(false);
                if (whole) handedOver.add(got.buffer);
              } else if (got.buffer !== chunk.buffer) {
                reused += 1;
              }
            }
          }
          for (const peer of peers) {
            expect(peer.received).toBe(peer.bodies.length);
            peer.connection.release();
          }
        },
      ),
      { numRuns: 30 },
    );
    // The runs did reassemble bodies into reused memory.
    expect(reused).toBeGreaterThan(0);
  });

  it('frees the memory of a body in progress when the connection is released', () => {
    const large = 100_000;
    /** A connection past one sealed frame and in the middle of a large sealed one. */
    const midway = (tag: number): { peer: PeerConnection; last: Uint8Array } => {
      const peer = connection();
      expect(peer.frames(encodeFrame(body(10, tag, true)))).toHaveLength(1);
      const frame = encodeFrame(body(large, tag, true));
      expect(peer.frames(frame.slice(0, frame.length - 1))).toHaveLength(0);
      return { peer, last: frame.slice(frame.length - 1) };
    };
    // Nine bodies in progress at once: the pool holds eight buffers, so one went to fresh memory.
    const started = Array.from({ length: 9 }, (_, i) => midway(i));
    const owned = started.map(({ peer, last }, i) => {
      const [done] = peer.frames(last);
      expect(Buffer.compare(done!, body(large, i, true))).toBe(0);
      return PeerConnection.ownsBody(done!, last);
    });
    expect(owned.filter((isOwned) => isOwned)).toHaveLength(1);

    // Eight in progress again, then their connections released: the memory is free once more.
    for (const { peer } of Array.from({ length: 8 }, (_, i) => midway(20 + i))) peer.release();
    const { peer, last } = midway(99);
    const [done] = peer.frames(last);
    expect(Buffer.compare(done!, body(large, 99, true))).toBe(0);
    expect(PeerConnection.ownsBody(done!, last)).toBe(false);
  });
});
