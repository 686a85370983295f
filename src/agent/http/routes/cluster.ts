/** Health, this node, the members and the leader. */

import type { HealthCheckResult, HealthReport, HealthStatus } from '../../../contracts/health.js';
import type { NodeServices } from '../../services.js';
import type { Route } from '../router.js';

const SEVERITY: Readonly<Record<HealthStatus, number>> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** Routes for `/v1/health`, `/v1/node`, `/v1/members`, `/v1/leader`. */
export function clusterRoutes(services: NodeServices, now: () => number): Route[] {
  const { membership } = services;
  return [
    {
      method: 'GET',
      path: '/v1/health',
      handler: async () => {
        const report = await healthReport(services, now());
        return { status: report.status === 'unhealthy' ? 503 : 200, body: report };
      },
    },
    {
      method: 'GET',
      path: '/v1/node',
      handler: () => ({
        status: 200,
        body: {
          mode: services.mode,
          node: membership.getSelf(),
          ...(services.networkDetails === undefined
            ? {}
            : {
                membership: services.networkDetails.membership,
                clusterAddress: services.networkDetails.listenAddress,
                encryption: services.networkDetails.encryption,
              }),
        },
      }),
    },
    {
      method: 'GET',
      path: '/v1/members',
      handler: () => ({ status: 200, body: { members: membership.getMembers() } }),
    },
    {
      method: 'GET',
      path: '/v1/leader',
      handler: () => ({ status: 200, body: { leader: membership.getLeader() ?? null } }),
    },
  ];
}

async function healthReport(services: NodeServices, checkedAt: number): Promise<HealthReport> {
  const self = services.membership.getSelf();
  const checks: HealthCheckResult[] = [];
  const isMember = await services.membership.isHealthy(self.nodeId);
  checks.push(
    isMember
      ? { component: 'membership', status: 'healthy', checkedAt }
      : {
          component: 'membership',
          status: 'unhealthy',
          message: `node is ${self.status}, not an active member`,
          checkedAt,
        },
  );
  for (const tier of await services.autoTier.getTiers()) {
    const fullness = tier.capacityBytes > 0 ? tier.usedBytes / tier.capacityBytes : 0;
    checks.push(
      fullness < 0.9
        ? { component: `tier:${tier.tierName}`, status: 'healthy', checkedAt }
        : {
            component: `tier:${tier.tierName}`,
            status: 'degraded',
            message: `tier is ${Math.round(fullness * 100)}% full`,
            checkedAt,
          },
    );
  }
  const status = checks.reduce<HealthStatus>(
    (worst, check) => (SEVERITY[check.status] > SEVERITY[worst] ? check.status : worst),
    'healthy',
  );
  return { nodeId: self.nodeId, status, checks, reportedAt: checkedAt };
}
