/**
 * Result records that carry their own failure (`success: false`, `errorCode`)
 * become error responses, so API clients see one error format everywhere.
 */

import type { ErrorCode } from '../../contracts/errors.js';
import { ApiError, statusForCode } from './api-error.js';
import type { ApiResponse } from './router.js';

interface ResultRecord {
  readonly success: boolean;
  readonly errorCode?: ErrorCode;
  readonly errorMessage?: string;
}

/** A successful result is the 200 body; a failed one throws its error. */
export function resultResponse(result: ResultRecord): ApiResponse {
  if (result.success) return { status: 200, body: result };
  const code = result.errorCode ?? 'NOT_SUPPORTED';
  throw new ApiError(statusForCode(code), code, result.errorMessage ?? 'the operation failed');
}
