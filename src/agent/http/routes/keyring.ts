/**
 * The running agent's keyring: list, install, make primary, remove. These
 * routes handle key material, so they are guarded: with an API token they need
 * `Authorization: Bearer <token>`; without one they are served only while the
 * HTTP listener is bound to a loopback address.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DistributedError } from '../../../contracts/errors.js';
import { KeyringError, Keyring, type KeyDetails } from '../../../native/transport/keyring.js';
import { decodeKeyBase64 } from '../../../native/transport/keyring-file.js';
import { KeyringPersistError, type KeyringStore } from '../../../native/transport/keyring-store.js';
import { ApiError, type HttpErrorCode } from '../api-error.js';
import type { ApiRequest, Route } from '../router.js';
import { keyringInstallBody, keyringPrimaryBody } from '../schemas.js';

/** How the keyring routes are served. */
export interface KeyringApiOptions {
  /** The agent's live keyring and its file; absent when the agent has no keyring. */
  readonly store?: KeyringStore;
  /** The API token the keyring routes require; absent: served only on a loopback listener. */
  readonly token?: string;
}

/** The HTTP status and code for each reason a keyring refuses a change. */
const REFUSALS: Readonly<Record<KeyringError['reason'], readonly [number, HttpErrorCode]>> = {
  'invalid-key-id': [400, 'INVALID_KEY_ID'],
  'invalid-key': [400, 'INVALID_KEY'],
  'key-id-conflict': [400, 'KEY_ID_CONFLICT'],
  'keyring-full': [400, 'KEYRING_FULL'],
  'unknown-key': [404, 'UNKNOWN_KEY'],
  'key-is-primary': [400, 'KEY_IS_PRIMARY'],
  'invalid-keyring': [400, 'INVALID_REQUEST'],
};

/** Whether a listener's address is loopback only (a Unix socket or pipe counts as local). */
export function isLoopbackListener(address: AddressInfo | string | null | undefined): boolean {
  if (address === null || address === undefined) return false;
  if (typeof address === 'string') return true;
  const host = address.address.toLowerCase();
  return host === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Checks a request against the token, or the listener when there is no token. */
function guard(options: KeyringApiOptions, listenerIsLoopback: () => boolean) {
  // Digests have one length whatever was sent, so timingSafeEqual compares in constant time.
  const expected = options.token === undefined ? undefined : digest(options.token);
  return (request: ApiRequest): void => {
    if (expected === undefined) {
      if (listenerIsLoopback()) return;
      throw new ApiError(
        403,
        'API_TOKEN_NOT_CONFIGURED',
        'the keyring API is served without a token only on a loopback listener; start the agent with --api-token-file <file>',
      );
    }
    const header = request.headers['authorization'];
    const match = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null;
    if (match?.[1] === undefined || !timingSafeEqual(digest(match[1]), expected)) {
      throw new ApiError(
        401,
        'UNAUTHORIZED',
        'the keyring API needs the header Authorization: Bearer <token> with the agent’s API token',
      );
    }
  };
}

function toApiError(error: unknown): unknown {
  if (error instanceof KeyringError) {
    const [status, code] = REFUSALS[error.reason];
    return new ApiError(status, code, error.message);
  }
  if (error instanceof KeyringPersistError) {
    return new ApiError(500, 'KEYRING_NOT_PERSISTED', error.message);
  }
  // Too many changes waiting is a busy agent (try again), not a full disk (the default 507).
  if (error instanceof DistributedError && error.code === 'CAPACITY_EXCEEDED') {
    return new ApiError(503, 'CAPACITY_EXCEEDED', error.message);
  }
  return error;
}

function describe(details: KeyDetails, now: number) {
  return { ...details, ageMs: Math.max(0, now - details.installedAt) };
}

/** Routes under `/v1/keyring`. */
export function keyringRoutes(
  options: KeyringApiOptions,
  listenerIsLoopback: () => boolean,
  now: () => number,
): Route[] {
  const authorize = guard(options, listenerIsLoopback);
  const storeFor = (request: ApiRequest): KeyringStore => {
    authorize(request);
    if (options.store === undefined) {
      throw new ApiError(
        409,
        'NO_KEYRING',
        'this agent runs without a keyring (plaintext --dev or embedded mode); start it with --bind and --keyring <file>',
      );
    }
    return options.store;
  };
  const changing = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw toApiError(error);
    }
  };
  return [
    {
      method: 'GET',
      path: '/v1/keyring',
      handler: (request) => {
        const store = storeFor(request);
        const at = now();
        return {
          status: 200,
          body: {
            primaryKeyId: store.keyring.primaryKeyId,
            maxKeys: store.keyring.maxKeys,
            file: store.path,
            keys: store.list().map((details) => describe(details, at)),
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/v1/keyring/keys',
      handler: async (request) => {
        const store = storeFor(request);
        const body = await request.json(keyringInstallBody);
        const key = body.key === undefined ? Keyring.generateKey() : decodeKeyBase64(body.key);
        if (key === undefined) {
          throw new ApiError(
            400,
            'INVALID_KEY',
            'key must be 32 bytes as canonical base64 (44 characters ending in =)',
          );
        }
        const result = await changing(() => store.install(body.keyId, key));
        return {
          status: result.installed ? 201 : 200,
          body: { installed: result.installed, key: describe(result.key, now()) },
        };
      },
    },
    {
      method: 'POST',
      path: '/v1/keyring/primary',
      handler: async (request) => {
        const store = storeFor(request);
        const { keyId } = await request.json(keyringPrimaryBody);
        return { status: 200, body: await changing(() => store.use(keyId)) };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/keyring/keys/:keyId',
      handler: async (request) => {
        const store = storeFor(request);
        await changing(() => store.remove(request.params['keyId'] ?? ''));
        return { status: 204 };
      },
    },
  ];
}
