import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import {
  resolveRetention,
  retentionAttributes,
} from '../../../src/core/governance/retention/resolve.js';
import {
  MAX_RETENTION_TIME_MS,
  isExplicitRule,
  ruleEnd,
  validateRetentionRules,
  validateRetentionSubject,
} from '../../../src/core/governance/retention/rules.js';
import type {
  DeleteAfterRule,
  KeepForRule,
  RetentionRule,
  RetentionSubject,
} from '../../../src/core/governance/retention/types.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);

const subject: RetentionSubject = {
  resourceId: 'r1',
  path: '/finance/2025/q1.csv',
  labels: ['finance', 'pii.email'],
  createdAt: T0,
  modifiedAt: T0 + 10 * DAY,
  accessedAt: T0 + 20 * DAY,
};

const keep = (ruleId: string, days: number, fields: Partial<KeepForRule> = {}): KeepForRule => ({
  ruleId,
  kind: 'keep-for',
  from: 'created',
  durationMs: days * DAY,
  scope: { kind: 'all' },
  ...fields,
});

const del = (
  ruleId: string,
  days: number,
  fields: Partial<DeleteAfterRule> = {},
): DeleteAfterRule => ({
  ruleId,
  kind: 'delete-after',
  from: 'created',
  durationMs: days * DAY,
  scope: { kind: 'all' },
  ...fields,
});

describe('Purview principles of retention', () => {
  it('1: retention wins over deletion, and the deletion waits for the end of retention', () => {
    const rules = [del('delete-3y', 3 * 365), keep('keep-5y', 5 * 365)];
    const inside = resolveRetention(subject, rules, T0 + 4 * 365 * DAY);
    expect(inside.state).toBe('retained');
    expect(inside.winningRule).toBe('keep-5y');
    expect(inside.retainUntil).toBe(T0 + 5 * 365 * DAY);
    expect(inside.deleteAt).toBe(T0 + 5 * 365 * DAY);
    expect(inside.reasons.join('\n')).toMatch(/retention wins over deletion/);
    const after = resolveRetention(subject, rules, T0 + 5 * 365 * DAY);
    expect(after.state).toBe('expired');
    expect(after.winningRule).toBe('delete-3y');
  });

  it('2: the longest retention wins, comparing ends (periods may start at different times)', () => {
    const rules = [
      keep('keep-30-created', 30),
      keep('keep-25-modified', 25, { from: 'modified' }), // ends at day 35
    ];
    const result = resolveRetention(subject, rules, T0);
    expect(result.retainUntil).toBe(T0 + 35 * DAY);
    expect(result.retentionRule).toBe('keep-25-modified');
  });

  it('3: explicit beats implicit for deletion, even when the implicit one is shorter', () => {
    const rules = [
      del('policy-5y', 5 * 365, { scope: { kind: 'path-prefix', prefix: '/finance/' } }),
      del('policy-10y', 10 * 365),
      del('label-7y', 7 * 365, { scope: { kind: 'label', label: 'finance' } }),
    ];
    const result = resolveRetention(subject, rules, T0);
    expect(result.deleteAt).toBe(T0 + 7 * 365 * DAY);
    expect(result.deletionRule).toBe('label-7y');
    expect(result.state).toBe('none');
    expect(result.winningRule).toBe('label-7y');
  });

  it('4: the shortest deletion wins among rules of the same kind', () => {
    const rules = [del('policy-5y', 5 * 365), del('policy-1y', 365, { from: 'accessed' })];
    const result = resolveRetention(subject, rules, T0);
    expect(result.deleteAt).toBe(T0 + 20 * DAY + 365 * DAY);
    expect(result.deletionRule).toBe('policy-1y');
  });

  it('an explicit flag overrides the default of the scope', () => {
    expect(isExplicitRule(del('a', 1, { scope: { kind: 'all' }, explicit: true }))).toBe(true);
    expect(
      isExplicitRule(del('b', 1, { scope: { kind: 'label', label: 'x' }, explicit: false })),
    ).toBe(false);
    expect(isExplicitRule(del('c', 1, { scope: { kind: 'resources', resourceIds: ['r1'] } }))).toBe(
      true,
    );
    expect(isExplicitRule(del('d', 1, { scope: { kind: 'path-prefix', prefix: '/' } }))).toBe(
      false,
    );
  });

  it('archives when the deciding rule says so', () => {
    const result = resolveRetention(
      subject,
      [del('cold', 30, { disposition: 'archive' })],
      T0 + 31 * DAY,
    );
    expect(result.state).toBe('expired');
    expect(result.disposition).toBe('archive');
  });
});

describe('legal hold and the other states', () => {
  it('a legal hold blocks deletion whatever the rules say', () => {
    const held = resolveRetention({ ...subject, legalHold: true }, [del('now', 0)], T0 + DAY);
    expect(held.state).toBe('held');
    expect(held.deleteAt).toBeUndefined();
    expect(held.winningRule).toBeUndefined();
    expect(retentionAttributes(held)).toEqual({ state: 'held', legalHold: true });
  });

  it('none when no rule applies, and the retention attributes for CEL', () => {
    const result = resolveRetention(
      subject,
      [keep('other', 10, { scope: { kind: 'label', label: 'hr' } })],
      T0,
    );
    expect(result.state).toBe('none');
    expect(result.retainUntil).toBeUndefined();
    const retained = resolveRetention(subject, [keep('k', 10)], T0);
    expect(retentionAttributes(retained)).toEqual({
      state: 'retained',
      heldUntil: T0 + 10 * DAY,
      legalHold: false,
    });
  });

  it('periods past year 9999 end at the last CEL time', () => {
    const result = resolveRetention(subject, [keep('forever', Number.MAX_SAFE_INTEGER)], T0);
    expect(result.retainUntil).toBe(MAX_RETENTION_TIME_MS);
  });

  it('missing times never bring a deletion forward', () => {
    const bare: RetentionSubject = { resourceId: 'b', createdAt: T0, modifiedAt: T0 + 5 * DAY };
    expect(ruleEnd(del('a', 1, { from: 'accessed' }), bare)).toBe(T0 + 6 * DAY);
    // A modification time before creation (clock skew) counts as the creation.
    expect(
      ruleEnd(keep('m', 1, { from: 'modified' }), {
        resourceId: 'c',
        createdAt: T0,
        modifiedAt: T0 - DAY,
      }),
    ).toBe(T0 + DAY);
  });

  it('a failed keep-for scope keeps; a failed delete-after scope blocks deletion', () => {
    const failing = () => ({ failed: 'boom' });
    const kept = resolveRetention(
      subject,
      [keep('expr', 10, { scope: { kind: 'expression', expression: 'x' } })],
      T0,
      { evaluateScope: failing },
    );
    expect(kept.state).toBe('retained');
    const blocked = resolveRetention(
      subject,
      [
        del('short', 1),
        del('expr', 100, { scope: { kind: 'expression', expression: 'x' }, explicit: true }),
      ],
      T0 + 10 * DAY,
      { evaluateScope: failing },
    );
    expect(blocked.state).toBe('none');
    expect(blocked.deleteAt).toBeUndefined();
    expect(blocked.reasons.join('\n')).toMatch(/deletion blocked/);
    // No evaluator at all: the expression scope fails the same way.
    expect(
      resolveRetention(
        subject,
        [del('expr', 0, { scope: { kind: 'expression', expression: 'x' } })],
        T0,
      ).deleteAt,
    ).toBeUndefined();
  });
});

describe('validation', () => {
  const rejects = (rules: unknown[]) => {
    expect(() => validateRetentionRules(rules as RetentionRule[])).toThrow(DistributedError);
  };

  it('refuses malformed rules and duplicate ids', () => {
    rejects([del('a', 1), del('a', 2)]);
    rejects([{ ...del('a', 1), durationMs: -1 }]);
    rejects([{ ...del('a', 1), durationMs: 1.5 }]);
    rejects([{ ...keep('a', 1), from: 'accessed' }]);
    rejects([{ ...del('a', 1), from: 'modified' }]);
    rejects([{ ...del('a', 1), disposition: 'shred' }]);
    rejects([{ ...del('a', 1), scope: { kind: 'resources', resourceIds: [] } }]);
    rejects([{ ...del('a', 1), scope: { kind: 'label', label: '' } }]);
    rejects([{ ...del('a', 1), scope: { kind: 'regex' } }]);
    rejects([{ ...del('a', 1), kind: 'purge' }]);
    expect(() => validateRetentionRules([del('a', 1), del('b', 1)], { maxRules: 1 })).toThrow(
      /maxRules/,
    );
    expect(validateRetentionRules([del('a', 1)])).toHaveLength(1);
  });

  it('refuses malformed subjects', () => {
    expect(() => validateRetentionSubject({ resourceId: '', createdAt: T0 })).toThrow(
      DistributedError,
    );
    expect(() => validateRetentionSubject({ resourceId: 'x', createdAt: 1.5 })).toThrow(
      DistributedError,
    );
    expect(() =>
      validateRetentionSubject({ resourceId: 'x', createdAt: T0, labels: [1] } as never),
    ).toThrow(DistributedError);
    expect(() => validateRetentionSubject(subject)).not.toThrow();
  });
});

// ---- properties ----

const labelArb = fc.constantFrom('a', 'b', 'c');
const scopeArb = fc.oneof(
  fc.constant({ kind: 'all' as const }),
  labelArb.map((label) => ({ kind: 'label' as const, label })),
  fc.constantFrom('/x/', '/y/').map((prefix) => ({ kind: 'path-prefix' as const, prefix })),
  fc.constantFrom('r1', 'r2').map((id) => ({ kind: 'resources' as const, resourceIds: [id] })),
);
const durationArb = fc.integer({ min: 0, max: 1000 }).map((days) => days * DAY);
const keepArb = fc.record({
  kind: fc.constant('keep-for' as const),
  from: fc.constantFrom('created' as const, 'modified' as const),
  durationMs: durationArb,
  scope: scopeArb,
  explicit: fc.option(fc.boolean(), { nil: undefined }),
});
const deleteArb = fc.record({
  kind: fc.constant('delete-after' as const),
  from: fc.constantFrom('created' as const, 'accessed' as const),
  durationMs: durationArb,
  scope: scopeArb,
  explicit: fc.option(fc.boolean(), { nil: undefined }),
  disposition: fc.constantFrom('delete' as const, 'archive' as const),
});
const rulesArb = fc.array(fc.oneof(keepArb, deleteArb), { maxLength: 8 }).map((rules) =>
  rules.map((rule, i): RetentionRule => {
    const { explicit, ...rest } = rule;
    return explicit === undefined
      ? { ...rest, ruleId: `r${i}` }
      : { ...rest, explicit, ruleId: `r${i}` };
  }),
);
const subjectArb = fc
  .record({
    resourceId: fc.constantFrom('r1', 'r2', 'r3'),
    path: fc.constantFrom('/x/1', '/y/2', '/z/3'),
    labels: fc.subarray(['a', 'b', 'c']),
    createdAt: fc.integer({ min: 0, max: 1000 }).map((d) => T0 + d * DAY),
    modifiedDelta: fc.integer({ min: 0, max: 500 }),
    accessedDelta: fc.integer({ min: 0, max: 500 }),
    legalHold: fc.boolean(),
  })
  .map(({ modifiedDelta, accessedDelta, ...rest }) => ({
    ...rest,
    modifiedAt: rest.createdAt + modifiedDelta * DAY,
    accessedAt: rest.createdAt + (modifiedDelta + accessedDelta) * DAY,
  }));
const nowArb = fc.integer({ min: 0, max: 4000 }).map((d) => T0 + d * DAY);

describe('retention properties', () => {
  it('adding a keep-for rule never makes a resource expire earlier', () => {
    fc.assert(
      fc.property(subjectArb, rulesArb, keepArb, nowArb, (s, rules, extra, now) => {
        const added = [...rules, { ...extra, ruleId: 'extra' } as RetentionRule];
        const before = resolveRetention(s, rules, now);
        const after = resolveRetention(s, added, now);
        if (after.state === 'expired') expect(before.state).toBe('expired');
        if (after.deleteAt !== undefined && before.deleteAt !== undefined) {
          expect(after.deleteAt).toBeGreaterThanOrEqual(before.deleteAt);
        }
        if (before.deleteAt === undefined) expect(after.deleteAt).toBeUndefined();
      }),
    );
  });

  it('a legal hold always blocks deletion', () => {
    fc.assert(
      fc.property(subjectArb, rulesArb, nowArb, (s, rules, now) => {
        const result = resolveRetention({ ...s, legalHold: true }, rules, now);
        expect(result.state).toBe('held');
        expect(result.deleteAt).toBeUndefined();
        expect(retentionAttributes(result).legalHold).toBe(true);
      }),
    );
  });

  it('nothing expires before the end of an applying keep-for period', () => {
    fc.assert(
      fc.property(subjectArb, rulesArb, nowArb, (s, rules, now) => {
        const result = resolveRetention(s, rules, now);
        if (result.state !== 'expired') return;
        for (const rule of rules) {
          if (rule.kind !== 'keep-for') continue;
          const applies = resolveRetention(s, [rule], now).retainUntil !== undefined;
          if (applies) expect(now).toBeGreaterThanOrEqual(ruleEnd(rule, s));
        }
      }),
    );
  });

  it('an explicit deletion, when one applies, decides over implicit ones', () => {
    fc.assert(
      fc.property(subjectArb, rulesArb, nowArb, (s, rules, now) => {
        const result = resolveRetention({ ...s, legalHold: false }, rules, now);
        if (result.deletionRule === undefined) return;
        const applying = rules.filter(
          (rule) =>
            rule.kind === 'delete-after' &&
            resolveRetention({ ...s, legalHold: false }, [rule], now).deletionRule !== undefined,
        );
        const winner = applying.find((rule) => rule.ruleId === result.deletionRule);
        expect(winner).toBeDefined();
        if (applying.some(isExplicitRule)) expect(isExplicitRule(winner!)).toBe(true);
      }),
    );
  });

  it('does not depend on the order of the rules', () => {
    fc.assert(
      fc.property(subjectArb, rulesArb, nowArb, (s, rules, now) => {
        const reversed = [...rules].reverse();
        const a = resolveRetention(s, rules, now);
        const b = resolveRetention(s, reversed, now);
        expect({ ...b, reasons: [] }).toEqual({ ...a, reasons: [] });
      }),
    );
  });
});
