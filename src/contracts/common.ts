/**
 * Building blocks shared by every contract: cancellation options, the event
 * subscription pattern and the contract version.
 *
 * @packageDocumentation
 */

/**
 * The version of the distributed contracts this SDK implements. Every exported
 * declaration carries a matching `@since` tag.
 *
 * @since 2.0.0
 */
export const CONTRACT_VERSION = '2.0.0';

/**
 * Options accepted by every asynchronous contract method.
 *
 * @since 2.0.0
 */
export interface CallOptions {
  /**
   * Cancels the call. When the signal is aborted, the returned promise rejects
   * with the signal's `reason`, and the operation does not report success.
   */
  readonly signal?: AbortSignal;
}

/**
 * A listener for events of type `T`. Listeners are called synchronously, in
 * subscription order; an exception thrown by one listener does not stop the
 * others.
 *
 * @since 2.0.0
 */
export type Listener<T> = (event: T) => void;

/**
 * Returned by every `onX(listener)` subscription. Calling it removes the
 * listener; it is also a `Disposable`, so `using sub = contract.onX(...)` removes
 * the listener at the end of the scope. Calling it more than once is harmless.
 *
 * @since 2.0.0
 */
export interface Unsubscribe {
  /** Removes the listener. */
  (): void;
  /** Removes the listener (the `Disposable` protocol). */
  [Symbol.dispose](): void;
}
