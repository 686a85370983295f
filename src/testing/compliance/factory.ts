/**
 * How compliance suites get a fresh subject for each test.
 *
 * @packageDocumentation
 */

/**
 * A subject under test and how to dispose of it.
 *
 * @since 2.0.0
 */
export interface ComplianceSubject<T> {
  /** The implementation under test, ready to use. */
  readonly subject: T;
  /** Releases what the subject holds (sockets, timers, files). Called after each test. */
  readonly cleanup?: () => Promise<void> | void;
}

/**
 * Makes a fresh subject for one test. Suites call it once per test.
 *
 * @since 2.0.0
 */
export type ComplianceFactory<T> = () => Promise<ComplianceSubject<T>> | ComplianceSubject<T>;

/**
 * Runs `body` against a fresh subject and always cleans up afterwards.
 *
 * @param factory - Makes the subject.
 * @param body - The test.
 * @since 2.0.0
 */
export async function withSubject<T>(
  factory: ComplianceFactory<T>,
  body: (subject: T) => Promise<void> | void,
): Promise<void> {
  const { subject, cleanup } = await factory();
  try {
    await body(subject);
  } finally {
    await cleanup?.();
  }
}
