/**
 * `swim-accuracy`: N SWIM members over a network losing 5% of datagrams, one
 * member paused for 2 s in every 10 s (a GC stall) from the moment membership
 * has converged. Invariant (after every event, Lifeguard on): no member is
 * ever declared dead — none crashes. The run also counts false suspicions, so
 * the same setup with Lifeguard off measures what Lifeguard saves. Every member
 * runs the fallback ping over the simulator's streams unless `fallbackPing` is
 * false (memberlist has it on in both modes).
 */

import type { SwimConfig } from '../../src/core/swim/config.js';
import type { NativeSwim } from '../../src/native/swim/native-swim.js';
import type { SimScenario } from '../../src/runtime/sim/scenario.js';
import { formatFailure, Simulation } from '../../src/runtime/sim/simulation.js';
import { setupSwimCluster, type SwimCluster } from './swim-cluster.js';

/** Options of {@link setupSwimAccuracy}. */
export interface SwimAccuracyOptions {
  /** Members; default 16. */
  readonly nodes?: number;
  /** Lifeguard on (default) or off. */
  readonly lifeguard?: boolean;
  /** The fallback ping over a stream on (default, as memberlist) or off. */
  readonly fallbackPing?: boolean;
  /** See `SwimClusterOptions.fallbackHandshakeLoss`; default 0. */
  readonly fallbackHandshakeLoss?: number;
  /** Tunables over the LAN profile. */
  readonly config?: Partial<SwimConfig>;
  /** When the pauses start (membership must have converged); default 15 000 ms. */
  readonly faultsFromMs?: number;
  /** How long each pause lasts; default 2 000 ms. */
  readonly pauseMs?: number;
  /** One pause starts every this long; default 10 000 ms. */
  readonly pauseEveryMs?: number;
  /**
   * Instead of pausing the member, make it slow: for `pauseMs` in every
   * `pauseEveryMs` everything sent to it takes this long to arrive, while its
   * own timers run on time — a member whose message handling lags behind its
   * clock (CPU starvation), the case Lifeguard's local health targets. Default
   * unset (pause).
   */
  readonly slowInboundMs?: number;
  /** Fail the run when a member is declared dead; default: when Lifeguard is on. */
  readonly forbidFalseDeaths?: boolean;
}

/** Counts of one accuracy run (all subjects are running members: none crashes). */
export interface SwimAccuracyCounts {
  /**
   * Suspicions raised: a member suspecting another after its own probe
   * failed (the accusations; each then spreads to everyone).
   */
  raised: number;
  /** Of those, suspicions of the paused member. */
  raisedOfPaused: number;
  /** Of those, suspicions of members never paused (healthy). */
  raisedOfHealthy: number;
  /** Of the suspicions of healthy members, those raised by the paused (or slow) member itself. */
  raisedByPaused: number;
  /**
   * Of those, raised at the very instant it resumed (the stall: a probe
   * timer that expired during the pause firing before the acks held meanwhile).
   */
  raisedByPausedAtResume: number;
  /** Suspect events at all members (each accusation counted at every member it reached). */
  suspectEvents: number;
  /** Of those, about healthy members. */
  suspectEventsOfHealthy: number;
  /** Refutations by the paused member. */
  refutationsByPaused: number;
  /** Dead declarations (every one is false here). */
  deaths: number;
  /** Probes, at all members, that only a fallback ping answered (a suspicion each, without it). */
  fallbackRescues: number;
  /** Fallback pings sent, at all members. */
  fallbackPings: number;
}

/** Counts with every field at zero, to add runs into. */
export function emptySwimAccuracyCounts(): SwimAccuracyCounts {
  return {
    raised: 0,
    raisedOfPaused: 0,
    raisedOfHealthy: 0,
    raisedByPaused: 0,
    raisedByPausedAtResume: 0,
    suspectEvents: 0,
    suspectEventsOfHealthy: 0,
    refutationsByPaused: 0,
    deaths: 0,
    fallbackRescues: 0,
    fallbackPings: 0,
  };
}

/** What an accuracy run recorded. */
export interface SwimAccuracyRecord {
  /** The cluster. */
  readonly cluster: SwimCluster;
  /** The member paused. */
  readonly paused: string;
  /** The counts, filled in from `faultsFromMs` on. */
  readonly counts: SwimAccuracyCounts;
}

/**
 * Sets up one accuracy run.
 *
 * @param sim - A fresh simulation (give it `network.loss` 0.05).
 * @param options - Size, Lifeguard, pause pattern.
 * @returns The record the run fills in.
 */
export function setupSwimAccuracy(
  sim: Simulation,
  options: SwimAccuracyOptions = {},
): SwimAccuracyRecord {
  const lifeguard = options.lifeguard ?? true;
  const cluster = setupSwimCluster(sim, {
    nodes: options.nodes ?? 16,
    lifeguard,
    ...(options.fallbackPing === undefined ? {} : { fallbackPing: options.fallbackPing }),
    ...(options.fallbackHandshakeLoss === undefined
      ? {}
      : { fallbackHandshakeLoss: options.fallbackHandshakeLoss }),
    forbidFalseDeaths: options.forbidFalseDeaths ?? lifeguard,
    ...(options.config === undefined ? {} : { config: options.config }),
  });
  const faultsFrom = options.faultsFromMs ?? 15_000;
  const pauseMs = options.pauseMs ?? 2_000;
  const every = options.pauseEveryMs ?? 10_000;
  // Not the seed: every other member's join goes through it.
  const paused = cluster.ids[1 + sim.random.int(cluster.ids.length - 1)] as string;
  const counts = emptySwimAccuracyCounts();
  let counting = false;
  let refutationsAtStart = 0;
  let resumedAt = Number.NEGATIVE_INFINITY;
  const sum = (stat: (swim: NativeSwim) => number): number => {
    let total = 0;
    for (const swim of cluster.swims.values()) total += stat(swim);
    return total;
  };
  const rescues = (swim: NativeSwim): number => swim.stats.fallbackRescues;
  const pings = (swim: NativeSwim): number => swim.stats.packetsOut['fallback-ping'];
  let rescuesAtStart = 0;
  let pingsAtStart = 0;
  cluster.onEvent.add((observer, event) => {
    if (!counting) return;
    const subject = event.member.nodeId;
    if (event.type === 'suspect') {
      counts.suspectEvents += 1;
      if (subject !== paused) counts.suspectEventsOfHealthy += 1;
      if (event.from === observer) {
        counts.raised += 1;
        if (subject === paused) counts.raisedOfPaused += 1;
        else counts.raisedOfHealthy += 1;
        if (observer === paused && subject !== paused) {
          counts.raisedByPaused += 1;
          if (sim.now === resumedAt) counts.raisedByPausedAtResume += 1;
        }
      }
    } else if (event.type === 'dead') {
      counts.deaths += 1;
    }
  });
  sim.schedule(faultsFrom, (s) => {
    if (!cluster.converged()) throw new Error('membership had not converged before the faults');
    counting = true;
    refutationsAtStart = cluster.swims.get(paused)?.stats.refutations ?? 0;
    rescuesAtStart = sum(rescues);
    pingsAtStart = sum(pings);
    const slow = options.slowInboundMs;
    const pauseOnce = (): void => {
      resumedAt = s.now + pauseMs;
      if (slow === undefined) {
        s.pause(paused, pauseMs);
      } else {
        s.setLink('*', paused, { latency: { baseMs: slow } });
        s.after(pauseMs, () => {
          s.setLink('*', paused, undefined);
        });
      }
      s.after(every, pauseOnce);
    };
    pauseOnce();
  });
  const record: SwimAccuracyRecord = { cluster, paused, counts };
  Object.defineProperty(counts, 'refutationsByPaused', {
    enumerable: true,
    get: () => (cluster.swims.get(paused)?.stats.refutations ?? 0) - refutationsAtStart,
  });
  // Nobody crashes, so the drivers counted from the start are the ones still running.
  Object.defineProperty(counts, 'fallbackRescues', {
    enumerable: true,
    get: () => (counting ? sum(rescues) - rescuesAtStart : 0),
  });
  Object.defineProperty(counts, 'fallbackPings', {
    enumerable: true,
    get: () => (counting ? sum(pings) - pingsAtStart : 0),
  });
  return record;
}

/** The `swim-accuracy` scenario: 16 members, 5% loss, one paused 2 s in every 10 s, Lifeguard on. */
export const swimAccuracy: SimScenario = {
  name: 'swim-accuracy',
  description:
    'SWIM+Lifeguard, 16 members, 5% loss, one member paused 2 s in every 10 s: no live member is ever declared dead',
  durationMs: 135_000,
  options: {
    network: { latency: { baseMs: 1, jitterMs: 2, distribution: 'lognormal' }, loss: 0.05 },
  },
  setup: (sim) => {
    setupSwimAccuracy(sim);
  },
};

/** The outcome of {@link runSwimAccuracy}. */
export interface SwimAccuracyRun {
  /** The seed. */
  readonly seed: number;
  /** Lifeguard on or off. */
  readonly lifeguard: boolean;
  /** The fallback ping on or off. */
  readonly fallbackPing: boolean;
  /** The failure, formatted, when the run failed. */
  readonly failure: string | undefined;
  /** The counts. */
  readonly counts: Readonly<SwimAccuracyCounts>;
}

/**
 * Runs one accuracy run (5% loss, the scenario's duration).
 *
 * @param seed - The seed.
 * @param options - Size, Lifeguard, pause pattern.
 * @param durationMs - Virtual time; default 135 000 (12 pauses after convergence).
 * @returns The outcome.
 */
export async function runSwimAccuracy(
  seed: number,
  options: SwimAccuracyOptions = {},
  durationMs = 135_000,
): Promise<SwimAccuracyRun> {
  const sim = new Simulation({
    seed,
    traceCapacity: 0,
    network: { latency: { baseMs: 1, jitterMs: 2, distribution: 'lognormal' }, loss: 0.05 },
  });
  const record = setupSwimAccuracy(sim, options);
  await sim.runFor(durationMs);
  const result = sim.runFinalChecks();
  return {
    seed,
    lifeguard: options.lifeguard ?? true,
    fallbackPing: options.fallbackPing ?? true,
    failure: result.failure === undefined ? undefined : formatFailure(result.failure),
    counts: { ...record.counts },
  };
}
