import { describe, expect, it } from 'vitest';
import type { SimScenario } from '../../../src/runtime/sim/scenario.js';
import { findFailingSeeds, runScenario } from '../../../src/runtime/sim/scenario.js';
import { formatFailure } from '../../../src/runtime/sim/simulation.js';
import { broadcastFlood } from '../../../sim/scenarios/broadcast-flood.js';
import { pingMesh } from '../../../sim/scenarios/ping-mesh.js';

/**
 * Deliberately buggy: a node acknowledges a write before syncing it (the ack
 * is recorded at once, the sync only every 500 ms), so a crash in between
 * loses an acknowledged write. Only seeds whose crash lands in that window fail.
 */
const ackBeforeSync: SimScenario = {
  name: 'ack-before-sync',
  description: 'acknowledges writes before they are durable',
  durationMs: 5_000,
  setup(sim) {
    let acknowledged = 0;
    let violation: string | undefined;
    sim.addNode('db', (runtime) => {
      const store = runtime.storage.open('log');
      const stored = store.get('n');
      const recovered = stored === undefined ? 0 : stored[0]!;
      if (recovered < acknowledged)
        violation = `acknowledged ${acknowledged}, recovered ${recovered}`;
      let n = recovered;
      const write = () => {
        n = (n + 1) % 256;
        store.put('n', Uint8Array.of(n));
        acknowledged = n; // BUG: acknowledged before sync
        if (n % 5 === 0) void store.sync();
        runtime.clock.setTimer(100, write);
      };
      runtime.clock.setTimer(100, write);
    });
    if (sim.random.next() < 0.5) {
      const at = 1_000 + sim.random.int(3_000);
      sim.schedule(at, (s) => s.crash('db'));
      sim.schedule(at + 100, (s) => s.restart('db'));
    }
    sim.addInvariant('acknowledged writes survive', () => violation);
  },
};

describe('determinism', () => {
  it('the same seed gives the identical trace; a different seed a different one', async () => {
    const a = await runScenario(pingMesh, 42);
    const b = await runScenario(pingMesh, 42);
    const c = await runScenario(pingMesh, 43);
    expect(a.sim.trace.total).toBeGreaterThan(10_000);
    expect(b.digest).toBe(a.digest);
    expect(b.sim.trace.entries()).toEqual(a.sim.trace.entries());
    expect(b.sim.stats).toEqual(a.sim.stats);
    expect(c.digest).not.toBe(a.digest);
  });

  it('a string seed works and the trace digest does not depend on the trace capacity', async () => {
    const kept = await runScenario(broadcastFlood, 'nightly-7');
    const none = await runScenario(broadcastFlood, 'nightly-7', { traceCapacity: 0 });
    expect(none.digest).toBe(kept.digest);
    expect(none.sim.trace.entries()).toEqual([]);
    expect(kept.sim.trace.entries().length).toBe(Math.min(kept.sim.trace.total, 100_000));
  });

  it('finds the failing seeds of a buggy scenario and replays one identically', async () => {
    const failing = await findFailingSeeds(ackBeforeSync, { from: 1, count: 40 });
    expect(failing.length).toBeGreaterThan(0);
    expect(failing.length).toBeLessThan(40);
    const first = failing[0]!;
    expect(first.failure!.invariant).toBe('acknowledged writes survive');
    const replay = await runScenario(ackBeforeSync, first.seed);
    const again = await runScenario(ackBeforeSync, first.seed);
    expect(replay.failure).toEqual(first.failure);
    expect(formatFailure(again.failure!)).toBe(formatFailure(first.failure!));
    expect(again.digest).toBe(replay.digest);
    expect(again.sim.trace.format()).toBe(replay.sim.trace.format());
    expect(replay.sim.trace.format()).toMatch(/crash +db/);
  });
});

describe('registered scenarios', () => {
  it('ping-mesh passes a few seeds', async () => {
    expect((await findFailingSeeds(pingMesh, { from: 1, count: 5 })).map((r) => r.failure)).toEqual(
      [],
    );
  });

  it('broadcast-flood passes a few seeds', async () => {
    expect(
      (await findFailingSeeds(broadcastFlood, { from: 1, count: 3 })).map((r) => r.failure),
    ).toEqual([]);
  });
});
