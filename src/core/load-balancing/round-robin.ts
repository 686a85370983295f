/**
 * Round-robin selection as a pure function: which nodes may serve, and which
 * of them is next.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from '../../contracts/cluster-membership.js';
import type { HealthStatus } from '../../contracts/health.js';

/**
 * Why a node may not serve a request, or `undefined` when it may.
 *
 * - A node whose {@link ClusterNode.status} is `dead` is confirmed failed, so it
 *   is excluded whatever its reports say.
 * - A node whose latest health verdict is `unhealthy` is excluded (the contract's rule).
 *
 * `healthy`, `degraded`, or no verdict at all leave the node eligible.
 *
 * @param node - The candidate.
 * @param verdict - The latest health verdict reported for it, if any.
 * @returns A short reason for excluding the node, or `undefined` when it is eligible.
 * @since 2.0.0
 */
export function exclusionReason(
  node: ClusterNode,
  verdict: HealthStatus | undefined,
): string | undefined {
  if (node.status === 'dead') return 'its membership status is dead';
  if (verdict === 'unhealthy') return 'its latest health report is unhealthy';
  return undefined;
}

/**
 * The nodes that may serve a request, in round-robin order: duplicates (same
 * `nodeId`) dropped (the first listing counts), ineligible nodes removed, sorted by `nodeId`.
 *
 * Sorting by id makes the rotation independent of the order in which callers
 * list the nodes, so two callers listing the same nodes differently still share
 * one fair rotation.
 *
 * @param nodes - The candidates.
 * @param verdictOf - The latest health verdict of a node, if any.
 * @returns The eligible nodes, sorted by `nodeId` (code-unit order).
 * @since 2.0.0
 */
export function eligibleNodes(
  nodes: readonly ClusterNode[],
  verdictOf: (nodeId: string) => HealthStatus | undefined,
): ClusterNode[] {
  const seen = new Set<string>();
  const eligible: ClusterNode[] = [];
  for (const node of nodes) {
    // The first listing of an id decides: a later duplicate cannot revive an excluded node.
    if (seen.has(node.nodeId)) continue;
    seen.add(node.nodeId);
    if (exclusionReason(node, verdictOf(node.nodeId)) === undefined) eligible.push(node);
  }
  return eligible.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
}

/**
 * Picks the node at position `counter` of a rotation over `eligible`.
 *
 * Calling it with `counter` = 0, 1, 2, … over an unchanging list picks each node
 * exactly `k` times in any `k × eligible.length` consecutive picks. When the list
 * changes, the rotation simply continues over the new list: no node is favoured
 * for longer than one round.
 *
 * @param eligible - The nodes to rotate over; must not be empty.
 * @param counter - How many picks were made before this one; a non-negative integer.
 * @returns The chosen node.
 * @throws RangeError when `eligible` is empty or `counter` is not a non-negative integer.
 * @since 2.0.0
 */
export function roundRobinPick<T>(eligible: readonly T[], counter: number): T {
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new RangeError(`counter must be a non-negative integer, got ${counter}`);
  }
  const chosen = eligible[counter % eligible.length];
  if (chosen === undefined) throw new RangeError('cannot pick from an empty list');
  return chosen;
}
