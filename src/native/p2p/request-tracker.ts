/**
 * Requests waiting for their response: correlation ids, one deadline timer for
 * all of them, and cancellation.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import type { Timer } from '../../runtime/runtime.js';

/**
 * What a {@link RequestTracker} needs from its network.
 *
 * @since 2.0.0
 */
export interface RequestTrackerOptions {
  /** How long a request waits for its response, in milliseconds. */
  readonly timeoutMs: number;
  /** The most requests waiting at once. */
  readonly maxPending: number;
  /** Monotonic time, in milliseconds. */
  readonly monotonic: () => number;
  /** Arms a timer (never throws; a closed clock gives a no-op timer). */
  readonly setTimer: (delayMs: number, callback: () => void) => Timer;
}

/** Where {@link captureSettlers} leaves the functions of the promise being made. */
const captured: {
  resolve: (response: Uint8Array) => void;
  reject: (reason: unknown) => void;
} = { resolve: () => undefined, reject: () => undefined };

/**
 * A promise executor made once, not a closure per request: the executor runs
 * synchronously inside `new Promise`, so the settlers are read right after.
 */
function captureSettlers(
  resolve: (response: Uint8Array) => void,
  reject: (reason: unknown) => void,
): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

/** One waiting request. */
class PendingRequest {
  constructor(
    readonly peerId: string,
    readonly correlationId: number,
    readonly deadline: number,
    readonly resolve: (response: Uint8Array) => void,
    readonly reject: (reason: unknown) => void,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** The abort listener, only when the caller passed a signal. */
  onAbort: (() => void) | undefined = undefined;
}

/**
 * Tracks the requests of one network. Every request has the same timeout, so
 * deadlines grow in the order requests are made: the map (which iterates in
 * insertion order) is also the deadline queue, and one timer armed for the
 * oldest deadline serves them all. A request that settles early leaves the
 * timer alone; when it fires with nothing due it re-arms for the new oldest.
 * So a request costs a map entry, not a timer and closures of its own, and no
 * abort listener unless the caller passed a signal.
 *
 * @since 2.0.0
 */
export class RequestTracker {
  readonly #options: RequestTrackerOptions;
  readonly #pending = new Map<number, PendingRequest>();
  /** Requests waiting, per peer, so a busy peer's connection is not closed as idle. */
  readonly #perPeer = new Map<string, number>();
  #nextCorrelationId = 1;
  #timer: Timer | undefined;
  /** The deadline the armed timer fires at. */
  #timerDue = Number.POSITIVE_INFINITY;

  /**
   * @param options - The timeout, the bound, and the clock.
   */
  constructor(options: RequestTrackerOptions) {
    this.#options = options;
  }

  /** How many requests wait. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * How many requests wait for `peerId`'s response.
   *
   * @param peerId - A peer.
   */
  pendingFor(peerId: string): number {
    return this.#perPeer.get(peerId) ?? 0;
  }

  /**
   * Registers a request and returns its correlation id and the promise of its response.
   *
   * @param peerId - Who must answer.
   * @param signal - The caller's cancellation, if any.
   * @throws A {@link DistributedError} `CAPACITY_EXCEEDED` at `maxPending`.
   */
  open(
    peerId: string,
    signal: AbortSignal | undefined,
  ): { correlationId: number; response: Promise<Uint8Array> } {
    if (this.#pending.size >= this.#options.maxPending) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `${this.#pending.size} requests are waiting already (maxPendingRequests)`,
      );
    }
    const correlationId = this.#allocate();
    const deadline = this.#options.monotonic() + this.#options.timeoutMs;
    const response = new Promise<Uint8Array>(captureSettlers);
    const pending = new PendingRequest(
      peerId,
      correlationId,
      deadline,
      captured.resolve,
      captured.reject,
      signal,
    );
    this.#pending.set(correlationId, pending);
    this.#perPeer.set(peerId, this.pendingFor(peerId) + 1);
    if (signal !== undefined) {
      pending.onAbort = () => {
        this.#settle(pending, signal.reason, undefined);
      };
      signal.addEventListener('abort', pending.onAbort, { once: true });
    }
    if (this.#timer === undefined) this.#arm(deadline);
    return { correlationId, response };
  }

  /**
   * Settles a request with its response.
   *
   * @param peerId - Who answered; a response from anyone else is ignored.
   * @param correlationId - The request's id.
   * @param response - The response bytes, owned by the requester from now on.
   * @returns `false` when no such request waits (it settled already: a late response).
   */
  resolve(peerId: string, correlationId: number, response: Uint8Array): boolean {
    const pending = this.#pending.get(correlationId);
    if (pending === undefined || pending.peerId !== peerId) return false;
    this.#settle(pending, undefined, response);
    return true;
  }

  /**
   * Fails a request.
   *
   * @param peerId - Who answered; an answer from anyone else is ignored.
   * @param correlationId - The request's id.
   * @param reason - The rejection.
   * @returns `false` when no such request waits.
   */
  reject(peerId: string, correlationId: number, reason: unknown): boolean {
    const pending = this.#pending.get(correlationId);
    if (pending === undefined || pending.peerId !== peerId) return false;
    this.#settle(pending, reason, undefined);
    return true;
  }

  /**
   * Fails every request waiting for `peerId`.
   *
   * @param peerId - A peer that will not answer.
   * @param reason - Makes the rejection.
   */
  rejectPeer(peerId: string, reason: () => unknown): void {
    if (this.pendingFor(peerId) === 0) return;
    for (const pending of [...this.#pending.values()]) {
      if (pending.peerId === peerId) this.#settle(pending, reason(), undefined);
    }
  }

  /**
   * Fails every waiting request and disarms the timer.
   *
   * @param reason - Makes the rejection.
   */
  rejectAll(reason: () => unknown): void {
    for (const pending of [...this.#pending.values()]) this.#settle(pending, reason(), undefined);
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #settle(pending: PendingRequest, error: unknown, response: Uint8Array | undefined): void {
    if (this.#pending.get(pending.correlationId) !== pending) return;
    this.#pending.delete(pending.correlationId);
    const left = this.pendingFor(pending.peerId) - 1;
    if (left > 0) this.#perPeer.set(pending.peerId, left);
    else this.#perPeer.delete(pending.peerId);
    if (pending.onAbort !== undefined) {
      pending.signal?.removeEventListener('abort', pending.onAbort);
    }
    if (response === undefined) pending.reject(error);
    else pending.resolve(response);
  }

  #arm(deadline: number): void {
    this.#timerDue = deadline;
    this.#timer = this.#options.setTimer(Math.max(0, deadline - this.#options.monotonic()), () => {
      this.#timer = undefined;
      this.#expire();
    });
  }

  /** Times out every request whose deadline passed, then re-arms for the oldest left. */
  #expire(): void {
    const now = this.#options.monotonic();
    // The timer may fire a hair early on a coarse clock: what was due when armed is due now.
    const due = Math.max(now, this.#timerDue);
    for (const pending of this.#pending.values()) {
      if (pending.deadline > due) {
        this.#arm(pending.deadline);
        return;
      }
      this.#settle(
        pending,
        new DOMException(
          `no response from peer '${pending.peerId}' within ${this.#options.timeoutMs} ms`,
          'TimeoutError',
        ),
        undefined,
      );
    }
  }

  #allocate(): number {
    for (;;) {
      const id = this.#nextCorrelationId;
      this.#nextCorrelationId = id >= 0xffff_ffff ? 1 : id + 1;
      if (!this.#pending.has(id)) return id;
    }
  }
}
