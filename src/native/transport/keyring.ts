/**
 * The cluster keyring: AES-256-GCM keys shared by every node, one of them the
 * primary used to seal, all of them accepted to open.
 *
 * @packageDocumentation
 */

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  randomFillSync,
} from 'node:crypto';
import { Buffer } from 'node:buffer';
import { DistributedError } from '../../contracts/errors.js';
import { WireError } from '../../core/wire/wire-error.js';

/**
 * What the keyring tells about a key (never the key material).
 *
 * @since 2.0.0
 */
export interface KeyInfo {
  /** The key's id, carried in every message sealed with it. */
  readonly keyId: string;
  /** Whether this key seals outgoing messages. */
  readonly primary: boolean;
  /** When the key was installed in this keyring, in epoch milliseconds. */
  readonly installedAt: number;
}

/**
 * What the keyring tells an operator about a key: {@link KeyInfo} plus a
 * fingerprint and how much traffic the key carried (never the key material).
 *
 * @since 2.0.0
 */
export interface KeyDetails extends KeyInfo {
  /** See {@link keyFingerprint}: equal on two nodes exactly when they hold the same key bytes. */
  readonly fingerprint: string;
  /** Messages this node sealed with the key since it was installed in this process. */
  readonly sealed: number;
  /**
   * Messages this node opened (authenticated) with the key since it was installed in this
   * process. Once no node uses a key as primary any more and this stops growing on every node,
   * the key carries no traffic and can be removed.
   */
  readonly opened: number;
}

/**
 * A key with its id, as given to the {@link Keyring} constructor and returned by
 * {@link Keyring.exportKeys}.
 *
 * @since 2.0.0
 */
export interface KeyMaterial {
  /** The key's id; see {@link KEY_ID_PATTERN}. */
  readonly keyId: string;
  /** The 32-byte AES-256 key. */
  readonly key: Uint8Array;
  /**
   * When the key was first installed, in epoch milliseconds (a keyring file keeps it so a
   * restart does not reset a key's age); the keyring's clock when absent.
   */
  readonly installedAt?: number;
}

/**
 * Why a keyring refused a key or a change.
 *
 * @since 2.0.0
 */
export type KeyringErrorReason =
  /** The key id does not match {@link KEY_ID_PATTERN}. */
  | 'invalid-key-id'
  /** The key is not {@link KEY_BYTES} bytes. */
  | 'invalid-key'
  /** The id is already installed with different key bytes. */
  | 'key-id-conflict'
  /** The keyring already holds its most keys. */
  | 'keyring-full'
  /** No key with that id is installed. */
  | 'unknown-key'
  /** The key is the primary, which cannot be removed. */
  | 'key-is-primary'
  /** The keys or options given to the constructor are invalid. */
  | 'invalid-keyring';

/**
 * The error a {@link Keyring} throws for bad input: a `DistributedError` with
 * code `INVALID_ARGUMENT` and a {@link KeyringErrorReason} to branch on. The
 * keyring is unchanged when it is thrown.
 *
 * @since 2.0.0
 */
export class KeyringError extends DistributedError {
  /** Why the keyring refused. */
  readonly reason: KeyringErrorReason;

  /**
   * @param reason - Why the keyring refused.
   * @param message - A human-readable explanation.
   */
  constructor(reason: KeyringErrorReason, message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'KeyringError';
    this.reason = reason;
  }
}

/**
 * A key's fingerprint: the first 8 bytes of SHA-256 over a fixed label and the
 * key, as 16 hex digits. It lets operators check that nodes hold the same key
 * under an id without showing the key; 256 random key bits stay out of reach.
 *
 * @param key - The key bytes.
 * @returns 16 lowercase hex digits.
 * @since 2.0.0
 */
export function keyFingerprint(key: Uint8Array): string {
  return createHash('sha256')
    .update('dw keyring fingerprint v1\0')
    .update(key)
    .digest('hex')
    .slice(0, 16);
}

/**
 * Options of a {@link Keyring}.
 *
 * @since 2.0.0
 */
export interface KeyringOptions {
  /** The clock for {@link KeyInfo.installedAt}; defaults to `Date.now`. */
  readonly now?: () => number;
  /** The most keys installed at once; defaults to {@link DEFAULT_MAX_KEYRING_KEYS}. */
  readonly maxKeys?: number;
}

/**
 * The length of an AES-256 key, in bytes.
 *
 * @since 2.0.0
 */
export const KEY_BYTES = 32;

/**
 * The length of a GCM nonce, in bytes (96 bits, random per message).
 *
 * @since 2.0.0
 */
export const NONCE_BYTES = 12;

/**
 * The length of a GCM authentication tag, in bytes.
 *
 * @since 2.0.0
 */
export const TAG_BYTES = 16;

/** How many nonces are drawn from the CSPRNG at once. */
const NONCE_POOL_NONCES = 256;

/**
 * What a key id must look like: 1 to 64 ASCII letters, digits, `.`, `_` or `-`,
 * so it is safe in file names, command lines and logs.
 *
 * @since 2.0.0
 */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The default most keys a keyring holds. Rotation needs two; the rest is slack.
 *
 * @since 2.0.0
 */
export const DEFAULT_MAX_KEYRING_KEYS = 16;

/**
 * Memory for a sealed message, uninitialised: the caller writes every byte.
 * Zeroing first costs more than the copy of the ciphertext (making a zeroed
 * 64 KiB array takes several microseconds; uninitialised memory is cheaper).
 * Below 4 KiB it is a slice of Node's buffer pool, from 4 KiB up memory of
 * its own; either way a plain `Uint8Array` that nothing else holds.
 */
function allocateSealed(size: number): Uint8Array {
  const memory = Buffer.allocUnsafe(size);
  return new Uint8Array(memory.buffer, memory.byteOffset, size);
}

/** Whether the key id of `sealed` (its `idLength` bytes after the length byte) is `keyId`. */
function namesKey(sealed: Uint8Array, idLength: number, keyId: string): boolean {
  if (keyId.length !== idLength) return false;
  for (let i = 0; i < idLength; i++) {
    if (sealed[1 + i] !== keyId.charCodeAt(i)) return false;
  }
  return true;
}

interface InstalledKey {
  readonly key: Buffer;
  readonly installedAt: number;
  readonly fingerprint: string;
  sealed: number;
  opened: number;
}

function invalid(message: string): KeyringError {
  return new KeyringError('invalid-keyring', message);
}

function checkKeyId(keyId: string): void {
  if (typeof keyId !== 'string' || !KEY_ID_PATTERN.test(keyId)) {
    throw new KeyringError(
      'invalid-key-id',
      `key id must match ${String(KEY_ID_PATTERN)}, got ${JSON.stringify(keyId)}`,
    );
  }
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new KeyringError('invalid-key', `a key must be a Uint8Array of ${KEY_BYTES} bytes`);
  }
}

function checkInstalledAt(installedAt: number | undefined): void {
  if (installedAt !== undefined && (!Number.isSafeInteger(installedAt) || installedAt < 0)) {
    throw invalid(`installedAt must be a non-negative integer, got ${String(installedAt)}`);
  }
}

function installed(key: Uint8Array, installedAt: number): InstalledKey {
  return {
    key: Buffer.from(key),
    installedAt,
    fingerprint: keyFingerprint(key),
    sealed: 0,
    opened: 0,
  };
}

function unknownKey(keyId: string): KeyringError {
  return new KeyringError('unknown-key', `key ${JSON.stringify(keyId)} is not installed`);
}

/**
 * A set of AES-256-GCM keys: the primary seals, any installed key opens.
 *
 * A sealed message is `keyIdLength (1 byte) | keyId (ASCII) | nonce (12) |
 * ciphertext | tag (16)`. Because every installed key opens, rotation loses
 * nothing: install the new key on every node, then make it primary on every
 * node, then remove the old key everywhere.
 *
 * Nonces are 96 random bits per message, so a key should seal well under 2^32
 * messages (the GCM random-nonce bound); rotate keys long before that.
 *
 * @since 2.0.0
 */
export class Keyring {
  /** The most keys installed at once. */
  readonly maxKeys: number;
  readonly #keys = new Map<string, InstalledKey>();
  // Nonces are drawn from the CSPRNG in blocks (each byte used once), which
  // costs one call per NONCE_POOL_NONCES messages instead of one per message.
  readonly #noncePool = new Uint8Array(NONCE_BYTES * NONCE_POOL_NONCES);
  #noncePoolUsed = NONCE_BYTES * NONCE_POOL_NONCES;
  readonly #now: () => number;
  #primaryKeyId: string;
  /** The key id of the last message opened (compared in place before decoding another id). */
  #lastOpenedKeyId = '';

  /**
   * Makes a fresh random AES-256 key.
   *
   * @returns 32 bytes from the operating system's secure random source.
   */
  static generateKey(): Uint8Array {
    return new Uint8Array(randomBytes(KEY_BYTES));
  }

  /**
   * @param keys - The keys to install; ids unique, at least one.
   * @param primaryKeyId - The id of the key that seals; one of `keys`.
   * @param options - Clock and bound.
   * @throws KeyringError (`INVALID_ARGUMENT`) for a bad id, key or installation time
   *   (`invalid-key-id`, `invalid-key`), or a duplicate, missing primary or too many keys
   *   (`invalid-keyring`).
   */
  constructor(keys: readonly KeyMaterial[], primaryKeyId: string, options?: KeyringOptions) {
    const maxKeys = options?.maxKeys ?? DEFAULT_MAX_KEYRING_KEYS;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
      throw invalid(`maxKeys must be a positive integer, got ${String(maxKeys)}`);
    }
    this.maxKeys = maxKeys;
    this.#now = options?.now ?? Date.now;
    if (keys.length === 0) throw invalid('a keyring needs at least one key');
    if (keys.length > maxKeys) throw invalid(`a keyring holds at most ${maxKeys} keys`);
    for (const { keyId, key, installedAt } of keys) {
      checkKeyId(keyId);
      checkKey(key);
      checkInstalledAt(installedAt);
      if (this.#keys.has(keyId)) throw invalid(`key id ${keyId} appears twice`);
      this.#keys.set(keyId, installed(key, installedAt ?? this.#now()));
    }
    if (!this.#keys.has(primaryKeyId)) {
      throw invalid(`primary key ${JSON.stringify(primaryKeyId)} is not among the keys`);
    }
    this.#primaryKeyId = primaryKeyId;
  }

  /** The id of the key that seals outgoing messages. */
  get primaryKeyId(): string {
    return this.#primaryKeyId;
  }

  /**
   * Installs a key, so messages sealed with it can be opened. Installing the
   * same key under the same id again does nothing.
   *
   * @param keyId - The new key's id.
   * @param key - The 32-byte key (copied).
   * @param installedAt - When it was installed, in epoch milliseconds; defaults to the clock.
   * @returns `true` when the key was installed, `false` when it already was.
   * @throws KeyringError (`INVALID_ARGUMENT`) `invalid-key-id`, `invalid-key`,
   *   `key-id-conflict` (an id already installed with a different key) or `keyring-full`;
   *   the keyring is then unchanged.
   */
  install(keyId: string, key: Uint8Array, installedAt?: number): boolean {
    checkKeyId(keyId);
    checkKey(key);
    checkInstalledAt(installedAt);
    const existing = this.#keys.get(keyId);
    if (existing !== undefined) {
      if (existing.key.equals(key)) return false;
      throw new KeyringError(
        'key-id-conflict',
        `key id ${keyId} is already installed with a different key`,
      );
    }
    if (this.#keys.size >= this.maxKeys) {
      throw new KeyringError(
        'keyring-full',
        `the keyring is full (${this.maxKeys} keys); remove one first`,
      );
    }
    this.#keys.set(keyId, installed(key, installedAt ?? this.#now()));
    return true;
  }

  /**
   * Whether a key is installed.
   *
   * @param keyId - The key's id.
   * @returns `true` when a key with this id is installed.
   */
  has(keyId: string): boolean {
    return this.#keys.has(keyId);
  }

  /**
   * Makes an installed key the primary: it seals everything from now on.
   *
   * @param keyId - The id of an installed key.
   * @throws KeyringError (`INVALID_ARGUMENT`) `unknown-key` when no such key is installed.
   */
  use(keyId: string): void {
    if (!this.#keys.has(keyId)) throw unknownKey(keyId);
    this.#primaryKeyId = keyId;
  }

  /**
   * Removes a key: messages sealed with it are refused from now on.
   *
   * @param keyId - The id of an installed key other than the primary.
   * @throws KeyringError (`INVALID_ARGUMENT`) `unknown-key` when no such key is installed,
   *   `key-is-primary` when it is the primary.
   */
  remove(keyId: string): void {
    if (!this.#keys.has(keyId)) throw unknownKey(keyId);
    if (keyId === this.#primaryKeyId) {
      throw new KeyringError(
        'key-is-primary',
        `key ${keyId} is the primary; make another key primary first`,
      );
    }
    this.#keys.delete(keyId);
  }

  /**
   * Describes the installed keys, in installation order.
   *
   * @returns Frozen descriptions, without key material.
   */
  list(): KeyInfo[] {
    return [...this.#keys].map(([keyId, { installedAt }]) =>
      Object.freeze({ keyId, primary: keyId === this.#primaryKeyId, installedAt }),
    );
  }

  /**
   * Describes the installed keys for an operator, in installation order:
   * fingerprints and traffic counts, never key material.
   *
   * @returns Frozen descriptions.
   */
  details(): KeyDetails[] {
    return [...this.#keys].map(([keyId, entry]) =>
      Object.freeze({
        keyId,
        primary: keyId === this.#primaryKeyId,
        installedAt: entry.installedAt,
        fingerprint: entry.fingerprint,
        sealed: entry.sealed,
        opened: entry.opened,
      }),
    );
  }

  /**
   * The installed keys with their material and installation times, for writing
   * a keyring file. Treat the result as secret.
   *
   * @returns Copies of every key, in installation order.
   */
  exportKeys(): KeyMaterial[] {
    return [...this.#keys].map(([keyId, { key, installedAt }]) =>
      Object.freeze({ keyId, key: new Uint8Array(key), installedAt }),
    );
  }

  /**
   * Encrypts and authenticates with the primary key.
   *
   * @param plaintext - The bytes to protect.
   * @param associatedData - Bytes authenticated but not encrypted (they travel separately).
   * @param headroom - Bytes left free (zero) in front of the sealed message, for the caller's
   *   own header, so it need not copy the result; defaults to 0.
   * @returns `keyIdLength | keyId | nonce | ciphertext | tag`, after `headroom` zero bytes.
   */
  seal(plaintext: Uint8Array, associatedData: Uint8Array, headroom = 0): Uint8Array {
    return this.sealParts([plaintext], associatedData, headroom);
  }

  /**
   * Encrypts and authenticates the concatenation of `parts` with the primary
   * key, as {@link Keyring.seal} does the joined bytes, without joining them
   * first (each part is read once, by the cipher).
   *
   * @param parts - The bytes to protect, in order.
   * @param associatedData - Bytes authenticated but not encrypted (they travel separately).
   * @param headroom - Bytes left free (zero) in front of the sealed message; defaults to 0.
   * @returns `keyIdLength | keyId | nonce | ciphertext | tag`, after `headroom` zero bytes;
   *   exactly what `seal` returns for the joined parts (with another nonce).
   */
  sealParts(parts: readonly Uint8Array[], associatedData: Uint8Array, headroom = 0): Uint8Array {
    if (!Number.isSafeInteger(headroom) || headroom < 0) {
      throw new RangeError(`headroom must be a non-negative integer, got ${String(headroom)}`);
    }
    const keyId = this.#primaryKeyId;
    const installed = this.#keys.get(keyId);
    if (installed === undefined) throw new Error('keyring invariant: the primary is installed');
    let plainLength = 0;
    for (const part of parts) plainLength += part.length;
    const idLength = keyId.length; // ASCII by KEY_ID_PATTERN: one byte per character
    const headerLength = headroom + 1 + idLength + NONCE_BYTES;
    const sealed = allocateSealed(headerLength + plainLength + TAG_BYTES);
    // Uninitialised memory: the headroom is zeroed here and every other byte is written below
    // (a loop: `fill` on a few bytes takes a slower path).
    for (let i = 0; i < headroom; i++) sealed[i] = 0;
    sealed[headroom] = idLength;
    for (let i = 0; i < idLength; i++) sealed[headroom + 1 + i] = keyId.charCodeAt(i);
    const nonce = sealed.subarray(headroom + 1 + idLength, headerLength);
    if (this.#noncePoolUsed >= this.#noncePool.length) {
      randomFillSync(this.#noncePool);
      this.#noncePoolUsed = 0;
    }
    nonce.set(this.#noncePool.subarray(this.#noncePoolUsed, this.#noncePoolUsed + NONCE_BYTES));
    // Wiped once used, so no nonce stays readable in memory after it was handed out.
    this.#noncePool.fill(0, this.#noncePoolUsed, this.#noncePoolUsed + NONCE_BYTES);
    this.#noncePoolUsed += NONCE_BYTES;
    // The tag length is GCM's default (16 bytes, TAG_BYTES); `open` insists on it.
    const cipher = createCipheriv('aes-256-gcm', installed.key, nonce);
    cipher.setAAD(associatedData);
    let offset = headerLength;
    for (const part of parts) {
      if (part.length === 0) continue;
      const encrypted = cipher.update(part);
      sealed.set(encrypted, offset);
      offset += encrypted.length;
    }
    // GCM is a stream mode: `final` adds no bytes, it only computes the tag.
    const final = cipher.final();
    if (final.length !== 0) {
      sealed.set(final, offset);
      offset += final.length;
    }
    if (offset !== headerLength + plainLength) {
      throw new Error('keyring invariant: AES-GCM encrypts byte for byte');
    }
    sealed.set(cipher.getAuthTag(), offset);
    installed.sealed += 1;
    return sealed;
  }

  /**
   * Verifies and decrypts with whichever installed key the message names.
   *
   * @param sealed - What {@link Keyring.seal} produced (on this or another node).
   * @param associatedData - The same associated data given to `seal`.
   * @returns The plaintext.
   * @throws WireError `truncated` or `malformed` when the layout is wrong, `unknown-key` when
   *   the key is not installed, `unauthenticated` when the tag does not verify.
   */
  open(sealed: Uint8Array, associatedData: Uint8Array): Uint8Array {
    if (sealed.length < 1) throw new WireError('truncated', 'sealed message is empty');
    const idLength = sealed[0] ?? 0;
    if (idLength < 1 || idLength > 64) {
      throw new WireError('malformed', `sealed message key id length ${idLength} is invalid`);
    }
    const headerLength = 1 + idLength + NONCE_BYTES;
    if (sealed.length < headerLength + TAG_BYTES) {
      throw new WireError('truncated', 'sealed message is shorter than its header and tag');
    }
    // Nearly every message names the key the previous one named: compared in place, the id
    // needs no new string.
    let keyId = this.#lastOpenedKeyId;
    if (!namesKey(sealed, idLength, keyId)) {
      keyId = Buffer.from(sealed.buffer, sealed.byteOffset + 1, idLength).toString('latin1');
    }
    const installed = this.#keys.get(keyId);
    if (installed === undefined) {
      // Only a well-formed id is quoted, so logs never carry arbitrary bytes.
      const shown = KEY_ID_PATTERN.test(keyId) ? keyId : '(not a valid key id)';
      throw new WireError('unknown-key', `sealed with key ${shown}, which is not installed`);
    }
    const nonce = sealed.subarray(1 + idLength, headerLength);
    const ciphertext = sealed.subarray(headerLength, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', installed.key, nonce, {
        authTagLength: TAG_BYTES,
      });
      decipher.setAuthTag(tag);
      decipher.setAAD(associatedData);
      const body = decipher.update(ciphertext);
      const final = decipher.final();
      installed.opened += 1;
      this.#lastOpenedKeyId = keyId;
      if (final.length === 0) return new Uint8Array(body.buffer, body.byteOffset, body.length);
      return new Uint8Array(Buffer.concat([body, final]));
    } catch (cause) {
      throw new WireError('unauthenticated', `sealed message does not verify with key ${keyId}`, {
        cause,
      });
    }
  }
}
