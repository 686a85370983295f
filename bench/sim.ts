/**
 * The simulator's speed: 100 nodes doing naive push gossip in virtual time.
 * The goal: 10 simulated minutes of 100 nodes gossiping in under 60 s
 * of wall time on two cores. The baseline is virtual time itself: the ratio
 * row says how many times faster than real time the simulation runs.
 */

import type { Runtime } from '../src/runtime/runtime.js';
import { Simulation } from '../src/runtime/sim/simulation.js';
import type { BenchOptions, BenchRow, BenchSuite } from './harness.js';

const NODES = 100;
const ROUND_MS = 200;
const FANOUT = 3;
const PAYLOAD_BYTES = 256;

/** One node: every round, push its version vector slice to FANOUT random peers; merge what arrives. */
function gossiper(ids: readonly string[]) {
  return async (runtime: Runtime): Promise<void> => {
    const { clock, random, network } = runtime;
    const versions = new Uint32Array(ids.length);
    const self = ids.indexOf(runtime.nodeId);
    const endpoint = await network.bindDatagram({ host: '', port: 7000 }, (data) => {
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let i = 0; i + 8 <= data.length; i += 8) {
        const node = view.getUint32(i);
        const version = view.getUint32(i + 4);
        if (node < versions.length && version > (versions[node] ?? 0)) versions[node] = version;
      }
    });
    const round = (): void => {
      versions[self] = (versions[self] ?? 0) + 1;
      const message = new Uint8Array(PAYLOAD_BYTES);
      const view = new DataView(message.buffer);
      for (let i = 0; i < PAYLOAD_BYTES / 8; i++) {
        const node = random.int(ids.length);
        view.setUint32(i * 8, node);
        view.setUint32(i * 8 + 4, versions[node] ?? 0);
      }
      for (let i = 0; i < FANOUT; i++) {
        endpoint.send(message, { host: ids[random.int(ids.length)] as string, port: 7000 });
      }
      clock.setTimer(ROUND_MS, round);
    };
    clock.setTimer(random.int(ROUND_MS), round);
  };
}

async function measure(simMinutes: number, traceCapacity: number) {
  const sim = new Simulation({
    seed: 1,
    traceCapacity,
    network: { latency: { baseMs: 1, jitterMs: 2, distribution: 'lognormal' }, loss: 0.01 },
  });
  const ids = Array.from({ length: NODES }, (_, i) => `n${i}`);
  const program = gossiper(ids);
  for (const id of ids) sim.addNode(id, program);
  const started = performance.now();
  await sim.runFor(simMinutes * 60_000);
  const wallS = (performance.now() - started) / 1000;
  return { wallS, simS: simMinutes * 60, events: sim.stats.events };
}

/** The `sim` suite. */
export const simSuite: BenchSuite = {
  name: 'sim',
  workload: (options: BenchOptions) =>
    `${NODES} simulated nodes, each pushing a ${PAYLOAD_BYTES}-byte digest to ${FANOUT} random peers every ${ROUND_MS} ms ` +
    `(1% loss, log-normal latency), for ${options.quick ? '1 simulated minute (extrapolated to 10)' : '10 simulated minutes'}; ` +
    'trace off, then on (100 000 entries). Baseline: real time (ratio = simulated s per wall s).',
  async run(options: BenchOptions, log: (line: string) => void): Promise<BenchRow[]> {
    const minutes = options.quick ? 1 : 10;
    const rows: BenchRow[] = [];
    for (const traceCapacity of [0, 100_000]) {
      const { wallS, simS, events } = await measure(minutes, traceCapacity);
      const label = traceCapacity === 0 ? 'trace off' : 'trace on';
      log(
        `${label}: ${simS} simulated s in ${wallS.toFixed(2)} wall s, ${events} events (${((wallS * 1e6) / events).toFixed(2)} µs/event)`,
      );
      const projected = (wallS * 10) / minutes;
      rows.push({
        name: `gossip 100 nodes, ${label}`,
        metric: 'speed',
        unit: 'sim-s/wall-s',
        value: simS / wallS,
        better: 'higher',
        peer: 'real time',
        peerValue: 1,
      });
      rows.push({
        name: `gossip 100 nodes, ${label}`,
        metric: 'wall time for 10 sim-min',
        unit: 's',
        value: projected,
        better: 'lower',
        ...(traceCapacity === 0 ? { target: '< 60 s on two cores', met: projected < 60 } : {}),
      });
    }
    return rows;
  },
};
