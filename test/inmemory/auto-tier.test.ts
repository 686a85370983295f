import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TierEvaluationContext, TierEvent } from '../../src/contracts/auto-tier.js';
import { DistributedError } from '../../src/contracts/errors.js';
import { InMemoryAutoTier } from '../../src/inmemory/in-memory-auto-tier.js';
import { autoTierCompliance } from '../../src/testing/compliance/auto-tier.js';

const quietListenerErrors = { onListenerError: () => undefined };

autoTierCompliance('InMemoryAutoTier', () => ({
  subject: new InMemoryAutoTier(quietListenerErrors),
}));

const context = (dataKey: string, dataSizeBytes: number): TierEvaluationContext => ({
  dataKey,
  dataSizeBytes,
  accessCount: 0,
  lastAccessedAt: 0,
  createdAt: 0,
  metadata: {},
});

const usedBytes = async (tier: InMemoryAutoTier): Promise<number> =>
  (await tier.getTiers())[0]?.usedBytes ?? -1;

describe('InMemoryAutoTier', () => {
  it('has one hot tier with the configured name, capacity and cost', async () => {
    const tier = new InMemoryAutoTier({ tierName: 'ram', capacityBytes: 4096, costPerGbMonth: 3 });
    const tiers = await tier.getTiers();
    expect(tiers).toEqual([
      {
        tierName: 'ram',
        description: expect.stringMatching(/memory/) as unknown,
        capacityBytes: 4096,
        usedBytes: 0,
        costPerGbMonth: 3,
        performanceClass: 'hot',
      },
    ]);
    expect(Object.isFrozen(tiers)).toBe(true);
    expect(Object.isFrozen(tiers[0])).toBe(true);
  });

  it('defaults to a 256 MiB tier named memory', async () => {
    const [info] = await new InMemoryAutoTier().getTiers();
    expect(info).toMatchObject({ tierName: 'memory', capacityBytes: 256 * 1024 * 1024 });
  });

  it('recommends staying, with confidence 1, and accounts for the data', async () => {
    const tier = new InMemoryAutoTier({ capacityBytes: 1000 });
    const placement = await tier.evaluatePlacement(context('a', 300));
    expect(placement).toEqual({
      dataKey: 'a',
      recommendedTier: 'memory',
      currentTier: 'memory',
      reason: expect.stringMatching(/only tier/) as unknown,
      confidenceScore: 1,
    });
    expect(await usedBytes(tier)).toBe(300);
    await tier.evaluatePlacement(context('b', 200));
    expect(await usedBytes(tier)).toBe(500);
  });

  it('a new size replaces the old one, and evaluating again changes nothing', async () => {
    const tier = new InMemoryAutoTier({ capacityBytes: 1000 });
    await tier.evaluatePlacement(context('a', 300));
    await tier.evaluatePlacement(context('a', 300));
    expect(await usedBytes(tier)).toBe(300);
    await tier.evaluatePlacement(context('a', 100));
    expect(await usedBytes(tier)).toBe(100);
  });

  it('a tier full placement has confidence 0 and records nothing', async () => {
    const tier = new InMemoryAutoTier({ capacityBytes: 1000 });
    await tier.evaluatePlacement(context('a', 800));
    const events: TierEvent[] = [];
    tier.onTierEvent((event) => events.push(event));
    const refused = await tier.evaluatePlacement(context('b', 201));
    expect(refused.confidenceScore).toBe(0);
    expect(refused.reason).toMatch(/^tier full: .*not recorded/);
    expect(refused.recommendedTier).toBe('memory');
    expect(await usedBytes(tier)).toBe(800);
    expect(events.map((event) => event.eventType)).toEqual(['placement-evaluated']);
    const migrate = await tier.migrate({
      dataKey: 'b',
      sourceTier: 'memory',
      targetTier: 'memory',
      deleteFromSource: false,
    });
    expect(migrate.errorCode).toBe('UNKNOWN_DATA_KEY');
    // Exactly at capacity fits.
    expect((await tier.evaluatePlacement(context('b', 200))).confidenceScore).toBe(1);
    expect(await usedBytes(tier)).toBe(1000);
  });

  it('growing recorded data past capacity keeps its old size', async () => {
    const tier = new InMemoryAutoTier({ capacityBytes: 1000 });
    await tier.evaluatePlacement(context('a', 600));
    const grown = await tier.evaluatePlacement(context('a', 1001));
    expect(grown.confidenceScore).toBe(0);
    expect(grown.reason).toMatch(/stays 600 bytes/);
    expect(await usedBytes(tier)).toBe(600);
  });

  it('maxTrackedKeys bounds the keys accounted for, not updates to known keys', async () => {
    const tier = new InMemoryAutoTier({ maxTrackedKeys: 2 });
    await tier.evaluatePlacement(context('a', 1));
    await tier.evaluatePlacement(context('b', 1));
    const third = await tier.evaluatePlacement(context('c', 1));
    expect(third.confidenceScore).toBe(0);
    expect(third.reason).toMatch(/maxTrackedKeys/);
    expect((await tier.evaluatePlacement(context('a', 5))).confidenceScore).toBe(1);
    expect(await usedBytes(tier)).toBe(6);
    expect(tier.release('b')).toBe(true);
    expect((await tier.evaluatePlacement(context('c', 1))).confidenceScore).toBe(1);
  });

  it('release stops accounting and reports whether the key was recorded', async () => {
    const tier = new InMemoryAutoTier();
    await tier.evaluatePlacement(context('a', 300));
    expect(tier.release('a')).toBe(true);
    expect(tier.release('a')).toBe(false);
    expect(tier.release('never')).toBe(false);
    expect(await usedBytes(tier)).toBe(0);
    const migrate = await tier.migrate({
      dataKey: 'a',
      sourceTier: 'memory',
      targetTier: 'memory',
      deleteFromSource: false,
    });
    expect(migrate.errorCode).toBe('UNKNOWN_DATA_KEY');
  });

  it('usedBytes is always the sum of the recorded sizes, within capacity', async () => {
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant('evaluate' as const),
        key: fc.constantFrom('a', 'b', 'c', 'd'),
        size: fc.nat({ max: 600 }),
      }),
      fc.record({
        kind: fc.constant('release' as const),
        key: fc.constantFrom('a', 'b', 'c', 'd'),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 30 }), async (operations) => {
        const tier = new InMemoryAutoTier({ capacityBytes: 1000 });
        const model = new Map<string, number>();
        for (const op of operations) {
          if (op.kind === 'release') {
            expect(tier.release(op.key)).toBe(model.delete(op.key));
            continue;
          }
          const total = [...model.values()].reduce((sum, size) => sum + size, 0);
          const fits = total - (model.get(op.key) ?? 0) + op.size <= 1000;
          const placement = await tier.evaluatePlacement(context(op.key, op.size));
          expect(placement.confidenceScore).toBe(fits ? 1 : 0);
          if (fits) model.set(op.key, op.size);
          const used = [...model.values()].reduce((sum, size) => sum + size, 0);
          expect(await usedBytes(tier)).toBe(used);
        }
      }),
    );
  });

  it('migrating recorded data to its own tier succeeds and emits only migration-completed', async () => {
    const tier = new InMemoryAutoTier({ now: () => 42 });
    await tier.evaluatePlacement(context('a', 10));
    const events: TierEvent[] = [];
    tier.onTierEvent((event) => events.push(event));
    const result = await tier.migrate({
      dataKey: 'a',
      sourceTier: 'memory',
      targetTier: 'memory',
      deleteFromSource: true,
    });
    expect(result).toEqual({
      success: true,
      dataKey: 'a',
      sourceTier: 'memory',
      targetTier: 'memory',
      durationMs: 0,
    });
    expect(events).toEqual([
      {
        eventType: 'migration-completed',
        dataKey: 'a',
        fromTier: 'memory',
        toTier: 'memory',
        timestamp: 42,
      },
    ]);
    // deleteFromSource on a same-tier migration deletes nothing.
    expect(await usedBytes(tier)).toBe(10);
  });

  it('an unknown source tier is UNKNOWN_TIER, naming it, even for unknown data', async () => {
    const tier = new InMemoryAutoTier();
    const result = await tier.migrate({
      dataKey: 'x',
      sourceTier: 'ssd',
      targetTier: 'memory',
      deleteFromSource: false,
    });
    expect(result.errorCode).toBe('UNKNOWN_TIER');
    expect(result.errorMessage).toContain("'ssd'");
  });

  it('rejects bad options and malformed metadata', async () => {
    expect(() => new InMemoryAutoTier({ tierName: '' })).toThrow(DistributedError);
    expect(() => new InMemoryAutoTier({ capacityBytes: -1 })).toThrow(DistributedError);
    expect(() => new InMemoryAutoTier({ costPerGbMonth: Number.NaN })).toThrow(DistributedError);
    expect(() => new InMemoryAutoTier({ maxTrackedKeys: 0 })).toThrow(DistributedError);
    const tier = new InMemoryAutoTier();
    const failure = await tier
      .evaluatePlacement({ ...context('a', 1), metadata: { tier: 3 } as never })
      .catch((error: unknown) => error);
    expect((failure as DistributedError).code).toBe('INVALID_ARGUMENT');
    expect(await usedBytes(tier)).toBe(0);
  });
});
