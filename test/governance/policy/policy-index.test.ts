import { describe, expect, it } from 'vitest';
import type {
  GovernanceContext,
  GovernancePolicy,
} from '../../../src/contracts/auto-governance.js';
import { combinePolicies } from '../../../src/core/governance/combine.js';
import { buildPolicyIndex, indexCandidates } from '../../../src/core/governance/policy-index.js';
import { checkExpression } from '../../../src/governance/policy/check.js';
import { findGuards } from '../../../src/governance/policy/guards.js';

const guardsOf = (expression: string) => findGuards(checkExpression(expression).parsed.expr);

describe('index guards', () => {
  it('finds operation and path guards in the top-level conjunction only', () => {
    expect(guardsOf('operation == "read" && resource.path.startsWith("/a/")')).toEqual({
      operations: ['read'],
      pathPrefixes: ['/a/'],
    });
    expect(guardsOf('"delete" == operation')).toEqual({ operations: ['delete'] });
    expect(guardsOf('operation in ["read", "list"] && operation != "x"')).toEqual({
      operations: ['read', 'list'],
    });
    expect(guardsOf('(operation == "a" || operation == "b") && operation in ["b", "c"]')).toEqual({
      operations: ['b'],
    });
    expect(guardsOf('resource.path.startsWith("/a/") || resource.path.startsWith("/b/")')).toEqual({
      pathPrefixes: ['/a/', '/b/'],
    });
    // Not guards: under a negation, a mixed disjunction, a non-constant.
    expect(guardsOf('!(operation == "read")')).toEqual({});
    expect(guardsOf('operation == "read" || resource.path.startsWith("/a/")')).toEqual({});
    expect(guardsOf('operation == request.op')).toEqual({});
  });
});

describe('policy index (core)', () => {
  const index = buildPolicyIndex([
    { order: 0, guards: {} },
    { order: 1, guards: { operations: ['read'] } },
    { order: 2, guards: { pathPrefixes: ['/a/', '/a/b/'] } },
    { order: 3, guards: { operations: ['write', 'read'], pathPrefixes: ['/c'] } },
    { order: 4, guards: { operations: [] } },
  ]);
  const candidates = (operation: string, path?: string) => [
    ...indexCandidates(index, operation, path, []),
  ];

  it('returns the policies whose guards hold, in order, each once', () => {
    expect(candidates('read', '/a/b/c')).toEqual([0, 1, 2]);
    expect(candidates('write', '/c/d')).toEqual([0, 3]);
    expect(candidates('read', '/c')).toEqual([0, 1, 3]);
    expect(candidates('delete', '/x')).toEqual([0]);
  });

  it('gives every path-guarded policy to a request without a path', () => {
    expect(candidates('read')).toEqual([0, 1, 2, 3]);
  });

  it('never gives a policy whose operations cannot match', () => {
    expect(candidates('read', '/c').includes(4)).toBe(false);
  });
});

describe('combinePolicies with failedPolicy: denies (core)', () => {
  const policy = (policyId: string, action: GovernancePolicy['action'], priority: number) =>
    ({
      policyId,
      name: policyId,
      description: policyId,
      type: 'access',
      expression: '*',
      action,
      priority,
      isEnabled: true,
    }) as GovernancePolicy;
  const context: GovernanceContext = { operationType: 'read', resourceId: 'r', metadata: {} };

  it('a failed policy of any action is a deny with a reason, requiring its obligation and audit', () => {
    const decision = combinePolicies(
      context,
      [
        { policy: policy('n', 'notify', 3), outcome: 'failed', reason: 'no such key: x' },
        { policy: policy('a', 'allow', 1), outcome: 'failed', reason: 'boom' },
      ],
      { failedPolicy: 'denies' },
    );
    expect(decision.result.isAllowed).toBe(false);
    expect(decision.result.violations.map((v) => [v.policyId, v.action, v.reason])).toEqual([
      ['n', 'deny', 'evaluation failed (fail closed): no such key: x'],
      ['a', 'deny', 'evaluation failed (fail closed): boom'],
    ]);
    expect(decision.result.requiredActions).toEqual(['notify', 'audit']);
    expect(decision.failed.map((p) => p.policyId)).toEqual(['n', 'a']);
  });

  it('the baseline rule is unchanged: a failed allow does not apply', () => {
    const decision = combinePolicies(context, [
      { policy: policy('a', 'allow', 1), outcome: 'failed' },
    ]);
    expect(decision.result.isAllowed).toBe(true);
    expect(decision.failed).toEqual([]);
  });
});
