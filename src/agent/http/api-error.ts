/**
 * Errors as the HTTP API reports them: `{ "error": { "code", "message" } }` with
 * the status that fits.
 */

import { DistributedError, type ErrorCode } from '../../contracts/errors.js';

/** Codes the HTTP layer itself produces, beside the SDK's {@link ErrorCode}s. */
export type HttpErrorCode =
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'MALFORMED_JSON'
  | 'INVALID_REQUEST'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'TIMEOUT'
  | 'INTERNAL'
  // The governance check of every operation (operation-guard.ts).
  | 'POLICY_DENIED'
  // The keyring routes (routes/keyring.ts).
  | 'UNAUTHORIZED'
  | 'API_TOKEN_NOT_CONFIGURED'
  | 'NO_KEYRING'
  | 'INVALID_KEY_ID'
  | 'INVALID_KEY'
  | 'KEY_ID_CONFLICT'
  | 'KEYRING_FULL'
  | 'UNKNOWN_KEY'
  | 'KEY_IS_PRIMARY'
  | 'KEYRING_NOT_PERSISTED';

/** An error the API answers with, carrying its HTTP status and stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode | ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

// How each SDK error code reads over HTTP. Anything missing is a server fault (500).
const STATUS_BY_CODE: Readonly<Partial<Record<ErrorCode, number>>> = {
  INVALID_ARGUMENT: 400,
  INVALID_POLICY_EXPRESSION: 400,
  UNKNOWN_PEER: 404,
  UNKNOWN_TIER: 404,
  UNKNOWN_DATA_KEY: 404,
  POLICY_NOT_FOUND: 404,
  OBJECT_NOT_FOUND: 404,
  NOT_A_MEMBER: 409,
  POLICY_EXISTS: 409,
  NO_NODES_AVAILABLE: 409,
  RANGE_NOT_SATISFIABLE: 416,
  CAPACITY_EXCEEDED: 507,
  TIER_CAPACITY_EXCEEDED: 507,
  RESOLVER_NOT_REGISTERED: 501,
  NOT_SUPPORTED: 501,
  JOIN_NOT_SUPPORTED: 501,
  NO_ACTUATOR: 501,
  SYNC_UNAVAILABLE: 501,
  NO_REQUEST_HANDLER: 501,
  NO_HEALTHY_NODES: 503,
  CLOSED: 503,
  INTEGRITY_VIOLATION: 500,
  UNAVAILABLE: 503,
  NOT_LEADER: 421,
  ALREADY_JOINED: 409,
};

/** The HTTP status for an SDK error code. */
export function statusForCode(code: ErrorCode): number {
  return STATUS_BY_CODE[code] ?? 500;
}

/** Turns anything thrown by a handler into the error the API answers with. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof DistributedError) {
    return new ApiError(statusForCode(error.code), error.code, error.message);
  }
  // Peer requests that get no answer in time reject with a TimeoutError DOMException.
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return new ApiError(504, 'TIMEOUT', error.message);
  }
  return new ApiError(500, 'INTERNAL', 'internal error; see the agent log');
}
