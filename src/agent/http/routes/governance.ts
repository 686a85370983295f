/**
 * Governance: policies (list, register, remove), evaluation, explanation, the
 * policy-set version, residency decisions and content classification.
 */

import { classifyForGovernance } from '../../../governance/compliance/classify-for-governance.js';
import { ResidencyGuard } from '../../../governance/residency/residency-guard.js';
import type { NodeServices } from '../../services.js';
import { ApiError } from '../api-error.js';
import type { Route } from '../router.js';
import { classifyBody, governanceContextBody, policyBody, residencyBody } from '../schemas.js';

/** Routes under `/v1/governance`. */
export function governanceRoutes(services: NodeServices): Route[] {
  const { governance, governanceAdmin } = services;
  const residency = new ResidencyGuard({ governance });
  return [
    {
      method: 'GET',
      path: '/v1/governance',
      handler: async () => ({
        status: 200,
        body: {
          policies: (await governance.getActivePolicies()).length,
          ...(governanceAdmin === undefined
            ? {}
            : { version: governanceAdmin.version, policiesLoaded: governanceAdmin.loaded }),
        },
      }),
    },
    {
      method: 'GET',
      path: '/v1/governance/policies',
      handler: async () => ({
        status: 200,
        body: { policies: await governance.getActivePolicies() },
      }),
    },
    {
      method: 'POST',
      path: '/v1/governance/policies',
      handler: async (request) => {
        const policy = await request.json(policyBody);
        if (governanceAdmin === undefined) {
          await governance.registerPolicy(policy);
          return { status: 201, body: { policy } };
        }
        const revision = await governanceAdmin.add(policy);
        return { status: 201, body: { policy, configRevision: revision } };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/governance/policies/:policyId',
      handler: async (request) => {
        const policyId = request.params['policyId'] ?? '';
        if (governanceAdmin === undefined) await governance.deregisterPolicy(policyId);
        else await governanceAdmin.remove(policyId);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/v1/governance/evaluate',
      handler: async (request) => {
        const body = await request.json(governanceContextBody);
        const result = await governance.evaluate({ ...body, metadata: body.metadata ?? {} });
        return { status: 200, body: result };
      },
    },
    {
      method: 'POST',
      path: '/v1/governance/residency',
      handler: async (request) => {
        const body = await request.json(residencyBody);
        return { status: 200, body: await residency.mayStore(body) };
      },
    },
    {
      method: 'POST',
      path: '/v1/governance/classify',
      handler: async (request) => {
        const body = await request.json(classifyBody);
        const content = body.text ?? Buffer.from(body.base64 ?? '', 'base64');
        const classified = classifyForGovernance(content);
        return {
          status: 200,
          body: { resource: classified.resource, confidences: classified.confidences },
        };
      },
    },
    {
      method: 'POST',
      path: '/v1/governance/explain',
      handler: async (request) => {
        const body = await request.json(governanceContextBody);
        if (governanceAdmin === undefined) {
          throw new ApiError(
            501,
            'NOT_SUPPORTED',
            'this node’s governance cannot explain decisions',
          );
        }
        return {
          status: 200,
          body: await governanceAdmin.explain({ ...body, metadata: body.metadata ?? {} }),
        };
      },
    },
  ];
}
