import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import { WireError } from '../../../src/core/wire/wire-error.js';
import { Keyring, NONCE_BYTES, TAG_BYTES } from '../../../src/native/transport/keyring.js';
import { KEY_A, KEY_B } from './fuzz-targets.js';

const ad = new Uint8Array([9, 9, 9]);

function reasonOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof WireError) return error.reason;
    throw error;
  }
  return 'accepted';
}

function invalidArgument(action: () => unknown): void {
  expect(action).toThrow(DistributedError);
  try {
    action();
  } catch (error) {
    expect((error as DistributedError).code).toBe('INVALID_ARGUMENT');
  }
}

describe('Keyring', () => {
  it('round-trips any plaintext and associated data', () => {
    const keyring = new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1');
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.uint8Array({ maxLength: 40 }),
        (plain, data) => {
          const sealed = keyring.seal(plain, data);
          expect(sealed.length).toBe(1 + 2 + NONCE_BYTES + plain.length + TAG_BYTES);
          expect([...keyring.open(sealed, data)]).toEqual([...plain]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('seals parts as their concatenation, after zeroed headroom, and in memory of its own from 4 KiB', () => {
    const keyring = new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1');
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 4 }),
        fc.integer({ min: 0, max: 24 }),
        (parts, headroom) => {
          const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
          let offset = 0;
          for (const part of parts) {
            joined.set(part, offset);
            offset += part.length;
          }
          const sealed = keyring.sealParts(parts, ad, headroom);
          expect(sealed.length).toBe(headroom + 1 + 2 + NONCE_BYTES + joined.length + TAG_BYTES);
          expect([...sealed.subarray(0, headroom)]).toEqual(new Array<number>(headroom).fill(0));
          expect([...keyring.open(sealed.subarray(headroom), ad)]).toEqual([...joined]);
          if (sealed.length >= 4096) expect(sealed.byteLength).toBe(sealed.buffer.byteLength);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('uses a fresh nonce each time', () => {
    const keyring = new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1');
    const one = keyring.seal(new Uint8Array(8), ad);
    const two = keyring.seal(new Uint8Array(8), ad);
    expect(Buffer.compare(one, two)).not.toBe(0);
  });

  it('refuses any single bit flip and any other associated data', () => {
    const keyring = new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1');
    const sealed = keyring.seal(new TextEncoder().encode('attack at dawn'), ad);
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const copy = sealed.slice();
      copy[bit >>> 3]! ^= 1 << (bit & 7);
      expect(['unauthenticated', 'unknown-key', 'malformed', 'truncated']).toContain(
        reasonOf(() => keyring.open(copy, ad)),
      );
    }
    expect(reasonOf(() => keyring.open(sealed, new Uint8Array([9, 9, 8])))).toBe('unauthenticated');
    expect(reasonOf(() => keyring.open(sealed.subarray(0, sealed.length - 1), ad))).toBe(
      'unauthenticated',
    );
    expect(reasonOf(() => keyring.open(sealed.subarray(0, 10), ad))).toBe('truncated');
    expect(reasonOf(() => keyring.open(new Uint8Array(0), ad))).toBe('truncated');
  });

  it('opens with any installed key and refuses unknown or removed keys', () => {
    const sender = new Keyring([{ keyId: 'k2', key: KEY_B }], 'k2');
    const receiver = new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1');
    const sealed = sender.seal(new Uint8Array([1]), ad);
    expect(reasonOf(() => receiver.open(sealed, ad))).toBe('unknown-key');
    receiver.install('k2', KEY_B);
    expect([...receiver.open(sealed, ad)]).toEqual([1]);
    receiver.remove('k2');
    expect(reasonOf(() => receiver.open(sealed, ad))).toBe('unknown-key');
    // The same id with another key: authentication fails rather than decrypting garbage.
    const impostor = new Keyring([{ keyId: 'k2', key: KEY_A }], 'k2');
    expect(reasonOf(() => impostor.open(sealed, ad))).toBe('unauthenticated');
  });

  it('manages keys: install, use, remove, list', () => {
    let now = 100;
    const keyring = new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1', { now: () => now });
    now = 200;
    keyring.install('k2', KEY_B);
    keyring.install('k2', KEY_B); // idempotent
    expect(keyring.list()).toEqual([
      { keyId: 'k1', primary: true, installedAt: 100 },
      { keyId: 'k2', primary: false, installedAt: 200 },
    ]);
    keyring.use('k2');
    expect(keyring.primaryKeyId).toBe('k2');
    keyring.remove('k1');
    expect(keyring.list().map((info) => info.keyId)).toEqual(['k2']);
    expect(Object.isFrozen(keyring.list()[0])).toBe(true);
  });

  it('refuses bad input and leaves the keyring unchanged', () => {
    const keyring = new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1', { maxKeys: 2 });
    invalidArgument(() => keyring.install('bad id', KEY_B));
    invalidArgument(() => keyring.install('x'.repeat(65), KEY_B));
    invalidArgument(() => keyring.install('k2', new Uint8Array(31)));
    invalidArgument(() => keyring.install('k1', KEY_B));
    invalidArgument(() => keyring.use('missing'));
    invalidArgument(() => keyring.remove('missing'));
    invalidArgument(() => keyring.remove('k1'));
    keyring.install('k2', KEY_B);
    invalidArgument(() => keyring.install('k3', KEY_B));
    expect(keyring.list().map((info) => info.keyId)).toEqual(['k1', 'k2']);
    expect(keyring.primaryKeyId).toBe('k1');
    invalidArgument(() => new Keyring([], 'k1'));
    invalidArgument(() => new Keyring([{ keyId: 'k1', key: KEY_A }], 'k2'));
    invalidArgument(
      () =>
        new Keyring(
          [
            { keyId: 'k1', key: KEY_A },
            { keyId: 'k1', key: KEY_B },
          ],
          'k1',
        ),
    );
  });

  it('copies key material in and out', () => {
    const key = KEY_A.slice();
    const keyring = new Keyring([{ keyId: 'k1', key }], 'k1');
    const sealed = keyring.seal(new Uint8Array([5]), ad);
    key.fill(0);
    keyring.exportKeys()[0]!.key.fill(0);
    expect([...keyring.open(sealed, ad)]).toEqual([5]);
    expect(Keyring.generateKey()).toHaveLength(32);
  });
});
