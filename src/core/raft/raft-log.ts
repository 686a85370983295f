/**
 * The in-memory Raft log: the entries after the latest snapshot, with the
 * snapshot's index and term standing in for everything before.
 *
 * @packageDocumentation
 */

import type { RaftEntry } from './types.js';

/**
 * A log whose first entry follows a snapshot point (0 when there is none).
 *
 * @since 2.0.0
 */
export class RaftLog {
  #snapIndex = 0;
  #snapTerm = 0;
  // entries[i] has index snapIndex + 1 + i.
  #entries: RaftEntry[] = [];

  /**
   * @param snapIndex - The snapshot point.
   * @param snapTerm - Its term.
   * @param entries - Entries from `snapIndex + 1`, consecutive.
   */
  constructor(snapIndex = 0, snapTerm = 0, entries: readonly RaftEntry[] = []) {
    this.#snapIndex = snapIndex;
    this.#snapTerm = snapTerm;
    let expected = snapIndex + 1;
    for (const entry of entries) {
      if (entry.index !== expected) break;
      this.#entries.push(entry);
      expected++;
    }
  }

  /** The snapshot point. */
  get snapshotIndex(): number {
    return this.#snapIndex;
  }

  /** The snapshot point's term. */
  get snapshotTerm(): number {
    return this.#snapTerm;
  }

  /** The first index held as an entry. */
  get firstIndex(): number {
    return this.#snapIndex + 1;
  }

  /** The last index (the snapshot point when no entry follows it). */
  get lastIndex(): number {
    return this.#snapIndex + this.#entries.length;
  }

  /** The last index's term. */
  get lastTerm(): number {
    return this.termAt(this.lastIndex) ?? 0;
  }

  /**
   * The term at `index`.
   *
   * @param index - An index.
   * @returns Its term, or `undefined` when compacted away or beyond the end.
   */
  termAt(index: number): number | undefined {
    if (index === this.#snapIndex) return this.#snapTerm;
    if (index < this.#snapIndex || index > this.lastIndex) return undefined;
    return this.#entries[index - this.#snapIndex - 1]?.term;
  }

  /**
   * The entry at `index`.
   *
   * @param index - An index.
   * @returns The entry, or `undefined` when not held.
   */
  entry(index: number): RaftEntry | undefined {
    if (index <= this.#snapIndex) return undefined;
    return this.#entries[index - this.#snapIndex - 1];
  }

  /**
   * Entries `from`..`to` inclusive, stopping once `maxBytes` of data is
   * reached (always at least one entry when any is asked for).
   *
   * @param from - First index (must be held).
   * @param to - Last index.
   * @param maxBytes - Data byte budget.
   * @returns The entries.
   */
  slice(from: number, to: number, maxBytes = Number.POSITIVE_INFINITY): RaftEntry[] {
    const out: RaftEntry[] = [];
    let bytes = 0;
    for (let i = Math.max(from, this.firstIndex); i <= Math.min(to, this.lastIndex); i++) {
      const entry = this.entry(i);
      if (entry === undefined) break;
      bytes += entry.data.length + 32;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  /**
   * Appends entries, first dropping every entry at or after the first one's index.
   *
   * @param entries - Consecutive entries starting at most at `lastIndex + 1`
   *   and after the snapshot point.
   */
  append(entries: readonly RaftEntry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    if (first.index <= this.#snapIndex || first.index > this.lastIndex + 1) {
      throw new RangeError(
        `append at ${first.index} outside ${this.#snapIndex + 1}..${this.lastIndex + 1}`,
      );
    }
    this.#entries.length = first.index - this.#snapIndex - 1;
    for (const entry of entries) this.#entries.push(entry);
  }

  /**
   * Forgets entries up to `index` (now covered by a snapshot).
   *
   * @param index - The new snapshot point; at most `lastIndex`.
   * @param term - Its term.
   */
  compact(index: number, term: number): void {
    if (index <= this.#snapIndex) return;
    this.#entries.splice(0, Math.min(index - this.#snapIndex, this.#entries.length));
    this.#snapIndex = index;
    this.#snapTerm = term;
  }

  /**
   * Replaces the whole log by a snapshot point (a snapshot was installed).
   *
   * @param index - The snapshot's index.
   * @param term - Its term.
   */
  reset(index: number, term: number): void {
    this.#entries = [];
    this.#snapIndex = index;
    this.#snapTerm = term;
  }

  /**
   * Whether a candidate's log is at least as up to date as this one (§5.4.1).
   *
   * @param lastIndex - The candidate's last index.
   * @param lastTerm - The candidate's last term.
   * @returns True when it is.
   */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm;
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex);
  }

  /**
   * The largest index at or below `index` whose term is at most `term`: the
   * fast-backoff hint (every entry after it conflicts with a log whose entry
   * at `index` has term `term`).
   *
   * @param index - Where to start.
   * @param term - The term to compare with.
   * @returns The index and its term (`0` when unknown).
   */
  findConflictByTerm(
    index: number,
    term: number,
  ): {
    /** The index found. */
    index: number;
    /** Its term (`0` when unknown). */
    term: number;
  } {
    let i = Math.min(index, this.lastIndex);
    for (; i > this.#snapIndex; i--) {
      const t = this.termAt(i) ?? 0;
      if (t <= term) return { index: i, term: t };
    }
    return { index: this.#snapIndex, term: this.#snapTerm <= term ? this.#snapTerm : 0 };
  }
}
