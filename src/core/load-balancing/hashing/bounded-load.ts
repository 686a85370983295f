/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam,
 * "Consistent Hashing with Bounded Loads", SODA 2018).
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../../contracts/errors.js';
import type { HashRing } from './ring.js';

/**
 * Picks a member for a key so that no member's load exceeds `loadFactor` times
 * its fair share: walks the ring from the key's position (as
 * {@link HashRing.preferred} does) to the first accepted member whose
 * `load + 1 ≤ ceil(loadFactor × (totalLoad + 1) × weight / acceptedWeight)`.
 * With equal weights the capacity is `ceil(loadFactor × (totalLoad + 1) / acceptedMembers)`,
 * the paper's bound: if every placement goes through this function (and
 * `loadOf`/`totalLoad` report the placements), no member ever holds more than
 * `ceil(loadFactor × mean)`.
 *
 * A member under capacity always exists when the loads are consistent (they sum
 * to at most `totalLoad`), because the capacities sum to more than `totalLoad`.
 * When the caller's loads are inconsistent and every accepted member is at
 * capacity, the least-loaded accepted member is returned (the first in ring
 * order among equals), so a non-empty ring always yields a member.
 *
 * Keys keep their ring owner while it has room, so the mapping is as stable as
 * the ring's until load forces keys to walk on.
 *
 * Cost: one ring lookup plus one step per member passed over; with `accept`, an
 * extra O(members) pass to weigh the accepted members. Walks are short when the
 * loads are spread and `loadFactor` is well above 1 (the paper bounds the
 * expected walk by O(1/(c − 1)²) members); when nearly every member is at
 * capacity, for example while the mean load is below 1, a key may walk past many
 * members (O(points) at worst).
 *
 * @param ring - The members, with their weights.
 * @param key - Any string.
 * @param loadFactor - c ≥ 1: how far above its fair share a member may go (1.25 is common).
 * @param loadOf - A member's current load (for example its assigned keys or active requests).
 * @param totalLoad - The current load summed over the members, before this placement.
 * @param accept - Which members may be chosen; all when omitted.
 * @returns The chosen member's id, or `undefined` when the ring is empty or no member is accepted.
 * @throws DistributedError `INVALID_ARGUMENT` when `loadFactor` is not a finite number ≥ 1
 *   or `totalLoad` is not a finite number ≥ 0.
 * @since 2.0.0
 */
export function selectWithBoundedLoad(
  ring: HashRing,
  key: string,
  loadFactor: number,
  loadOf: (id: string) => number,
  totalLoad: number,
  accept?: (id: string) => boolean,
): string | undefined {
  if (!Number.isFinite(loadFactor) || loadFactor < 1) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `selectWithBoundedLoad: loadFactor must be a finite number ≥ 1, got ${String(loadFactor)}`,
    );
  }
  if (!Number.isFinite(totalLoad) || totalLoad < 0) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `selectWithBoundedLoad: totalLoad must be a finite number ≥ 0, got ${String(totalLoad)}`,
    );
  }
  const members = ring.members;
  let acceptedWeight = ring.totalWeight;
  if (accept !== undefined) {
    acceptedWeight = 0;
    for (const member of members) if (accept(member.id)) acceptedWeight += member.weight;
  }
  if (acceptedWeight === 0) return undefined;
  const budget = (loadFactor * (totalLoad + 1)) / acceptedWeight;
  let fallback: string | undefined;
  let fallbackLoad = Infinity;
  const chosen = ring.find(key, (id, memberIndex) => {
    if (accept !== undefined && !accept(id)) return false;
    const load = loadOf(id);
    const weight = members[memberIndex]?.weight ?? 0;
    if (load + 1 <= Math.ceil(budget * weight)) return true;
    if (load < fallbackLoad) {
      fallback = id;
      fallbackLoad = load;
    }
    return false;
  });
  return chosen ?? fallback;
}
