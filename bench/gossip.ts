/**
 * The native gossip's proof numbers (issue 3): N simulated nodes, 1% datagram
 * loss, 1% of them crashed, a steady cluster-wide stream of messages. For each
 * N: rounds until a message reached every live node (p50/p99/max, against
 * log2 N), the fraction of messages that reached every live node within
 * 2·log2(N) rounds (target ≥ 99.9%), and the bytes each node sends per second
 * (should stay flat as N grows; the peer is the same workload at N = 10).
 */

import { Simulation } from '../src/runtime/sim/simulation.js';
import { setupGossipDissemination } from '../sim/scenarios/gossip-dissemination.js';
import type { BenchOptions, BenchRow, BenchSuite } from './harness.js';

const RATE = 20; // messages per second across the whole cluster, the same for every N
const PAYLOAD_BYTES = 64;
const SETTLE_MS = 8_000;

function sizes(options: BenchOptions): number[] {
  return options.quick ? [10, 100] : [10, 100, 1000];
}

function messageCount(options: BenchOptions): number {
  return options.quick ? 300 : 1_000;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}

async function measure(nodes: number, messages: number) {
  const sim = new Simulation({
    seed: nodes,
    traceCapacity: 0,
    network: { latency: { baseMs: 1, jitterMs: 2, distribution: 'lognormal' }, loss: 0.01 },
  });
  const record = setupGossipDissemination(sim, {
    nodes,
    messages,
    messagesPerSecond: RATE,
    payloadBytes: PAYLOAD_BYTES,
    crashFraction: 0.01,
    unchecked: true,
  });
  const started = performance.now();
  const endMs = record.windowMs.to + SETTLE_MS;
  const result = await sim.runFor(endMs);
  const wallS = (performance.now() - started) / 1000;
  if (!result.ok) throw new Error(`simulation failed: ${result.failure?.message ?? '?'}`);
  const rounds = record.roundsToFull().sort((a, b) => a - b);
  const within = rounds.filter((r) => r <= record.boundRounds).length / rounds.length;
  return {
    rounds,
    within,
    bound: record.boundRounds,
    bytesPerNodePerSecond: record.bytesPerNodePerSecond(endMs),
    crashed: record.crashed.size,
    wallS,
  };
}

/** The `gossip` suite. */
export const gossipSuite: BenchSuite = {
  name: 'gossip',
  workload: (options: BenchOptions) =>
    `NativeGossipProtocol over simulated datagrams for N = ${sizes(options).join(', ')} nodes: ` +
    `1% loss, log-normal latency (1 ms + 2 ms jitter), 1% of nodes crashed, fan-out 3, 200 ms rounds; ` +
    `${messageCount(options)} messages of ${PAYLOAD_BYTES} B spread by random live nodes at ${RATE}/s ` +
    `cluster-wide (the same for every N), then ${SETTLE_MS / 1000} s to settle. ` +
    'Peers: log2(N) for rounds; the same workload at N = 10 for bytes per node per second.',
  async run(options: BenchOptions, log: (line: string) => void): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    let baseBytes: number | undefined;
    for (const nodes of sizes(options)) {
      const m = await measure(nodes, messageCount(options));
      const log2 = Math.log2(nodes);
      log(
        `N=${nodes}: ${m.rounds.length} messages, ${m.crashed} crashed, ${m.wallS.toFixed(1)} wall s; ` +
          `rounds p50 ${percentile(m.rounds, 0.5).toFixed(2)} p99 ${percentile(m.rounds, 0.99).toFixed(2)} ` +
          `max ${String(m.rounds.at(-1)?.toFixed(2))}; ${(m.within * 100).toFixed(2)}% within ${m.bound.toFixed(1)} rounds; ` +
          `${m.bytesPerNodePerSecond.toFixed(0)} B/node/s`,
      );
      for (const [label, p] of [
        ['p50', 0.5],
        ['p99', 0.99],
        ['max', 1],
      ] as const) {
        rows.push({
          name: `N=${nodes}`,
          metric: `rounds to full dissemination ${label}`,
          unit: 'rounds',
          value: percentile(m.rounds, p),
          better: 'lower',
          peer: 'log2(N)',
          peerValue: log2,
          ...(label === 'max'
            ? {
                target: `≤ 2·log2(N) = ${(2 * log2).toFixed(1)}`,
                met: percentile(m.rounds, 1) <= 2 * log2,
              }
            : {}),
        });
      }
      rows.push({
        name: `N=${nodes}`,
        metric: 'messages at every live node within 2·log2(N) rounds',
        unit: '%',
        value: m.within * 100,
        better: 'higher',
        target: '≥ 99.9%',
        met: m.within >= 0.999,
      });
      baseBytes ??= m.bytesPerNodePerSecond;
      rows.push({
        name: `N=${nodes}`,
        metric: 'bytes sent per node per second',
        unit: 'B/s',
        value: m.bytesPerNodePerSecond,
        better: 'lower',
        peer: 'N=10',
        peerValue: baseBytes,
        ...(nodes === 10
          ? {}
          : {
              target: 'flat: ≤ 2× N=10',
              met: m.bytesPerNodePerSecond <= 2 * baseBytes,
            }),
      });
    }
    return rows;
  },
};
