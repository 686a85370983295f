/**
 * The behavioural tests every {@link AutoTier} must pass.
 *
 * @packageDocumentation
 */

import { describe, expect, it } from 'vitest';
import {
  TIER_PERFORMANCE_CLASSES,
  type AutoTier,
  type TierEvaluationContext,
  type TierEvent,
  type TierMigrationRequest,
} from '../../contracts/auto-tier.js';
import type { ComplianceFactory } from './factory.js';
import { rejectionCode } from './error-code.js';
import { withSubject } from './factory.js';

/** A tier name no implementation has. */
const UNKNOWN_TIER = 'no-such-tier-6f1c';

const context = (dataKey: string, dataSizeBytes = 1024): TierEvaluationContext => ({
  dataKey,
  dataSizeBytes,
  accessCount: 3,
  lastAccessedAt: 1_700_000_000_000,
  createdAt: 1_600_000_000_000,
  metadata: {},
});

/**
 * Registers the {@link AutoTier} compliance tests with Vitest. The factory gives each test
 * a fresh instance with at least one tier and room for a few kilobytes of data.
 *
 * @example
 * ```ts
 * autoTierCompliance('InMemoryAutoTier', () => ({ subject: new InMemoryAutoTier() }));
 * ```
 *
 * @param name - The implementation's name, shown in test titles.
 * @param factory - Makes a fresh auto-tier for each test.
 * @since 2.0.0
 */
export function autoTierCompliance(name: string, factory: ComplianceFactory<AutoTier>): void {
  const test = (title: string, body: (subject: AutoTier) => Promise<void> | void) => {
    it(title, () => withSubject(factory, body));
  };

  describe(`AutoTier compliance: ${name}`, () => {
    test('lists well-formed tiers with unique names, fastest class first', async (tier) => {
      const tiers = await tier.getTiers();
      expect(tiers.length).toBeGreaterThan(0);
      expect(new Set(tiers.map((info) => info.tierName)).size).toBe(tiers.length);
      for (const info of tiers) {
        expect(info.tierName).not.toBe('');
        expect(TIER_PERFORMANCE_CLASSES).toContain(info.performanceClass);
        expect(info.capacityBytes).toBeGreaterThanOrEqual(0);
        expect(info.usedBytes).toBeGreaterThanOrEqual(0);
        expect(info.usedBytes).toBeLessThanOrEqual(info.capacityBytes);
        expect(info.costPerGbMonth).toBeGreaterThanOrEqual(0);
      }
      const ranks = tiers.map((info) => TIER_PERFORMANCE_CLASSES.indexOf(info.performanceClass));
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    });

    test('a placement names known tiers, has a confidence in [0, 1] and is announced', async (tier) => {
      const events: TierEvent[] = [];
      tier.onTierEvent((event) => events.push(event));
      const names = (await tier.getTiers()).map((info) => info.tierName);
      const placement = await tier.evaluatePlacement(context('compliance/a'));
      expect(placement.dataKey).toBe('compliance/a');
      expect(names).toContain(placement.recommendedTier);
      expect(names).toContain(placement.currentTier);
      expect(placement.reason).toMatch(/\S/);
      expect(placement.confidenceScore).toBeGreaterThanOrEqual(0);
      expect(placement.confidenceScore).toBeLessThanOrEqual(1);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        eventType: 'placement-evaluated',
        dataKey: 'compliance/a',
        fromTier: placement.currentTier,
        toTier: placement.recommendedTier,
      });
    });

    test('a malformed placement context is INVALID_ARGUMENT and emits nothing', async (tier) => {
      const events: TierEvent[] = [];
      tier.onTierEvent((event) => events.push(event));
      const malformed: unknown[] = [
        { ...context('x'), dataKey: '' },
        { ...context('x'), dataSizeBytes: -1 },
        { ...context('x'), accessCount: -1 },
        { ...context('x'), dataSizeBytes: Number.NaN },
      ];
      for (const bad of malformed) {
        expect(await rejectionCode(tier.evaluatePlacement(bad as TierEvaluationContext))).toBe(
          'INVALID_ARGUMENT',
        );
      }
      expect(events).toHaveLength(0);
    });

    test('a migration to an unknown tier fails with UNKNOWN_TIER and emits only migration-failed', async (tier) => {
      const events: TierEvent[] = [];
      const placement = await tier.evaluatePlacement(context('compliance/b'));
      tier.onTierEvent((event) => events.push(event));
      const request: TierMigrationRequest = {
        dataKey: 'compliance/b',
        sourceTier: placement.currentTier,
        targetTier: UNKNOWN_TIER,
        deleteFromSource: true,
      };
      const result = await tier.migrate(request);
      expect(result).toMatchObject({
        success: false,
        errorCode: 'UNKNOWN_TIER',
        dataKey: 'compliance/b',
        sourceTier: placement.currentTier,
        targetTier: UNKNOWN_TIER,
      });
      expect(result.errorMessage).toMatch(/\S/);
      expect(events.map((event) => event.eventType)).toEqual(['migration-failed']);
      expect(events[0]).toMatchObject({ fromTier: placement.currentTier, toTier: UNKNOWN_TIER });
    });

    test('a migration of data no tier holds fails with UNKNOWN_DATA_KEY', async (tier) => {
      const tiers = await tier.getTiers();
      const first = tiers[0]?.tierName ?? '';
      const last = tiers.at(-1)?.tierName ?? '';
      const events: TierEvent[] = [];
      tier.onTierEvent((event) => events.push(event));
      const result = await tier.migrate({
        dataKey: 'never-seen-6f1c',
        sourceTier: first,
        targetTier: last,
        deleteFromSource: false,
      });
      expect(result).toMatchObject({ success: false, errorCode: 'UNKNOWN_DATA_KEY' });
      expect(events.map((event) => event.eventType)).toEqual(['migration-failed']);
    });

    test('a malformed migration request is INVALID_ARGUMENT and emits nothing', async (tier) => {
      const events: TierEvent[] = [];
      tier.onTierEvent((event) => events.push(event));
      const tierName = (await tier.getTiers())[0]?.tierName ?? '';
      const good = {
        dataKey: 'k',
        sourceTier: tierName,
        targetTier: tierName,
        deleteFromSource: false,
      };
      const malformed: unknown[] = [
        { ...good, dataKey: '' },
        { ...good, targetTier: 42 },
        { ...good, deleteFromSource: 'yes' },
      ];
      for (const bad of malformed) {
        expect(await rejectionCode(tier.migrate(bad as TierMigrationRequest))).toBe(
          'INVALID_ARGUMENT',
        );
      }
      expect(events).toHaveLength(0);
    });

    test('an unsubscribed listener hears nothing, via call or dispose', async (tier) => {
      const heard: TierEvent[] = [];
      const unsubscribe = tier.onTierEvent((event) => heard.push(event));
      unsubscribe();
      {
        using _disposed = tier.onTierEvent((event) => heard.push(event));
      }
      await tier.evaluatePlacement(context('compliance/c'));
      expect(heard).toHaveLength(0);
    });

    test('a throwing listener does not stop the others', async (tier) => {
      const heard: string[] = [];
      tier.onTierEvent(() => {
        throw new Error('listener failure');
      });
      tier.onTierEvent((event) => heard.push(event.eventType));
      await tier.evaluatePlacement(context('compliance/d'));
      expect(heard).toEqual(['placement-evaluated']);
    });

    test('an aborted signal rejects with its reason and changes nothing', async (tier) => {
      const reason = new Error('cancelled by test');
      const signal = AbortSignal.abort(reason);
      const events: TierEvent[] = [];
      tier.onTierEvent((event) => events.push(event));
      const usedBefore = (await tier.getTiers()).map((info) => info.usedBytes);
      await expect(tier.evaluatePlacement(context('compliance/e'), { signal })).rejects.toBe(
        reason,
      );
      const tierName = (await tier.getTiers())[0]?.tierName ?? '';
      await expect(
        tier.migrate(
          {
            dataKey: 'compliance/e',
            sourceTier: tierName,
            targetTier: UNKNOWN_TIER,
            deleteFromSource: true,
          },
          { signal },
        ),
      ).rejects.toBe(reason);
      await expect(tier.getTiers({ signal })).rejects.toBe(reason);
      expect(events).toHaveLength(0);
      expect((await tier.getTiers()).map((info) => info.usedBytes)).toEqual(usedBefore);
    });
  });
}
