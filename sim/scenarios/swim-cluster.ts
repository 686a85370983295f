/**
 * A simulated SWIM cluster shared by the `swim-*` scenarios: N nodes, each
 * running `NativeSwim` over address-keyed datagrams on the simulator's
 * network, all joining through `n1`, with every membership event recorded and
 * a safety invariant checked after every simulator event: no member declares a
 * member dead while that member runs (it was neither crashed nor left).
 */

import type { SwimConfig } from '../../src/core/swim/config.js';
import type { SwimEvent } from '../../src/core/swim/swim-node.js';
import { NativeSwim } from '../../src/native/swim/native-swim.js';
import { addressDatagramTransport } from '../../src/native/swim/swim-transport.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import type { Simulation } from '../../src/runtime/sim/simulation.js';

/** The port every simulated member listens on (memberlist's default). */
export const SWIM_PORT = 7946;

/** Options of {@link setupSwimCluster}. */
export interface SwimClusterOptions {
  /** Members; default 20. */
  readonly nodes?: number;
  /** Lifeguard on (default) or off. */
  readonly lifeguard?: boolean;
  /** Tunables over the LAN profile. */
  readonly config?: Partial<SwimConfig>;
  /** Members start at random times in [0, startSpreadMs); default 2 000. */
  readonly startSpreadMs?: number;
  /**
   * Fail the run (after every event) when a running member is declared dead.
   * Default true.
   */
  readonly forbidFalseDeaths?: boolean;
}

/** A running simulated cluster, filled in as the run goes. */
export interface SwimCluster {
  /** Member ids, `n1`..`nN`. */
  readonly ids: readonly string[];
  /** The config every member runs with (LAN profile plus overrides). */
  readonly config: Partial<SwimConfig>;
  /** Running members' drivers. */
  readonly swims: Map<string, NativeSwim>;
  /** Members crashed by the scenario (and not restarted). */
  readonly crashed: Set<string>;
  /** Listeners told about every event any member observes, with the observer. */
  readonly onEvent: Set<(observer: string, event: SwimEvent) => void>;
  /** Dead declarations of running members (observer, subject, time). */
  readonly falseDeaths: { observer: string; subject: string; at: number }[];
  /** Crashes a member now and forgets its driver. */
  crash(sim: Simulation, id: string): void;
  /** Restarts a crashed member now: a fresh driver (incarnation 0) joins through `n1` again. */
  restart(sim: Simulation, id: string): void;
  /**
   * Whether every running member sees every running member alive (and the
   * crashed ones not alive). O(N²): call it at chosen times, not per event.
   */
  converged(): boolean;
}

/**
 * Adds the members of a SWIM cluster to a fresh simulation.
 *
 * @param sim - The simulation.
 * @param options - Size and tunables.
 * @returns The cluster record.
 */
export function setupSwimCluster(sim: Simulation, options: SwimClusterOptions = {}): SwimCluster {
  const count = options.nodes ?? 20;
  const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
  const config: Partial<SwimConfig> = { ...options.config, lifeguard: options.lifeguard ?? true };
  const swims = new Map<string, NativeSwim>();
  const crashed = new Set<string>();
  const onEvent = new Set<(observer: string, event: SwimEvent) => void>();
  const falseDeaths: { observer: string; subject: string; at: number }[] = [];
  const left = new Set<string>();
  const seed = { host: 'n1', port: SWIM_PORT };

  const program = (id: string) => async (runtime: Runtime) => {
    const transport = await addressDatagramTransport(runtime, { port: SWIM_PORT });
    const swim = new NativeSwim(runtime, transport, {
      advertise: { host: id, port: SWIM_PORT },
      config,
      onListenerError: (error) => {
        throw error;
      },
    });
    swims.set(id, swim);
    swim.onMembershipEvent((event) => {
      if (event.type === 'left') left.add(event.member.nodeId);
      if (
        event.type === 'dead' &&
        !crashed.has(event.member.nodeId) &&
        !left.has(event.member.nodeId)
      ) {
        falseDeaths.push({ observer: id, subject: event.member.nodeId, at: sim.now });
      }
      for (const listener of onEvent) listener(id, event);
    });
    if (id !== 'n1') {
      swim.join([seed]).catch(() => {
        // A join that times out is retried by nothing: the convergence check reports it.
      });
    }
  };
  const spread = options.startSpreadMs ?? 2_000;
  for (const id of ids) {
    sim.addNode(id, program(id), { startAtMs: id === 'n1' ? 0 : sim.random.int(spread) + 1 });
  }

  if (options.forbidFalseDeaths ?? true) {
    sim.addInvariant('no running member is declared dead', () => {
      const first = falseDeaths[0];
      return first === undefined
        ? undefined
        : `${first.observer} declared ${first.subject} dead at ${first.at.toFixed(0)} ms while it runs`;
    });
  }

  return {
    ids,
    config,
    swims,
    crashed,
    onEvent,
    falseDeaths,
    crash: (s, id) => {
      crashed.add(id);
      swims.get(id)?.close();
      swims.delete(id);
      s.crash(id);
    },
    restart: (s, id) => {
      crashed.delete(id);
      s.restart(id);
    },
    converged: () => {
      for (const [, swim] of swims) {
        for (const id of ids) {
          const status = swim.member(id)?.status;
          if (crashed.has(id) ? status === 'alive' : status !== 'alive') return false;
        }
      }
      return true;
    },
  };
}
