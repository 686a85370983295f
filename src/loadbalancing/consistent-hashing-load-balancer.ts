/**
 * Consistent hashing over the candidates: a ring with virtual nodes, a Maglev
 * table, or a ring with bounded loads. The hashing structures are Helper A's
 * pure core classes; this file caches them per membership and adds health.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from '../contracts/cluster-membership.js';
import { DistributedError } from '../contracts/errors.js';
import type { LoadBalancerContext } from '../contracts/load-balancer.js';
import { selectWithBoundedLoad } from '../core/load-balancing/hashing/bounded-load.js';
import { MaglevTable } from '../core/load-balancing/hashing/maglev.js';
import { HashRing, type HashMember } from '../core/load-balancing/hashing/ring.js';
import type { PoolView } from './node-pool.js';
import { at, PooledLoadBalancer, type PooledLoadBalancerOptions } from './pooled-load-balancer.js';

/**
 * The consistent-hashing variants.
 *
 * - `ring`: a hash ring with virtual nodes (per unit of weight).
 * - `maglev`: Google's Maglev lookup table (prime size, weighted); O(1) lookups
 *   and near-perfect balance, at about twice the ideal disruption on churn.
 * - `bounded-load`: the ring, but no node takes more than
 *   `ceil(loadFactor × (in flight + 1) / nodes)` requests in flight; a key whose
 *   node is full walks on along the ring (Mirrokni et al., as in HAProxy/Envoy).
 *
 * @since 2.0.0
 */
export type ConsistentHashingVariant = 'ring' | 'maglev' | 'bounded-load';

/**
 * Every {@link ConsistentHashingVariant}.
 *
 * @since 2.0.0
 */
export const CONSISTENT_HASHING_VARIANTS: readonly ConsistentHashingVariant[] = Object.freeze([
  'ring',
  'maglev',
  'bounded-load',
]);

/**
 * Options of {@link ConsistentHashingLoadBalancer}.
 *
 * @since 2.0.0
 */
export interface ConsistentHashingLoadBalancerOptions extends PooledLoadBalancerOptions {
  /** The variant; defaults to `ring`. */
  readonly variant?: ConsistentHashingVariant;
  /** Ring points per unit of weight (`ring`, `bounded-load`); the ring's own default when omitted. */
  readonly virtualNodesPerWeight?: number;
  /** The Maglev table size, a prime (`maglev`); the table's own default when omitted. */
  readonly tableSize?: number;
  /** The bound factor c ≥ 1 of `bounded-load`; defaults to 1.25. */
  readonly loadFactor?: number;
}

/** A structure built for one membership. */
interface Built {
  readonly signature: string;
  readonly ring: HashRing | undefined;
  readonly table: MaglevTable | undefined;
}

/**
 * The same request key goes to the same node while the candidates are the same.
 *
 * The ring or table is built over every distinct candidate (whatever its
 * health), with weights from `NodePoolOptions.weights` or `metadata.weight`,
 * and cached by a signature of the ids and weights: repeated selections over the
 * same membership never rebuild, and a health change never rebuilds either.
 * An ineligible node (not `active`, unhealthy, ejected) is skipped by walking on
 * from the key's position to the next eligible node, so only that node's keys
 * move, and they return when it recovers. Slow start does not apply.
 *
 * A membership change rebuilds the structure on the next selection; the cost is
 * reported by `npm run bench -- lb` (`rebuild` rows).
 *
 * @since 2.0.0
 */
export class ConsistentHashingLoadBalancer extends PooledLoadBalancer {
  /** Always `consistent-hashing`. */
  readonly algorithm = 'consistent-hashing';
  /** `consistent-hashing/ring`, `consistent-hashing/maglev` or `consistent-hashing/bounded-load`. */
  readonly algorithmName: string;
  /** The variant. */
  readonly variant: ConsistentHashingVariant;
  /** The bound factor of `bounded-load`. */
  readonly loadFactor: number;
  readonly #virtualNodesPerWeight: number | undefined;
  readonly #tableSize: number | undefined;
  #built: Built | undefined;
  #view: PoolView | undefined;
  #byId = new Map<string, ClusterNode>();

  /**
   * @param options - Pool options, the random source (unused), the variant and its sizes.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for an unknown variant or `loadFactor` < 1.
   */
  constructor(options: ConsistentHashingLoadBalancerOptions = {}) {
    super(options);
    const variant: unknown = options.variant ?? 'ring';
    if (!CONSISTENT_HASHING_VARIANTS.includes(variant as ConsistentHashingVariant)) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `consistent-hashing variant must be one of ${CONSISTENT_HASHING_VARIANTS.join(', ')}, got ${String(variant)}`,
      );
    }
    this.variant = variant as ConsistentHashingVariant;
    this.loadFactor = options.loadFactor ?? 1.25;
    if (!(this.loadFactor >= 1) || !Number.isFinite(this.loadFactor)) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `loadFactor must be a finite number ≥ 1, got ${String(options.loadFactor)}`,
      );
    }
    this.#virtualNodesPerWeight = options.virtualNodesPerWeight;
    this.#tableSize = options.tableSize;
    this.algorithmName = `consistent-hashing/${this.variant}`;
  }

  /**
   * The first `count` distinct eligible nodes in the key's preference order
   * (ring order, or the Maglev permutation order), for replica placement: the
   * first is the node {@link ConsistentHashingLoadBalancer.selectNode} picks when
   * loads do not intervene. Ineligible nodes are skipped as in selection; when
   * fewer than `count` nodes are eligible, fewer are returned.
   *
   * @param context - The key and the candidates.
   * @param count - How many nodes; a non-negative integer.
   * @returns Distinct nodes of `context.availableNodes`.
   * @throws A {@link DistributedError}: `NO_NODES_AVAILABLE` for an empty list;
   *   `INVALID_ARGUMENT` for a bad count.
   */
  preferredNodes(context: LoadBalancerContext, count: number): ClusterNode[] {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `count must be a non-negative integer, got ${String(count)}`,
      );
    }
    const nodes: unknown = context.availableNodes;
    if (!Array.isArray(nodes)) {
      throw new DistributedError('INVALID_ARGUMENT', 'context.availableNodes must be an array');
    }
    if (nodes.length === 0) {
      throw new DistributedError(
        'NO_NODES_AVAILABLE',
        'no nodes to choose from: context.availableNodes is empty',
      );
    }
    const view = this.pool.view(context.availableNodes, this.pool.now());
    const built = this.#structure(view);
    const structure = built.table ?? (built.ring as HashRing);
    return structure
      .preferred(context.requestKey, count, view.accept)
      .map((id) => this.#byId.get(id) as ClusterNode);
  }

  /**
   * @param view - The candidates.
   * @param context - The request key.
   * @returns The key's node.
   */
  protected pick(view: PoolView, context: LoadBalancerContext): ClusterNode {
    const built = this.#structure(view);
    const key = context.requestKey;
    const accept = view.accept;
    let id: string | undefined;
    if (built.table !== undefined) {
      id =
        accept === undefined ? built.table.lookup(key) : built.table.preferred(key, 1, accept)[0];
    } else {
      const ring = built.ring as HashRing;
      if (this.variant === 'bounded-load') {
        const pool = this.pool;
        id = selectWithBoundedLoad(
          ring,
          key,
          this.loadFactor,
          (nodeId) => pool.activeRequests(nodeId),
          pool.totalActive,
          accept,
        );
      } else {
        id = accept === undefined ? ring.lookup(key) : ring.preferred(key, 1, accept)[0];
      }
    }
    // Every candidate is in the structure, so the lookup always finds one; the
    // fallback only guards the contract's promise never to throw.
    return (id === undefined ? undefined : this.#byId.get(id)) ?? at(view.candidates, 0);
  }

  #structure(view: PoolView): Built {
    const built = this.#built;
    if (built !== undefined && this.#view === view) return built;
    this.#view = view;
    this.#byId = new Map(view.all.map((node) => [node.nodeId, node]));
    if (built !== undefined && built.signature === view.membershipSignature) return built;
    const members: HashMember[] = view.all.map((node, index) => ({
      id: node.nodeId,
      weight: at(view.configuredWeights, index),
    }));
    const next: Built =
      this.variant === 'maglev'
        ? {
            signature: view.membershipSignature,
            ring: undefined,
            table: MaglevTable.build(
              members,
              this.#tableSize === undefined ? {} : { tableSize: this.#tableSize },
            ),
          }
        : {
            signature: view.membershipSignature,
            ring: HashRing.build(
              members,
              this.#virtualNodesPerWeight === undefined
                ? {}
                : { virtualNodesPerWeight: this.#virtualNodesPerWeight },
            ),
            table: undefined,
          };
    this.#built = next;
    return next;
  }
}
