import { describe, expect, it } from 'vitest';
import type { GovernancePolicy } from '../../../src/contracts/auto-governance.js';
import { DistributedError } from '../../../src/contracts/errors.js';
import { CelAutoGovernance } from '../../../src/governance/policy/cel-auto-governance.js';
import { ResidencyGuard } from '../../../src/governance/residency/residency-guard.js';

const residency = (
  policyId: string,
  expression: string,
  fields: Partial<GovernancePolicy> = {},
): GovernancePolicy => ({
  policyId,
  name: policyId,
  description: `residency rule ${policyId}`,
  type: 'data-residency',
  expression,
  action: 'deny',
  priority: 100,
  isEnabled: true,
  ...fields,
});

const euOnly = residency(
  'eu-stays-in-eu',
  'operation in ["place", "replicate"] && "residency.eu" in resource.labels && !request.targetRegion.startsWith("eu-")',
);

const euResource = {
  resourceId: 'customers.db',
  labels: ['residency.eu', 'pii.email'],
  region: 'eu-west',
};
const freeResource = { resourceId: 'public.css', labels: ['public'] };
const usEast = { nodeId: 'n3', region: 'us-east', labels: { zone: 'us-east-1a' } };
const euWest = { nodeId: 'n1', region: 'eu-west', labels: { zone: 'eu-west-1b' } };

async function setup(...policies: GovernancePolicy[]) {
  const governance = new CelAutoGovernance({ onListenerError: () => undefined });
  for (const policy of policies) await governance.registerPolicy(policy);
  return { governance, guard: new ResidencyGuard({ governance }) };
}

describe('ResidencyGuard', () => {
  it('an EU-only resource may not be placed or replicated on a us-east node', async () => {
    const { guard } = await setup(euOnly);
    const placed = await guard.mayStore({ resource: euResource, node: usEast });
    expect(placed.allowed).toBe(false);
    expect(placed.violations.map((v) => v.policyId)).toEqual(['eu-stays-in-eu']);
    expect(placed.auditMessage).toMatch(/n3/);
    const replicated = await guard.mayStore({
      resource: euResource,
      node: usEast,
      operation: 'replicate',
    });
    expect(replicated.allowed).toBe(false);
    expect((await guard.mayStore({ resource: euResource, node: euWest })).allowed).toBe(true);
  });

  it('a resource without a region rule may go anywhere', async () => {
    const { guard } = await setup(euOnly);
    for (const node of [usEast, euWest, { nodeId: 'n9', region: 'ap-south' }]) {
      const decision = await guard.mayStore({ resource: freeResource, node });
      expect(decision).toMatchObject({ allowed: true, violations: [] });
    }
    // And with no policies at all.
    const empty = await setup();
    expect((await empty.guard.mayStore({ resource: euResource, node: usEast })).allowed).toBe(true);
  });

  it('an evaluation error denies (fail closed), with a reason and an audit', async () => {
    // Reads the resource's home region, which this resource does not have.
    const { guard } = await setup(
      residency('same-region', 'resource.region != request.targetRegion'),
    );
    const decision = await guard.mayStore({ resource: freeResource, node: euWest });
    expect(decision.allowed).toBe(false);
    expect(decision.violations[0]?.reason).toMatch(/fail closed/);
    expect(decision.requiredActions).toContain('audit');
  });

  it('only data-residency policies count; other types do not decide placement', async () => {
    const denyAll = residency('deny-everything', 'true', { type: 'access' });
    const { guard } = await setup(euOnly, denyAll);
    expect((await guard.mayStore({ resource: freeResource, node: usEast })).allowed).toBe(true);
  });

  it('node labels, allow exceptions and obligations follow the policy rules', async () => {
    const { governance, guard } = await setup(
      euOnly,
      residency(
        'sovereign-zone',
        '"residency.eu" in resource.labels && request["targetLabel.sovereign"] == "true"',
        {
          action: 'allow',
          priority: 200,
        },
      ),
      residency(
        'encrypt-replicas',
        'operation == "replicate" && resource.region != request.targetRegion',
        {
          action: 'encrypt',
          priority: 0,
        },
      ),
    );
    const sovereign = { nodeId: 'n7', region: 'us-gov', labels: { sovereign: 'true' } };
    const replicated = await guard.mayStore({
      resource: euResource,
      node: sovereign,
      operation: 'replicate',
    });
    expect(replicated.allowed).toBe(true);
    expect(replicated.requiredActions).toEqual(['encrypt']);
    // Policy changes are seen at the next decision.
    const before = replicated.policySetVersion;
    await governance.deregisterPolicy('sovereign-zone');
    const after = await guard.mayStore({
      resource: euResource,
      node: sovereign,
      operation: 'replicate',
    });
    expect(after.allowed).toBe(false);
    expect(after.policySetVersion).toBeGreaterThan(before);
  });

  it('a residency policy the guard cannot plan denies every decision', async () => {
    const foreign = residency('foreign', 'operation = place');
    const guard = new ResidencyGuard({
      governance: { getActivePolicies: () => Promise.resolve([foreign]) },
    });
    const decision = await guard.mayStore({ resource: freeResource, node: euWest });
    expect(decision.allowed).toBe(false);
    expect(decision.violations[0]).toMatchObject({ policyId: 'foreign' });
    expect(decision.violations[0]?.reason).toMatch(/cannot plan/);
  });

  it('refuses malformed requests and honours an aborted signal', async () => {
    const { guard } = await setup(euOnly);
    const bad = [
      { resource: euResource, node: { nodeId: 'n1', region: '' } },
      { resource: euResource, node: { nodeId: '', region: 'eu-west' } },
      { resource: euResource, node: euWest, operation: 'delete' },
      { resource: euResource, node: euWest, metadata: { targetRegion: 'eu-west' } },
      { resource: { ...euResource, resourceId: '' }, node: euWest },
    ];
    for (const request of bad) {
      await expect(guard.mayStore(request as never)).rejects.toBeInstanceOf(DistributedError);
    }
    const aborted = new AbortController();
    aborted.abort(new Error('gone'));
    await expect(
      guard.mayStore({ resource: euResource, node: euWest }, { signal: aborted.signal }),
    ).rejects.toThrow('gone');
    expect(
      () =>
        new ResidencyGuard({
          governance: { getActivePolicies: () => Promise.resolve([]) },
          maxListItems: 0,
        }),
    ).toThrow(DistributedError);
  });
});
