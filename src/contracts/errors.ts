/**
 * The error type every contract implementation throws, with a stable code.
 *
 * @packageDocumentation
 */

/**
 * Every stable error code the SDK's contracts and implementations use. Codes
 * never change meaning once released; new codes may be added.
 *
 * @since 2.0.0
 */
export const ERROR_CODES = Object.freeze([
  'INVALID_ARGUMENT',
  'NOT_SUPPORTED',
  'JOIN_NOT_SUPPORTED',
  'NOT_A_MEMBER',
  'NO_NODES_AVAILABLE',
  'NO_HEALTHY_NODES',
  'UNKNOWN_PEER',
  'NO_REQUEST_HANDLER',
  'NO_ACTUATOR',
  'SYNC_UNAVAILABLE',
  'RESOLVER_NOT_REGISTERED',
  'UNKNOWN_TIER',
  'UNKNOWN_DATA_KEY',
  'TIER_CAPACITY_EXCEEDED',
  'CAPACITY_EXCEEDED',
  'POLICY_EXISTS',
  'POLICY_NOT_FOUND',
  'INVALID_POLICY_EXPRESSION',
  'OBJECT_NOT_FOUND',
  'RANGE_NOT_SATISFIABLE',
  'CLOSED',
  'UNAVAILABLE',
  'ALREADY_JOINED',
  'INTEGRITY_VIOLATION',
  'NOT_LEADER',
] as const);

/**
 * A stable error code; see {@link ERROR_CODES}.
 *
 * @since 2.0.0
 */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The error thrown by contract methods when an operation cannot be performed.
 * Callers branch on {@link DistributedError.code}, never on the message.
 *
 * @example
 * ```ts
 * try {
 *   await membership.join(request);
 * } catch (error) {
 *   if (error instanceof DistributedError && error.code === 'JOIN_NOT_SUPPORTED') {
 *     // fall back to single-node operation
 *   }
 * }
 * ```
 *
 * @since 2.0.0
 */
export class DistributedError extends Error {
  /** The stable machine-readable code. */
  readonly code: ErrorCode;

  /**
   * @param code - The stable code.
   * @param message - A human-readable explanation of what went wrong and why.
   * @param options - The underlying cause, if any.
   */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DistributedError';
    this.code = code;
  }
}
