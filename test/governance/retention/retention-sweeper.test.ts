import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  RetentionRule,
  RetentionSubject,
} from '../../../src/core/governance/retention/types.js';
import { CelAutoGovernance } from '../../../src/governance/policy/cel-auto-governance.js';
import { createRetentionPolicies } from '../../../src/governance/retention/retention-policies.js';
import { RetentionRuleSet } from '../../../src/governance/retention/retention-rule-set.js';
import {
  RetentionSweeper,
  listRetentionSource,
  type RetentionAction,
  type SweeperClock,
} from '../../../src/governance/retention/retention-sweeper.js';
import { DistributedError } from '../../../src/contracts/errors.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);

/** A manual clock: time moves only when the test says so. */
class ManualClock implements SweeperClock {
  time = T0;
  timers: { at: number; callback: () => void; cancelled: boolean }[] = [];
  now(): number {
    return this.time;
  }
  setTimer(delayMs: number, callback: () => void) {
    const timer = { at: this.time + Math.max(0, delayMs), callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }
  async advance(ms: number): Promise<void> {
    this.time += ms;
    for (;;) {
      const due = this.timers.find((t) => !t.cancelled && t.at <= this.time);
      if (due === undefined) return;
      due.cancelled = true;
      due.callback();
      // Let the sweep's promises settle.
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
  }
}

const rules: RetentionRule[] = [
  {
    ruleId: 'tmp-30d',
    kind: 'delete-after',
    from: 'created',
    durationMs: 30 * DAY,
    scope: { kind: 'path-prefix', prefix: '/tmp/' },
  },
  {
    ruleId: 'logs-archive',
    kind: 'delete-after',
    from: 'accessed',
    durationMs: 10 * DAY,
    disposition: 'archive',
    scope: { kind: 'label', label: 'log' },
  },
  {
    ruleId: 'keep-legal',
    kind: 'keep-for',
    from: 'created',
    durationMs: 365 * DAY,
    scope: { kind: 'label', label: 'contract' },
  },
];

const subjects = (n: number, extra: Partial<RetentionSubject> = {}): RetentionSubject[] =>
  Array.from({ length: n }, (_, i) => ({
    resourceId: `tmp-${i}`,
    path: `/tmp/${i}`,
    createdAt: T0,
    ...extra,
  }));

describe('RetentionSweeper', () => {
  it('emits delete and archive actions for due resources only, never for held or retained ones', async () => {
    const clock = new ManualClock();
    const store: RetentionSubject[] = [
      { resourceId: 'a', path: '/tmp/a', createdAt: T0 },
      { resourceId: 'b', path: '/var/b', labels: ['log'], createdAt: T0, accessedAt: T0 + 5 * DAY },
      { resourceId: 'c', path: '/tmp/c', createdAt: T0, legalHold: true },
      { resourceId: 'd', path: '/tmp/d', labels: ['contract'], createdAt: T0 },
      { resourceId: 'e', path: '/tmp/e', createdAt: T0 + 20 * DAY },
    ];
    const sweeper = new RetentionSweeper({
      rules: new RetentionRuleSet(rules),
      source: listRetentionSource(() => store),
      clock,
    });
    const seen: RetentionAction[] = [];
    sweeper.onAction((action) => seen.push(action));
    clock.time = T0 + 31 * DAY;
    const report = await sweeper.sweepOnce();
    expect(report.actions.map((a) => [a.resourceId, a.action, a.ruleId])).toEqual([
      ['a', 'delete', 'tmp-30d'],
      ['b', 'archive', 'logs-archive'],
    ]);
    expect(seen).toEqual(report.actions);
    expect(report.examined).toBe(5);
    expect(report.passComplete).toBe(true);
    expect(store).toHaveLength(5); // it never deletes anything itself
  });

  it('bounds each sweep and resumes where it stopped, across pages', async () => {
    const clock = new ManualClock();
    clock.time = T0 + 31 * DAY;
    const store = subjects(25);
    const sweeper = new RetentionSweeper({
      rules: new RetentionRuleSet(rules),
      source: listRetentionSource(() => store),
      clock,
      maxActionsPerSweep: 7,
      pageSize: 5,
    });
    const ids: string[] = [];
    const reports = [];
    for (let i = 0; i < 4; i++) {
      const report = await sweeper.sweepOnce();
      expect(report.actions.length).toBeLessThanOrEqual(7);
      ids.push(...report.actions.map((a) => a.resourceId));
      reports.push(report);
    }
    expect(ids).toEqual(store.map((s) => s.resourceId));
    expect(reports.map((r) => r.passComplete)).toEqual([false, false, false, true]);
    // The next sweep starts a new pass.
    expect((await sweeper.sweepOnce()).actions[0]?.resourceId).toBe('tmp-0');

    const examinedBound = new RetentionSweeper({
      rules: new RetentionRuleSet(rules),
      source: listRetentionSource(() => subjects(25, { createdAt: T0 + 30 * DAY })),
      clock,
      maxExaminedPerSweep: 10,
    });
    const first = await examinedBound.sweepOnce();
    expect(first.examined).toBe(10);
    expect(first.actions).toEqual([]);
  });

  it('every due resource is reported once per pass and no held one, whatever the bounds (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        async (n, maxActions, maxExamined, pageSize, due, held) => {
          const clock = new ManualClock();
          clock.time = T0 + 31 * DAY;
          const store = subjects(n).map((s, i) => ({
            ...s,
            createdAt: due[i] ? T0 : T0 + 10 * DAY,
            legalHold: held[i]!,
          }));
          const sweeper = new RetentionSweeper({
            rules: new RetentionRuleSet(rules),
            source: listRetentionSource(() => store),
            clock,
            maxActionsPerSweep: maxActions,
            maxExaminedPerSweep: maxExamined,
            pageSize,
          });
          const ids: string[] = [];
          for (let sweeps = 0; sweeps < 100; sweeps++) {
            const report = await sweeper.sweepOnce();
            expect(report.actions.length).toBeLessThanOrEqual(maxActions);
            expect(report.examined).toBeLessThanOrEqual(maxExamined);
            ids.push(...report.actions.map((a) => a.resourceId));
            if (report.passComplete) break;
          }
          // Every due resource without a legal hold, in order, once; never a held one.
          expect(ids).toEqual(store.filter((_, i) => due[i] && !held[i]).map((s) => s.resourceId));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('runs on the injected clock and stops', async () => {
    const clock = new ManualClock();
    const store = subjects(3);
    const sweeper = new RetentionSweeper({
      rules: new RetentionRuleSet(rules),
      source: listRetentionSource(() => store),
      clock,
      intervalMs: DAY,
    });
    const seen: string[] = [];
    sweeper.onAction((a) => seen.push(a.resourceId));
    sweeper.start();
    await clock.advance(29 * DAY);
    expect(seen).toEqual([]);
    await clock.advance(2 * DAY);
    expect(seen).toEqual(['tmp-0', 'tmp-1', 'tmp-2']);
    sweeper.stop();
    await clock.advance(5 * DAY);
    expect(seen).toHaveLength(3);
    expect(sweeper.started).toBe(false);
  });

  it('asks governance first: a denied action is blocked, not emitted', async () => {
    const clock = new ManualClock();
    clock.time = T0 + 31 * DAY;
    const governance = new CelAutoGovernance({
      now: () => clock.time,
      onListenerError: () => undefined,
    });
    for (const policy of createRetentionPolicies()) await governance.registerPolicy(policy);
    await governance.registerPolicy({
      policyId: 'no-sweeping-finance',
      name: 'finance is deleted by hand',
      description: 'The sweeper may not delete finance data',
      type: 'retention',
      expression:
        'operation == "delete" && request.initiator == "retention-sweeper" && "finance" in resource.labels',
      action: 'deny',
      priority: 5,
      isEnabled: true,
    });
    await governance.registerPolicy({
      policyId: 'audit-sweeps',
      name: 'audit sweeps',
      description: 'Sweeper deletions are audited',
      type: 'retention',
      expression: 'request.initiator == "retention-sweeper"',
      action: 'audit',
      priority: 0,
      isEnabled: true,
    });
    const store: RetentionSubject[] = [
      { resourceId: 'f', path: '/tmp/f', labels: ['finance'], createdAt: T0 },
      { resourceId: 'g', path: '/tmp/g', labels: [], createdAt: T0 },
    ];
    const sweeper = new RetentionSweeper({
      rules: new RetentionRuleSet(rules),
      source: listRetentionSource(() => store),
      clock,
      governance,
    });
    const report = await sweeper.sweepOnce();
    expect(report.actions.map((a) => a.resourceId)).toEqual(['g']);
    expect(report.actions[0]?.requiredActions).toEqual(['audit']);
    expect(report.blocked).toEqual([
      {
        resourceId: 'f',
        action: 'delete',
        violations: [expect.objectContaining({ policyId: 'no-sweeping-finance' })],
      },
    ]);
  });

  it('skips malformed resources, refuses an oversized page, and one sweep at a time', async () => {
    const clock = new ManualClock();
    clock.time = T0 + 31 * DAY;
    const store = [{ resourceId: 'bad', path: '/tmp/bad' } as RetentionSubject, ...subjects(1)];
    const sweeper = new RetentionSweeper({
      rules: new RetentionRuleSet(rules),
      source: listRetentionSource(() => store),
      clock,
    });
    const report = await sweeper.sweepOnce();
    expect(report.invalid.map((i) => i.resourceId)).toEqual(['bad']);
    expect(report.actions.map((a) => a.resourceId)).toEqual(['tmp-0']);

    const greedy = new RetentionSweeper({
      rules: new RetentionRuleSet(rules),
      source: { list: () => Promise.resolve({ subjects: subjects(3) }) },
      clock,
      pageSize: 2,
    });
    await expect(greedy.sweepOnce()).rejects.toThrow(DistributedError);

    const concurrent = new RetentionSweeper({
      rules: new RetentionRuleSet(rules),
      source: listRetentionSource(() => store),
      clock,
    });
    const running = concurrent.sweepOnce();
    await expect(concurrent.sweepOnce()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await running;
    const aborted = new AbortController();
    aborted.abort(new Error('stop'));
    await expect(concurrent.sweepOnce({ signal: aborted.signal })).rejects.toThrow('stop');
    expect(
      () =>
        new RetentionSweeper({
          rules: new RetentionRuleSet(rules),
          source: listRetentionSource(() => store),
          clock,
          pageSize: 0,
        }),
    ).toThrow(DistributedError);
  });
});
