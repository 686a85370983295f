/**
 * What the periodic sweep does with each open connection: close it when idle,
 * probe it when quiet, fail it when a probe went unanswered.
 *
 * @packageDocumentation
 */

/**
 * The sweep's verdict on one connection:
 * - `keep`: nothing to do;
 * - `close-idle`: no traffic for `idleCloseMs` and nothing in flight: say goodbye and close;
 * - `probe`: nothing received for `keepaliveIntervalMs`: send a keepalive probe;
 * - `unresponsive`: a probe went unanswered for `keepaliveTimeoutMs`: reset it as failed.
 *
 * @since 2.0.0
 */
export type SweepAction = 'keep' | 'close-idle' | 'probe' | 'unresponsive';

/**
 * The timing a sweep applies.
 *
 * @since 2.0.0
 */
export interface SweepLimits {
  /** See `NativeP2PNetworkOptions.idleCloseMs`. */
  readonly idleCloseMs: number;
  /** See `NativeP2PNetworkOptions.keepaliveIntervalMs`. */
  readonly keepaliveIntervalMs: number;
  /** See `NativeP2PNetworkOptions.keepaliveTimeoutMs`. */
  readonly keepaliveTimeoutMs: number;
}

/**
 * The times a sweep looks at, all monotonic milliseconds.
 *
 * @since 2.0.0
 */
export interface SweptConnection {
  /** Last traffic in either direction (keepalives excluded). */
  readonly lastActivity: number;
  /** Last frame received. */
  readonly lastReceived: number;
  /** The unanswered keepalive probe, if any. */
  readonly keepaliveSentAt: number | undefined;
}

/**
 * Decides what to do with one open connection. An unanswered probe wins over
 * idleness, so a dead peer is reported failed rather than closed politely.
 *
 * @param connection - Its activity times.
 * @param now - Monotonic time.
 * @param limits - The timing.
 * @param busy - Whether its peer has queued envelopes or requests in flight
 *   (either way), which keeps it from being closed as idle.
 * @returns The verdict.
 * @since 2.0.0
 */
export function sweepAction(
  connection: SweptConnection,
  now: number,
  limits: SweepLimits,
  busy: boolean,
): SweepAction {
  if (connection.keepaliveSentAt !== undefined) {
    return now - connection.keepaliveSentAt >= limits.keepaliveTimeoutMs ? 'unresponsive' : 'keep';
  }
  if (!busy && now - connection.lastActivity >= limits.idleCloseMs) return 'close-idle';
  if (now - connection.lastReceived >= limits.keepaliveIntervalMs) return 'probe';
  return 'keep';
}

/**
 * How often the sweep runs: often enough that no limit is overshot by more
 * than half of itself, and never more than every 10 ms.
 *
 * @param limits - The timing.
 * @returns The period in milliseconds.
 * @since 2.0.0
 */
export function sweepPeriod(limits: SweepLimits): number {
  return Math.max(
    10,
    Math.floor(
      Math.min(limits.idleCloseMs, limits.keepaliveIntervalMs, limits.keepaliveTimeoutMs) / 2,
    ),
  );
}
