/**
 * The behavioural tests every {@link AutoGovernance} must pass.
 *
 * @packageDocumentation
 */

import { describe, expect, it } from 'vitest';
import type {
  AutoGovernance,
  GovernanceAction,
  GovernanceContext,
  GovernanceEvent,
  GovernancePolicy,
} from '../../contracts/auto-governance.js';
import type { ComplianceFactory } from './factory.js';
import { rejectionCode } from './error-code.js';
import { withSubject } from './factory.js';

/**
 * How to write the few expressions the suite needs in the implementation's own
 * expression language. The suite only passes operation types and resource ids made of
 * lowercase letters, digits, `-` and `/`.
 *
 * @example
 * ```ts
 * // The embedded simple matcher:
 * const expressions = {
 *   matchAll: '*',
 *   matchOperation: (operationType) => `operation=${operationType}`,
 *   matchResource: (resourceId) => `resource=${resourceId}`,
 *   invalid: 'operation',
 * };
 * ```
 *
 * @since 2.0.0
 */
export interface GovernanceComplianceExpressions {
  /** An expression that holds for every operation. */
  readonly matchAll: string;
  /**
   * An expression that holds exactly for operations of one type.
   *
   * @param operationType - The operation type to match.
   * @returns The expression.
   */
  matchOperation(operationType: string): string;
  /**
   * An expression that holds exactly for operations on one resource.
   *
   * @param resourceId - The resource id to match.
   * @returns The expression.
   */
  matchResource(resourceId: string): string;
  /** An expression the implementation cannot parse, so registering it fails. */
  readonly invalid: string;
}

const read: GovernanceContext = {
  operationType: 'read',
  resourceId: 'datasets/alpha',
  userId: 'alice',
  metadata: { region: 'eu' },
};

/**
 * Registers the {@link AutoGovernance} compliance tests with Vitest. The factory gives
 * each test a fresh instance with no policies registered.
 *
 * @example
 * ```ts
 * autoGovernanceCompliance('InMemoryAutoGovernance', () => ({
 *   subject: new InMemoryAutoGovernance(),
 * }), simpleMatcherExpressions);
 * ```
 *
 * @param name - The implementation's name, shown in test titles.
 * @param factory - Makes a fresh, empty governance for each test.
 * @param expressions - The expressions the suite registers, in the implementation's language.
 * @since 2.0.0
 */
export function autoGovernanceCompliance(
  name: string,
  factory: ComplianceFactory<AutoGovernance>,
  expressions: GovernanceComplianceExpressions,
): void {
  const test = (title: string, body: (subject: AutoGovernance) => Promise<void> | void) => {
    it(title, () => withSubject(factory, body));
  };

  let sequence = 0;
  const policy = (
    action: GovernanceAction,
    priority: number,
    fields: Partial<GovernancePolicy> = {},
  ): GovernancePolicy => {
    sequence += 1;
    return {
      policyId: `policy-${sequence}`,
      name: `${action} at ${priority}`,
      description: `${action}s everything at priority ${priority}`,
      type: 'access',
      expression: expressions.matchAll,
      action,
      priority,
      isEnabled: true,
      ...fields,
    };
  };

  const register = async (governance: AutoGovernance, policies: GovernancePolicy[]) => {
    for (const each of policies) await governance.registerPolicy(each);
  };

  describe(`AutoGovernance compliance: ${name}`, () => {
    test('with no policies every operation is allowed with nothing required', async (governance) => {
      expect(await governance.getActivePolicies()).toEqual([]);
      const result = await governance.evaluate(read);
      expect(result.isAllowed).toBe(true);
      expect(result.violations).toEqual([]);
      expect(result.requiredActions).toEqual([]);
    });

    test('registered policies are listed highest priority first, ties in registration order', async (governance) => {
      const low = policy('audit', 1);
      const tieA = policy('allow', 5);
      const high = policy('deny', 9, { isEnabled: false });
      const tieB = policy('notify', 5);
      await register(governance, [low, tieA, high, tieB]);
      const listed = await governance.getActivePolicies();
      expect(listed.map((each) => each.policyId)).toEqual([
        high.policyId,
        tieA.policyId,
        tieB.policyId,
        low.policyId,
      ]);
      expect(listed[0]).toEqual(high);
    });

    test('register and deregister emit their events, without a resource', async (governance) => {
      const events: GovernanceEvent[] = [];
      governance.onGovernanceEvent((event) => events.push(event));
      const added = policy('deny', 1);
      await governance.registerPolicy(added);
      await governance.deregisterPolicy(added.policyId);
      expect(events.map((event) => [event.eventType, event.policyId])).toEqual([
        ['policy-registered', added.policyId],
        ['policy-deregistered', added.policyId],
      ]);
      expect(events.every((event) => event.resourceId === undefined)).toBe(true);
      expect(await governance.getActivePolicies()).toEqual([]);
      expect((await governance.evaluate(read)).isAllowed).toBe(true);
    });

    test('a duplicate id is POLICY_EXISTS and changes nothing', async (governance) => {
      const first = policy('allow', 1);
      await governance.registerPolicy(first);
      const events: GovernanceEvent[] = [];
      governance.onGovernanceEvent((event) => events.push(event));
      const clash = policy('deny', 100, { policyId: first.policyId });
      expect(await rejectionCode(governance.registerPolicy(clash))).toBe('POLICY_EXISTS');
      expect(await governance.getActivePolicies()).toEqual([first]);
      expect((await governance.evaluate(read)).isAllowed).toBe(true);
      expect(events.map((event) => event.eventType)).not.toContain('policy-registered');
    });

    test('deregistering an unknown id is POLICY_NOT_FOUND and changes nothing', async (governance) => {
      const kept = policy('deny', 1);
      await governance.registerPolicy(kept);
      expect(await rejectionCode(governance.deregisterPolicy('no-such-policy-6f1c'))).toBe(
        'POLICY_NOT_FOUND',
      );
      expect(await governance.getActivePolicies()).toEqual([kept]);
    });

    test('an unparseable expression is INVALID_POLICY_EXPRESSION and registers nothing', async (governance) => {
      const events: GovernanceEvent[] = [];
      governance.onGovernanceEvent((event) => events.push(event));
      const bad = policy('deny', 1, { expression: expressions.invalid });
      expect(await rejectionCode(governance.registerPolicy(bad))).toBe('INVALID_POLICY_EXPRESSION');
      expect(await governance.getActivePolicies()).toEqual([]);
      expect(events).toHaveLength(0);
    });

    test('a malformed policy is INVALID_ARGUMENT and registers nothing', async (governance) => {
      const malformed: unknown[] = [
        policy('deny', 1, { policyId: '' }),
        policy('deny', 1.5),
        { ...policy('deny', 1), action: 'explode' },
        { ...policy('deny', 1), type: 'astrology' },
        { ...policy('deny', 1), isEnabled: 'yes' },
      ];
      for (const bad of malformed) {
        expect(await rejectionCode(governance.registerPolicy(bad as GovernancePolicy))).toBe(
          'INVALID_ARGUMENT',
        );
      }
      expect(await governance.getActivePolicies()).toEqual([]);
    });

    test('a malformed context is INVALID_ARGUMENT', async (governance) => {
      await governance.registerPolicy(policy('deny', 1));
      const malformed: unknown[] = [
        { ...read, operationType: 42 },
        { ...read, resourceId: undefined },
        { ...read, metadata: { region: 7 } },
      ];
      for (const bad of malformed) {
        expect(await rejectionCode(governance.evaluate(bad as GovernanceContext))).toBe(
          'INVALID_ARGUMENT',
        );
      }
    });

    test('at equal priority deny overrides allow', async (governance) => {
      const allow = policy('allow', 10);
      const deny = policy('deny', 10);
      await register(governance, [allow, deny]);
      const result = await governance.evaluate(read);
      expect(result.isAllowed).toBe(false);
      expect(result.violations).toEqual([
        {
          policyId: deny.policyId,
          policyName: deny.name,
          description: deny.description,
          action: 'deny',
        },
      ]);
    });

    test('a higher-priority allow overrides lower denies, which are then no violations', async (governance) => {
      await register(governance, [policy('deny', 1), policy('allow', 5), policy('deny', 4)]);
      const result = await governance.evaluate(read);
      expect(result.isAllowed).toBe(true);
      expect(result.violations).toEqual([]);
    });

    test('violations are the denies not overridden, highest priority first', async (governance) => {
      const deny3 = policy('deny', 3);
      const deny9 = policy('deny', 9);
      const allow5 = policy('allow', 5);
      const deny1 = policy('deny', 1);
      await register(governance, [deny3, deny9, allow5, deny1]);
      const result = await governance.evaluate(read);
      expect(result.isAllowed).toBe(false);
      expect(result.violations.map((violation) => violation.policyId)).toEqual([deny9.policyId]);
    });

    test('required actions come from every applying policy, once each, whatever the decision', async (governance) => {
      await register(governance, [
        policy('audit', 1),
        policy('encrypt', 7),
        policy('notify', 3),
        policy('audit', 8),
        policy('deny', 2),
      ]);
      const denied = await governance.evaluate(read);
      expect(denied.isAllowed).toBe(false);
      expect(denied.requiredActions).toEqual(['audit', 'encrypt', 'notify']);
      await governance.registerPolicy(policy('allow', 50));
      const allowed = await governance.evaluate(read);
      expect(allowed.isAllowed).toBe(true);
      expect(allowed.requiredActions).toEqual(['audit', 'encrypt', 'notify']);
    });

    test('a disabled policy and a policy whose expression does not hold do not apply', async (governance) => {
      await register(governance, [
        policy('deny', 5, { isEnabled: false }),
        policy('deny', 5, { expression: expressions.matchOperation('write') }),
        policy('quarantine', 5, { expression: expressions.matchResource('datasets/beta') }),
      ]);
      const result = await governance.evaluate(read);
      expect(result).toMatchObject({ isAllowed: true, violations: [], requiredActions: [] });
      const write = await governance.evaluate({ ...read, operationType: 'write' });
      expect(write.isAllowed).toBe(false);
      const beta = await governance.evaluate({ ...read, resourceId: 'datasets/beta' });
      expect(beta.requiredActions).toEqual(['quarantine']);
    });

    test('evaluate emits policy-violated per violation and policy-evaluated per other applying policy', async (governance) => {
      const deny = policy('deny', 5);
      const audit = policy('audit', 3);
      const overridden = policy('deny', 1);
      const allowLow = policy('allow', 2);
      const elsewhere = policy('deny', 9, { expression: expressions.matchOperation('delete') });
      await register(governance, [deny, audit, overridden, allowLow, elsewhere]);
      const events: GovernanceEvent[] = [];
      governance.onGovernanceEvent((event) => events.push(event));
      await governance.evaluate(read);
      const byPolicy = new Map(events.map((event) => [event.policyId, event]));
      expect(events).toHaveLength(4);
      expect(byPolicy.get(deny.policyId)?.eventType).toBe('policy-violated');
      expect(byPolicy.get(audit.policyId)?.eventType).toBe('policy-evaluated');
      expect(byPolicy.get(allowLow.policyId)?.eventType).toBe('policy-evaluated');
      // Priority 1 < the allow at 2: overridden, so not a violation.
      expect(byPolicy.get(overridden.policyId)?.eventType).toBe('policy-evaluated');
      expect(byPolicy.has(elsewhere.policyId)).toBe(false);
      expect(events.every((event) => event.resourceId === read.resourceId)).toBe(true);
    });

    test('a registered policy cannot be changed through the object it came from', async (governance) => {
      const mutable = { ...policy('deny', 1) };
      await governance.registerPolicy(mutable);
      (mutable as { action: GovernanceAction }).action = 'allow';
      expect((await governance.evaluate(read)).isAllowed).toBe(false);
      expect((await governance.getActivePolicies())[0]?.action).toBe('deny');
    });

    test('an unsubscribed listener hears nothing, via call or dispose', async (governance) => {
      const heard: GovernanceEvent[] = [];
      const unsubscribe = governance.onGovernanceEvent((event) => heard.push(event));
      unsubscribe();
      {
        using _disposed = governance.onGovernanceEvent((event) => heard.push(event));
      }
      await governance.registerPolicy(policy('deny', 1));
      await governance.evaluate(read);
      expect(heard).toHaveLength(0);
    });

    test('a throwing listener does not stop the others', async (governance) => {
      const heard: string[] = [];
      governance.onGovernanceEvent(() => {
        throw new Error('listener failure');
      });
      governance.onGovernanceEvent((event) => heard.push(event.eventType));
      await governance.registerPolicy(policy('deny', 1));
      expect(heard).toEqual(['policy-registered']);
    });

    test('an aborted signal rejects with its reason and changes nothing', async (governance) => {
      const reason = new Error('cancelled by test');
      const signal = AbortSignal.abort(reason);
      const kept = policy('deny', 1);
      await governance.registerPolicy(kept);
      const events: GovernanceEvent[] = [];
      governance.onGovernanceEvent((event) => events.push(event));
      await expect(governance.registerPolicy(policy('allow', 9), { signal })).rejects.toBe(reason);
      await expect(governance.deregisterPolicy(kept.policyId, { signal })).rejects.toBe(reason);
      await expect(governance.evaluate(read, { signal })).rejects.toBe(reason);
      await expect(governance.getActivePolicies({ signal })).rejects.toBe(reason);
      expect(events).toHaveLength(0);
      expect(await governance.getActivePolicies()).toEqual([kept]);
    });
  });
}
