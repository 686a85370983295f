import { describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/runtime/sim/scenario.js';
import {
  gossipDissemination,
  setupGossipDissemination,
} from '../../../sim/scenarios/gossip-dissemination.js';
import { Simulation, formatFailure } from '../../../src/runtime/sim/simulation.js';

describe('gossip-dissemination scenario (100 nodes, 1% loss, 1% crashed)', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 99.9% of messages reach every live node within 2·log2(N) rounds`, async () => {
      const run = await runScenario(gossipDissemination, seed, { traceCapacity: 0 });
      expect(run.failure === undefined ? 'ok' : formatFailure(run.failure)).toBe('ok');
    });
  }

  it('the final check fails when gossip cannot reach everyone (it can fail)', async () => {
    const sim = new Simulation({ seed: 1, traceCapacity: 0, network: { loss: 0.01 } });
    setupGossipDissemination(sim, { nodes: 20, messages: 20, crashFraction: 0 });
    sim.partition({ kind: 'isolate', node: 'n5' });
    await sim.runFor(5_000);
    const result = sim.runFinalChecks();
    expect(result.ok).toBe(false);
    expect(result.failure?.invariant).toMatch(/99\.9%/);
  });
});
