import { describe, expect, it } from 'vitest';
import { runRaftSeed } from '../../../sim/scenarios/raft-cluster.js';
import type { Runtime } from '../../../src/runtime/runtime.js';

// 300 + 200 = 500 seeds in the test command; `npx tsx scripts/raft-seeds.ts` runs thousands.
// Replay a failing seed: npx tsx scripts/raft-seeds.ts --nodes <3|5> --seed <seed> --fast
const SEEDS: Record<number, number> = { 3: 300, 5: 200 };

describe.each([3, 5])('raft on %i members under random faults', (nodes) => {
  it(`${SEEDS[nodes]} seeds: election safety, log safety, linearizable reads, liveness`, async () => {
    const failures: string[] = [];
    let acknowledged = 0;
    let reads = 0;
    for (let seed = 1; seed <= (SEEDS[nodes] ?? 0); seed++) {
      const run = await runRaftSeed(nodes, seed);
      if (run.failure !== undefined) failures.push(run.failure);
      acknowledged += run.record.acknowledged;
      reads += run.record.reads;
    }
    expect(failures).toEqual([]);
    // The runs did real work (a vacuous pass would fail here).
    expect(acknowledged).toBeGreaterThan((SEEDS[nodes] ?? 0) * 10);
    expect(reads).toBeGreaterThan((SEEDS[nodes] ?? 0) * 5);
  }, 600_000);
});

describe('the raft invariants can fail', () => {
  it('a storage whose sync lies (nothing survives a crash) is caught', async () => {
    const lying = (runtime: Runtime): Runtime => ({
      ...runtime,
      storage: {
        open: (name) => {
          const store = runtime.storage.open(name);
          return {
            get: (key) => store.get(key),
            put: (key, value) => store.put(key, value),
            delete: (key) => store.delete(key),
            keys: (prefix) => store.keys(prefix),
            sync: () => Promise.resolve(),
          };
        },
      },
    });
    let failure: string | undefined;
    let seed = 1;
    for (; seed <= 300 && failure === undefined; seed++) {
      failure = (await runRaftSeed(3, seed, 6_000, { wrapRuntime: lying })).failure;
    }
    expect(failure).toMatch(/raft safety|one leader/);
  }, 600_000);
});
