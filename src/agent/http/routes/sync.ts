/** Replication sync mode, status per target, and sync requests. */

import type { NodeServices } from '../../services.js';
import { resultResponse } from '../result-response.js';
import type { Route } from '../router.js';
import { syncBody } from '../schemas.js';

/** Routes under `/v1/sync`. */
export function syncRoutes(services: NodeServices): Route[] {
  const { replication } = services;
  return [
    {
      method: 'GET',
      path: '/v1/sync',
      handler: () => ({ status: 200, body: { mode: replication.currentMode } }),
    },
    {
      method: 'GET',
      path: '/v1/sync/status/:targetNodeId',
      handler: async (request) => ({
        status: 200,
        body: await replication.getSyncStatus(request.params['targetNodeId'] ?? ''),
      }),
    },
    {
      method: 'POST',
      path: '/v1/sync',
      handler: async (request) =>
        resultResponse(await replication.sync(await request.json(syncBody))),
    },
  ];
}
