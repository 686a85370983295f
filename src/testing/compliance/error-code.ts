/**
 * How the compliance suites read the stable code of a failure.
 *
 * @packageDocumentation
 */

import { DistributedError, type ErrorCode } from '../../contracts/errors.js';

/** What a call ended with: a {@link DistributedError} code, or why there is none. */
export type Outcome = ErrorCode | 'no error' | 'not a DistributedError';

/**
 * The code a promise rejects with, so a test can say `expect(...).toBe('UNKNOWN_PEER')`
 * and see, on failure, whether the call succeeded or threw something untyped.
 */
export async function rejectionCode(promise: Promise<unknown>): Promise<Outcome> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    return error instanceof DistributedError ? error.code : 'not a DistributedError';
  }
}

/** The code a synchronous call throws with; see {@link rejectionCode}. */
export function thrownCode(action: () => unknown): Outcome {
  try {
    action();
    return 'no error';
  } catch (error) {
    return error instanceof DistributedError ? error.code : 'not a DistributedError';
  }
}
