/**
 * How etcd client failures become the SDK's typed errors.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';

/**
 * Runs one etcd call; a failure of the call (no reachable member, no quorum,
 * a timeout) becomes `UNAVAILABLE`, keeping the client's message.
 *
 * @param what - What was being done, for the message.
 * @param call - The call.
 * @returns What the call returned.
 * @since 2.0.0
 */
export async function etcdCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DistributedError) throw error;
    throw new DistributedError(
      'UNAVAILABLE',
      `etcd: ${what} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
