/**
 * The transmit-limited broadcast queue of SWIM and hashicorp/memberlist: every
 * queued item is handed out a limited number of times, items handed out fewer
 * times first, in batches that fit a byte budget.
 *
 * @packageDocumentation
 */

/**
 * How many times each gossip message is sent (one send = one batch to one
 * peer) in a cluster of `nodeCount` nodes:
 * `max(minTransmits, retransmitMult · ⌈log10(nodeCount + 1)⌉)` — memberlist's
 * formula with a floor.
 *
 * Why: every send lands on a random node, so a node receives a message about
 * L times on average (L = the limit) and misses it with probability about
 * e^(−L); a message misses some node with probability about N·e^(−L). The
 * log10 term (memberlist's, grows slowest, so per-node traffic stays nearly
 * flat as N grows) covers large clusters; the floor covers small ones, where
 * memberlist's 8 sends at 10 nodes would miss a node for about one message in
 * 300. With the defaults (4, 12) the limit is 12 up to 999 nodes and 16 at
 * 1 000–9 999. (λ·log2 N was the alternative; it costs 2–3× the bytes for the
 * same reliability at 1 000 nodes.)
 *
 * @param retransmitMult - The multiplier (memberlist's `RetransmitMult`); a positive integer.
 * @param nodeCount - Nodes in the cluster, this one included; at least 1.
 * @param minTransmits - The floor; default 0 (memberlist's plain formula).
 * @returns The number of sends, at least 1.
 * @since 2.0.0
 */
export function retransmitLimit(
  retransmitMult: number,
  nodeCount: number,
  minTransmits = 0,
): number {
  const scale = Math.ceil(Math.log10(Math.max(1, nodeCount) + 1));
  return Math.max(1, minTransmits, retransmitMult * Math.max(1, scale));
}

/**
 * Options of a {@link TransmitLimitedQueue}.
 *
 * @since 2.0.0
 */
export interface TransmitLimitedQueueOptions {
  /**
   * The most items queued. Overflow policy: enqueueing into a full queue evicts
   * the item sent the most times so far (the one closest to retiring anyway;
   * among equals, the one that reached that count first), so fresh items always
   * get in. Default 1 024.
   */
  readonly maxItems?: number;
}

/** The default of {@link TransmitLimitedQueueOptions.maxItems}. */
const DEFAULT_MAX_ITEMS = 1_024;

interface QueueEntry<T> {
  readonly id: string;
  readonly key: string | undefined;
  readonly item: T;
  readonly bytes: number;
  readonly seq: number;
  transmits: number;
  takenIn: number;
}

/**
 * A bounded queue of items to broadcast, each handed out at most a given
 * number of times. {@link TransmitLimitedQueue.take} picks items sent fewer
 * times first and, among equals, newer first (memberlist's order), so a fresh
 * item overtakes ones that have already spread.
 *
 * @typeParam T - The item type.
 * @since 2.0.0
 */
export class TransmitLimitedQueue<T> {
  /** The most items queued; see {@link TransmitLimitedQueueOptions.maxItems}. */
  readonly maxItems: number;
  // buckets[k] holds the entries sent k times, in the order they got there.
  readonly #buckets: Set<QueueEntry<T>>[] = [];
  readonly #byId = new Map<string, QueueEntry<T>>();
  readonly #byKey = new Map<string, QueueEntry<T>>();
  #seq = 0;
  #takes = 0;

  /**
   * @param options - Bounds.
   * @throws RangeError when `maxItems` is not a positive integer.
   */
  constructor(options: TransmitLimitedQueueOptions = {}) {
    const maxItems = options.maxItems ?? DEFAULT_MAX_ITEMS;
    if (!Number.isSafeInteger(maxItems) || maxItems < 1) {
      throw new RangeError(`maxItems must be a positive integer, got ${String(maxItems)}`);
    }
    this.maxItems = maxItems;
  }

  /** How many items are queued. */
  get size(): number {
    return this.#byId.size;
  }

  /**
   * Whether an item with this id is queued.
   *
   * @param id - The item's id.
   */
  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /**
   * Queues an item, not yet sent. An item already queued under the same `id`,
   * or (when given) the same `key`, is replaced: newer information invalidates
   * older information about the same thing.
   *
   * @param id - The item's unique id.
   * @param item - The item.
   * @param bytes - Its size in a batch, for the byte budget; a positive integer.
   * @param key - What the item is about, when a newer item should replace an older one.
   * @returns The items removed to make room or replaced (for accounting).
   */
  enqueue(id: string, item: T, bytes: number, key?: string): T[] {
    if (!Number.isSafeInteger(bytes) || bytes < 1) {
      throw new RangeError(`bytes must be a positive integer, got ${String(bytes)}`);
    }
    const removed: T[] = [];
    const sameId = this.#byId.get(id);
    if (sameId !== undefined) removed.push(this.#remove(sameId));
    const sameKey = key === undefined ? undefined : this.#byKey.get(key);
    if (sameKey !== undefined) removed.push(this.#remove(sameKey));
    while (this.#byId.size >= this.maxItems) {
      const victim = this.#mostSent();
      if (victim === undefined) break;
      removed.push(this.#remove(victim));
    }
    const entry: QueueEntry<T> = {
      id,
      key,
      item,
      bytes,
      seq: this.#seq++,
      transmits: 0,
      takenIn: -1,
    };
    this.#bucket(0).add(entry);
    this.#byId.set(id, entry);
    if (key !== undefined) this.#byKey.set(key, entry);
    return removed;
  }

  /**
   * Removes an item.
   *
   * @param id - The item's id.
   * @returns Whether it was queued.
   */
  delete(id: string): boolean {
    const entry = this.#byId.get(id);
    if (entry === undefined) return false;
    this.#remove(entry);
    return true;
  }

  /**
   * Hands out items for one send: fewest sends first, newer first among
   * equals, skipping items that do not fit what is left of the budget. Each
   * item handed out counts one send; an item that reaches `transmitLimit`
   * sends leaves the queue (so does one already at or above it, unsent, when
   * the limit has shrunk).
   *
   * @param byteBudget - Bytes available; an item costs `bytes + overheadBytes`.
   * @param transmitLimit - Sends per item; a positive integer (see {@link retransmitLimit}).
   * @param overheadBytes - Extra cost per item, default 0.
   * @returns The items, in the order picked; empty when nothing fits or nothing is queued.
   */
  take(byteBudget: number, transmitLimit: number, overheadBytes = 0): T[] {
    const taken: T[] = [];
    const take = ++this.#takes;
    let left = byteBudget;
    for (let k = 0; k < this.#buckets.length; k++) {
      const bucket = this.#buckets[k];
      if (bucket === undefined || bucket.size === 0) continue;
      // Newest (highest seq) first among items sent equally often.
      const entries = [...bucket].sort((a, b) => b.seq - a.seq);
      for (const entry of entries) {
        if (entry.takenIn === take) continue;
        if (entry.transmits >= transmitLimit) {
          this.#remove(entry);
          continue;
        }
        const cost = entry.bytes + overheadBytes;
        if (cost > left) continue;
        left -= cost;
        taken.push(entry.item);
        entry.takenIn = take;
        bucket.delete(entry);
        entry.transmits += 1;
        if (entry.transmits >= transmitLimit) this.#forget(entry);
        else this.#bucket(entry.transmits).add(entry);
      }
    }
    return taken;
  }

  /**
   * How many times an item has been handed out.
   *
   * @param id - The item's id.
   * @returns The count, or `undefined` when not queued.
   */
  transmits(id: string): number | undefined {
    return this.#byId.get(id)?.transmits;
  }

  /**
   * The queued items, oldest enqueued first.
   *
   * @returns A new array.
   */
  items(): T[] {
    return [...this.#byId.values()].sort((a, b) => a.seq - b.seq).map((entry) => entry.item);
  }

  /** Empties the queue. */
  clear(): void {
    this.#buckets.length = 0;
    this.#byId.clear();
    this.#byKey.clear();
  }

  #bucket(transmits: number): Set<QueueEntry<T>> {
    let bucket = this.#buckets[transmits];
    if (bucket === undefined) {
      for (let k = this.#buckets.length; k < transmits; k++) this.#buckets.push(new Set());
      bucket = new Set();
      this.#buckets[transmits] = bucket;
    }
    return bucket;
  }

  #mostSent(): QueueEntry<T> | undefined {
    for (let k = this.#buckets.length - 1; k >= 0; k--) {
      const first = this.#buckets[k]?.values().next();
      if (first !== undefined && first.done !== true) return first.value;
    }
    return undefined;
  }

  #remove(entry: QueueEntry<T>): T {
    this.#buckets[entry.transmits]?.delete(entry);
    this.#forget(entry);
    return entry.item;
  }

  #forget(entry: QueueEntry<T>): void {
    this.#byId.delete(entry.id);
    if (entry.key !== undefined && this.#byKey.get(entry.key) === entry) {
      this.#byKey.delete(entry.key);
    }
  }
}
