/**
 * A simulated SWIM cluster shared by the `swim-*` scenarios: N nodes, each
 * running `NativeSwim` over address-keyed datagrams on the simulator's
 * network (and the simulator's streams on the same port, for the fallback
 * ping), all joining through `n1`, with every membership event recorded and
 * a safety invariant checked after every simulator event: no member declares a
 * member dead while that member runs (it was neither crashed nor left).
 */

import type { SwimConfig } from '../../src/core/swim/config.js';
import type { SwimEvent } from '../../src/core/swim/swim-node.js';
import { NativeSwim } from '../../src/native/swim/native-swim.js';
import type { SeededRandom } from '../../src/core/random/seeded-random.js';
import {
  addressStreamChannel,
  type SwimFallbackChannel,
} from '../../src/native/swim/swim-stream-channel.js';
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
  /**
   * The fallback ping over a stream on (default: every member listens for
   * streams on its SWIM port) or off (no stream channel at all).
   */
  readonly fallbackPing?: boolean;
  /**
   * The simulator's stream handshake is never lost (only its data segments
   * are, and retransmitted 200 ms later). Real TCP loses a SYN or SYN-ACK with
   * the link's loss and resends it after 1 s — longer than the half period a
   * fallback ping has. With this set (the datagram loss, e.g. 0.05), each
   * fallback exchange is held back 1 s with probability `1 − (1 − p)²`, as if
   * its handshake had lost a packet. Default 0 (the simulator's model).
   */
  readonly fallbackHandshakeLoss?: number;
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
  const fallbackPing = options.fallbackPing ?? true;
  const handshakeLoss = options.fallbackHandshakeLoss ?? 0;
  const config: Partial<SwimConfig> = {
    ...options.config,
    lifeguard: options.lifeguard ?? true,
    fallbackPing,
  };
  const swims = new Map<string, NativeSwim>();
  const crashed = new Set<string>();
  const onEvent = new Set<(observer: string, event: SwimEvent) => void>();
  const falseDeaths: { observer: string; subject: string; at: number }[] = [];
  const left = new Set<string>();
  const seed = { host: 'n1', port: SWIM_PORT };

  const program = (id: string) => async (runtime: Runtime) => {
    const transport = await addressDatagramTransport(runtime, { port: SWIM_PORT });
    const streams = fallbackPing
      ? await addressStreamChannel(runtime, { port: SWIM_PORT })
      : undefined;
    const fallbackChannel =
      streams === undefined || handshakeLoss === 0
        ? streams
        : lossyHandshake(streams, runtime, sim.random.fork(`handshake-${id}`), handshakeLoss);
    const swim = new NativeSwim(runtime, transport, {
      advertise: { host: id, port: SWIM_PORT },
      config,
      ...(fallbackChannel === undefined ? {} : { fallbackChannel }),
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

/** TCP's initial retransmission timeout for a lost SYN (RFC 6298: 1 s). */
const SYN_RETRANSMIT_MS = 1_000;

/**
 * A fallback channel whose exchanges start 1 s late with probability
 * `1 − (1 − loss)²`: the handshake lost its SYN or its SYN-ACK (see
 * `SwimClusterOptions.fallbackHandshakeLoss`).
 */
function lossyHandshake(
  inner: SwimFallbackChannel,
  runtime: Runtime,
  random: SeededRandom,
  loss: number,
): SwimFallbackChannel {
  const lost = 1 - (1 - loss) * (1 - loss);
  return {
    serve: (handler) => inner.serve(handler),
    request: (to, nodeId, request, options) => {
      if (random.next() >= lost) return inner.request(to, nodeId, request, options);
      return new Promise<void>((resolve, reject) => {
        const timer = runtime.clock.setTimer(SYN_RETRANSMIT_MS, () => {
          options.signal.removeEventListener('abort', onAbort);
          resolve();
        });
        const onAbort = (): void => {
          timer.cancel();
          reject(
            options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted'),
          );
        };
        options.signal.addEventListener('abort', onAbort, { once: true });
      }).then(() => inner.request(to, nodeId, request, options));
    },
  };
}
