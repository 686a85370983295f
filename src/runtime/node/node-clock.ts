/**
 * The Node runtime's clock: `Date.now`, `performance.now` and `setTimeout`.
 *
 * @packageDocumentation
 */

import { performance } from 'node:perf_hooks';
import { DistributedError } from '../../contracts/errors.js';
import type { Clock, Timer } from '../runtime.js';
import type { RuntimeErrorHandler } from './error-handler.js';
import { reportRuntimeError } from './error-handler.js';

/**
 * Options of {@link NodeClock}.
 *
 * @since 2.0.0
 */
export interface NodeClockOptions {
  /**
   * Whether a pending timer keeps the Node process alive. Default `true`: a
   * protocol's heartbeat must not be cut short because nothing else is pending.
   * Set `false` when the runtime is embedded in a short-lived program (a CLI
   * command, a test) that should exit once its own work is done, whatever
   * protocol timers are still armed.
   */
  readonly keepAlive?: boolean;
  /**
   * The most timers that may be pending at once; arming one more throws
   * `CAPACITY_EXCEEDED`. Bounds the memory a runaway driver can pin.
   * Default 100,000.
   */
  readonly maxPendingTimers?: number;
  /** Receives exceptions thrown by timer callbacks. Default: printed to standard error. */
  readonly onError?: RuntimeErrorHandler;
}

/** The default of {@link NodeClockOptions.maxPendingTimers}. */
const DEFAULT_MAX_PENDING_TIMERS = 100_000;

// setTimeout clamps longer delays to 1 ms; longer timers are armed in hops.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * A {@link Clock} backed by the host: wall time from `Date.now`, monotonic time
 * from `performance.now`, timers from `setTimeout`.
 *
 * A timer never fires before its delay has passed on the monotonic clock:
 * Node's timer list keeps its own millisecond clock, which can run a fraction of
 * a millisecond ahead of `performance.now`, so an early wake-up is re-armed for
 * the remainder rather than honoured.
 *
 * @since 2.0.0
 */
export class NodeClock implements Clock {
  readonly #keepAlive: boolean;
  readonly #maxPendingTimers: number;
  readonly #onError: RuntimeErrorHandler;
  readonly #pending = new Set<NodeJS.Timeout>();
  #closed = false;

  /**
   * @param options - Timer behaviour and bounds; see {@link NodeClockOptions}.
   * @throws DistributedError `INVALID_ARGUMENT` for an out-of-range bound.
   */
  constructor(options: NodeClockOptions = {}) {
    const maxPendingTimers = options.maxPendingTimers ?? DEFAULT_MAX_PENDING_TIMERS;
    if (!Number.isSafeInteger(maxPendingTimers) || maxPendingTimers < 1) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `maxPendingTimers must be a positive integer, got ${String(maxPendingTimers)}`,
      );
    }
    this.#keepAlive = options.keepAlive ?? true;
    this.#maxPendingTimers = maxPendingTimers;
    this.#onError = options.onError ?? reportRuntimeError;
  }

  /** How many timers are armed and have neither fired nor been cancelled. */
  get pendingTimers(): number {
    return this.#pending.size;
  }

  /** Wall-clock time in epoch milliseconds (`Date.now`). */
  now(): number {
    return Date.now();
  }

  /** Milliseconds since the process started (`performance.now`); never goes backwards. */
  monotonic(): number {
    return performance.now();
  }

  /**
   * Calls `callback` once, no sooner than `delayMs` from now on the monotonic clock.
   *
   * @param delayMs - The delay; negative or `NaN` is treated as zero.
   * @param callback - Called on the event loop; an exception it throws goes to
   *   `onError`.
   * @throws DistributedError `CLOSED` after {@link NodeClock.close};
   *   `CAPACITY_EXCEEDED` when `maxPendingTimers` timers are already pending.
   */
  setTimer(delayMs: number, callback: () => void): Timer {
    if (this.#closed) throw new DistributedError('CLOSED', 'the clock is closed');
    if (this.#pending.size >= this.#maxPendingTimers) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `${this.#maxPendingTimers} timers are already pending (maxPendingTimers)`,
      );
    }
    const delay = delayMs > 0 ? delayMs : 0;
    const due = this.monotonic() + delay;
    let handle: NodeJS.Timeout | undefined;
    const arm = (wait: number): void => {
      handle = setTimeout(fire, Math.min(Math.ceil(wait), MAX_TIMEOUT_MS));
      if (!this.#keepAlive) handle.unref();
      this.#pending.add(handle);
    };
    const fire = (): void => {
      if (handle) this.#pending.delete(handle);
      const remaining = due - this.monotonic();
      if (remaining > 0) {
        arm(remaining);
        return;
      }
      handle = undefined;
      try {
        callback();
      } catch (error) {
        this.#onError(error);
      }
    };
    arm(delay);
    return {
      cancel: () => {
        if (!handle) return;
        clearTimeout(handle);
        this.#pending.delete(handle);
        handle = undefined;
      },
    };
  }

  /** Cancels every pending timer; later {@link NodeClock.setTimer} calls throw `CLOSED`. */
  close(): void {
    this.#closed = true;
    for (const handle of this.#pending) clearTimeout(handle);
    this.#pending.clear();
  }
}
