import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import type {
  RetentionRule,
  RetentionSubject,
} from '../../../src/core/governance/retention/types.js';
import { CelAutoGovernance } from '../../../src/governance/policy/cel-auto-governance.js';
import { createRetentionPolicies } from '../../../src/governance/retention/retention-policies.js';
import {
  RetentionRuleSet,
  withRetention,
} from '../../../src/governance/retention/retention-rule-set.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);

const invoice: RetentionSubject = {
  resourceId: 'inv-1',
  path: '/finance/invoices/1.pdf',
  labels: ['finance'],
  createdAt: T0,
  region: 'eu-west',
  sizeBytes: 2_000_000,
};
const scratch: RetentionSubject = {
  resourceId: 'tmp-1',
  path: '/tmp/a',
  createdAt: T0,
  sizeBytes: 10,
};

const rules: RetentionRule[] = [
  {
    ruleId: 'finance-7y',
    kind: 'keep-for',
    from: 'created',
    durationMs: 7 * 365 * DAY,
    scope: { kind: 'path-prefix', prefix: '/finance/' },
  },
  {
    ruleId: 'big-eu-archive',
    kind: 'delete-after',
    from: 'accessed',
    durationMs: 90 * DAY,
    disposition: 'archive',
    scope: {
      kind: 'expression',
      expression:
        'has(resource.region) && resource.region.startsWith("eu-") && resource.sizeBytes > 1000000',
    },
  },
  {
    ruleId: 'tmp-30d',
    kind: 'delete-after',
    from: 'created',
    durationMs: 30 * DAY,
    scope: { kind: 'expression', expression: 'resource.path.startsWith("/tmp/")' },
  },
];

describe('RetentionRuleSet', () => {
  const set = new RetentionRuleSet(rules);

  it('evaluates CEL scopes with the governance planner', () => {
    expect(set.resolve(scratch, T0 + 31 * DAY).state).toBe('expired');
    expect(set.resolve(scratch, T0 + 29 * DAY).state).toBe('none');
    const inv = set.resolve(invoice, T0 + 100 * DAY);
    expect(inv.state).toBe('retained');
    expect(inv.deletionRule).toBe('big-eu-archive');
    expect(inv.deleteAt).toBe(T0 + 7 * 365 * DAY);
    const later = set.resolve(invoice, T0 + 8 * 365 * DAY);
    expect(later.state).toBe('expired');
    expect(later.disposition).toBe('archive');
  });

  it('a scope that fails to evaluate never deletes (here: a resource without a path)', () => {
    const noPath: RetentionSubject = { resourceId: 'x', createdAt: T0 };
    const result = set.resolve(noPath, T0 + 1000 * DAY);
    expect(result.state).toBe('none');
    expect(result.reasons.join('\n')).toMatch(/tmp-30d.*failed.*deletion blocked/);
  });

  it('refuses a bad scope expression with its position, and malformed rules', () => {
    const bad = (expression: string) =>
      new RetentionRuleSet([
        {
          ruleId: 'r',
          kind: 'keep-for',
          from: 'created',
          durationMs: 1,
          scope: { kind: 'expression', expression },
        },
      ]);
    expect(() => bad('resource.nope == 1')).toThrow(
      /INVALID_POLICY_EXPRESSION|invalid scope expression at 1:/,
    );
    try {
      bad('resource.path ==');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DistributedError);
      expect((error as DistributedError).code).toBe('INVALID_POLICY_EXPRESSION');
      expect((error as DistributedError).message).toMatch(/at \d+:\d+/);
    }
    expect(() => new RetentionRuleSet([{ ...rules[0]!, durationMs: -5 }])).toThrow(
      DistributedError,
    );
    expect(() => set.resolve({ resourceId: 'x' } as RetentionSubject, T0)).toThrow(
      DistributedError,
    );
  });
});

describe('retention enforced by CEL policies', () => {
  it('denies delete while retained or held, allows it once expired', async () => {
    const governance = new CelAutoGovernance({ now: () => T0, onListenerError: () => undefined });
    for (const policy of createRetentionPolicies()) await governance.registerPolicy(policy);
    const set = new RetentionRuleSet(rules);

    const retained = set.context('delete', invoice, T0 + DAY, { userId: 'alice' });
    expect(retained.resource?.retention).toEqual({
      state: 'retained',
      heldUntil: T0 + 7 * 365 * DAY,
      legalHold: false,
    });
    const denied = await governance.evaluate(retained);
    expect(denied.isAllowed).toBe(false);
    expect(denied.violations[0]?.policyId).toBe('retention.no-delete-while-retained');

    const held = await governance.evaluate(
      set.context('delete', { ...scratch, legalHold: true }, T0 + 31 * DAY),
    );
    expect(held.isAllowed).toBe(false);
    expect(held.violations.map((v) => v.policyId)).toEqual(['retention.legal-hold']);

    expect(
      (await governance.evaluate(set.context('delete', scratch, T0 + 31 * DAY))).isAllowed,
    ).toBe(true);
    // Reads are not affected, and neither is a context without retention attributes.
    expect((await governance.evaluate(set.context('read', invoice, T0 + DAY))).isAllowed).toBe(
      true,
    );
    expect(
      (await governance.evaluate({ operationType: 'delete', resourceId: 'x', metadata: {} }))
        .isAllowed,
    ).toBe(true);
  });

  it('withRetention adds the attributes to an existing context', () => {
    const set = new RetentionRuleSet(rules);
    const context = withRetention(
      {
        operationType: 'delete',
        resourceId: 'inv-1',
        metadata: {},
        resource: { path: '/finance/invoices/1.pdf' },
      },
      set.resolve(invoice, T0),
    );
    expect(context.resource).toEqual({
      path: '/finance/invoices/1.pdf',
      retention: { state: 'retained', heldUntil: T0 + 7 * 365 * DAY, legalHold: false },
    });
  });
});
