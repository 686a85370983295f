/**
 * `swim-load`: N SWIM members with no faults; after membership has converged,
 * counts the packets every member sends per protocol period over a window,
 * by kind. SWIM's promise is that this stays flat as N grows: one ping and
 * one ack per member per period whatever N, gossip only while there is news,
 * and full-state exchanges whose period memberlist scales with log N.
 */

import { resolveSwimConfig, type SwimConfig } from '../../src/core/swim/config.js';
import type { SwimStats } from '../../src/core/swim/swim-node.js';
import type { SimScenario } from '../../src/runtime/sim/scenario.js';
import { formatFailure, Simulation } from '../../src/runtime/sim/simulation.js';
import { setupSwimCluster, type SwimCluster } from './swim-cluster.js';

/** Options of {@link setupSwimLoad}. */
export interface SwimLoadOptions {
  /** Members; default 50. */
  readonly nodes?: number;
  /** Tunables over the LAN profile. */
  readonly config?: Partial<SwimConfig>;
  /** When the window starts (membership must have converged); default 30 000 ms. */
  readonly windowFromMs?: number;
  /** How long the window lasts; default 60 000 ms (two push-pull periods). */
  readonly windowMs?: number;
}

/** Packets per member per protocol period, by kind, over the window. */
export interface SwimLoadResult {
  /** Members. */
  readonly nodes: number;
  /** Every packet. */
  readonly total: number;
  /** Probe traffic: ping, ack, ping-req, nack. */
  readonly probe: number;
  /** Gossip rounds. */
  readonly gossip: number;
  /** Full-state exchange packets. */
  readonly pushPull: number;
  /**
   * Fallback pings (one stream exchange each; not in `total`, which counts
   * datagrams). Only a direct ping that misses its timeout causes one.
   */
  readonly fallback: number;
  /** Bytes per member per period. */
  readonly bytes: number;
}

/** What a load run recorded. */
export interface SwimLoadRecord {
  /** The cluster. */
  readonly cluster: SwimCluster;
  /** Whether membership had converged when the window started. */
  convergedAtWindow: boolean | undefined;
  /** The result, once the window has ended. */
  result: SwimLoadResult | undefined;
}

function snapshot(cluster: SwimCluster): Map<string, SwimStats> {
  const stats = new Map<string, SwimStats>();
  for (const [id, swim] of cluster.swims) {
    const s = swim.stats;
    stats.set(id, { ...s, packetsOut: { ...s.packetsOut } });
  }
  return stats;
}

/**
 * Sets up one load run.
 *
 * @param sim - A fresh simulation.
 * @param options - Size and window.
 * @returns The record the run fills in.
 */
export function setupSwimLoad(sim: Simulation, options: SwimLoadOptions = {}): SwimLoadRecord {
  const nodes = options.nodes ?? 50;
  const cluster = setupSwimCluster(sim, {
    nodes,
    startSpreadMs: Math.max(2_000, nodes * 20),
    ...(options.config === undefined ? {} : { config: options.config }),
  });
  const from = options.windowFromMs ?? 30_000;
  const length = options.windowMs ?? 60_000;
  const period = resolveSwimConfig(cluster.config).probeIntervalMs;
  const record: SwimLoadRecord = { cluster, convergedAtWindow: undefined, result: undefined };
  let before = new Map<string, SwimStats>();
  sim.schedule(from, () => {
    record.convergedAtWindow = cluster.converged();
    before = snapshot(cluster);
  });
  sim.schedule(from + length, () => {
    const after = snapshot(cluster);
    let probe = 0;
    let gossip = 0;
    let pushPull = 0;
    let fallback = 0;
    let bytes = 0;
    for (const [id, end] of after) {
      const start = before.get(id);
      if (start === undefined) continue;
      const d = (kind: keyof SwimStats['packetsOut']): number =>
        end.packetsOut[kind] - start.packetsOut[kind];
      probe += d('ping') + d('ack') + d('ping-req') + d('nack');
      gossip += d('gossip') + d('alive') + d('suspect') + d('dead');
      pushPull += d('push-pull');
      fallback += d('fallback-ping');
      bytes += end.bytesOut - start.bytesOut;
    }
    const per = nodes * (length / period);
    record.result = Object.freeze({
      nodes,
      total: (probe + gossip + pushPull) / per,
      probe: probe / per,
      gossip: gossip / per,
      pushPull: pushPull / per,
      fallback: fallback / per,
      bytes: bytes / per,
    });
  });
  return record;
}

/** The `swim-load` scenario: 50 members, no faults, packets per member per period. */
export const swimLoad: SimScenario = {
  name: 'swim-load',
  description:
    'SWIM+Lifeguard, 50 members, no faults: membership converges and no member is declared dead (load numbers: scripts/swim-load.ts)',
  durationMs: 91_000,
  options: { network: { latency: { baseMs: 1, jitterMs: 2, distribution: 'lognormal' } } },
  setup: (sim) => {
    const record = setupSwimLoad(sim);
    sim.addFinalCheck('membership converged before the window', () =>
      record.convergedAtWindow === true ? undefined : 'not converged at 30 s',
    );
  },
};

/**
 * Runs one load run and returns its numbers.
 *
 * @param nodes - Members.
 * @param seed - The seed.
 * @param options - Window and tunables.
 * @returns The per-member-per-period numbers, and whether membership had converged.
 */
export async function runSwimLoad(
  nodes: number,
  seed: number,
  options: Omit<SwimLoadOptions, 'nodes'> = {},
): Promise<{
  result: SwimLoadResult | undefined;
  converged: boolean;
  failure: string | undefined;
}> {
  const sim = new Simulation({
    seed,
    traceCapacity: 0,
    network: { latency: { baseMs: 1, jitterMs: 2, distribution: 'lognormal' } },
  });
  const record = setupSwimLoad(sim, { ...options, nodes });
  const from = options.windowFromMs ?? 30_000;
  await sim.runFor(from + (options.windowMs ?? 60_000) + 1);
  return {
    result: record.result,
    converged: record.convergedAtWindow === true,
    failure: sim.failure === undefined ? undefined : formatFailure(sim.failure),
  };
}
