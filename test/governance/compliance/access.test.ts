import { beforeAll, describe, expect, it } from 'vitest';
import type {
  GovernanceAction,
  GovernanceContext,
  GovernancePolicy,
} from '../../../src/contracts/auto-governance.js';
import { CelAutoGovernance } from '../../../src/governance/policy/cel-auto-governance.js';

// Attribute-based access rules over user and resource, the examples of docs/governance-types.md.
const NOW = Date.UTC(2026, 5, 1, 12);
const DAY = 86_400_000;

const rule = (
  policyId: string,
  expression: string,
  action: GovernanceAction = 'deny',
  priority = 10,
): GovernancePolicy => ({
  policyId,
  name: policyId,
  description: policyId,
  type: 'access',
  expression,
  action,
  priority,
  isEnabled: true,
});

const POLICIES: GovernancePolicy[] = [
  // Roles: only admins delete.
  rule('admins-delete', 'operation == "delete" && !("admin" in user.roles)'),
  // Attributes: HR data is read by the HR department only.
  rule(
    'hr-by-hr',
    'operation == "read" && resource.path.startsWith("/hr/") && ' +
      '!("department" in user.attributes && user.attributes.department == "hr")',
  ),
  // Attributes as numbers: confidential data needs clearance 3 or more.
  rule(
    'clearance',
    'has(resource.classification) && resource.classification == "confidential" && ' +
      '!("clearance" in user.attributes && int(user.attributes.clearance) >= 3)',
  ),
  // Regions: confidential data is read from the region it lives in.
  rule(
    'same-region',
    'operation == "read" && has(resource.classification) && resource.classification == "confidential" && ' +
      'user.region != resource.region',
  ),
  // Tenancy from the request: no cross-tenant access.
  rule(
    'own-tenant',
    '"tenant" in request && !resource.path.startsWith("/tenants/" + request.tenant + "/")',
  ),
  // Break glass: an incident responder with a ticket may read anything (higher priority allow).
  rule(
    'break-glass',
    'operation == "read" && "incident-responder" in user.roles && "ticket" in request && request.ticket.startsWith("INC-")',
    'allow',
    100,
  ),
  // Time: stale data read is audited.
  rule(
    'audit-stale',
    'operation == "read" && resource.lastAccessedAt < now - duration("720h")',
    'audit',
    0,
  ),
];

let governance: CelAutoGovernance;

beforeAll(async () => {
  governance = new CelAutoGovernance({ now: () => NOW, onListenerError: () => undefined });
  for (const policy of POLICIES) await governance.registerPolicy(policy);
});

const alice = {
  userId: 'alice',
  user: { roles: ['analyst'], attributes: { department: 'hr', clearance: '4' }, region: 'eu-west' },
};
const bob = {
  userId: 'bob',
  user: { roles: ['admin'], attributes: { department: 'it', clearance: '1' }, region: 'us-east' },
};

const ctx = (
  operationType: string,
  who: Pick<GovernanceContext, 'userId' | 'user'>,
  resource: GovernanceContext['resource'],
  metadata: Record<string, string> = {},
): GovernanceContext => ({
  operationType,
  resourceId: resource?.path ?? 'r',
  metadata,
  resource: { lastAccessedAt: NOW - DAY, ...resource },
  ...who,
});

const denied = async (context: GovernanceContext) => {
  const result = await governance.evaluate(context);
  return result.violations.map((v) => v.policyId);
};

describe('attribute-based access through CelAutoGovernance', () => {
  it('roles: only admins delete', async () => {
    expect(await denied(ctx('delete', alice, { path: '/docs/a' }))).toEqual(['admins-delete']);
    expect(await denied(ctx('delete', bob, { path: '/docs/a' }))).toEqual([]);
  });

  it('attributes: HR data for the HR department, confidential data for clearance 3+', async () => {
    expect(await denied(ctx('read', alice, { path: '/hr/salaries' }))).toEqual([]);
    expect(await denied(ctx('read', bob, { path: '/hr/salaries' }))).toEqual(['hr-by-hr']);
    const secret = { path: '/docs/s', classification: 'confidential', region: 'eu-west' };
    expect(await denied(ctx('write', alice, secret))).toEqual([]);
    expect(await denied(ctx('write', bob, secret))).toEqual(['clearance']);
  });

  it('regions: confidential data is read from its own region', async () => {
    const euSecret = { path: '/docs/s', classification: 'confidential', region: 'eu-west' };
    expect(await denied(ctx('read', alice, euSecret))).toEqual([]);
    const travelling = { userId: 'alice', user: { ...alice.user, region: 'ap-south' } };
    expect(await denied(ctx('read', travelling, euSecret))).toEqual(['same-region']);
  });

  it('request attributes: no cross-tenant access', async () => {
    expect(await denied(ctx('read', alice, { path: '/tenants/a/x' }, { tenant: 'a' }))).toEqual([]);
    expect(await denied(ctx('read', alice, { path: '/tenants/b/x' }, { tenant: 'a' }))).toEqual([
      'own-tenant',
    ]);
  });

  it('a higher-priority allow overrides the denies (break glass), and stale reads are audited', async () => {
    const responder = {
      userId: 'carol',
      user: { roles: ['incident-responder'], attributes: {}, region: 'us-east' },
    };
    const target = {
      path: '/hr/salaries',
      classification: 'confidential',
      region: 'eu-west',
      lastAccessedAt: NOW - 60 * DAY,
    };
    const without = await governance.evaluate(ctx('read', responder, target));
    expect(without.isAllowed).toBe(false);
    expect(without.violations.map((v) => v.policyId).sort()).toEqual([
      'clearance',
      'hr-by-hr',
      'same-region',
    ]);
    const withTicket = await governance.evaluate(
      ctx('read', responder, target, { ticket: 'INC-42' }),
    );
    expect(withTicket.isAllowed).toBe(true);
    expect(withTicket.requiredActions).toEqual(['audit']);
  });

  it('a missing attribute fails closed: anonymous read of confidential data', async () => {
    const anonymous = { user: { roles: [] } };
    const result = await governance.evaluate(
      ctx('read', anonymous, {
        path: '/docs/s',
        classification: 'confidential',
        region: 'eu-west',
      }),
    );
    expect(result.isAllowed).toBe(false);
    // user.attributes and user.region are absent: reading them is an evaluation error, so
    // both policies that need them fail closed (with a reason), rather than letting it through.
    const byId = Object.fromEntries(result.violations.map((v) => [v.policyId, v.reason]));
    expect(Object.keys(byId).sort()).toEqual(['clearance', 'same-region']);
    expect(byId['same-region']).toMatch(/fail closed/);
    expect(byId.clearance).toMatch(/fail closed.*attributes/);
    expect(result.requiredActions).toContain('audit');
  });
});
