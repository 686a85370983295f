/**
 * `gossip-dissemination`: the native infection-style gossip on N simulated
 * nodes over datagrams with 1% loss, a few nodes crashed before the traffic
 * starts (they stay in every peer table), and a steady stream of messages
 * originated by random live nodes.
 *
 * Invariants (after every event): no node delivers a message twice, every
 * delivered message was originated, with its bytes intact. Final check: at
 * least 99.9% of the messages reach every live node within 2·log2(N) gossip
 * rounds of being spread.
 */

import { NativeGossipProtocol } from '../../src/native/gossip/native-gossip-protocol.js';
import {
  datagramGossipTransport,
  type ClosableGossipTransport,
} from '../../src/native/gossip/gossip-transport.js';
import type { NetworkAddress, Runtime } from '../../src/runtime/runtime.js';
import type { SimScenario } from '../../src/runtime/sim/scenario.js';
import type { Simulation } from '../../src/runtime/sim/simulation.js';

const PORT = 7946; // memberlist's default port

/** Options of {@link setupGossipDissemination}. */
export interface GossipDisseminationOptions {
  /** Nodes; default 100. */
  readonly nodes?: number;
  /** Messages spread in all; default 500. */
  readonly messages?: number;
  /** Messages per second across the whole cluster (constant as N grows); default 50. */
  readonly messagesPerSecond?: number;
  /** Payload bytes per message; default 64. */
  readonly payloadBytes?: number;
  /** Fraction of nodes crashed before the first message; default 0.01. */
  readonly crashFraction?: number;
  /** When the first message is spread, in virtual ms; default 1 000. */
  readonly startMs?: number;
  /** Gossip round length; default 200 ms. */
  readonly gossipIntervalMs?: number;
  /** Skip per-event invariants (for benchmarks). */
  readonly unchecked?: boolean;
}

/** One message's fate. */
export interface MessageRecord {
  /** Virtual time it was spread. */
  readonly spreadAt: number;
  /** Its payload, to check integrity. */
  readonly payload: Uint8Array;
  /** Live nodes that delivered it. */
  delivered: number;
  /** Virtual time the last of them delivered it. */
  lastAt: number;
  /** Which node indexes delivered it (duplicate detection). */
  readonly by: Uint8Array;
}

/** What a run recorded; read it after the run. */
export interface GossipDisseminationRecord {
  /** Nodes in the cluster. */
  readonly nodes: number;
  /** The round bound: 2·log2(N). */
  readonly boundRounds: number;
  /** Gossip round length in ms. */
  readonly gossipIntervalMs: number;
  /** Virtual time of the first message and the time the last one is spread. */
  readonly windowMs: { readonly from: number; readonly to: number };
  /** Messages by id. */
  readonly messages: Map<string, MessageRecord>;
  /** Ids of crashed nodes. */
  readonly crashed: ReadonlySet<string>;
  /** Live nodes' transports (for byte counts). */
  readonly transports: Map<string, ClosableGossipTransport>;
  /** Live nodes' gossip instances. */
  readonly protocols: Map<string, NativeGossipProtocol>;
  /** Rounds each message took to reach every live node (`Infinity` when it did not). */
  roundsToFull(): number[];
  /** Bytes sent per live node per second between the first message and `untilMs`. */
  bytesPerNodePerSecond(untilMs: number): number;
}

/**
 * Sets up one `gossip-dissemination` run.
 *
 * @param sim - A fresh simulation.
 * @param options - Size and workload.
 * @returns The record the run fills in.
 */
export function setupGossipDissemination(
  sim: Simulation,
  options: GossipDisseminationOptions = {},
): GossipDisseminationRecord {
  const count = options.nodes ?? 100;
  const total = options.messages ?? 500;
  const rate = options.messagesPerSecond ?? 50;
  const payloadBytes = options.payloadBytes ?? 64;
  const startMs = options.startMs ?? 1_000;
  const interval = options.gossipIntervalMs ?? 200;
  const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
  const indexOf = new Map(ids.map((id, i) => [id, i]));
  const table: Record<string, NetworkAddress> = Object.fromEntries(
    ids.map((id) => [id, { host: id, port: PORT }]),
  );
  const crashed = new Set<string>();
  const crashCount = Math.round(count * (options.crashFraction ?? 0.01));
  while (crashed.size < crashCount) crashed.add(ids[sim.random.int(count)] as string);
  const liveCount = count - crashed.size;
  const messages = new Map<string, MessageRecord>();
  const transports = new Map<string, ClosableGossipTransport>();
  const protocols = new Map<string, NativeGossipProtocol>();
  const violations: string[] = [];

  const program = (id: string) => async (runtime: Runtime) => {
    const transport = await datagramGossipTransport(runtime, { port: PORT, peerAddresses: table });
    const gossip = new NativeGossipProtocol(runtime, transport, { gossipIntervalMs: interval });
    transports.set(id, transport);
    protocols.set(id, gossip);
    const index = indexOf.get(id) as number;
    gossip.onGossipReceived((message) => {
      const record = messages.get(message.messageId);
      if (record === undefined) {
        violations.push(`${id} delivered unknown message ${message.messageId}`);
        return;
      }
      if (record.by[index] === 1) violations.push(`${id} delivered ${message.messageId} twice`);
      record.by[index] = 1;
      if (!options.unchecked && !sameBytes(record.payload, message.payload)) {
        violations.push(`${id} delivered ${message.messageId} with altered bytes`);
      }
      if (!crashed.has(id)) {
        record.delivered += 1;
        record.lastAt = sim.now;
      }
    });
  };
  for (const id of ids) sim.addNode(id, program(id));

  sim.schedule(startMs / 2, (s) => {
    for (const id of crashed) {
      s.crash(id);
      transports.delete(id);
      protocols.delete(id);
    }
  });
  const live = ids.filter((id) => !crashed.has(id));
  const gap = 1_000 / rate;
  for (let i = 0; i < total; i++) {
    sim.schedule(startMs + i * gap, (s) => {
      const origin = live[s.random.int(live.length)] as string;
      const gossip = protocols.get(origin);
      if (gossip === undefined) throw new Error(`${origin} has no gossip instance`);
      const payload = s.random.bytes(payloadBytes);
      const message = gossip.createMessage(payload);
      messages.set(message.messageId, {
        spreadAt: s.now,
        payload,
        delivered: 0,
        lastAt: Number.NaN,
        by: new Uint8Array(count),
      });
      gossip.spread(message).catch((error: unknown) => {
        violations.push(`spread on ${origin} failed: ${String(error)}`);
      });
    });
  }

  const boundRounds = 2 * Math.log2(count);
  const record: GossipDisseminationRecord = {
    nodes: count,
    boundRounds,
    gossipIntervalMs: interval,
    windowMs: { from: startMs, to: startMs + (total - 1) * gap },
    messages,
    crashed,
    transports,
    protocols,
    roundsToFull: () =>
      [...messages.values()].map((m) =>
        m.delivered >= liveCount ? (m.lastAt - m.spreadAt) / interval : Number.POSITIVE_INFINITY,
      ),
    bytesPerNodePerSecond: (untilMs) => {
      let bytes = 0;
      for (const transport of transports.values()) bytes += transport.stats.bytesSent;
      return bytes / transports.size / ((untilMs - startMs) / 1_000);
    },
  };
  sim.addInvariant('gossip safety', () => violations[0]);
  sim.addFinalCheck('99.9% of messages reach every live node within 2·log2(N) rounds', () => {
    const rounds = record.roundsToFull();
    if (rounds.length < total) return `only ${rounds.length} of ${total} messages were spread`;
    const within = rounds.filter((r) => r <= boundRounds).length / rounds.length;
    return within >= 0.999
      ? undefined
      : `${(within * 100).toFixed(2)}% within ${boundRounds.toFixed(1)} rounds`;
  });
  return record;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The `gossip-dissemination` scenario: 100 nodes, 1% loss, 1% crashed, 500 messages. */
export const gossipDissemination: SimScenario = {
  name: 'gossip-dissemination',
  description:
    'native gossip on 100 nodes with 1% loss and 1% crashed: 99.9% of 500 messages reach every live node within 2·log2(N) rounds',
  durationMs: 20_000,
  options: {
    network: { latency: { baseMs: 1, jitterMs: 2, distribution: 'lognormal' }, loss: 0.01 },
  },
  setup: (sim) => {
    setupGossipDissemination(sim);
  },
};
