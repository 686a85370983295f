import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import { encodeEnvelope, WIRE_VERSION, type Envelope } from '../../../src/core/wire/envelope.js';
import { WireError } from '../../../src/core/wire/wire-error.js';
import { Keyring } from '../../../src/native/transport/keyring.js';
import {
  SECURE_HEADER_BYTES,
  SecureCodec,
  type SecureCodecOptions,
} from '../../../src/native/transport/secure-codec.js';
import { envelopeArbitrary } from '../../core/wire/fuzz-targets.js';
import { KEY_A, KEY_B, secureRandom, TRANSPORT_FUZZ_TARGETS } from './fuzz-targets.js';

function ring(): Keyring {
  return new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1');
}

function codec(localNodeId: string, options: Partial<SecureCodecOptions> = {}): SecureCodec {
  return new SecureCodec({ localNodeId, random: secureRandom, keyring: ring(), ...options });
}

function message(from: string, to: string, n: number): Envelope {
  return {
    version: WIRE_VERSION,
    kind: 'message',
    from,
    to,
    correlationId: n,
    sentAt: n,
    payload: new Uint8Array([n & 0xff]),
  };
}

function reasonOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof WireError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('SecureCodec', () => {
  it('round-trips every valid envelope', () => {
    const a = codec('a');
    const b = codec('b');
    fc.assert(
      fc.property(envelopeArbitrary(), fc.constantFrom('b', ''), (envelope, to) => {
        const sent = { ...envelope, from: 'a', to };
        expect(b.open(a.seal(sent))).toEqual(sent);
      }),
      { numRuns: 200 },
    );
    expect(Object.values(b.rejected).every((count) => count === 0)).toBe(true);
  });

  it('opens a frame body that is a view into a larger buffer', () => {
    const body = codec('a').seal(message('a', 'b', 3));
    const padded = new Uint8Array(body.length + 9);
    padded.set(body, 5);
    expect(codec('b').open(padded.subarray(5, 5 + body.length)).correlationId).toBe(3);
  });

  it('encrypts: the payload does not appear in the frame', () => {
    const secret = new TextEncoder().encode('the quick brown fox jumps');
    const body = codec('a').seal({ ...message('a', 'b', 1), payload: secret });
    expect(Buffer.from(body).includes(Buffer.from(secret))).toBe(false);
  });

  it('refuses every single bit flip of a sealed frame, and stays unchanged', () => {
    const a = codec('a');
    const b = codec('b');
    const body = a.seal(message('a', 'b', 7));
    let refused = 0;
    for (let bit = 0; bit < body.length * 8; bit++) {
      const copy = body.slice();
      copy[bit >>> 3]! ^= 1 << (bit & 7);
      const reason = reasonOf(() => b.open(copy));
      expect([
        'unauthenticated',
        'malformed',
        'truncated',
        'unknown-key',
        'unsupported-version',
      ]).toContain(reason);
      refused += 1;
    }
    const counted = Object.values(b.rejected).reduce((sum, count) => sum + count, 0);
    expect(counted).toBe(refused);
    expect(b.rejected.unauthenticated).toBeGreaterThan(body.length * 4);
    // Nothing refused touched the replay state: the genuine frame still opens, once.
    expect(b.open(body).correlationId).toBe(7);
    expect(reasonOf(() => b.open(body))).toBe('replayed');
  });

  it('refuses truncated and extended frames', () => {
    const a = codec('a');
    const b = codec('b');
    const body = a.seal(message('a', 'b', 1));
    for (let length = 0; length < body.length; length++) {
      expect(['truncated', 'unauthenticated']).toContain(
        reasonOf(() => b.open(body.subarray(0, length))),
      );
    }
    expect(reasonOf(() => b.open(Buffer.concat([body, new Uint8Array([0])])))).toBe(
      'unauthenticated',
    );
  });

  it('refuses a replayed frame, counts it, and accepts out-of-order frames within the window', () => {
    const a = codec('a');
    const b = codec('b', { replayWindow: 8 });
    const bodies = Array.from({ length: 20 }, (_, n) => a.seal(message('a', 'b', n)));
    b.open(bodies[0]!);
    expect(reasonOf(() => b.open(bodies[0]!))).toBe('replayed');
    b.open(bodies[10]!);
    b.open(bodies[5]!); // 5 behind the newest, within the window of 8
    expect(reasonOf(() => b.open(bodies[5]!))).toBe('replayed');
    expect(reasonOf(() => b.open(bodies[2]!))).toBe('replayed'); // 8 behind: outside the window
    b.open(bodies[19]!);
    expect(reasonOf(() => b.open(bodies[11]!))).toBe('replayed');
    b.open(bodies[12]!);
    expect(b.rejected.replayed).toBe(4);
  });

  it('replay window property: each sequence accepted at most once, never older than the window', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 40 }), { maxLength: 80 }), (order) => {
        const a = codec('a');
        const b = codec('b', { replayWindow: 16 });
        const bodies = Array.from({ length: 41 }, (_, n) => a.seal(message('a', 'b', n)));
        const accepted = new Set<number>();
        let highest = -1;
        for (const n of order) {
          const reason = reasonOf(() => b.open(bodies[n]!));
          const expected = accepted.has(n) || highest - n >= 16 ? 'replayed' : 'accepted';
          expect(reason).toBe(expected);
          if (reason === 'accepted') {
            accepted.add(n);
            highest = Math.max(highest, n);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('accepts a restarted sender (new epoch) and refuses replays of its retired session', () => {
    const b = codec('b');
    const before = codec('a');
    const old = [before.seal(message('a', 'b', 1)), before.seal(message('a', 'b', 2))];
    b.open(old[0]!);
    const restarted = codec('a');
    expect(b.open(restarted.seal(message('a', 'b', 3))).correlationId).toBe(3);
    expect(reasonOf(() => b.open(old[1]!))).toBe('replayed');
    expect(b.open(restarted.seal(message('a', 'b', 4))).correlationId).toBe(4);
  });

  it('bounds the sender map', () => {
    const b = codec('b', { maxTrackedSenders: 2 });
    for (const name of ['s1', 's2', 's3', 's4']) b.open(codec(name).seal(message(name, 'b', 1)));
    expect(b.trackedSenders).toBe(2);
  });

  it('refuses plaintext without the development flag', () => {
    const dev = new SecureCodec({ localNodeId: 'a', random: secureRandom, allowPlaintext: true });
    const body = dev.seal(message('a', 'b', 1));
    expect(body[0]).toBe(0x12);
    expect(reasonOf(() => codec('b').open(body))).toBe('plaintext-refused');
    expect(
      new SecureCodec({ localNodeId: 'b', random: secureRandom, allowPlaintext: true }).open(body)
        .correlationId,
    ).toBe(1);
    // A secure node with the flag still seals, and accepts both.
    const mixed = codec('b', { allowPlaintext: true });
    expect(mixed.open(body).correlationId).toBe(1);
    expect(mixed.open(codec('a').seal(message('a', 'b', 2))).correlationId).toBe(2);
  });

  it('needs a keyring unless plaintext is allowed', () => {
    expect(() => new SecureCodec({ localNodeId: 'a', random: secureRandom })).toThrow(
      DistributedError,
    );
    expect(() => codec('')).toThrow(DistributedError);
    expect(() => codec('a', { replayWindow: 0 })).toThrow(DistributedError);
    expect(() => codec('a').seal(message('z', 'b', 1))).toThrow(DistributedError);
  });

  it('refuses a sealed frame without a keyring, and a frame for another node', () => {
    const body = codec('a').seal(message('a', 'c', 1));
    const dev = new SecureCodec({ localNodeId: 'b', random: secureRandom, allowPlaintext: true });
    expect(reasonOf(() => dev.open(body))).toBe('unknown-key');
    const b = codec('b');
    expect(reasonOf(() => b.open(body))).toBe('misdirected');
    expect(b.rejected.misdirected).toBe(1);
    expect(codec('b', { checkRecipient: false }).open(body).to).toBe('c');
  });

  it('refuses a frame with an unknown header version or mode', () => {
    const b = codec('b');
    const body = codec('a').seal(message('a', 'b', 1));
    const version2 = body.slice();
    version2[0] = 0x21;
    expect(reasonOf(() => b.open(version2))).toBe('unsupported-version');
    const mode = body.slice();
    mode[0] = 0x13;
    expect(reasonOf(() => b.open(mode))).toBe('malformed');
    const zeroSequence = body.slice();
    zeroSequence.fill(0, 9, SECURE_HEADER_BYTES);
    expect(reasonOf(() => b.open(zeroSequence))).toBe('malformed');
  });

  it('rotates keys with no message lost', () => {
    // Both nodes start on k1. Frames are queued "in flight" and delivered late, so
    // frames sealed before each step arrive after it.
    const ringA = ring();
    const ringB = ring();
    const a = codec('a', { keyring: ringA });
    const b = codec('b', { keyring: ringB });
    const inFlight: Uint8Array[] = [];
    const received: number[] = [];
    let sent = 0;
    const send = (count: number) => {
      for (let i = 0; i < count; i++) inFlight.push(a.seal(message('a', 'b', sent++)));
    };
    const deliver = (count: number) => {
      for (const body of inFlight.splice(0, count)) received.push(b.open(body).correlationId);
    };
    send(5);
    deliver(2);
    // 1. Install the new key everywhere (the receiver first; the order does not matter
    //    because nobody seals with it yet).
    ringB.install('k2', KEY_B);
    send(3);
    ringA.install('k2', KEY_B);
    deliver(3);
    send(3);
    // 2. Switch the primary: frames sealed with k1 are still in flight.
    ringA.use('k2');
    send(4);
    deliver(4);
    ringB.use('k2');
    send(2);
    // 3. Remove the old key only once nothing sealed with it is in flight.
    deliver(inFlight.length);
    ringA.remove('k1');
    ringB.remove('k1');
    send(3);
    deliver(inFlight.length);
    expect(received).toEqual(Array.from({ length: sent }, (_, n) => n));
    expect(Object.values(b.rejected).every((count) => count === 0)).toBe(true);
    // And the old key is really gone.
    const stale = codec('a', { keyring: new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1') });
    expect(reasonOf(() => b.open(stale.seal(message('a', 'b', 99))))).toBe('unknown-key');
  });

  it('rotates keys in both directions over a random interleaving with no message lost', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a->b', 'b->a', 'deliver-a', 'deliver-b'), { maxLength: 60 }),
        fc.array(fc.nat({ max: 60 }), { minLength: 3, maxLength: 3 }),
        (steps, stepAt) => {
          const [installAt, useAt, removeAt] = [...stepAt].sort((x, y) => x - y);
          const rings = { a: ring(), b: ring() };
          const codecs = {
            a: codec('a', { keyring: rings.a }),
            b: codec('b', { keyring: rings.b }),
          };
          const queues = { a: [] as Uint8Array[], b: [] as Uint8Array[] }; // frames for a / for b
          const sent = { a: 0, b: 0 };
          const got = { a: [] as number[], b: [] as number[] };
          const drain = (to: 'a' | 'b') => {
            for (const body of queues[to].splice(0))
              got[to].push(codecs[to].open(body).correlationId);
          };
          steps.forEach((step, index) => {
            if (index === installAt) for (const r of Object.values(rings)) r.install('k2', KEY_B);
            if (index === useAt) {
              rings.a.install('k2', KEY_B);
              rings.b.install('k2', KEY_B);
              rings.a.use('k2');
              rings.b.use('k2');
            }
            if (index === removeAt && rings.a.primaryKeyId === 'k2') {
              // Removal waits until nothing sealed with the old key is in flight.
              drain('a');
              drain('b');
              rings.a.remove('k1');
              rings.b.remove('k1');
            }
            if (step === 'a->b') queues.b.push(codecs.a.seal(message('a', 'b', sent.a++)));
            if (step === 'b->a') queues.a.push(codecs.b.seal(message('b', 'a', sent.b++)));
            if (step === 'deliver-a') drain('a');
            if (step === 'deliver-b') drain('b');
          });
          drain('a');
          drain('b');
          expect(got.b).toEqual(Array.from({ length: sent.a }, (_, n) => n));
          expect(got.a).toEqual(Array.from({ length: sent.b }, (_, n) => n));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('counters are a frozen snapshot', () => {
    const b = codec('b');
    const snapshot = b.rejected;
    reasonOf(() => b.open(new Uint8Array(3)));
    expect(snapshot.truncated).toBe(0);
    expect(b.rejected.truncated).toBe(1);
    expect(Object.isFrozen(snapshot)).toBe(true);
  });

  describe('fuzz (small runs; `npm run fuzz` runs many)', () => {
    for (const target of TRANSPORT_FUZZ_TARGETS.filter((t) => t.name.startsWith('SecureCodec'))) {
      it(target.name, () => {
        target.run(300);
      });
    }
  });
});

describe('SecureCodec batches', () => {
  const plain = (id: string) =>
    new SecureCodec({ localNodeId: id, random: secureRandom, allowPlaintext: true });

  it.each([
    ['sealed', codec],
    ['plaintext', plain],
  ] as const)('%s: one frame, one sequence number, every envelope back in order', (_, make) => {
    const a = make('a');
    const b = make('b');
    const sent = [1, 2, 3].map((n) => message('a', 'b', n));
    const body = a.sealBatch(sent.map((envelope) => a.encode(envelope)));
    expect(b.openBatch(body)).toEqual(sent);
    // The whole batch is one frame for replay protection: it cannot be replayed either.
    expect(reasonOf(() => b.openBatch(body))).toBe('replayed');
    // A single envelope sealed the old way still opens with openBatch, and a batch
    // frame is refused by open (which promises one envelope).
    expect(b.openBatch(a.seal(message('a', 'b', 4)))).toEqual([message('a', 'b', 4)]);
    expect(reasonOf(() => b.open(a.sealBatch([a.encode(message('a', 'b', 5))])))).toBe('malformed');
  });

  it('refuses a whole batch for one bad envelope, with no replay state changed', () => {
    const a = codec('a');
    const b = codec('b');
    const mixed = a.sealBatch([
      a.encode(message('a', 'b', 1)),
      codec('c').encode(message('c', 'b', 2)),
    ]);
    expect(reasonOf(() => b.openBatch(mixed))).toBe('malformed');
    const misdirected = a.sealBatch([
      a.encode(message('a', 'b', 1)),
      a.encode(message('a', 'x', 2)),
    ]);
    expect(reasonOf(() => b.openBatch(misdirected))).toBe('misdirected');
    expect(b.trackedSenders).toBe(0);
    expect(() => a.sealBatch([])).toThrow(DistributedError);
  });

  it('gives small payloads a buffer of their own, and a lone large one a view of its decryption', () => {
    const a = codec('a');
    const b = codec('b');
    const small = b.openBatch(a.sealBatch([a.encode(message('a', 'b', 1))]))[0]!;
    expect(small.payload.byteOffset).toBe(0);
    expect(small.payload.buffer.byteLength).toBe(1);
    const large = { ...message('a', 'b', 2), payload: new Uint8Array(64 * 1024).fill(9) };
    const opened = b.openBatch(a.sealBatch([a.encode(large)]))[0]!;
    expect(opened.payload).toEqual(large.payload);
    expect(opened.payload.byteOffset).toBeGreaterThan(0);
    // A plaintext body that is only lent (a view of a socket chunk) is always copied.
    const p = plain('a');
    const q = plain('b');
    const lent = q.openBatch(p.sealBatch([p.encode(large)]), false)[0]!;
    expect(lent.payload.byteOffset).toBe(0);
    expect(lent.payload).toEqual(large.payload);
  });

  it('seals an envelope without copying its payload into bytes equal to its encoding', () => {
    const a = codec('a');
    const keyring = ring();
    fc.assert(
      fc.property(envelopeArbitrary(), fc.integer({ min: 0, max: 8 }), (envelope, headroom) => {
        const sent = { ...envelope, from: 'a', to: 'b' };
        const frame = a.seal(sent, headroom);
        expect(Array.from(frame.subarray(0, headroom))).toEqual(
          new Array<number>(headroom).fill(0),
        );
        const body = frame.subarray(headroom);
        const plainBytes = keyring.open(
          body.subarray(SECURE_HEADER_BYTES),
          body.subarray(0, SECURE_HEADER_BYTES),
        );
        expect(plainBytes).toEqual(encodeEnvelope(sent));
      }),
      { numRuns: 100 },
    );
  });

  it('refuses to seal a bad payload, and numbers no frame for it', () => {
    const a = codec('a', { limits: { maxPayloadBytes: 16 } });
    const b = codec('b', { limits: { maxPayloadBytes: 16 } });
    const tooLarge = { ...message('a', 'b', 1), payload: new Uint8Array(17) };
    expect(() => a.seal(tooLarge)).toThrow(DistributedError);
    const notBytes = { ...message('a', 'b', 1), payload: [1, 2] as unknown as Uint8Array };
    expect(() => a.seal(notBytes)).toThrow(DistributedError);
    const body = a.seal(message('a', 'b', 2));
    // The first frame numbered is 1: the refused envelopes used no sequence number.
    expect((body[15]! << 8) | body[16]!).toBe(1);
    expect(b.open(body)).toEqual(message('a', 'b', 2));
  });
});
