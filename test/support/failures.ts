import { DistributedError } from '../../src/contracts/errors.js';

/** The DistributedError a promise rejects with; fails the test when it resolves or throws anything else. */
export async function failureOf(promise: Promise<unknown>): Promise<DistributedError> {
  const failure: unknown = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(failure instanceof DistributedError)) {
    throw new Error(`expected a DistributedError, got ${String(failure)}`);
  }
  return failure;
}
