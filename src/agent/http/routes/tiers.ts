/** Storage tiers, placement evaluation and migration requests. */

import type { NodeServices } from '../../services.js';
import { resultResponse } from '../result-response.js';
import type { Route } from '../router.js';
import { migrationBody, placementBody } from '../schemas.js';

/** Routes under `/v1/tiers`. */
export function tierRoutes(services: NodeServices): Route[] {
  const { autoTier } = services;
  return [
    {
      method: 'GET',
      path: '/v1/tiers',
      handler: async () => ({ status: 200, body: { tiers: await autoTier.getTiers() } }),
    },
    {
      method: 'POST',
      path: '/v1/tiers/placement',
      handler: async (request) => {
        const body = await request.json(placementBody);
        const placement = await autoTier.evaluatePlacement({
          ...body,
          metadata: body.metadata ?? {},
        });
        return { status: 200, body: placement };
      },
    },
    {
      method: 'POST',
      path: '/v1/tiers/migrations',
      handler: async (request) =>
        resultResponse(await autoTier.migrate(await request.json(migrationBody))),
    },
  ];
}
