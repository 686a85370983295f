/**
 * Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable
 * Software Network Load Balancer", NSDI 2016), with weights.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../../contracts/errors.js';
import { hashString } from './hash.js';
import { assertCount, canonicalMembers, type HashMember } from './members.js';

/**
 * The table size when the caller does not choose and there are at most 655
 * members: the prime 65,537, as in the Maglev paper. With more members the
 * default grows to the smallest prime ≥ 100 × members, because the paper's
 * balance bound needs the table to be much larger than the membership (each
 * member's slot count then differs from the mean by at most about 1%).
 *
 * @since 2.0.0
 */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65_537;

/**
 * The largest table a {@link MaglevTable} may have (16,777,259, the first prime
 * above 2^24: 32 to 64 MiB). A larger explicit `tableSize`, or a membership whose
 * default size would exceed it (more than about 167,000 members), is rejected.
 *
 * @since 2.0.0
 */
export const MAX_MAGLEV_TABLE_SIZE = 16_777_259;

/** Seeds of the two member hashes that define a member's permutation of the table. */
const OFFSET_SEED = 0x6d61676c;
const SKIP_SEED = 0x65762121;

/**
 * How a {@link MaglevTable} is built.
 *
 * @since 2.0.0
 */
export interface MaglevOptions {
  /**
   * The lookup table size: a prime, at least the number of members and at most
   * {@link MAX_MAGLEV_TABLE_SIZE}. Defaults to the larger of
   * {@link DEFAULT_MAGLEV_TABLE_SIZE} and the smallest prime ≥ 100 × members.
   */
  readonly tableSize?: number;
}

/**
 * A Maglev lookup table: a prime number M of slots, each owned by one member,
 * filled so that every member owns a share of slots proportional to its weight
 * (with equal weights, ⌊M/N⌋ or ⌈M/N⌉ slots each), and a key belongs to the
 * owner of slot `hashString(key) mod M`.
 *
 * Each member has a permutation of the slots defined by two hashes of its id
 * (`offset = h1 mod M`, `skip = h2 mod (M − 1) + 1`, slot j = `(offset + j × skip)
 * mod M`); members take turns claiming their next still-empty preferred slot.
 * Weights are honoured by turns: a member of weight w takes w / w_max turns per
 * round (the approach Envoy uses). Members take turns in canonical (id) order,
 * so the table depends only on the set of members.
 *
 * Properties: lookups are one hash and one array read; balance is near-perfect
 * (with equal weights, max/mean slots ≤ 1 + N/M, at most 1.01 at the default
 * sizes); a membership change moves the removed (or
 * added) member's keys plus a small number of others, about 1× to 2× the ideal
 * 1/N in practice (the paper's measurement; the `lb` benchmark reports it).
 *
 * Cost: {@link MaglevTable.build} is O(M log M) for equal weights (the last
 * slots take the longest to find, a coupon-collector effect), and
 * O(M × w_max / w_mean) turns for skewed weights; 1,000 members (M = 100,003)
 * build in milliseconds.
 *
 * @example
 * ```ts
 * const table = MaglevTable.build([{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }]);
 * table.lookup('user:42'); // 'a' or 'b', the same every time
 * ```
 *
 * @since 2.0.0
 */
export class MaglevTable {
  /** The number of members. */
  readonly memberCount: number;
  /** The members, frozen, in canonical order (by id). */
  readonly members: readonly HashMember[];
  /** The number of slots, a prime (0 for an empty table). */
  readonly tableSize: number;
  readonly #ids: readonly string[];
  /** The member index owning each slot. */
  readonly #slots: Uint16Array | Uint32Array;

  private constructor(
    members: readonly HashMember[],
    tableSize: number,
    slots: Uint16Array | Uint32Array,
  ) {
    this.members = members;
    this.memberCount = members.length;
    this.#ids = members.map((member) => member.id);
    this.tableSize = tableSize;
    this.#slots = slots;
  }

  /**
   * Builds a table from members. The result depends only on the set of members
   * (ids and weights), not on the order they are listed in.
   *
   * @param members - The members; ids unique, weights finite and greater than 0. May be empty.
   * @param options - The table size.
   * @returns The table.
   * @throws DistributedError `INVALID_ARGUMENT` for a duplicate id, a weight that is
   *   not a finite number greater than 0, or a table size that is not a prime
   *   between the member count and {@link MAX_MAGLEV_TABLE_SIZE}.
   */
  static build(members: readonly HashMember[], options: MaglevOptions = {}): MaglevTable {
    const canonical = canonicalMembers(members, 'MaglevTable');
    const n = canonical.length;
    const size = options.tableSize ?? Math.max(DEFAULT_MAGLEV_TABLE_SIZE, nextPrime(100 * n));
    if (size > MAX_MAGLEV_TABLE_SIZE) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `MaglevTable: table size ${size} exceeds ${MAX_MAGLEV_TABLE_SIZE} (${n} members)`,
      );
    }
    // The range check comes first so primality is only ever tested on bounded sizes.
    if (!Number.isSafeInteger(size) || size < Math.max(2, n) || !isPrime(size)) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `MaglevTable: tableSize must be a prime of at least ${Math.max(2, n)} (the member count), got ${String(size)}`,
      );
    }
    if (n === 0) return new MaglevTable(canonical, 0, new Uint16Array(0));
    return new MaglevTable(canonical, size, populate(canonical, size));
  }

  /**
   * The member a key belongs to.
   *
   * @param key - Any string.
   * @returns The member's id, or `undefined` only when the table is empty.
   */
  lookup(key: string): string | undefined {
    if (this.memberCount === 0) return undefined;
    return this.#ids[this.#slots[hashString(key) % this.tableSize] ?? 0];
  }

  /**
   * Up to `count` distinct members for a key: the owners of the slots from the
   * key's slot onwards, each member once, skipping members `accept` rejects. The
   * first entry equals {@link MaglevTable.lookup} whenever `accept` takes the
   * owner. A member that owns no slot at all (possible only for a tiny weight
   * beside large ones) comes last, in id order.
   *
   * @param key - Any string.
   * @param count - How many members to return; a non-negative integer.
   * @param accept - Which members may be returned; all when omitted.
   * @returns `min(count, accepted members)` distinct member ids.
   * @throws DistributedError `INVALID_ARGUMENT` when `count` is not a non-negative integer.
   */
  preferred(key: string, count: number, accept?: (id: string) => boolean): string[] {
    assertCount(count, 'MaglevTable');
    const result: string[] = [];
    if (count === 0 || this.memberCount === 0) return result;
    const seen = new Uint8Array(this.memberCount);
    let offered = 0;
    const offer = (member: number): boolean => {
      if (seen[member] === 1) return false;
      seen[member] = 1;
      offered += 1;
      const id = this.#ids[member] ?? '';
      if (accept === undefined || accept(id)) result.push(id);
      return result.length >= count || offered === this.memberCount;
    };
    const size = this.tableSize;
    let slot = hashString(key) % size;
    for (let step = 0; step < size; step += 1) {
      if (offer(this.#slots[slot] ?? 0)) return result;
      slot = slot + 1 === size ? 0 : slot + 1;
    }
    for (let member = 0; member < this.memberCount; member += 1) {
      if (offer(member)) return result;
    }
    return result;
  }

  /**
   * Each member's exact share of the table: its slots divided by the table size.
   * Under a uniform key hash this is the expected fraction of keys it receives.
   *
   * @returns The share of every member, by id.
   */
  shares(): ReadonlyMap<string, number> {
    const owned = new Float64Array(this.memberCount);
    for (const member of this.#slots) owned[member] = (owned[member] ?? 0) + 1;
    const shares = new Map<string, number>();
    this.#ids.forEach((id, m) => shares.set(id, (owned[m] ?? 0) / this.tableSize));
    return shares;
  }
}

/** Fills a table of `size` slots (a prime) from canonical members. */
function populate(members: readonly HashMember[], size: number): Uint16Array | Uint32Array {
  const n = members.length;
  const next = new Uint32Array(n); // each member's next candidate slot
  const skips = new Uint32Array(n);
  const turnsPerRound = new Float64Array(n); // weight / max weight, in (0, 1]
  const nextTurnAt = new Float64Array(n).fill(1); // the round × turnsPerRound that earns the next turn
  const maxWeight = members.reduce((max, member) => Math.max(max, member.weight), 0);
  for (let m = 0; m < n; m += 1) {
    const { id, weight } = members[m] as HashMember;
    next[m] = hashString(id, OFFSET_SEED) % size;
    // 1 ≤ skip ≤ size − 1 is coprime to the prime size, so the walk visits every slot.
    skips[m] = (hashString(id, SKIP_SEED) % (size - 1)) + 1;
    turnsPerRound[m] = weight / maxWeight;
  }
  const empty = 0xffffffff;
  const owners = new Uint32Array(size).fill(empty);
  let filled = 0;
  for (let round = 1; filled < size; round += 1) {
    for (let m = 0; m < n && filled < size; m += 1) {
      if (round * (turnsPerRound[m] ?? 0) < (nextTurnAt[m] ?? 0)) continue;
      nextTurnAt[m] = (nextTurnAt[m] ?? 0) + 1;
      const skip = skips[m] ?? 1;
      let slot = next[m] ?? 0;
      while (owners[slot] !== empty) {
        slot += skip;
        if (slot >= size) slot -= size;
      }
      owners[slot] = m;
      filled += 1;
      slot += skip;
      next[m] = slot >= size ? slot - size : slot;
    }
  }
  return n <= 0x10000 ? Uint16Array.from(owners) : owners;
}

/** Whether a safe integer is prime (trial division; sizes here are below 2^25). */
function isPrime(value: number): boolean {
  if (value < 2) return false;
  if (value % 2 === 0) return value === 2;
  for (let divisor = 3; divisor * divisor <= value; divisor += 2) {
    if (value % divisor === 0) return false;
  }
  return true;
}

/** The smallest prime ≥ `value`. */
function nextPrime(value: number): number {
  let candidate = Math.max(2, Math.ceil(value));
  while (!isPrime(candidate)) candidate += 1;
  return candidate;
}
