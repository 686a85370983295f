/**
 * The keyring file: JSON `{ "version": 1, "primary": keyId, "keys": [{ "keyId", "key": base64 }] }`.
 * It holds secret key material: keep it readable by the agent's user only.
 *
 * @packageDocumentation
 */

import { readFile, rename, writeFile } from 'node:fs/promises';
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
    checkFields(entry, ['keyId', 'key'], `keys[${index}]`);
    if (typeof entry.keyId !== 'string') throw invalid(`keys[${index}].keyId must be a string`);
    if (typeof entry.key !== 'string' || !KEY_BASE64.test(entry.key)) {
      throw invalid(`keys[${index}].key must be ${KEY_BYTES} bytes of base64`);
    }
    return { keyId: entry.keyId, key: new Uint8Array(Buffer.from(entry.key, 'base64')) };
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
    keys: keyring
      .exportKeys()
      .map(({ keyId, key }) => ({ keyId, key: Buffer.from(key).toString('base64') })),
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
 * Writes a keyring file atomically (a temporary file renamed over the target),
 * readable and writable by the owner only.
 *
 * @param path - The file's path.
 * @param keyring - The keyring to write.
 * @since 2.0.0
 */
export async function writeKeyringFile(path: string, keyring: Keyring): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, formatKeyringFile(keyring), { mode: 0o600, flag: 'w' });
  await rename(temporary, path);
}
