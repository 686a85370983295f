/**
 * `broadcast-flood`: a naive epidemic push, mainly to put load on the
 * simulator. Every node originates a rumor every second and pushes every new
 * rumor it hears to `FANOUT` random peers while its hop budget lasts.
 *
 * Invariants: nothing crosses a cut link; no node hears a rumor that was
 * never originated. Final check: rumors originated while the cluster was
 * whole and quiet reached at least 90% of the nodes on average.
 */

import type { Runtime } from '../../src/runtime/runtime.js';
import type { SimScenario } from '../../src/runtime/sim/scenario.js';
import type { Simulation } from '../../src/runtime/sim/simulation.js';
import { CutRecord, scheduleRandomFaults } from './faults.js';

const PORT = 7000;
const FANOUT = 3;
const HOPS = 8;
const SEEN_LIMIT = 4096;

/** Options of {@link setupBroadcastFlood}. */
export interface BroadcastFloodOptions {
  /** Nodes; default 30. */
  readonly nodes?: number;
  /** Rumor period per node, in ms; default 1000. */
  readonly periodMs?: number;
  /** Random faults; default 8. */
  readonly faults?: number;
  /** Faults end by then; default 30 000. */
  readonly faultsUntilMs?: number;
  /** Check delivery for rumors originated after this; default `faultsUntilMs + 5000`. */
  readonly quietFromMs?: number;
  /** ... and before this; default none. */
  readonly quietUntilMs?: number;
  /** Skip invariants (for benchmarks). */
  readonly unchecked?: boolean;
}

/** Sets up one `broadcast-flood` run. */
export function setupBroadcastFlood(sim: Simulation, options: BroadcastFloodOptions = {}): void {
  const count = options.nodes ?? 30;
  const periodMs = options.periodMs ?? 1000;
  const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
  const cuts = new CutRecord();
  const violations: string[] = [];
  const originated = new Map<number, { at: number; heardBy: Set<string> }>();
  let nextRumor = 1;

  const program = (id: string) => async (runtime: Runtime) => {
    const { clock, random, network } = runtime;
    const seen = new Set<number>();
    const remember = (rumor: number): boolean => {
      if (seen.has(rumor)) return false;
      seen.add(rumor);
      if (seen.size > SEEN_LIMIT) {
        const oldest = seen.values().next().value;
        if (oldest !== undefined) seen.delete(oldest);
      }
      return true;
    };
    const push = (rumor: number, hops: number): void => {
      if (hops <= 0) return;
      const message = new Uint8Array(64);
      const view = new DataView(message.buffer);
      view.setUint32(0, rumor);
      view.setUint8(4, hops - 1);
      for (let i = 0; i < FANOUT; i++) {
        endpoint.send(message, { host: ids[random.int(ids.length)] as string, port: PORT });
      }
    };
    const endpoint = await network.bindDatagram({ host: '', port: PORT }, (data, from) => {
      const view = new DataView(data.buffer, data.byteOffset);
      const rumor = view.getUint32(0);
      if (!options.unchecked) {
        if (cuts.isCut(from.host, id)) violations.push(`${from.host} -> ${id} crossed a cut`);
        const record = originated.get(rumor);
        if (record === undefined) violations.push(`${id} heard unknown rumor ${rumor}`);
        else record.heardBy.add(id);
      }
      if (remember(rumor)) push(rumor, view.getUint8(4));
    });
    const originate = (): void => {
      const rumor = nextRumor++;
      if (!options.unchecked)
        originated.set(rumor, { at: clock.monotonic(), heardBy: new Set([id]) });
      remember(rumor);
      push(rumor, HOPS);
      clock.setTimer(periodMs * (0.5 + random.next()), originate);
    };
    clock.setTimer(random.int(periodMs), originate);
  };

  for (const id of ids) sim.addNode(id, program(id));
  const faultsUntil = options.faultsUntilMs ?? 30_000;
  const faults = options.faults ?? 8;
  if (faults > 0) {
    scheduleRandomFaults(sim, cuts, { count: faults, fromMs: 1_000, untilMs: faultsUntil });
  }
  if (options.unchecked) return;
  sim.addInvariant('flood safety', () => violations[0]);
  const quietFrom = options.quietFromMs ?? faultsUntil + 5_000;
  const quietUntil = options.quietUntilMs ?? Number.POSITIVE_INFINITY;
  sim.addFinalCheck('rumors reach 90% of nodes', () => {
    let total = 0;
    let rumors = 0;
    for (const { at, heardBy } of originated.values()) {
      if (at < quietFrom || at > Math.min(quietUntil, sim.now - 2_000)) continue;
      total += heardBy.size / count;
      rumors += 1;
    }
    if (rumors === 0) return 'no rumors in the quiet window';
    const mean = total / rumors;
    return mean >= 0.9
      ? undefined
      : `mean coverage ${(mean * 100).toFixed(1)}% over ${rumors} rumors`;
  });
}

/** The `broadcast-flood` scenario. */
export const broadcastFlood: SimScenario = {
  name: 'broadcast-flood',
  description: '30 nodes flooding rumors by naive push gossip, with loss, partitions and crashes',
  durationMs: 60_000,
  options: {
    network: { latency: { baseMs: 5, jitterMs: 5 }, loss: 0.02, duplicate: 0.01, reorder: 0.02 },
  },
  setup: (sim) => {
    setupBroadcastFlood(sim);
  },
};
