/**
 * The simulator's trace: every delivered, dropped, duplicated and delayed
 * message, every stream event and every fault, in virtual-time order. The last
 * `capacity` entries are kept (a ring); a running digest covers every entry
 * ever recorded, so two runs can be compared exactly even past the cap.
 *
 * @packageDocumentation
 */

/**
 * What a trace entry records.
 *
 * @since 2.0.0
 */
export type TraceKind =
  | 'deliver'
  | 'drop'
  | 'duplicate'
  | 'delay'
  | 'stream-connect'
  | 'stream-accept'
  | 'stream-refuse'
  | 'stream-data'
  | 'stream-retransmit'
  | 'stream-fin'
  | 'stream-reset'
  | 'stream-timeout'
  | 'start'
  | 'crash'
  | 'pause'
  | 'resume'
  | 'partition'
  | 'heal'
  | 'clock'
  | 'sync'
  | 'failure';

const KIND_CODES: Readonly<Record<TraceKind, number>> = {
  deliver: 1,
  drop: 2,
  duplicate: 3,
  delay: 4,
  'stream-connect': 5,
  'stream-accept': 6,
  'stream-refuse': 7,
  'stream-data': 8,
  'stream-retransmit': 9,
  'stream-fin': 10,
  'stream-reset': 11,
  'stream-timeout': 12,
  start: 13,
  crash: 14,
  pause: 15,
  resume: 16,
  partition: 17,
  heal: 18,
  clock: 19,
  sync: 20,
  failure: 21,
};

/**
 * One trace entry, as returned by {@link SimTrace.entries}.
 *
 * @since 2.0.0
 */
export interface TraceEntry {
  /** Virtual time (ms). */
  readonly timeMs: number;
  /** What happened. */
  readonly kind: TraceKind;
  /** The sending or acting node's id, or `''`. */
  readonly from: string;
  /** The sending port, or `0`. */
  readonly fromPort: number;
  /** The receiving node's id, or `''`. */
  readonly to: string;
  /** The receiving port, or `0`. */
  readonly toPort: number;
  /** Payload size in bytes, or `0`. */
  readonly bytes: number;
  /** Why (drop reasons, fault details), or `''`. */
  readonly note: string;
}

/**
 * The default number of entries kept: enough for a few simulated minutes of a
 * small cluster, about 10 MB at most.
 *
 * @since 2.0.0
 */
export const DEFAULT_TRACE_CAPACITY = 100_000;

/** An entry as stored: node indexes instead of ids, resolved when read. */
interface StoredEntry {
  timeMs: number;
  kind: TraceKind;
  from: number;
  fromPort: number;
  to: number;
  toPort: number;
  bytes: number;
  note: string;
}

function mix(h: number, value: number): number {
  let k = Math.imul(value | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  const x = h ^ k;
  return (Math.imul((x << 13) | (x >>> 19), 5) + 0xe6546b64) | 0;
}

/**
 * A bounded, printable trace with an exact digest.
 *
 * @since 2.0.0
 */
export class SimTrace {
  /** How many entries are kept (the most recent). `0` keeps none but still digests. */
  readonly capacity: number;
  readonly #ring: (StoredEntry | undefined)[];
  readonly #nodeIds: readonly string[];
  #next = 0;
  #total = 0;
  #digest = 0x12345678;

  /**
   * @param capacity - Entries kept; a non-negative integer.
   * @param nodeIds - The simulation's node ids by index (read live, so nodes added later resolve).
   */
  constructor(capacity: number, nodeIds: readonly string[]) {
    this.capacity = capacity;
    this.#ring = new Array<StoredEntry | undefined>(capacity);
    this.#nodeIds = nodeIds;
  }

  /** How many entries were ever recorded (kept or not). */
  get total(): number {
    return this.#total;
  }

  /** How many entries fell off the front because of the cap. */
  get truncated(): number {
    return Math.max(0, this.#total - this.capacity);
  }

  /**
   * A 32-bit digest of every entry ever recorded, as 8 hex digits. Equal runs
   * give equal digests; any difference in any event almost surely changes it.
   */
  get digest(): string {
    return (this.#digest >>> 0).toString(16).padStart(8, '0');
  }

  /**
   * Records one entry. Node arguments are node indexes (`-1` for none).
   *
   * @param timeMs - Virtual time.
   * @param kind - What happened.
   * @param from - Acting/sending node index.
   * @param fromPort - Sending port.
   * @param to - Receiving node index.
   * @param toPort - Receiving port.
   * @param bytes - Payload size.
   * @param note - A short reason, or `''`.
   */
  record(
    timeMs: number,
    kind: TraceKind,
    from: number,
    fromPort: number,
    to: number,
    toPort: number,
    bytes: number,
    note: string,
  ): void {
    let h = this.#digest;
    h = mix(h, KIND_CODES[kind]);
    // Microsecond resolution: float noise below that would only come from a real bug.
    h = mix(h, Math.round(timeMs * 1000));
    h = mix(h, Math.floor(timeMs / 4294967.296));
    h = mix(h, from);
    h = mix(h, fromPort);
    h = mix(h, to);
    h = mix(h, toPort);
    h = mix(h, bytes);
    for (let i = 0; i < note.length; i++) h = mix(h, note.charCodeAt(i));
    this.#digest = h;
    this.#total += 1;
    if (this.capacity === 0) return;
    const slot = this.#ring[this.#next];
    if (slot === undefined) {
      this.#ring[this.#next] = { timeMs, kind, from, fromPort, to, toPort, bytes, note };
    } else {
      // Reuse the evicted entry's object: no allocation once the ring is full.
      slot.timeMs = timeMs;
      slot.kind = kind;
      slot.from = from;
      slot.fromPort = fromPort;
      slot.to = to;
      slot.toPort = toPort;
      slot.bytes = bytes;
      slot.note = note;
    }
    this.#next = this.#next + 1 === this.capacity ? 0 : this.#next + 1;
  }

  /**
   * The kept entries, oldest first.
   *
   * @returns Fresh frozen entries.
   */
  entries(): TraceEntry[] {
    const out: TraceEntry[] = [];
    const kept = Math.min(this.#total, this.capacity);
    const start = this.#total > this.capacity ? this.#next : 0;
    for (let i = 0; i < kept; i++) {
      const stored = this.#ring[(start + i) % this.capacity] as StoredEntry;
      out.push(
        Object.freeze({
          timeMs: stored.timeMs,
          kind: stored.kind,
          from: this.#nodeIds[stored.from] ?? '',
          fromPort: stored.fromPort,
          to: this.#nodeIds[stored.to] ?? '',
          toPort: stored.toPort,
          bytes: stored.bytes,
          note: stored.note,
        }),
      );
    }
    return out;
  }

  /**
   * The kept entries as text, one per line, e.g.
   * `    12.345 deliver        n1:49152 -> n2:7000  64B`.
   *
   * @param limit - At most this many of the most recent entries.
   * @returns The lines joined by `\n`, with a header line when entries were truncated.
   */
  format(limit = Number.POSITIVE_INFINITY): string {
    const all = this.entries();
    const shown = all.slice(Math.max(0, all.length - limit));
    const lines: string[] = [];
    const hidden = this.#total - shown.length;
    if (hidden > 0) lines.push(`... ${hidden} earlier entries not shown`);
    for (const entry of shown) {
      const endpoint = (id: string, port: number): string =>
        id === '' ? '' : port === 0 ? id : `${id}:${port}`;
      const from = endpoint(entry.from, entry.fromPort);
      const to = endpoint(entry.to, entry.toPort);
      const route = to === '' ? from : `${from} -> ${to}`;
      const bytes = entry.bytes > 0 ? `  ${entry.bytes}B` : '';
      const note = entry.note === '' ? '' : `  (${entry.note})`;
      lines.push(
        `${entry.timeMs.toFixed(3).padStart(12)} ${entry.kind.padEnd(17)} ${route}${bytes}${note}`,
      );
    }
    return lines.join('\n');
  }
}
