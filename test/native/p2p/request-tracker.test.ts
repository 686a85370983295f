import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import { RequestTracker } from '../../../src/native/p2p/request-tracker.js';

/** A tracker on a hand-driven clock: `advance` fires due timers in order. */
function tracker(options: { timeoutMs?: number; maxPending?: number } = {}) {
  let now = 0;
  let armed = 0;
  const timers: { due: number; callback: () => void; cancelled: boolean }[] = [];
  const requests = new RequestTracker({
    timeoutMs: options.timeoutMs ?? 100,
    maxPending: options.maxPending ?? 10,
    monotonic: () => now,
    setTimer: (delayMs, callback) => {
      armed += 1;
      const timer = { due: now + delayMs, callback, cancelled: false };
      timers.push(timer);
      return {
        cancel: () => {
          timer.cancelled = true;
        },
      };
    },
  });
  const advance = (ms: number): void => {
    const until = now + ms;
    for (;;) {
      const next = timers
        .filter((timer) => !timer.cancelled && timer.due <= until)
        .sort((x, y) => x.due - y.due)[0];
      if (next === undefined) break;
      now = next.due;
      next.cancelled = true;
      next.callback();
    }
    now = until;
  };
  return { requests, advance, armed: () => armed };
}

async function outcome(promise: Promise<Uint8Array>): Promise<string> {
  return promise.then(
    (bytes) => `resolved ${[...bytes].join(',')}`,
    (error: unknown) =>
      error instanceof DOMException
        ? error.name
        : error instanceof DistributedError
          ? error.code
          : String(error),
  );
}

describe('RequestTracker', () => {
  it('times every request out at its own deadline with one timer for all', async () => {
    const t = tracker();
    const first = t.requests.open('p', undefined);
    t.advance(30);
    const second = t.requests.open('p', undefined);
    t.advance(30);
    const third = t.requests.open('q', undefined);
    expect(t.armed()).toBe(1);
    t.advance(40); // first is due at 100
    expect(t.requests.size).toBe(2);
    t.advance(30); // second at 130
    expect(t.requests.size).toBe(1);
    expect(t.requests.resolve('q', third.correlationId, new Uint8Array([7]))).toBe(true);
    t.advance(1_000);
    expect(await outcome(first.response)).toBe('TimeoutError');
    expect(await outcome(second.response)).toBe('TimeoutError');
    expect(await outcome(third.response)).toBe('resolved 7');
    expect(t.requests.size).toBe(0);
  });

  it('ignores answers from the wrong peer and late ones', async () => {
    const t = tracker();
    const request = t.requests.open('p', undefined);
    expect(t.requests.resolve('q', request.correlationId, new Uint8Array([1]))).toBe(false);
    expect(t.requests.pendingFor('p')).toBe(1);
    expect(t.requests.reject('p', request.correlationId, new Error('no'))).toBe(true);
    expect(t.requests.resolve('p', request.correlationId, new Uint8Array([1]))).toBe(false);
    expect(await outcome(request.response)).toBe('Error: no');
    expect(t.requests.pendingFor('p')).toBe(0);
  });

  it('rejects with the signal reason on abort, and only listens when given a signal', async () => {
    const t = tracker();
    const controller = new AbortController();
    const request = t.requests.open('p', controller.signal);
    controller.abort(new DistributedError('CLOSED', 'stop'));
    expect(await outcome(request.response)).toBe('CLOSED');
    expect(t.requests.size).toBe(0);
  });

  it('is bounded by maxPending, and rejectPeer / rejectAll fail what waits', async () => {
    const t = tracker({ maxPending: 2 });
    const a = t.requests.open('p', undefined);
    const b = t.requests.open('q', undefined);
    expect(() => t.requests.open('p', undefined)).toThrow(DistributedError);
    t.requests.rejectPeer('p', () => new DistributedError('UNKNOWN_PEER', 'lost'));
    expect(await outcome(a.response)).toBe('UNKNOWN_PEER');
    expect(t.requests.size).toBe(1);
    t.requests.rejectAll(() => new DistributedError('CLOSED', 'closed'));
    expect(await outcome(b.response)).toBe('CLOSED');
    expect(a.correlationId).not.toBe(b.correlationId);
  });
});
