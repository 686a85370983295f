/**
 * The simulator's event queue: a binary min-heap ordered by (time, sequence),
 * so events at the same virtual time run in the order they were scheduled and
 * a run is a pure function of its seed.
 *
 * @packageDocumentation
 */

/**
 * One scheduled event. Kept as a plain class so the hot path allocates one
 * small object per event; cancelled events stay in the heap and are skipped
 * when popped (lazy deletion), with a compaction when they pile up.
 *
 * @since 2.0.0
 */
export class SimEvent {
  /** Virtual time (ms) the event runs at. */
  time: number;
  /** Tie-breaker: the global order in which events were scheduled. */
  seq: number;
  /**
   * Index of the node the event belongs to, or `-1` for network-level events.
   * A paused node's events wait until it resumes.
   */
  readonly node: number;
  /**
   * The node incarnation the event belongs to, or `-1` when it survives a
   * restart (network deliveries, which decide themselves what a crash means).
   */
  readonly incarnation: number;
  /** The work; `null` once cancelled. */
  action: (() => void) | null;
  /**
   * A program timer (`Clock.setTimer`) rather than I/O (a delivery, a storage
   * completion, a stream callback). A resuming node runs its held timers
   * before its held I/O, like Node's timers phase before its poll phase.
   */
  readonly timer: boolean;

  /**
   * @param time - Virtual time (ms).
   * @param seq - Scheduling order.
   * @param node - Owning node index, or `-1`.
   * @param incarnation - Owning incarnation, or `-1`.
   * @param action - The work.
   * @param timer - Whether it is a program timer (default: I/O).
   */
  constructor(
    time: number,
    seq: number,
    node: number,
    incarnation: number,
    action: () => void,
    timer = false,
  ) {
    this.time = time;
    this.seq = seq;
    this.node = node;
    this.incarnation = incarnation;
    this.action = action;
    this.timer = timer;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/**
 * A binary min-heap of {@link SimEvent}s by (time, seq).
 *
 * @since 2.0.0
 */
export class EventQueue {
  readonly #heap: SimEvent[] = [];
  #cancelled = 0;

  /** How many events are queued, cancelled ones included. */
  get size(): number {
    return this.#heap.length;
  }

  /**
   * Adds an event.
   *
   * @param event - The event; its (time, seq) must not change while queued.
   */
  push(event: SimEvent): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as SimEvent;
      if (!before(event, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  /** The earliest event, without removing it. */
  peek(): SimEvent | undefined {
    return this.#heap[0];
  }

  /** Removes and returns the earliest event. */
  pop(): SimEvent | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop() as SimEvent;
    if (heap.length > 0) this.#siftDown(last, 0);
    if (top.action === null && this.#cancelled > 0) this.#cancelled -= 1;
    return top;
  }

  /**
   * Marks an event cancelled (it is skipped when popped). Compacts the heap
   * when more than half of it is cancelled, so a program that sets and cancels
   * many timeouts does not grow the heap without bound.
   *
   * @param event - A queued event.
   */
  cancel(event: SimEvent): void {
    if (event.action === null) return;
    event.action = null;
    this.#cancelled += 1;
    if (this.#cancelled > 1024 && this.#cancelled * 2 > this.#heap.length) this.#compact();
  }

  #siftDown(event: SimEvent, start: number): void {
    const heap = this.#heap;
    const n = heap.length;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      let c = heap[left] as SimEvent;
      if (right < n) {
        const r = heap[right] as SimEvent;
        if (before(r, c)) {
          child = right;
          c = r;
        }
      }
      if (!before(c, event)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = event;
  }

  #compact(): void {
    const live = this.#heap.filter((event) => event.action !== null);
    this.#heap.length = 0;
    this.#cancelled = 0;
    // Re-heapify bottom-up: O(n).
    for (const event of live) this.#heap.push(event);
    for (let i = (live.length >> 1) - 1; i >= 0; i--) {
      this.#siftDown(this.#heap[i] as SimEvent, i);
    }
  }
}
