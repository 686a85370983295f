/**
 * Where the Node runtime sends errors that have no caller to receive them.
 *
 * @packageDocumentation
 */

/**
 * Receives an error no caller can receive: an exception thrown by a callback
 * the runtime called (a timer, a datagram or connection handler, a stream
 * listener), or an asynchronous I/O failure (a datagram that could not be sent,
 * an error on a listening socket). The runtime never swallows such an error and
 * never lets it crash the process or stop other callbacks.
 *
 * @since 2.0.0
 */
export type RuntimeErrorHandler = (error: unknown) => void;

/**
 * The default {@link RuntimeErrorHandler}: prints to standard error, so the
 * error is reported, never lost.
 *
 * @param error - What went wrong.
 * @since 2.0.0
 */
export function reportRuntimeError(error: unknown): void {
  console.error('node runtime:', error);
}
