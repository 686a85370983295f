/**
 * Strategy throughput for `npm run bench -- lb`: selections per second of every
 * strategy through `selectNode`, at 10, 100 and 1,000 nodes, over distinct
 * random string keys; and the cost of rebuilding a consistent-hashing
 * structure after a membership change.
 */

import type { ClusterNode } from '../../src/contracts/cluster-membership.js';
import { createLoadBalancer } from '../../src/loadbalancing/factory.js';
import { measureRate, type BenchOptions, type BenchRow } from '../harness.js';

/** The strategies measured, by factory name. */
const STRATEGIES = [
  'round-robin',
  'weighted-round-robin',
  'random',
  'weighted-random',
  'least-connections',
  'latency-based',
  'peak-ewma',
  'ring-hash',
  'maglev',
  'bounded-load',
  'resource-aware',
  'adaptive',
] as const;

const NODE_COUNTS = [10, 100, 1000] as const;

/** A seeded PRNG (mulberry32), uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct random keys of 12–20 base-36 characters, from a fixed seed. */
export function randomKeys(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const keys = new Set<string>();
  while (keys.size < count) {
    let key = 'k:';
    const length = 12 + Math.floor(random() * 9);
    for (let i = 0; i < length; i += 1) key += Math.floor(random() * 36).toString(36);
    keys.add(key);
  }
  return [...keys];
}

/** `count` active cluster nodes with weights 1–3 in metadata. */
export function benchNodes(count: number): ClusterNode[] {
  return Array.from({ length: count }, (_, i) => ({
    nodeId: `node-${String(i).padStart(4, '0')}`,
    address: `10.0.${Math.floor(i / 250)}.${i % 250}`,
    port: 7000,
    role: 'follower' as const,
    status: 'active' as const,
    joinedAt: 0,
    metadata: { weight: String(1 + (i % 3)) },
  }));
}

/** The workload of {@link strategyRows}, in words. */
export function strategyWorkload(options: BenchOptions): string {
  const keys = options.quick ? '100k' : '1M';
  return (
    `strategies: selectNode over ${keys} distinct seeded random string keys (12–20 chars), ` +
    `at ${NODE_COUNTS.join(', ')} active nodes (weights 1–3 in metadata), one fresh context per call, ` +
    'no request outcomes recorded; rebuild = first selection after one node leaves'
  );
}

/**
 * Selections per second of every strategy, and consistent-hashing rebuild times.
 *
 * @param options - `quick` uses 100k keys instead of 1M.
 * @param log - Progress lines.
 * @returns The rows.
 */
export async function strategyRows(
  options: BenchOptions,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const keyCount = options.quick ? 100_000 : 1_000_000;
  log(`strategies: generating ${keyCount} keys`);
  const keys = randomKeys(keyCount, 0x5eed);
  const metadata = Object.freeze({});
  const rows: BenchRow[] = [];
  for (const nodeCount of NODE_COUNTS) {
    const nodes = benchNodes(nodeCount);
    for (const name of STRATEGIES) {
      const balancer = createLoadBalancer(name, { random: seededRandom(nodeCount) });
      let sink = 0;
      const rate = measureRate(
        () => {
          for (const requestKey of keys) {
            sink += balancer.selectNode({ requestKey, availableNodes: nodes, metadata }).port;
          }
        },
        keys.length,
        options.quick ? 50 : 200,
      );
      if (sink < 0) log('unreachable');
      log(
        `  ${balancer.algorithmName} @${nodeCount} nodes: ${(rate / 1e6).toFixed(2)}M selections/s`,
      );
      rows.push({
        name: `${balancer.algorithmName} @${nodeCount} nodes`,
        metric: 'selections/s',
        unit: 'sel/s',
        value: rate,
        better: 'higher',
      });
      // Let the event loop breathe between long synchronous runs.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  rows.push(...rebuildRows(options, log));
  return rows;
}

/** Milliseconds from a membership change to the first selection, for the hashing variants. */
function rebuildRows(options: BenchOptions, log: (line: string) => void): BenchRow[] {
  const rows: BenchRow[] = [];
  const metadata = Object.freeze({});
  for (const nodeCount of [100, 1000]) {
    const full = benchNodes(nodeCount);
    // Two memberships that differ by one node: alternating forces a rebuild per selection.
    const memberships = [full, full.filter((_, i) => i !== Math.floor(nodeCount / 2))];
    for (const name of ['ring-hash', 'maglev'] as const) {
      const balancer = createLoadBalancer(name);
      let turn = 0;
      const rebuildsPerSecond = measureRate(
        () => {
          turn += 1;
          balancer.selectNode({
            requestKey: 'k',
            availableNodes: memberships[turn % 2] ?? full,
            metadata,
          });
        },
        1,
        options.quick ? 200 : 1000,
      );
      const ms = 1000 / rebuildsPerSecond;
      log(`  ${balancer.algorithmName} rebuild @${nodeCount} nodes: ${ms.toFixed(2)} ms`);
      rows.push({
        name: `${balancer.algorithmName} rebuild @${nodeCount} nodes`,
        metric: 'rebuild time',
        unit: 'ms',
        value: ms,
        better: 'lower',
      });
    }
  }
  return rows;
}
