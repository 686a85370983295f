import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  GovernanceAction,
  GovernanceContext,
  GovernancePolicy,
} from '../../src/contracts/auto-governance.js';
import { GOVERNANCE_ACTIONS } from '../../src/contracts/auto-governance.js';
import { DistributedError } from '../../src/contracts/errors.js';
import { combinePolicies, type PolicyOutcome } from '../../src/core/governance/combine.js';
import { matchGlob, parseSimpleMatcher } from '../../src/core/governance/simple-matcher.js';
import { InMemoryAutoGovernance } from '../../src/inmemory/in-memory-auto-governance.js';
import {
  autoGovernanceCompliance,
  type GovernanceComplianceExpressions,
} from '../../src/testing/compliance/auto-governance.js';

const simpleMatcherExpressions: GovernanceComplianceExpressions = {
  matchAll: '*',
  matchOperation: (operationType) => `operation=${operationType}`,
  matchResource: (resourceId) => `resource=${resourceId}`,
  invalid: 'operation',
};

autoGovernanceCompliance(
  'InMemoryAutoGovernance',
  () => ({ subject: new InMemoryAutoGovernance({ onListenerError: () => undefined }) }),
  simpleMatcherExpressions,
);

const context: GovernanceContext = {
  operationType: 'read',
  resourceId: 'tenant-a/orders',
  metadata: {},
};

let sequence = 0;
const policy = (
  action: GovernanceAction,
  priority: number,
  expression = '*',
  fields: Partial<GovernancePolicy> = {},
): GovernancePolicy => {
  sequence += 1;
  return {
    policyId: `p${sequence}`,
    name: `p${sequence}`,
    description: `${action} at ${priority}`,
    type: 'access',
    expression,
    action,
    priority,
    isEnabled: true,
    ...fields,
  };
};

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s\\S]*');
  return new RegExp(`^${escaped}$`);
}

describe('simple matcher (core)', () => {
  it('matchGlob agrees with a regular-expression reference', () => {
    const alphabet = fc.constantFrom('a', 'b', '*', '.', '/');
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '*', '.', '/', 'c') });
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 8 }), text, (glob, subject) => {
        expect(matchGlob(glob, subject)).toBe(globToRegExp(glob).test(subject));
      }),
      { numRuns: 2000 },
    );
  });

  it('a glob matches every text it was made from by replacing runs with *', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(), fc.nat(), (subject, start, length) => {
        const from = start % (subject.length + 1);
        const glob = `${subject.slice(0, from)}*${subject.slice(from + length)}`;
        expect(matchGlob(glob, subject)).toBe(true);
      }),
    );
  });

  it('parses the grammar and matches on both fields', () => {
    const parsed = parseSimpleMatcher('  operation=re*   resource=tenant-a/*  ');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.matcher.globs).toEqual({ operation: 're*', resource: 'tenant-a/*' });
    expect(parsed.matcher.matches(context)).toBe(true);
    expect(parsed.matcher.matches({ ...context, operationType: 'write' })).toBe(false);
    expect(parsed.matcher.matches({ ...context, resourceId: 'tenant-b/orders' })).toBe(false);
    const all = parseSimpleMatcher('*');
    expect(all.ok && all.matcher.matches({ operationType: 'x', resourceId: 'y' })).toBe(true);
  });

  it('reports the position of the first problem', () => {
    const cases: [string, number, RegExp][] = [
      ['', 0, /empty/],
      ['   ', 3, /empty/],
      ['* operation=read', 2, /whole expression/],
      ['operation=read user=bob', 15, /unknown field 'user'/],
      ['operation=read operation=write', 15, /more than once/],
      ['resource=', 9, /needs a glob/],
      ['read', 0, /expected a term/],
      ['operation=a **', 12, /expected a term/],
    ];
    for (const [expression, position, message] of cases) {
      const parsed = parseSimpleMatcher(expression);
      expect(parsed, expression).toMatchObject({ ok: false, position });
      if (!parsed.ok) expect(parsed.message).toMatch(message);
    }
  });
});

const action = fc.constantFrom(...GOVERNANCE_ACTIONS);
const outcomesOf = (actions: fc.Arbitrary<GovernanceAction>, maxPriority: number) =>
  fc.array(
    fc.record({
      action: actions,
      priority: fc.integer({ min: -maxPriority, max: maxPriority }),
      isEnabled: fc.boolean(),
      outcome: fc.constantFrom<PolicyOutcome['outcome']>('holds', 'does-not-hold', 'failed'),
    }),
    { maxLength: 12 },
  );
const outcomes = outcomesOf(action, 3);
// Mostly allow and deny over few priorities, so equal-priority clashes are common.
const clashingOutcomes = outcomesOf(fc.constantFrom('allow', 'deny', 'audit'), 1);
const toOutcomes = (
  drawn: {
    action: GovernanceAction;
    priority: number;
    isEnabled: boolean;
    outcome: PolicyOutcome['outcome'];
  }[],
): PolicyOutcome[] =>
  drawn.map((each, index) => ({
    policy: {
      ...policy(each.action, each.priority),
      policyId: `q${index}`,
      isEnabled: each.isEnabled,
    },
    outcome: each.outcome,
  }));

describe('combining policies (core)', () => {
  it('deny at the highest deciding priority always wins over allow', () => {
    fc.assert(
      fc.property(clashingOutcomes, (drawn) => {
        const { result, applied } = combinePolicies(context, toOutcomes(drawn));
        const deciding = applied.filter((p) => p.action === 'allow' || p.action === 'deny');
        const top = deciding[0]?.priority;
        const denyAtTop = deciding.some((p) => p.action === 'deny' && p.priority === top);
        expect(result.isAllowed).toBe(!denyAtTop);
        expect(result.violations.length === 0).toBe(result.isAllowed);
      }),
      { numRuns: 500 },
    );
  });

  it('applies exactly the enabled policies that hold, or failed with a non-allow action', () => {
    fc.assert(
      fc.property(outcomes, (drawn) => {
        const all = toOutcomes(drawn);
        const { applied } = combinePolicies(context, all);
        const expected = all
          .filter(
            ({ policy: p, outcome }) =>
              p.isEnabled &&
              (outcome === 'holds' || (outcome === 'failed' && p.action !== 'allow')),
          )
          .map(({ policy: p }) => p.policyId);
        expect(new Set(applied.map((p) => p.policyId))).toEqual(new Set(expected));
        for (let index = 1; index < applied.length; index += 1) {
          expect(applied[index - 1]?.priority).toBeGreaterThanOrEqual(
            applied[index]?.priority ?? 0,
          );
        }
      }),
    );
  });

  it('required actions are the distinct obligations of applying policies, whatever the decision', () => {
    fc.assert(
      fc.property(outcomes, (drawn) => {
        const { result, applied } = combinePolicies(context, toOutcomes(drawn));
        const obligations = applied
          .map((p) => p.action)
          .filter((a) => a !== 'allow' && a !== 'deny');
        expect(result.requiredActions).toEqual([...new Set(obligations)]);
      }),
    );
  });

  it('every violation is an applying deny not below the highest applying allow', () => {
    fc.assert(
      fc.property(clashingOutcomes, (drawn) => {
        const { result, applied } = combinePolicies(context, toOutcomes(drawn));
        const highestAllow = Math.max(
          ...applied.filter((p) => p.action === 'allow').map((p) => p.priority),
        );
        const expected = result.isAllowed
          ? []
          : applied.filter((p) => p.action === 'deny' && p.priority >= highestAllow);
        expect(result.violations.map((v) => v.policyId)).toEqual(expected.map((p) => p.policyId));
      }),
    );
  });

  it('a failed expression fails closed: a deny applies, an allow does not', () => {
    const deny = policy('deny', 1);
    const allow = policy('allow', 5);
    const { result } = combinePolicies(context, [
      { policy: deny, outcome: 'failed' },
      { policy: allow, outcome: 'failed' },
    ]);
    expect(result.isAllowed).toBe(false);
  });
});

describe('InMemoryAutoGovernance', () => {
  it('refuses an unparseable expression with its position, registering nothing', async () => {
    const governance = new InMemoryAutoGovernance();
    const failure = await governance
      .registerPolicy(policy('deny', 1, 'operation=read colour=red'))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DistributedError);
    expect((failure as DistributedError).code).toBe('INVALID_POLICY_EXPRESSION');
    expect((failure as DistributedError).message).toMatch(/position 15.*unknown field 'colour'/);
    expect(await governance.getActivePolicies()).toEqual([]);
  });

  it('matches operation and resource globs', async () => {
    const governance = new InMemoryAutoGovernance();
    await governance.registerPolicy(policy('deny', 1, 'operation=delete resource=tenant-a/*'));
    await governance.registerPolicy(policy('encrypt', 1, 'resource=*/secrets'));
    expect((await governance.evaluate({ ...context, operationType: 'delete' })).isAllowed).toBe(
      false,
    );
    expect(
      (await governance.evaluate({ ...context, operationType: 'delete', resourceId: 'tenant-b/x' }))
        .isAllowed,
    ).toBe(true);
    expect(
      (await governance.evaluate({ ...context, resourceId: 'tenant-c/secrets' })).requiredActions,
    ).toEqual(['encrypt']);
  });

  it('gives an audit message naming the deciding policy', async () => {
    const governance = new InMemoryAutoGovernance();
    expect((await governance.evaluate(context)).auditMessage).toMatch(/no allow or deny policy/);
    const deny = policy('deny', 3);
    await governance.registerPolicy(deny);
    expect((await governance.evaluate(context)).auditMessage).toContain(`'${deny.policyId}'`);
  });

  it('returns frozen results and policies', async () => {
    const governance = new InMemoryAutoGovernance();
    await governance.registerPolicy(policy('audit', 1));
    const result = await governance.evaluate(context);
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.requiredActions)).toBe(true);
    const policies = await governance.getActivePolicies();
    expect(Object.isFrozen(policies)).toBe(true);
    expect(Object.isFrozen(policies[0])).toBe(true);
  });

  it('is bounded by maxPolicies, with CAPACITY_EXCEEDED and nothing registered', async () => {
    const governance = new InMemoryAutoGovernance({ maxPolicies: 2 });
    await governance.registerPolicy(policy('audit', 1));
    const second = policy('audit', 1);
    await governance.registerPolicy(second);
    const failure = await governance
      .registerPolicy(policy('deny', 1))
      .catch((error: unknown) => error);
    expect((failure as DistributedError).code).toBe('CAPACITY_EXCEEDED');
    expect((await governance.evaluate(context)).isAllowed).toBe(true);
    await governance.deregisterPolicy(second.policyId);
    await governance.registerPolicy(policy('deny', 1));
    expect((await governance.evaluate(context)).isAllowed).toBe(false);
    expect(() => new InMemoryAutoGovernance({ maxPolicies: 0 })).toThrow(DistributedError);
  });

  it('deregistering an empty id is INVALID_ARGUMENT', async () => {
    const governance = new InMemoryAutoGovernance();
    const failure = await governance.deregisterPolicy('').catch((error: unknown) => error);
    expect((failure as DistributedError).code).toBe('INVALID_ARGUMENT');
  });

  it('timestamps events with the configured clock, detail is the operation', async () => {
    const governance = new InMemoryAutoGovernance({ now: () => 99 });
    const events: unknown[] = [];
    governance.onGovernanceEvent((event) => events.push(event));
    const deny = policy('deny', 1);
    await governance.registerPolicy(deny);
    await governance.evaluate(context);
    expect(events).toEqual([
      { eventType: 'policy-registered', policyId: deny.policyId, timestamp: 99 },
      {
        eventType: 'policy-violated',
        policyId: deny.policyId,
        resourceId: context.resourceId,
        timestamp: 99,
        detail: 'read',
      },
    ]);
  });
});
