import { describe, expect, it } from 'vitest';
import type {
  GovernanceAction,
  GovernanceContext,
  GovernanceEvent,
  GovernancePolicy,
} from '../../../src/contracts/auto-governance.js';
import { DistributedError } from '../../../src/contracts/errors.js';
import { CelAutoGovernance } from '../../../src/governance/policy/cel-auto-governance.js';
import {
  autoGovernanceCompliance,
  type GovernanceComplianceExpressions,
} from '../../../src/testing/compliance/auto-governance.js';

const celExpressions: GovernanceComplianceExpressions = {
  matchAll: 'true',
  matchOperation: (operationType) => `operation == ${JSON.stringify(operationType)}`,
  matchResource: (resourceId) => `resource.id == ${JSON.stringify(resourceId)}`,
  invalid: 'operation ==',
};

autoGovernanceCompliance(
  'CelAutoGovernance',
  () => ({ subject: new CelAutoGovernance({ onListenerError: () => undefined }) }),
  celExpressions,
);

let sequence = 0;
const policy = (
  action: GovernanceAction,
  priority: number,
  expression = 'true',
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

const context: GovernanceContext = {
  operationType: 'read',
  resourceId: 'tenants/a/orders.parquet',
  userId: 'alice',
  metadata: { tenant: 'a' },
  resource: {
    path: '/tenants/a/orders.parquet',
    labels: ['pii', 'contains:email'],
    classification: 'confidential',
    sizeBytes: 4096,
    region: 'eu-west',
    createdAt: Date.UTC(2024, 0, 1),
    lastAccessedAt: Date.UTC(2024, 5, 1),
    retention: { state: 'retained', heldUntil: Date.UTC(2030, 0, 1), legalHold: true },
  },
  user: { roles: ['analyst'], attributes: { department: 'finance' }, region: 'eu-west' },
};

const NOW = Date.UTC(2025, 0, 1);

async function failure(promise: Promise<unknown>): Promise<DistributedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DistributedError);
  return error as DistributedError;
}

describe('CelAutoGovernance: registration', () => {
  it('refuses a malformed expression with its line:column, registering nothing', async () => {
    const governance = new CelAutoGovernance();
    const error = await failure(
      governance.registerPolicy(policy('deny', 1, 'operation == "read" &&\n  resource.path ++ 3')),
    );
    expect(error.code).toBe('INVALID_POLICY_EXPRESSION');
    expect(error.message).toMatch(/ at 2:\d+: /);
    expect(await governance.getActivePolicies()).toEqual([]);
    expect(governance.policySetVersion).toBe(0);
  });

  it('refuses unknown variables, fields and functions, and non-bool expressions, with positions', async () => {
    const governance = new CelAutoGovernance();
    const cases: [string, RegExp][] = [
      ['usr.id == "a"', /1:1: unknown variable 'usr'/],
      ['operation == "a" && resource.colour == "red"', /1:\d+: resource has no field 'colour'/],
      ['resource.retention.until > now', /resource\.retention has no field 'until'/],
      ['explode(operation)', /unknown function 'explode'/],
      ['operation.startsWith("a", "b")', /'startsWith' takes other arguments/],
      ['resource.path', /must be a bool/],
    ];
    for (const [expression, message] of cases) {
      const error = await failure(governance.registerPolicy(policy('deny', 1, expression)));
      expect(error.code).toBe('INVALID_POLICY_EXPRESSION');
      expect(error.message).toMatch(message);
    }
    expect(await governance.getActivePolicies()).toEqual([]);
  });

  it('refuses an over-long expression and an expression that can never fit the cost bound', async () => {
    const governance = new CelAutoGovernance({ maxExpressionLength: 40, maxEvaluationCost: 20 });
    expect(
      (
        await failure(
          governance.registerPolicy(policy('deny', 1, `operation == "${'x'.repeat(40)}"`)),
        )
      ).code,
    ).toBe('INVALID_ARGUMENT');
    const long = Array.from({ length: 8 }, (_, i) => `operation == "${i}"`).join(' || ');
    const wide = new CelAutoGovernance({ maxEvaluationCost: 20 });
    expect((await failure(wide.registerPolicy(policy('deny', 1, long)))).message).toMatch(
      /maxEvaluationCost/,
    );
    // A library-evaluated loop whose worst case over maxListItems labels exceeds the bound.
    const loops = new CelAutoGovernance({ maxEvaluationCost: 100, maxListItems: 50 });
    expect(
      (
        await failure(
          loops.registerPolicy(policy('deny', 1, 'resource.labels.exists_one(l, l == "pii")')),
        )
      ).message,
    ).toMatch(/worst-case cost/);
  });

  it('increments the policy set version on every change and names it in events', async () => {
    const governance = new CelAutoGovernance();
    const events: GovernanceEvent[] = [];
    governance.onGovernanceEvent((event) => events.push(event));
    const first = policy('deny', 1);
    await governance.registerPolicy(first);
    await governance.registerPolicy(policy('allow', 2));
    await governance.deregisterPolicy(first.policyId);
    expect(governance.policySetVersion).toBe(3);
    expect(events.map((event) => event.detail)).toEqual([
      'policy set version 1',
      'policy set version 2',
      'policy set version 3',
    ]);
  });
});

describe('CelAutoGovernance: the variables', () => {
  it('sees operation, resource, user, request and now', async () => {
    const governance = new CelAutoGovernance({ now: () => NOW });
    const holds = [
      'operation == "read"',
      'resource.id == "tenants/a/orders.parquet" && resource.path.startsWith("/tenants/a/")',
      '"pii" in resource.labels && resource.classification == "confidential"',
      'resource.sizeBytes > 1024 && resource.region == "eu-west"',
      'now - resource.createdAt > duration("8760h") && resource.lastAccessedAt < now',
      'resource.retention.legalHold && resource.retention.heldUntil > now && resource.retention.state == "retained"',
      'user.id == "alice" && "analyst" in user.roles && user.attributes.department == "finance"',
      'user.region == resource.region && request.tenant == "a"',
      'resource.labels.exists(l, l.startsWith("contains:")) && resource.labels.all(l, size(l) > 2)',
      'resource.labels.exists_one(l, l == "pii")',
      'now > timestamp("2024-06-01T00:00:00Z")',
    ];
    for (const [index, expression] of holds.entries()) {
      await governance.registerPolicy(
        policy('notify', index, expression, { policyId: `h${index}` }),
      );
    }
    const explanation = await governance.explain(context);
    expect(
      explanation.candidates.map((each) => [each.policyId, each.outcome, each.reason]),
    ).toEqual(holds.map((_, index) => [`h${index}`, 'holds', undefined]).reverse());
    expect(explanation.evaluatedAt).toBe(NOW);
  });

  it('a context without resource or user attributes still evaluates policies that do not read them', async () => {
    const governance = new CelAutoGovernance();
    await governance.registerPolicy(policy('deny', 1, 'operation == "delete"'));
    await governance.registerPolicy(
      policy('deny', 1, 'has(resource.region) && resource.region == "us"'),
    );
    const result = await governance.evaluate({
      operationType: 'read',
      resourceId: 'x',
      metadata: {},
    });
    expect(result.isAllowed).toBe(true);
  });

  it('refuses a malformed context with INVALID_ARGUMENT', async () => {
    const governance = new CelAutoGovernance({ maxListItems: 2 });
    const bad: unknown[] = [
      { ...context, resource: { labels: 'pii' } },
      { ...context, resource: { labels: ['a', 'b', 'c'] } },
      { ...context, resource: { sizeBytes: -1 } },
      { ...context, resource: { createdAt: 1.5 } },
      { ...context, user: { attributes: { a: 1 } } },
      { ...context, resource: { retention: { legalHold: 'yes' } } },
    ];
    for (const each of bad) {
      expect((await failure(governance.evaluate(each as GovernanceContext))).code).toBe(
        'INVALID_ARGUMENT',
      );
    }
  });
});

describe('CelAutoGovernance: failing closed', () => {
  it('a missing variable fails closed: deny with a reason, audit required, violated event', async () => {
    const governance = new CelAutoGovernance();
    const reader = policy('notify', 3, 'user.attributes.clearance == "secret"');
    await governance.registerPolicy(reader);
    const events: GovernanceEvent[] = [];
    governance.onGovernanceEvent((event) => events.push(event));
    const result = await governance.evaluate(context);
    expect(result.isAllowed).toBe(false);
    expect(result.violations).toEqual([
      expect.objectContaining({
        policyId: reader.policyId,
        action: 'deny',
        reason: expect.stringMatching(/fail closed.*clearance/) as unknown,
      }),
    ]);
    expect(result.requiredActions).toEqual(['notify', 'audit']);
    expect(result.auditMessage).toMatch(/evaluation failed \(fail closed\)/);
    expect(events).toEqual([
      expect.objectContaining({
        eventType: 'policy-violated',
        policyId: reader.policyId,
        detail: expect.stringMatching(/^read: evaluation failed \(fail closed\)/) as unknown,
      }),
    ]);
  });

  it('an evaluation error fails closed, even for an allow policy', async () => {
    const governance = new CelAutoGovernance();
    // Comparing a string with an int is no matching overload: an error at run time.
    await governance.registerPolicy(policy('allow', 5, 'request.tenant < 3'));
    const result = await governance.evaluate(context);
    expect(result.isAllowed).toBe(false);
    expect(result.violations[0]?.reason).toMatch(/fail closed/);
  });

  it('an exceeded cost bound fails closed', async () => {
    const governance = new CelAutoGovernance({ maxEvaluationCost: 60 });
    const loop = policy('audit', 1, 'resource.labels.exists(l, l == "never")');
    await governance.registerPolicy(loop);
    const small = await governance.evaluate({ ...context, resource: { labels: ['a', 'b'] } });
    expect(small.isAllowed).toBe(true);
    const labels = Array.from({ length: 40 }, (_, i) => `label-${i}`);
    const large = await governance.evaluate({ ...context, resource: { labels } });
    expect(large.isAllowed).toBe(false);
    expect(large.violations[0]?.reason).toMatch(/cost .* exceeds the bound 60/);
    expect(large.requiredActions).toEqual(['audit']);
  });

  it('an error absorbed by a false conjunct is no failure (CEL && is commutative)', async () => {
    const governance = new CelAutoGovernance();
    await governance.registerPolicy(
      policy('deny', 1, 'user.attributes.clearance == "x" && operation == "delete"'),
    );
    expect((await governance.evaluate(context)).isAllowed).toBe(true);
  });

  it('a higher-priority allow still overrides a failed policy, as it would a deny', async () => {
    const governance = new CelAutoGovernance();
    await governance.registerPolicy(policy('deny', 1, 'request.missing == "x"'));
    await governance.registerPolicy(policy('allow', 9, 'true'));
    const result = await governance.evaluate(context);
    expect(result.isAllowed).toBe(true);
    expect(result.requiredActions).toEqual(['audit']);
  });
});

describe('CelAutoGovernance: explain', () => {
  it('lists candidates, what they gave, what the index skipped and what is disabled', async () => {
    const governance = new CelAutoGovernance();
    const deletes = policy('deny', 5, 'operation == "delete" && !("admin" in user.roles)');
    const finance = policy('deny', 4, 'resource.path.startsWith("/finance/")');
    const pii = policy('encrypt', 3, '"pii" in resource.labels');
    const off = policy('deny', 9, 'true', { isEnabled: false });
    const reads = policy(
      'allow',
      1,
      'operation in ["read", "list"] && resource.path.startsWith("/tenants/")',
    );
    for (const each of [deletes, finance, pii, off, reads]) await governance.registerPolicy(each);
    const explanation = await governance.explain(context);
    expect(explanation.result).toMatchObject({ isAllowed: true, requiredActions: ['encrypt'] });
    expect(
      explanation.candidates.map((each) => [each.policyId, each.outcome, each.applied]),
    ).toEqual([
      [pii.policyId, 'holds', true],
      [reads.policyId, 'holds', true],
    ]);
    expect(explanation.skipped.map((each) => each.policyId)).toEqual([
      deletes.policyId,
      finance.policyId,
    ]);
    expect(explanation.skipped[0]?.guards).toEqual({ operations: ['delete'] });
    expect(explanation.disabled).toEqual([off.policyId]);
    expect(explanation.policySetVersion).toBe(5);
    expect(governance.describePolicy(pii.policyId)).toMatchObject({ compiled: true });
  });

  it('emits nothing', async () => {
    const governance = new CelAutoGovernance();
    await governance.registerPolicy(policy('deny', 1));
    const events: GovernanceEvent[] = [];
    governance.onGovernanceEvent((event) => events.push(event));
    await governance.explain(context);
    expect(events).toEqual([]);
  });
});
