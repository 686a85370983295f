/**
 * The API token file behind `--api-token-file`: one line holding a random
 * bearer token. `dw agent` creates it (32 random bytes, base64url, mode 0600)
 * when it does not exist; `dw keyring … --agent` reads it to authenticate.
 */

import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { UsageError } from './usage-error.js';

/**
 * What a token must look like: 16 to 512 characters a bearer token may carry
 * (RFC 6750's b64token), so it fits an `Authorization` header unchanged.
 */
export const API_TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]{16,512}=*$/;

/** The random bytes in a token `dw agent` creates: 256 bits. */
const TOKEN_BYTES = 32;

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error ? String(error.code) : undefined;
}

/**
 * Reads a token file.
 *
 * @throws UsageError when the file cannot be read or does not hold one valid token.
 */
export async function readApiToken(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--api-token-file ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const token = text.trim();
  if (!API_TOKEN_PATTERN.test(token)) {
    throw new UsageError(
      `--api-token-file ${path} must hold one token: 16 to 512 characters from A-Z a-z 0-9 . _ ~ + / - (dw agent creates one when the file does not exist)`,
    );
  }
  return token;
}

/**
 * Reads the agent's token file, or creates it with a fresh random token when
 * it does not exist. Creation is atomic (a complete temporary file is linked to
 * the name, which fails if another process got there first, and then that
 * process's token is read), so agents started together share one token.
 *
 * @param path - The token file.
 * @param logger - Told where a new token was written (never the token) and warned about a
 *   file that others may read.
 * @returns The token.
 * @throws UsageError when the file exists but is invalid, or cannot be created.
 */
export async function loadOrCreateApiToken(path: string, logger: Logger): Promise<string> {
  try {
    const mode = (await stat(path)).mode;
    if ((mode & 0o077) !== 0 && process.platform !== 'win32') {
      logger.warn(
        { apiTokenFile: path },
        'the API token file is readable by other users; chmod 600 it',
      );
    }
    return await readApiToken(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  try {
    const created = await createTokenFile(path);
    if (created) logger.info({ apiTokenFile: path }, 'created a new API token file');
  } catch (error) {
    throw new UsageError(
      `--api-token-file ${path}: could not create it: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return readApiToken(path);
}

/** Creates the token file; `false` when another process created it first. */
async function createTokenFile(path: string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(`${randomBytes(TOKEN_BYTES).toString('base64url')}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary);
  }
}
