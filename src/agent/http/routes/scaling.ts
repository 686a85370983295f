/** Scaling evaluation, state, and scale-out / scale-in requests. */

import type { NodeServices } from '../../services.js';
import { resultResponse } from '../result-response.js';
import type { Route } from '../router.js';
import { scaleInBody, scaleOutBody, scalingEvaluateBody } from '../schemas.js';

/** The cluster size the agent's scaling decisions stay within, unless a request says otherwise. */
export interface ScalingBounds {
  readonly minNodes: number;
  readonly maxNodes: number;
}

/**
 * The default bounds: at least one node, at most 100. A single node may still be
 * told to scale out; whether anything can act on that is `scale-out`'s answer.
 */
export const DEFAULT_SCALING_BOUNDS: ScalingBounds = { minNodes: 1, maxNodes: 100 };

/** Routes under `/v1/scaling`. */
export function scalingRoutes(services: NodeServices, bounds: ScalingBounds): Route[] {
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
          minNodes: body.minNodes ?? bounds.minNodes,
          maxNodes: body.maxNodes ?? bounds.maxNodes,
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
