/** Load-balancer selection among the members, and health reports. */

import type { NodeServices } from '../../services.js';
import { ApiError } from '../api-error.js';
import type { Route } from '../router.js';
import { healthReportBody, requestOutcomeBody, selectNodeBody } from '../schemas.js';
import { isObservedLoadBalancer } from '../../../loadbalancing/observed-load-balancer.js';

/** Routes under `/v1/load-balancer`. */
export function loadBalancerRoutes(services: NodeServices, now: () => number): Route[] {
  const { loadBalancer, membership } = services;
  return [
    {
      method: 'GET',
      path: '/v1/load-balancer',
      handler: () => ({
        status: 200,
        body: {
          algorithm: loadBalancer.algorithm,
          algorithmName: loadBalancer.algorithmName,
          // The per-node load the balancer sees, when it keeps such a view.
          ...(isObservedLoadBalancer(loadBalancer) ? { snapshot: loadBalancer.snapshot() } : {}),
        },
      }),
    },
    {
      method: 'POST',
      path: '/v1/load-balancer/outcomes',
      handler: async (request) => {
        const { nodeId, latencyMs, success } = await request.json(requestOutcomeBody);
        if (!isObservedLoadBalancer(loadBalancer)) {
          throw new ApiError(
            501,
            'NOT_SUPPORTED',
            `the ${loadBalancer.algorithmName} balancer does not learn from request outcomes; start the agent with --lb`,
          );
        }
        // The request already finished: record its start and its end together.
        loadBalancer.recordRequestStart(nodeId);
        loadBalancer.recordRequestEnd(nodeId, { latencyMs, success });
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/v1/load-balancer/select',
      handler: async (request) => {
        const body = await request.json(selectNodeBody);
        const members = membership.getMembers();
        let availableNodes = members;
        if (body.nodeIds) {
          const wanted = new Set(body.nodeIds);
          availableNodes = members.filter((member) => wanted.has(member.nodeId));
          const unknown = body.nodeIds.filter(
            (nodeId) => !members.some((m) => m.nodeId === nodeId),
          );
          if (unknown.length > 0) {
            throw new ApiError(409, 'NOT_A_MEMBER', `not members: ${unknown.join(', ')}`);
          }
        }
        const node = await loadBalancer.selectNodeAsync({
          requestKey: body.requestKey,
          availableNodes,
          metadata: body.metadata ?? {},
        });
        return { status: 200, body: { node } };
      },
    },
    {
      method: 'POST',
      path: '/v1/load-balancer/health-reports',
      handler: async (request) => {
        const { nodeId, report } = await request.json(healthReportBody);
        loadBalancer.reportNodeHealth(nodeId, {
          ...report,
          reportedAt: report.reportedAt ?? now(),
        });
        return { status: 204 };
      },
    },
  ];
}
