/**
 * `ping-mesh`: exercises the simulator itself. Nodes exchange datagrams and
 * framed stream messages under loss, duplication, reordering, partitions of
 * every kind, pauses, clock drift, and crashes with restarts, while writing a
 * counter to storage and syncing now and then.
 *
 * Invariants (after every event):
 * - nothing crosses a cut link (checked against the scenario's own record);
 * - every stream delivers its frames in order, without gaps or duplicates;
 * - after a restart a node reads exactly what its last completed sync covered
 *   (synced writes survive, unsynced ones do not).
 * Final check: once faults have ended and writers stopped, every stream still
 * open on both ends has delivered every byte written to it.
 */

import type { Runtime, StreamConnection } from '../../src/runtime/runtime.js';
import type { SimScenario } from '../../src/runtime/sim/scenario.js';
import type { Simulation } from '../../src/runtime/sim/simulation.js';
import { CutRecord, scheduleRandomFaults } from './faults.js';

const NODES = 5;
const DURATION_MS = 60_000;
const FAULTS_UNTIL_MS = 40_000;
const WRITERS_STOP_MS = 48_000;
const DATAGRAM_PORT = 7000;
const STREAM_PORT = 8000;

interface StreamRecord {
  readonly client: string;
  readonly server: string;
  sent: number;
  received: number;
  closed: boolean;
}

/** Incremental frame decoder: `[length u32][seq u32][payload]`, across arbitrary chunks. */
class FrameReader {
  #buffer = new Uint8Array(0);

  push(chunk: Uint8Array, onFrame: (seq: number, payload: Uint8Array) => void): void {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    let offset = 0;
    const view = new DataView(joined.buffer);
    while (joined.length - offset >= 8) {
      const length = view.getUint32(offset);
      if (joined.length - offset - 8 < length) break;
      onFrame(view.getUint32(offset + 4), joined.subarray(offset + 8, offset + 8 + length));
      offset += 8 + length;
    }
    this.#buffer = joined.slice(offset);
  }
}

function frame(seq: number, payloadLength: number): Uint8Array {
  const out = new Uint8Array(8 + payloadLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, payloadLength);
  view.setUint32(4, seq);
  out.fill(seq & 0xff, 8);
  return out;
}

function encodeCounter(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function decodeCounter(bytes: Uint8Array | undefined): number {
  return bytes === undefined ? 0 : new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
}

/** Sets up one `ping-mesh` run (exported for tests that tweak it). */
export function setupPingMesh(sim: Simulation, nodes = NODES): void {
  const ids = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const cuts = new CutRecord();
  const violations: string[] = [];
  const expectedDurable = new Map<string, number>();
  const streams = new Map<string, StreamRecord>();
  const violate = (message: string): void => {
    violations.push(`t=${sim.now.toFixed(3)}: ${message}`);
  };

  const program = (id: string) => async (runtime: Runtime) => {
    const { clock, random, network, storage } = runtime;
    // A restart ends this node's streams even when no end lived to see onClose.
    for (const record of streams.values()) {
      if (record.client === id || record.server === id) record.closed = true;
    }
    const store = storage.open('counter');
    let counter = decodeCounter(store.get('c'));
    const expected = expectedDurable.get(id) ?? 0;
    if (counter !== expected) {
      violate(`${id} restarted with counter ${counter}, last completed sync covered ${expected}`);
    }

    const endpoint = await network.bindDatagram({ host: '', port: DATAGRAM_PORT }, (data, from) => {
      if (cuts.isCut(from.host, id)) violate(`datagram ${from.host} -> ${id} crossed a cut`);
      if (data.length !== 5) violate(`datagram of ${data.length} bytes`);
    });
    await network.listen({ host: '', port: STREAM_PORT }, (connection) => {
      const key = `${connection.remote.host}:${connection.remote.port}`;
      const reader = new FrameReader();
      let nextSeq = 0;
      connection.onData((chunk) => {
        if (cuts.isCut(connection.remote.host, id))
          violate(`stream bytes ${key} -> ${id} crossed a cut`);
        const record = streams.get(key);
        if (record !== undefined) record.received += chunk.length;
        reader.push(chunk, (seq, payload) => {
          if (seq !== nextSeq) violate(`stream ${key} -> ${id}: frame ${seq}, expected ${nextSeq}`);
          nextSeq = seq + 1;
          if (payload.some((byte) => byte !== (seq & 0xff)))
            violate(`stream ${key}: corrupt frame ${seq}`);
        });
      });
      connection.onClose(() => {
        const record = streams.get(key);
        if (record !== undefined) record.closed = true;
      });
    });

    // Datagram pings to random peers.
    let pingSeq = 0;
    const ping = (): void => {
      const peer = ids[random.int(ids.length)] as string;
      const payload = new Uint8Array(5);
      new DataView(payload.buffer).setUint32(1, pingSeq++);
      endpoint.send(payload, { host: peer, port: DATAGRAM_PORT });
      clock.setTimer(50 + random.int(100), ping);
    };
    ping();

    // Counter writes with occasional syncs.
    const write = (): void => {
      counter += 1;
      store.put('c', encodeCounter(counter));
      if (random.next() < 0.3) {
        const covered = counter;
        void store.sync().then(() => {
          expectedDurable.set(id, Math.max(expectedDurable.get(id) ?? 0, covered));
        });
      }
      clock.setTimer(20 + random.int(200), write);
    };
    write();

    // One framed stream to the next node in the ring, reconnecting after a break.
    const peer = ids[(ids.indexOf(id) + 1) % ids.length] as string;
    const connectLoop = async (): Promise<void> => {
      let connection: StreamConnection;
      try {
        connection = await network.connect({ host: peer, port: STREAM_PORT });
      } catch {
        clock.setTimer(500, () => void connectLoop());
        return;
      }
      const key = `${connection.local.host}:${connection.local.port}`;
      const record: StreamRecord = {
        client: id,
        server: peer,
        sent: 0,
        received: 0,
        closed: false,
      };
      streams.set(key, record);
      let seq = 0;
      let blocked = false;
      let open = true;
      const pump = (): void => {
        if (!open || blocked || clock.monotonic() >= WRITERS_STOP_MS) return;
        const bytes = frame(seq++, random.int(3000));
        record.sent += bytes.length;
        if (!connection.write(bytes)) blocked = true;
        clock.setTimer(random.int(60), pump);
      };
      connection.onDrain(() => {
        blocked = false;
        pump();
      });
      connection.onClose(() => {
        open = false;
        record.closed = true;
        clock.setTimer(300, () => void connectLoop());
      });
      pump();
    };
    void connectLoop();
  };

  ids.forEach((id, i) => {
    sim.addNode(id, program(id), { driftPpm: ((i * 37) % 11) * 40 - 200 });
  });
  scheduleRandomFaults(sim, cuts, { count: 12, fromMs: 2_000, untilMs: FAULTS_UNTIL_MS });
  sim.addInvariant('ping-mesh safety', () => violations[0]);
  sim.addFinalCheck('streams delivered every byte', () => {
    for (const [key, record] of streams) {
      if (!record.closed && record.received !== record.sent) {
        return `stream ${key}: ${record.sent} bytes written, ${record.received} received`;
      }
    }
    return undefined;
  });
}

/** The `ping-mesh` scenario. */
export const pingMesh: SimScenario = {
  name: 'ping-mesh',
  description: `${NODES} nodes: datagram pings, framed streams and synced counters under loss, partitions, pauses and crashes`,
  durationMs: DURATION_MS,
  options: {
    network: {
      latency: { baseMs: 2, jitterMs: 1, distribution: 'lognormal', sigma: 1 },
      loss: 0.05,
      duplicate: 0.02,
      reorder: 0.05,
      reorderDelayMs: 20,
    },
  },
  setup: (sim) => {
    setupPingMesh(sim);
  },
};
