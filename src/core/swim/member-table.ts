/**
 * The members one SWIM node knows, with their state, and the randomised
 * round-robin probe order: a shuffled list walked in order, reshuffled at the
 * end of every pass, with new members inserted at random positions (so a
 * newcomer is not probed last by everyone, which would stretch the detection
 * bound). Every member is probed once per pass, so the time until a failed
 * member is probed by a given live member is bounded by two passes.
 *
 * @packageDocumentation
 */

import type { SwimMemberStatus } from './messages.js';

/**
 * One member as a SWIM node sees it (a frozen snapshot).
 *
 * @since 2.0.0
 */
export interface SwimMember {
  /** The member's id. */
  readonly nodeId: string;
  /** Its host. */
  readonly host: string;
  /** Its port. */
  readonly port: number;
  /** Its incarnation number: only the member itself raises it, to refute suspicion. */
  readonly incarnation: number;
  /** Its status. */
  readonly status: SwimMemberStatus;
  /** Its metadata. */
  readonly meta: Readonly<Record<string, string>>;
  /** When its status last changed, in this node's monotonic ms. */
  readonly since: number;
}

/**
 * The mutable record behind a {@link SwimMember}.
 *
 * @since 2.0.0
 */
export interface SwimMemberRecord {
  /** See {@link SwimMember.nodeId}. */
  readonly nodeId: string;
  /** See {@link SwimMember.host}. */
  host: string;
  /** See {@link SwimMember.port}. */
  port: number;
  /** See {@link SwimMember.incarnation}. */
  incarnation: number;
  /** See {@link SwimMember.status}; change it through {@link MemberTable.setStatus}. */
  status: SwimMemberStatus;
  /** See {@link SwimMember.meta}. */
  meta: Readonly<Record<string, string>>;
  /** See {@link SwimMember.since}. */
  since: number;
  /** The cached snapshot; cleared on every change. */
  snapshot: SwimMember | undefined;
}

/**
 * The random choices the table needs.
 *
 * @since 2.0.0
 */
export interface SwimRandom {
  /**
   * A uniform integer in [0, `maxExclusive`).
   *
   * @param maxExclusive - A positive integer.
   */
  int(maxExclusive: number): number;
}

/**
 * A frozen snapshot of a record.
 *
 * @param record - The record.
 * @returns The snapshot (cached until the record changes).
 * @since 2.0.0
 */
export function snapshotMember(record: SwimMemberRecord): SwimMember {
  record.snapshot ??= Object.freeze({
    nodeId: record.nodeId,
    host: record.host,
    port: record.port,
    incarnation: record.incarnation,
    status: record.status,
    meta: record.meta,
    since: record.since,
  });
  return record.snapshot;
}

/**
 * The member records and the probe order.
 *
 * @since 2.0.0
 */
export class MemberTable {
  /** The most members held. */
  readonly maxMembers: number;
  readonly #selfId: string;
  readonly #random: SwimRandom;
  readonly #byId = new Map<string, SwimMemberRecord>();
  #order: string[] = [];
  #next = 0;
  #live = 0;

  /**
   * @param selfId - This node's id (never a probe target).
   * @param maxMembers - The most records held.
   * @param random - Shuffles and insert positions.
   */
  constructor(selfId: string, maxMembers: number, random: SwimRandom) {
    this.#selfId = selfId;
    this.maxMembers = maxMembers;
    this.#random = random;
  }

  /** How many members are held (every status, this node included). */
  get size(): number {
    return this.#byId.size;
  }

  /** Members believed alive or suspect, this node included (the N of the timeouts). */
  get liveCount(): number {
    return this.#live;
  }

  /**
   * A record by id.
   *
   * @param nodeId - The id.
   */
  get(nodeId: string): SwimMemberRecord | undefined {
    return this.#byId.get(nodeId);
  }

  /** Every record, in insertion order. */
  values(): IterableIterator<SwimMemberRecord> {
    return this.#byId.values();
  }

  /**
   * Adds a record at a random position of the probe order.
   *
   * @param record - A record whose id is not held yet.
   * @returns `false` when the table is full (nothing changed).
   */
  add(record: SwimMemberRecord): boolean {
    if (this.#byId.has(record.nodeId) || this.#byId.size >= this.maxMembers) return false;
    this.#byId.set(record.nodeId, record);
    if (isSwimLive(record.status)) this.#live += 1;
    const at = this.#random.int(this.#order.length + 1);
    this.#order.splice(at, 0, record.nodeId);
    // Keep the walk where it was: an insert before the cursor shifts the rest.
    if (at < this.#next) this.#next += 1;
    return true;
  }

  /**
   * Forgets a member.
   *
   * @param nodeId - The id.
   * @returns The record removed, if held.
   */
  remove(nodeId: string): SwimMemberRecord | undefined {
    const record = this.#byId.get(nodeId);
    if (record === undefined) return undefined;
    this.#byId.delete(nodeId);
    if (isSwimLive(record.status)) this.#live -= 1;
    const at = this.#order.indexOf(nodeId);
    if (at >= 0) {
      this.#order.splice(at, 1);
      if (at < this.#next) this.#next -= 1;
    }
    return record;
  }

  /**
   * Changes a member's status (keeping the live count right).
   *
   * @param record - A held record.
   * @param status - The new status.
   * @param now - Now (monotonic ms), recorded as `since` when the status changes.
   */
  setStatus(record: SwimMemberRecord, status: SwimMemberStatus, now: number): void {
    if (record.status === status) return;
    this.#live += (isSwimLive(status) ? 1 : 0) - (isSwimLive(record.status) ? 1 : 0);
    record.status = status;
    record.since = now;
    record.snapshot = undefined;
  }

  /**
   * The next member to probe: walks the order, skipping this node and dead or
   * left members; at the end of a pass calls `onPassEnd` (to reap), reshuffles
   * and starts again.
   *
   * @param onPassEnd - Called once per completed pass, before the reshuffle.
   * @returns The member, or `undefined` when no other member is alive or suspect.
   */
  nextProbeTarget(onPassEnd: () => void): SwimMemberRecord | undefined {
    if (this.#live <= 1) {
      if (this.#next >= this.#order.length) this.#endPass(onPassEnd);
      return undefined;
    }
    // Two passes at most: the rest of this one, then a full fresh one.
    for (let scanned = 0; scanned <= 2 * this.#order.length + 1; scanned++) {
      if (this.#next >= this.#order.length) {
        this.#endPass(onPassEnd);
        if (this.#live <= 1) return undefined;
        continue;
      }
      const id = this.#order[this.#next] as string;
      this.#next += 1;
      const record = this.#byId.get(id);
      if (record !== undefined && id !== this.#selfId && isSwimLive(record.status)) return record;
    }
    return undefined;
  }

  #endPass(onPassEnd: () => void): void {
    onPassEnd();
    const order = this.#order;
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.#random.int(i + 1);
      const swap = order[i] as string;
      order[i] = order[j] as string;
      order[j] = swap;
    }
    this.#next = 0;
  }

  /**
   * Up to `count` distinct random members that pass `accept` (never this
   * node), by rejection sampling over the order with at most `3 · size` draws
   * (memberlist's `kRandomNodes`), so it costs O(count) when most members pass.
   *
   * @param count - How many.
   * @param accept - Which members qualify.
   * @returns The members picked.
   */
  randomMembers(count: number, accept: (record: SwimMemberRecord) => boolean): SwimMemberRecord[] {
    const picked: SwimMemberRecord[] = [];
    const order = this.#order;
    if (count <= 0 || order.length === 0) return picked;
    const seen = new Set<string>();
    const draws = 3 * order.length;
    for (let i = 0; i < draws && picked.length < count; i++) {
      const id = order[this.#random.int(order.length)] as string;
      if (id === this.#selfId || seen.has(id)) continue;
      seen.add(id);
      const record = this.#byId.get(id);
      if (record !== undefined && accept(record)) picked.push(record);
    }
    return picked;
  }
}

/**
 * Whether a status counts towards the live members.
 *
 * @param status - The status.
 * @since 2.0.0
 */
export function isSwimLive(status: SwimMemberStatus): boolean {
  return status === 'alive' || status === 'suspect';
}
