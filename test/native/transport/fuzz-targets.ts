/**
 * Fuzz targets for the native transport decoders (SecureCodec.open,
 * Keyring.open, parseKeyringFile), shared by the tests and `scripts/fuzz.ts`.
 */

import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { DistributedError } from '../../../src/contracts/errors.js';
import { Keyring } from '../../../src/native/transport/keyring.js';
import { formatKeyringFile, parseKeyringFile } from '../../../src/native/transport/keyring-file.js';
import { SecureCodec } from '../../../src/native/transport/secure-codec.js';
import {
  checkEnvelope,
  envelopeArbitrary,
  expectValueOrWireError,
  mutatedBytes,
  type FuzzTarget,
} from '../../core/wire/fuzz-targets.js';

/** A secure random source for codecs under test. */
export const secureRandom = { bytes: (n: number): Uint8Array => new Uint8Array(randomBytes(n)) };

/** Fixed keys, so failures reproduce from the fast-check seed alone. */
export const KEY_A = new Uint8Array(32).fill(0xa1);
/** A second fixed key. */
export const KEY_B = new Uint8Array(32).fill(0xb2);

const LIMITS = { maxPayloadBytes: 1024 * 1024, maxIdBytes: 256 } as const;

function codecPair(plaintext: boolean): { sender: SecureCodec; receiver: SecureCodec } {
  const keyring = (): Keyring | undefined =>
    plaintext ? undefined : new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1');
  const options = (localNodeId: string) => {
    const ring = keyring();
    return {
      localNodeId,
      random: secureRandom,
      allowPlaintext: plaintext,
      replayWindow: 64,
      maxTrackedSenders: 8,
      ...(ring === undefined ? {} : { keyring: ring }),
    };
  };
  return {
    sender: new SecureCodec(options('sender')),
    receiver: new SecureCodec(options('receiver')),
  };
}

function secureCodecTarget(plaintext: boolean): FuzzTarget {
  return {
    name: `SecureCodec.open (${plaintext ? 'plaintext allowed' : 'sealed'}): mutated frame bodies`,
    run(numRuns, seed) {
      const { sender, receiver } = codecPair(plaintext);
      const bodies = envelopeArbitrary(128).map((envelope) =>
        sender.seal({ ...envelope, from: 'sender', to: 'receiver' }),
      );
      fc.assert(
        fc.property(mutatedBytes(bodies), (body) => {
          const envelope = expectValueOrWireError(() => receiver.open(body));
          if (envelope !== undefined) checkEnvelope(envelope, LIMITS);
          if (receiver.trackedSenders > 8) throw new Error('sender map exceeded its bound');
        }),
        { numRuns, ...(seed === undefined ? {} : { seed }) },
      );
    },
  };
}

/** Mutates text: characters flipped, removed, inserted, or the text cut short. */
function mutatedText(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const mutations = valid.chain((text) =>
    fc.oneof(
      fc.constant(text),
      fc
        .tuple(fc.nat({ max: Math.max(0, text.length - 1) }), fc.string({ maxLength: 3 }))
        .map(([at, insert]) => text.slice(0, at) + insert + text.slice(at + 1)),
      fc.nat({ max: text.length }).map((length) => text.slice(0, length)),
      fc
        .tuple(fc.nat({ max: text.length }), fc.string({ minLength: 1, maxLength: 8 }))
        .map(([at, insert]) => text.slice(0, at) + insert + text.slice(at)),
    ),
  );
  const shaped = fc
    .record({
      version: fc.oneof(fc.constant(1), fc.jsonValue()),
      primary: fc.oneof(fc.constantFrom('k1', 'k2'), fc.jsonValue()),
      keys: fc.oneof(
        fc.array(
          fc.record({
            keyId: fc.oneof(fc.constantFrom('k1', 'k2', ''), fc.jsonValue()),
            key: fc.oneof(
              fc
                .uint8Array({ minLength: 30, maxLength: 34 })
                .map((key) => Buffer.from(key).toString('base64')),
              fc.jsonValue(),
            ),
          }),
          { maxLength: 4 },
        ),
        fc.jsonValue(),
      ),
    })
    .map((file) => JSON.stringify(file));
  return fc.oneof(
    { arbitrary: mutations, weight: 3 },
    { arbitrary: shaped, weight: 2 },
    { arbitrary: fc.json(), weight: 1 },
    { arbitrary: fc.string({ maxLength: 200 }), weight: 1 },
  );
}

const validKeyringFile = fc
  .array(fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/), { minLength: 1, maxLength: 4 })
  .map((ids) => [...new Set(ids)])
  .map((ids) => {
    const keyring = new Keyring(
      ids.map((keyId, index) => ({ keyId, key: new Uint8Array(32).fill(index + 1) })),
      ids[0]!,
    );
    return formatKeyringFile(keyring);
  });

function secureBatchTarget(plaintext: boolean): FuzzTarget {
  return {
    name: `SecureCodec.openBatch (${plaintext ? 'plaintext allowed' : 'sealed'}): mutated batch frames`,
    run(numRuns, seed) {
      const { sender, receiver } = codecPair(plaintext);
      const bodies = fc
        .array(envelopeArbitrary(128), { minLength: 1, maxLength: 4 })
        .map((envelopes) =>
          sender.sealBatch(
            envelopes.map((envelope) =>
              sender.encode({ ...envelope, from: 'sender', to: 'receiver' }),
            ),
          ),
        );
      fc.assert(
        fc.property(mutatedBytes(bodies), fc.boolean(), (body, owned) => {
          const envelopes = expectValueOrWireError(() => receiver.openBatch(body, owned));
          if (envelopes !== undefined) {
            for (const envelope of envelopes) checkEnvelope(envelope, LIMITS);
            if (new Set(envelopes.map((envelope) => envelope.from)).size !== 1) {
              throw new Error('a batch mixing senders was accepted');
            }
          }
          if (receiver.trackedSenders > 8) throw new Error('sender map exceeded its bound');
        }),
        { numRuns, ...(seed === undefined ? {} : { seed }) },
      );
    },
  };
}

/** The native fuzz targets. */
export const TRANSPORT_FUZZ_TARGETS: readonly FuzzTarget[] = [
  secureCodecTarget(false),
  secureCodecTarget(true),
  secureBatchTarget(false),
  secureBatchTarget(true),
  {
    name: 'parseKeyringFile: arbitrary and mutated text',
    run(numRuns, seed) {
      fc.assert(
        fc.property(mutatedText(validKeyringFile), (text) => {
          try {
            const keyring = parseKeyringFile(text);
            // Whatever parses, formats back to a file that parses to the same keys.
            const again = parseKeyringFile(formatKeyringFile(keyring));
            if (again.primaryKeyId !== keyring.primaryKeyId) throw new Error('primary changed');
          } catch (error) {
            if (!(error instanceof DistributedError) || error.code !== 'INVALID_ARGUMENT') {
              throw new Error(`parseKeyringFile threw ${String(error)}`, { cause: error });
            }
          }
        }),
        { numRuns, ...(seed === undefined ? {} : { seed }) },
      );
    },
  },
];
