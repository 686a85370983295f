/**
 * The keyring file: JSON `{ "version": 1, "primary": keyId, "keys": [{ "keyId", "key": base64,
 * "installedAt"? }] }` (`installedAt` in epoch milliseconds, optional).
 * It holds secret key material: keep it readable by the agent's user only.
 *
 * @packageDocumentation
 */

import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DistributedError } from '../../contracts/errors.js';
import { DEFAULT_MAX_KEYRING_KEYS, KEY_BYTES, Keyring, type KeyringOptions } from './keyring.js';

/**
 * The keyring file version this build writes and reads.
 *
 * @since 2.0.0
 */
export const KEYRING_FILE_VERSION = 1;

/**
 * The largest keyring file accepted, in characters: far more than
 * {@link DEFAULT_MAX_KEYRING_KEYS} keys need, small enough to parse safely.
 *
 * @since 2.0.0
 */
export const MAX_KEYRING_FILE_CHARS = 64 * 1024;

// Canonical padded base64 of exactly 32 bytes: 43 characters then one '='.
const KEY_BASE64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * Decodes a key written as canonical padded base64 of exactly {@link KEY_BYTES}
 * bytes (44 characters ending in one `=`), the form keyring files use.
 *
 * @param text - The base64 text.
 * @returns The key, or `undefined` when `text` is not exactly that.
 * @since 2.0.0
 */
export function decodeKeyBase64(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || !KEY_BASE64.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function invalid(message: string, cause?: unknown): DistributedError {
  return new DistributedError(
    'INVALID_ARGUMENT',
    `invalid keyring file: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkFields(record: Record<string, unknown>, allowed: readonly string[], where: string) {
  for (const field of Object.keys(record)) {
    if (!allowed.includes(field))
      throw invalid(`unknown field ${JSON.stringify(field)} in ${where}`);
  }
}

/**
 * Parses a keyring file.
 *
 * Strict: unknown fields, duplicate ids, keys that are not exactly 32 bytes of
 * canonical base64 and a primary that is not among the keys are all refused,
 * so a typo never silently yields a different keyring.
 *
 * @param text - The file's contents.
 * @param options - Options for the keyring built.
 * @returns A keyring holding the file's keys, with the file's primary.
 * @throws DistributedError `INVALID_ARGUMENT` for any invalid text, never another error.
 * @since 2.0.0
 */
export function parseKeyringFile(text: string, options?: KeyringOptions): Keyring {
  if (typeof text !== 'string') throw invalid('the contents must be text');
  if (text.length > MAX_KEYRING_FILE_CHARS) {
    throw invalid(`larger than ${MAX_KEYRING_FILE_CHARS} characters`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw invalid('not JSON', cause);
  }
  if (!isRecord(parsed)) throw invalid('the top level must be an object');
  checkFields(parsed, ['version', 'primary', 'keys'], 'the top level');
  if (parsed.version !== KEYRING_FILE_VERSION) {
    throw invalid(`version must be ${KEYRING_FILE_VERSION}`);
  }
  if (typeof parsed.primary !== 'string') throw invalid('primary must be a key id');
  const keys = parsed.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw invalid('keys must be a non-empty array');
  const maxKeys = options?.maxKeys ?? DEFAULT_MAX_KEYRING_KEYS;
  if (keys.length > maxKeys) throw invalid(`at most ${maxKeys} keys are allowed`);
  const material = keys.map((entry: unknown, index) => {
    if (!isRecord(entry)) throw invalid(`keys[${index}] must be an object`);
    checkFields(entry, ['keyId', 'key', 'installedAt'], `keys[${index}]`);
    if (typeof entry.keyId !== 'string') throw invalid(`keys[${index}].keyId must be a string`);
    const key = typeof entry.key === 'string' ? decodeKeyBase64(entry.key) : undefined;
    if (key === undefined) {
      throw invalid(`keys[${index}].key must be ${KEY_BYTES} bytes of base64`);
    }
    const installedAt = entry.installedAt;
    if (installedAt === undefined) return { keyId: entry.keyId, key };
    if (typeof installedAt !== 'number' || !Number.isSafeInteger(installedAt) || installedAt < 0) {
      throw invalid(`keys[${index}].installedAt must be epoch milliseconds`);
    }
    return { keyId: entry.keyId, key, installedAt };
  });
  try {
    return new Keyring(material, parsed.primary, options);
  } catch (cause) {
    if (cause instanceof DistributedError) throw invalid(cause.message, cause);
    throw cause;
  }
}

/**
 * Writes a keyring as the text of a keyring file; {@link parseKeyringFile} reads it back.
 *
 * @param keyring - The keyring to write (its key material included).
 * @returns Pretty-printed JSON ending in a newline.
 * @since 2.0.0
 */
export function formatKeyringFile(keyring: Keyring): string {
  const file = {
    version: KEYRING_FILE_VERSION,
    primary: keyring.primaryKeyId,
    keys: keyring.exportKeys().map(({ keyId, key, installedAt }) => ({
      keyId,
      key: Buffer.from(key).toString('base64'),
      ...(installedAt === undefined ? {} : { installedAt }),
    })),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Reads and parses a keyring file.
 *
 * @param path - The file's path.
 * @param options - Options for the keyring built.
 * @returns The keyring.
 * @throws DistributedError `INVALID_ARGUMENT` when the contents are invalid; the file system's
 *   error when the file cannot be read.
 * @since 2.0.0
 */
export async function readKeyringFile(path: string, options?: KeyringOptions): Promise<Keyring> {
  return parseKeyringFile(await readFile(path, 'utf8'), options);
}

/**
 * Writes a keyring file atomically and durably, readable and writable by the
 * owner only: a new temporary file beside the target is written and fsynced,
 * renamed over the target, and the directory fsynced, so after a crash the file
 * holds either the old keyring or the new one, never a mix, and once this
 * resolves the new one survives a power loss.
 *
 * @param path - The file's path.
 * @param keyring - The keyring to write.
 * @throws The file system's error; the target is then unchanged and the temporary file removed.
 * @since 2.0.0
 */
export async function writeKeyringFile(path: string, keyring: Keyring): Promise<void> {
  // A random suffix: two writers (two processes, or two calls) never share a temporary file.
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(formatKeyringFile(keyring), 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
}

// The rename is durable only once the directory entry is on disk.
async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
  } catch (error) {
    // Windows cannot open a directory for syncing (and has no need to); nothing else is ignored.
    if (process.platform === 'win32') return;
    throw error;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
