import { describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/runtime/sim/scenario.js';
import { Simulation } from '../../../src/runtime/sim/simulation.js';
import { runSwimAccuracy, swimAccuracy } from '../../../sim/scenarios/swim-accuracy.js';
import { setupSwimCluster } from '../../../sim/scenarios/swim-cluster.js';
import { runSwimCompleteness } from '../../../sim/scenarios/swim-completeness.js';

const SEEDS = 30;

describe('SWIM simulations (seeded; invariants after every event)', () => {
  it(`completeness: over ${SEEDS} seeds every live member declares a crashed one dead within the bound`, async () => {
    const failures: string[] = [];
    const detections: number[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const run = await runSwimCompleteness(seed);
      if (run.failure !== undefined) failures.push(run.failure);
      detections.push(run.detectionMs);
      expect(run.boundMs).toBe(43_224); // 10 s + 6 · ⌊4 · log10(20) s⌋ + 2 s, for 20 members
    }
    expect(failures).toEqual([]);
    // Confirmations shrink the suspicion timeout: typical detection is far below the bound.
    detections.sort((a, b) => a - b);
    expect(detections[Math.floor(SEEDS / 2)]).toBeLessThan(15_000);
  }, 60_000);

  it('accuracy: 5% loss and a member paused 2 s in every 10 s; with Lifeguard nobody is declared dead', async () => {
    for (const seed of [1, 2, 3]) {
      const run = await runSwimAccuracy(seed);
      expect(run.failure).toBeUndefined();
      expect(run.counts.deaths).toBe(0);
      // The pauses are noticed (the paused member is suspected and refutes), so the check has teeth.
      expect(run.counts.raisedOfPaused).toBeGreaterThan(0);
      expect(run.counts.refutationsByPaused).toBeGreaterThan(0);
    }
  }, 60_000);

  it('a slow member (inbound 1.5 s late, timers on time) accuses healthy members far less with Lifeguard', async () => {
    const accusations = { on: 0, off: 0 };
    for (const seed of [1, 2]) {
      for (const lifeguard of [true, false]) {
        const run = await runSwimAccuracy(seed, {
          lifeguard,
          slowInboundMs: 1_500,
          forbidFalseDeaths: false,
        });
        accusations[lifeguard ? 'on' : 'off'] += run.counts.raisedOfHealthy;
        expect(run.counts.deaths).toBe(0);
      }
    }
    expect(accusations.off).toBeGreaterThan(10);
    expect(accusations.on * 4).toBeLessThan(accusations.off);
  }, 60_000);

  it('the registered accuracy scenario passes a seed', async () => {
    const run = await runScenario(swimAccuracy, 11, { traceCapacity: 0 });
    expect(run.failure).toBeUndefined();
  }, 30_000);

  it('a healed partition merges: both sides see everyone alive again', async () => {
    const sim = new Simulation({ seed: 5, traceCapacity: 0, network: { loss: 0.01 } });
    const cluster = setupSwimCluster(sim, {
      nodes: 10,
      forbidFalseDeaths: false,
      config: { reconnectIntervalMs: 5_000, gossipToTheDeadMs: 5_000 },
    });
    await sim.runFor(10_000);
    expect(cluster.converged()).toBe(true);
    const cut = sim.partition({ kind: 'split', groups: [['n1', 'n2', 'n3', 'n4', 'n5']] });
    await sim.runFor(60_000);
    expect(cluster.swims.get('n1')!.member('n9')!.status).toBe('dead');
    expect(cluster.swims.get('n9')!.member('n1')!.status).toBe('dead');
    cut.heal();
    const healed = await sim.runUntil(() => cluster.converged(), 60_000);
    expect(healed.reached).toBe(true);
  }, 30_000);

  it('a crashed member that restarts rejoins: declared dead, then alive again at a higher incarnation', async () => {
    const sim = new Simulation({ seed: 8, traceCapacity: 0, network: { loss: 0.01 } });
    const cluster = setupSwimCluster(sim, { nodes: 8 });
    await sim.runFor(10_000);
    cluster.crash(sim, 'n3');
    const dead = await sim.runUntil(
      () => [...cluster.swims.values()].every((swim) => swim.member('n3')?.status === 'dead'),
      60_000,
    );
    expect(dead.reached).toBe(true);
    const deadAt = cluster.swims.get('n1')!.member('n3')!.incarnation;
    cluster.restart(sim, 'n3');
    const back = await sim.runUntil(() => cluster.converged(), 30_000);
    expect(back.ok && back.reached).toBe(true);
    expect(cluster.swims.get('n1')!.member('n3')!.incarnation).toBeGreaterThan(deadAt);
  }, 30_000);

  it('the safety invariant fails a run in which a running member is declared dead (it can fail)', async () => {
    const sim = new Simulation({ seed: 6, traceCapacity: 0 });
    setupSwimCluster(sim, { nodes: 6 });
    sim.partition({ kind: 'isolate', node: 'n4' }, { atMs: 5_000 });
    const result = await sim.runFor(60_000);
    expect(result.ok).toBe(false);
    expect(result.failure?.invariant).toBe('no running member is declared dead');
  }, 30_000);
});
