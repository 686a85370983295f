/** Governance policies (list, register, remove) and evaluation. */

import type { NodeServices } from '../../services.js';
import type { Route } from '../router.js';
import { governanceContextBody, policyBody } from '../schemas.js';

/** Routes under `/v1/governance`. */
export function governanceRoutes(services: NodeServices): Route[] {
  const { governance } = services;
  return [
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
        await governance.registerPolicy(policy);
        return { status: 201, body: { policy } };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/governance/policies/:policyId',
      handler: async (request) => {
        await governance.deregisterPolicy(request.params['policyId'] ?? '');
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
  ];
}
