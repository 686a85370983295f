import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  GovernanceAction,
  GovernanceContext,
  GovernancePolicy,
} from '../../../src/contracts/auto-governance.js';
import { GOVERNANCE_ACTIONS } from '../../../src/contracts/auto-governance.js';
import { combinePolicies, type PolicyOutcome } from '../../../src/core/governance/combine.js';
import {
  decide,
  evaluatePolicy,
  planPolicy,
  planPolicySet,
  type PlanLimits,
} from '../../../src/governance/policy/planner.js';
import { toActivation } from '../../../src/governance/policy/schema.js';

const limits: PlanLimits = { maxEvaluationCost: 5_000, maxListItems: 16, maxMapEntries: 16 };
const NOW = Date.UTC(2025, 0, 1);

const word = fc.constantFrom('a', 'b', 'eu', 'us', '/x/', '/x/y', 'pii', 'read', '');
const quoted = word.map((w) => JSON.stringify(w));
const strExpr = fc.oneof(
  fc.constantFrom(
    'operation',
    'resource.id',
    'resource.path',
    'resource.region',
    'resource.classification',
    'resource.retention.state',
    'user.id',
    'user.region',
    'request.a',
    'request["b"]',
    'user.attributes.k',
  ),
  quoted,
);
const intExpr = fc.oneof(
  fc.constantFrom(
    'resource.sizeBytes',
    'size(resource.labels)',
    'size(request)',
    'user.roles.size()',
  ),
  fc.integer({ min: 0, max: 20 }).map(String),
  strExpr.map((s) => `size(${s})`),
);
const tsExpr = fc.constantFrom(
  'now',
  'resource.createdAt',
  'resource.lastAccessedAt',
  'resource.retention.heldUntil',
  'timestamp("2024-06-01T00:00:00Z")',
);
const durExpr = fc.oneof(
  fc.tuple(tsExpr, tsExpr).map(([a, b]) => `(${a} - ${b})`),
  fc.constantFrom('duration("1h")', 'duration("8760h")', 'duration("-30m")', 'duration("1.5s")'),
);
const listExpr = fc.oneof(
  fc.constantFrom('resource.labels', 'user.roles'),
  fc.array(quoted, { maxLength: 3 }).map((items) => `[${items.join(', ')}]`),
);
const cmp = fc.constantFrom('==', '!=', '<', '<=', '>', '>=');

const { bool: boolExpr } = fc.letrec<{ bool: string }>((tie) => ({
  bool: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(
      'true',
      'false',
      'resource.retention.legalHold',
      'has(resource.path)',
      'has(request.a)',
      'has(user.id)',
      '"a" in request',
      'has(resource.retention.state)',
      // Outside the compiled subset: the library evaluates these.
      'resource.sizeBytes == 3.0',
      'resource.labels.exists_one(l, l == "pii")',
      'resource.path + "z" == "/x/z"',
    ),
    fc.tuple(strExpr, cmp, strExpr).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(intExpr, cmp, intExpr).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(tsExpr, cmp, tsExpr).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(durExpr, cmp, durExpr).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(strExpr, listExpr).map(([a, b]) => `${a} in ${b}`),
    fc
      .tuple(strExpr, fc.constantFrom('startsWith', 'endsWith', 'contains'), strExpr)
      .map(([a, f, b]) => `${a}.${f}(${b})`),
    tie('bool').map((b) => `!(${b})`),
    fc.tuple(tie('bool'), tie('bool')).map(([a, b]) => `(${a} && ${b})`),
    fc.tuple(tie('bool'), tie('bool')).map(([a, b]) => `(${a} || ${b})`),
    fc.tuple(tie('bool'), tie('bool'), tie('bool')).map(([a, b, c]) => `(${a} ? ${b} : ${c})`),
    fc
      .tuple(listExpr, fc.constantFrom('exists', 'all'), strExpr, fc.constantFrom('==', '!='))
      .map(([list, macro, s, op]) => `${list}.${macro}(x, x ${op} ${s})`),
    fc
      .tuple(fc.constantFrom('request', 'user.attributes'), strExpr)
      .map(([map, s]) => `${map}.exists(k, k == ${s})`),
  ),
}));

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const time = fc.integer({ min: NOW - 3 * 365 * 86_400_000, max: NOW + 365 * 86_400_000 });
const context: fc.Arbitrary<GovernanceContext> = fc
  .record({
    operationType: fc.constantFrom('read', 'write', 'delete', 'a'),
    resourceId: fc.constantFrom('a', 'r1', '/x/y'),
    userId: maybe(word),
    metadata: fc.dictionary(fc.constantFrom('a', 'b', 'c'), word, { maxKeys: 3 }),
    resource: maybe(
      fc.record(
        {
          path: word,
          labels: fc.array(word, { maxLength: 4 }),
          classification: word,
          sizeBytes: fc.integer({ min: 0, max: 20 }),
          region: word,
          createdAt: time,
          lastAccessedAt: time,
          retention: fc.record(
            { state: word, heldUntil: time, legalHold: fc.boolean() },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
    ),
    user: maybe(
      fc.record(
        {
          roles: fc.array(word, { maxLength: 3 }),
          attributes: fc.dictionary(fc.constantFrom('k', 'j'), word, { maxKeys: 2 }),
          region: word,
        },
        { requiredKeys: [] },
      ),
    ),
  })
  .map((drawn) => {
    const out: Record<string, unknown> = {
      operationType: drawn.operationType,
      resourceId: drawn.resourceId,
      metadata: drawn.metadata,
    };
    if (drawn.userId !== undefined) out['userId'] = drawn.userId;
    if (drawn.resource !== undefined) out['resource'] = drawn.resource;
    if (drawn.user !== undefined) out['user'] = drawn.user;
    return out as unknown as GovernanceContext;
  });

let sequence = 0;
const asPolicy = (
  expression: string,
  action: GovernanceAction = 'deny',
  priority = 0,
): GovernancePolicy => {
  sequence += 1;
  return {
    policyId: `g${sequence}`,
    name: `g${sequence}`,
    description: expression,
    type: 'access',
    expression,
    action,
    priority,
    isEnabled: true,
  };
};

describe('compiled closures agree with @bufbuild/cel', () => {
  it('on generated expressions and inputs (holds / does not hold / fails)', () => {
    let compiled = 0;
    fc.assert(
      fc.property(
        boolExpr,
        fc.array(context, { minLength: 1, maxLength: 4 }),
        (expression, contexts) => {
          const planned = planPolicy(asPolicy(expression), limits);
          if (planned.compiled !== undefined) compiled += 1;
          for (const each of contexts) {
            const activation = toActivation(each, NOW, limits);
            const fast = evaluatePolicy(planned, activation, limits, 'auto');
            const reference = evaluatePolicy(planned, activation, limits, 'library');
            expect({ expression, outcome: fast.outcome }).toEqual({
              expression,
              outcome: reference.outcome,
            });
          }
        },
      ),
      { numRuns: 600 },
    );
    // The generator must exercise the compiler, not only the fallback.
    expect(compiled).toBeGreaterThan(300);
  });
});

const guarded = fc.oneof(
  boolExpr,
  fc
    .tuple(fc.constantFrom('read', 'write', 'delete'), boolExpr)
    .map(([op, rest]) => `operation == "${op}" && ${rest}`),
  fc
    .tuple(fc.constantFrom('/x/', '/x/y', '/', 'a', '/x/y/z'), boolExpr)
    .map(([prefix, rest]) => `${rest} && resource.path.startsWith("${prefix}")`),
  fc
    .tuple(fc.subarray(['read', 'write', 'a']), fc.constantFrom('/x', '/'), boolExpr)
    .map(
      ([ops, prefix, rest]) =>
        `operation in ${JSON.stringify(ops)} && (resource.path.startsWith("${prefix}") || resource.path.startsWith("a")) && ${rest}`,
    ),
);

const policySet = fc.array(
  fc.record({
    expression: guarded,
    action: fc.constantFrom(...GOVERNANCE_ACTIONS),
    priority: fc.integer({ min: 0, max: 3 }),
    isEnabled: fc.boolean(),
  }),
  { maxLength: 12 },
);

describe('the index', () => {
  it('gives the same decision as evaluating every policy', () => {
    fc.assert(
      fc.property(
        policySet,
        fc.array(context, { minLength: 1, maxLength: 5 }),
        (drawn, contexts) => {
          const planned = drawn.map((each) =>
            planPolicy(
              {
                ...asPolicy(each.expression, each.action, each.priority),
                isEnabled: each.isEnabled,
              },
              limits,
            ),
          );
          const set = planPolicySet(planned, 1);
          for (const each of contexts) {
            const activation = toActivation(each, NOW, limits);
            const indexed = decide(set, activation, { ...limits, useIndex: true });
            const full = decide(set, activation, { ...limits, useIndex: false });
            expect(indexed.result).toEqual(full.result);
            expect(indexed.applied).toEqual(full.applied);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('decide agrees with combinePolicies (failedPolicy: denies)', () => {
  it('on random outcomes, priorities and actions', () => {
    const outcomeExpression = {
      holds: 'true',
      'does-not-hold': 'false',
      failed: 'request.missing == "x"',
    } as const;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            outcome: fc.constantFrom('holds', 'does-not-hold', 'failed' as const),
            action: fc.constantFrom(...GOVERNANCE_ACTIONS),
            priority: fc.integer({ min: -2, max: 2 }),
            isEnabled: fc.boolean(),
          }),
          { maxLength: 12 },
        ),
        (drawn) => {
          const outcomes: PolicyOutcome[] = drawn.map((each) => ({
            policy: {
              ...asPolicy(outcomeExpression[each.outcome], each.action, each.priority),
              isEnabled: each.isEnabled,
            },
            outcome: each.outcome,
            ...(each.outcome === 'failed' ? { reason: 'no such key: missing' } : {}),
          }));
          const ctx: GovernanceContext = { operationType: 'read', resourceId: 'r', metadata: {} };
          const reference = combinePolicies(ctx, outcomes, { failedPolicy: 'denies' });
          const set = planPolicySet(
            outcomes.map(({ policy }) => planPolicy(policy, limits)),
            1,
          );
          const decision = decide(set, toActivation(ctx, NOW, limits), limits);
          expect(decision.result).toEqual(reference.result);
          expect(decision.applied.map((each) => each.policy)).toEqual(reference.applied);
          expect(
            decision.applied.filter((each) => each.violated).map((each) => each.policy),
          ).toEqual(reference.violated);
        },
      ),
      { numRuns: 500 },
    );
  });
});
