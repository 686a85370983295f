/**
 * `swim-completeness`: N SWIM members (Lifeguard on, LAN profile) over a
 * network with 1% loss; once membership has converged one random member
 * crashes. Invariant (after every event): no running member is ever declared
 * dead. Final check: every live member declared the crashed one dead within
 * the configured bound `failureDetectionBoundMs(config, N)` of the crash.
 */

import {
  failureDetectionBoundMs,
  resolveSwimConfig,
  type SwimConfig,
} from '../../src/core/swim/config.js';
import type { SimScenario } from '../../src/runtime/sim/scenario.js';
import { formatFailure, Simulation } from '../../src/runtime/sim/simulation.js';
import { setupSwimCluster, type SwimCluster } from './swim-cluster.js';

/** Options of {@link setupSwimCompleteness}. */
export interface SwimCompletenessOptions {
  /** Members; default 20. */
  readonly nodes?: number;
  /** Lifeguard on (default) or off. */
  readonly lifeguard?: boolean;
  /** The fallback ping over a stream on (default) or off. */
  readonly fallbackPing?: boolean;
  /** Tunables over the LAN profile. */
  readonly config?: Partial<SwimConfig>;
  /** When the member crashes (membership must have converged by then); default 15 000 ms. */
  readonly crashAtMs?: number;
}

/** What a completeness run recorded. */
export interface SwimCompletenessRecord {
  /** The cluster. */
  readonly cluster: SwimCluster;
  /** The member crashed (set at the crash). */
  victim: string | undefined;
  /** Virtual time of the crash. */
  readonly crashAtMs: number;
  /** The bound, in ms after the crash. */
  readonly boundMs: number;
  /** When each live member declared the victim dead (virtual ms). */
  readonly deadAt: Map<string, number>;
  /** When the first live member suspected the victim. */
  firstSuspectAt: number | undefined;
  /** Whether every live member has declared the victim dead. */
  allDeclared(): boolean;
  /** The time from the crash until the last live member declared it dead (Infinity if not all did). */
  detectionMs(): number;
}

/**
 * Sets up one completeness run.
 *
 * @param sim - A fresh simulation.
 * @param options - Size and tunables.
 * @returns The record the run fills in.
 */
export function setupSwimCompleteness(
  sim: Simulation,
  options: SwimCompletenessOptions = {},
): SwimCompletenessRecord {
  const nodes = options.nodes ?? 20;
  const crashAtMs = options.crashAtMs ?? 15_000;
  const cluster = setupSwimCluster(sim, {
    nodes,
    ...(options.lifeguard === undefined ? {} : { lifeguard: options.lifeguard }),
    ...(options.fallbackPing === undefined ? {} : { fallbackPing: options.fallbackPing }),
    ...(options.config === undefined ? {} : { config: options.config }),
  });
  const boundMs = failureDetectionBoundMs(resolveSwimConfig(cluster.config), nodes);
  const deadAt = new Map<string, number>();
  const record: SwimCompletenessRecord = {
    cluster,
    victim: undefined,
    crashAtMs,
    boundMs,
    deadAt,
    firstSuspectAt: undefined,
    allDeclared: () => {
      for (const id of cluster.swims.keys()) if (!deadAt.has(id)) return false;
      return true;
    },
    detectionMs: () => {
      if (!record.allDeclared()) return Number.POSITIVE_INFINITY;
      let last = 0;
      for (const id of cluster.swims.keys()) last = Math.max(last, deadAt.get(id) ?? 0);
      return last - crashAtMs;
    },
  };
  cluster.onEvent.add((observer, event) => {
    if (event.member.nodeId !== record.victim) return;
    if (event.type === 'suspect' && record.firstSuspectAt === undefined) {
      record.firstSuspectAt = sim.now;
    }
    if (event.type === 'dead' && !deadAt.has(observer)) deadAt.set(observer, sim.now);
  });
  sim.schedule(crashAtMs, (s) => {
    if (!cluster.converged()) throw new Error('membership had not converged before the crash');
    const victim = cluster.ids[s.random.int(cluster.ids.length)] as string;
    record.victim = victim;
    cluster.crash(s, victim);
  });
  sim.addFinalCheck('every live member declared the crashed member dead within the bound', () => {
    if (record.victim === undefined) return 'no member was crashed';
    const late: string[] = [];
    for (const id of cluster.swims.keys()) {
      const at = deadAt.get(id);
      if (at === undefined || at - crashAtMs > boundMs) late.push(id);
    }
    return late.length === 0
      ? undefined
      : `${late.length} live members had not declared ${record.victim} dead within ${boundMs} ms: ${late.slice(0, 5).join(', ')}`;
  });
  return record;
}

/** The `swim-completeness` scenario: 20 members, 1% loss, one crash at 15 s. */
export const swimCompleteness: SimScenario = {
  name: 'swim-completeness',
  description:
    'SWIM+Lifeguard, 20 members, 1% loss: a crashed member is declared dead by every live member within the configured bound',
  // The crash, the bound for 20 members (45 s) and a margin.
  durationMs: 15_000 + failureDetectionBoundMs(resolveSwimConfig(), 20) + 1_000,
  options: {
    network: { latency: { baseMs: 1, jitterMs: 2, distribution: 'lognormal' }, loss: 0.01 },
  },
  setup: (sim) => {
    setupSwimCompleteness(sim);
  },
};

/** The outcome of {@link runSwimCompleteness}. */
export interface SwimCompletenessRun {
  /** The seed. */
  readonly seed: number;
  /** The failure, formatted, when the run failed (invariant or final check). */
  readonly failure: string | undefined;
  /** Crash to last live member's dead declaration, in ms (Infinity when not all declared it). */
  readonly detectionMs: number;
  /** Crash to the first suspicion, in ms. */
  readonly firstSuspectMs: number;
  /** The bound checked, in ms. */
  readonly boundMs: number;
}

/**
 * Runs one completeness run, stopping as soon as every live member declared
 * the crashed one dead (or the bound passed), then runs the final check.
 *
 * @param seed - The seed.
 * @param options - Size and tunables.
 * @param loss - Datagram loss; default 0.01.
 * @returns The outcome.
 */
export async function runSwimCompleteness(
  seed: number,
  options: SwimCompletenessOptions = {},
  loss = 0.01,
): Promise<SwimCompletenessRun> {
  const sim = new Simulation({
    seed,
    traceCapacity: 0,
    network: { latency: { baseMs: 1, jitterMs: 2, distribution: 'lognormal' }, loss },
  });
  const record = setupSwimCompleteness(sim, options);
  await sim.runUntil(
    () => record.victim !== undefined && record.allDeclared(),
    record.crashAtMs + record.boundMs + 1_000,
  );
  const result = sim.runFinalChecks();
  return {
    seed,
    failure: result.failure === undefined ? undefined : formatFailure(result.failure),
    detectionMs: record.detectionMs(),
    firstSuspectMs: (record.firstSuspectAt ?? Number.NaN) - record.crashAtMs,
    boundMs: record.boundMs,
  };
}
