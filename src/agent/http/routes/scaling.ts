/** Scaling evaluation, state, and scale-out / scale-in requests. */

import type { NodeServices } from '../../services.js';
import { resultResponse } from '../result-response.js';
import type { Route } from '../router.js';
import { scaleInBody, scaleOutBody, scalingEvaluateBody } from '../schemas.js';

/** Routes under `/v1/scaling`. */
export function scalingRoutes(services: NodeServices): Route[] {
  const { autoScaler, membership } = services;
  return [
    {
      method: 'GET',
      path: '/v1/scaling/state',
      handler: () => ({ status: 200, body: autoScaler.getCurrentState() }),
    },
    {
      method: 'POST',
      path: '/v1/scaling/evaluate',
      handler: async (request) => {
        const body = await request.json(scalingEvaluateBody);
        const currentNodeCount = membership.getMembers().length;
        const decision = await autoScaler.evaluate({
          metrics: body.metrics,
          currentNodeCount,
          minNodes: body.minNodes ?? Math.min(1, currentNodeCount),
          maxNodes: body.maxNodes ?? Math.max(currentNodeCount, 1),
        });
        return { status: 200, body: decision };
      },
    },
    {
      method: 'POST',
      path: '/v1/scaling/scale-out',
      handler: async (request) =>
        resultResponse(await autoScaler.scaleOut(await request.json(scaleOutBody))),
    },
    {
      method: 'POST',
      path: '/v1/scaling/scale-in',
      handler: async (request) =>
        resultResponse(await autoScaler.scaleIn(await request.json(scaleInBody))),
    },
  ];
}
