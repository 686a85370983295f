/**
 * Raft's durable state in one {@link DurableStore}: the hard state, the latest
 * snapshot and the log entries after it, one key each.
 *
 * Keys: `hs` (term, vote, commit), `snap` (the snapshot), `e/<index, 16
 * digits>` (one entry; zero-padded so key order is index order).
 *
 * Nothing here syncs: the driver calls `sync()` once per Ready, after every
 * write of that Ready, and before sending any message of it. The store keeps
 * writes in order and a sync makes every earlier write durable at once (the
 * simulator keeps exactly the synced prefix; SQLite commits one transaction
 * per sync), so a crash never leaves a half-written Ready.
 *
 * @packageDocumentation
 */

import {
  decodeRaftEntry,
  decodeRaftHardState,
  decodeRaftSnapshot,
  encodeRaftEntry,
  encodeRaftHardState,
  encodeRaftSnapshot,
} from '../../core/raft/message-codec.js';
import type { RaftEntry, RaftHardState, RaftReady, RaftSnapshot } from '../../core/raft/types.js';
import type { DurableStore } from '../../runtime/runtime.js';

const HARD_STATE_KEY = 'hs';
const SNAPSHOT_KEY = 'snap';
const ENTRY_PREFIX = 'e/';

function entryKey(index: number): string {
  return `${ENTRY_PREFIX}${String(index).padStart(16, '0')}`;
}

/**
 * What a restarting node reads back.
 *
 * @since 2.0.0
 */
export interface RaftDurableState {
  /** The hard state, when any was persisted. */
  readonly hardState?: RaftHardState;
  /** The latest snapshot, when any. */
  readonly snapshot?: RaftSnapshot;
  /** Consecutive entries after the snapshot. */
  readonly entries: readonly RaftEntry[];
}

/**
 * Reads and writes Raft's durable state.
 *
 * @since 2.0.0
 */
export class RaftStorage {
  readonly #store: DurableStore;
  #firstIndex = 1;
  #lastIndex = 0;

  /** @param store - The node's Raft store (not shared with anything else). */
  constructor(store: DurableStore) {
    this.#store = store;
  }

  /** The underlying store (for `sync`). */
  get store(): DurableStore {
    return this.#store;
  }

  /**
   * Loads what survived. Entries that do not follow the snapshot
   * consecutively (left over from an interrupted compaction) are ignored.
   *
   * @returns The durable state.
   * @throws WireError when a stored record is corrupt (the node must not guess).
   */
  load(): RaftDurableState {
    const hsBytes = this.#store.get(HARD_STATE_KEY);
    const snapBytes = this.#store.get(SNAPSHOT_KEY);
    const hardState = hsBytes === undefined ? undefined : decodeRaftHardState(hsBytes);
    const snapshot = snapBytes === undefined ? undefined : decodeRaftSnapshot(snapBytes);
    const snapIndex = snapshot?.meta.index ?? 0;
    const entries: RaftEntry[] = [];
    const keys = this.#store.keys(ENTRY_PREFIX);
    this.#firstIndex = snapIndex + 1;
    for (const key of keys) {
      const bytes = this.#store.get(key);
      if (bytes === undefined) continue;
      const entry = decodeRaftEntry(bytes);
      if (entry.index <= snapIndex) continue;
      if (entry.index !== snapIndex + entries.length + 1) break;
      entries.push(entry);
    }
    // Keys below the snapshot are garbage of an interrupted compaction.
    const firstKey = keys[0];
    if (firstKey !== undefined) this.#firstIndex = Math.min(this.#firstIndex, indexOf(firstKey));
    this.#lastIndex = Math.max(snapIndex, snapIndex + entries.length, lastKeyIndex(keys));
    return Object.freeze({
      ...(hardState === undefined ? {} : { hardState }),
      ...(snapshot === undefined ? {} : { snapshot }),
      entries: Object.freeze(entries),
    });
  }

  /**
   * Writes a Ready's durable part, in the order that keeps every prefix
   * consistent: snapshot, then entries, then hard state. Does not sync.
   *
   * @param ready - The Ready.
   * @returns True when anything was written (a sync is needed).
   */
  write(ready: RaftReady): boolean {
    let wrote = false;
    if (ready.snapshot !== undefined) {
      this.#store.put(SNAPSHOT_KEY, encodeRaftSnapshot(ready.snapshot));
      this.#deleteRange(this.#firstIndex, this.#lastIndex);
      this.#firstIndex = ready.snapshot.meta.index + 1;
      this.#lastIndex = ready.snapshot.meta.index;
      wrote = true;
    }
    const first = ready.entries[0];
    if (first !== undefined) {
      const last = ready.entries.at(-1)?.index ?? first.index;
      // Entries after the new last one are a conflicting suffix: drop them.
      this.#deleteRange(last + 1, this.#lastIndex);
      for (const entry of ready.entries)
        this.#store.put(entryKey(entry.index), encodeRaftEntry(entry));
      this.#lastIndex = last;
      wrote = true;
    }
    if (ready.hardState !== undefined) {
      this.#store.put(HARD_STATE_KEY, encodeRaftHardState(ready.hardState));
      wrote = true;
    }
    return wrote;
  }

  /**
   * Writes a snapshot the node took itself. Call {@link RaftStorage.dropCompacted}
   * only after a sync made it durable.
   *
   * @param snapshot - The snapshot.
   */
  writeSnapshot(snapshot: RaftSnapshot): void {
    this.#store.put(SNAPSHOT_KEY, encodeRaftSnapshot(snapshot));
  }

  /**
   * Deletes entries up to `index` (covered by a durable snapshot).
   *
   * @param index - The snapshot's index.
   */
  dropCompacted(index: number): void {
    const upTo = Math.min(index, this.#lastIndex);
    this.#deleteRange(this.#firstIndex, upTo);
    this.#firstIndex = Math.max(this.#firstIndex, upTo + 1);
  }

  #deleteRange(from: number, to: number): void {
    for (let i = from; i <= to; i++) this.#store.delete(entryKey(i));
  }
}

function indexOf(key: string): number {
  return Number(key.slice(ENTRY_PREFIX.length));
}

function lastKeyIndex(keys: readonly string[]): number {
  const last = keys.at(-1);
  return last === undefined ? 0 : indexOf(last);
}
