import type { Runtime, StreamConnection } from '../../../src/runtime/runtime.js';
import { Simulation } from '../../../src/runtime/sim/simulation.js';
import type { SimulationOptions } from '../../../src/runtime/sim/options.js';

/** A simulation with idle nodes whose runtimes the test drives from outside. */
export async function idleCluster(
  ids: readonly string[],
  options: Omit<SimulationOptions, 'seed'> & { seed?: number } = {},
): Promise<{ sim: Simulation; rt: (id: string) => Runtime }> {
  const sim = new Simulation({ seed: 1, ...options });
  for (const id of ids) sim.addNode(id, () => undefined);
  await sim.runFor(0);
  return {
    sim,
    rt: (id) => {
      const runtime = sim.runtimeOf(id);
      if (runtime === undefined) throw new Error(`${id} not running`);
      return runtime;
    },
  };
}

/** Resolves a promise by running the simulation (at most `maxMs`). */
export async function settle<T>(sim: Simulation, promise: Promise<T>, maxMs = 60_000): Promise<T> {
  const state: { done: boolean; failed: boolean; value?: T; failure?: unknown } = {
    done: false,
    failed: false,
  };
  promise.then(
    (v) => {
      state.done = true;
      state.value = v;
    },
    (error: unknown) => {
      state.done = true;
      state.failed = true;
      state.failure = error;
    },
  );
  await new Promise((resolve) => setImmediate(resolve)); // already-settled promises
  if (!state.done) await sim.runUntil(() => state.done, maxMs);
  if (!state.done) throw new Error('promise did not settle in virtual time');
  if (state.failed) throw state.failure;
  return state.value as T;
}

/** Opens a stream a → b:port with a listener on b; returns both ends. */
export async function streamPair(
  sim: Simulation,
  a: Runtime,
  b: Runtime,
  port = 9000,
): Promise<{ client: StreamConnection; server: StreamConnection }> {
  let server: StreamConnection | undefined;
  await settle(
    sim,
    b.network.listen({ host: '', port }, (connection) => {
      server = connection;
    }),
  );
  const client = await settle(sim, a.network.connect({ host: b.nodeId, port }));
  if (server === undefined) throw new Error('no server end');
  return { client, server };
}
