/** The node's audit trail: query and verify. */

import { AUDIT_OUTCOMES, type AuditOutcome } from '../../../governance/audit/audit-entry.js';
import type { AuditQuery, AuditTrail } from '../../../governance/audit/audit-trail.js';
import { ApiError } from '../api-error.js';
import type { ApiRequest, Route } from '../router.js';

function number(request: ApiRequest, name: string): number | undefined {
  const value = request.query.get(name);
  if (value === null) return undefined;
  if (!/^\d+$/.test(value)) {
    throw new ApiError(400, 'INVALID_REQUEST', `${name} must be a whole number`);
  }
  return Number(value);
}

function auditQuery(request: ApiRequest): AuditQuery {
  const text = (name: string): string | undefined => request.query.get(name) ?? undefined;
  const outcome = text('outcome');
  if (outcome !== undefined && !AUDIT_OUTCOMES.includes(outcome as AuditOutcome)) {
    throw new ApiError(
      400,
      'INVALID_REQUEST',
      `outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`,
    );
  }
  const order = text('order');
  if (order !== undefined && order !== 'asc' && order !== 'desc') {
    throw new ApiError(400, 'INVALID_REQUEST', 'order must be asc or desc');
  }
  const from = number(request, 'from');
  const to = number(request, 'to');
  const limit = number(request, 'limit');
  const userId = text('user');
  const resourceId = text('resource');
  const policyId = text('policy');
  const cursor = text('cursor');
  return {
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(limit === undefined ? {} : { limit }),
    ...(userId === undefined ? {} : { userId }),
    ...(resourceId === undefined ? {} : { resourceId }),
    ...(policyId === undefined ? {} : { policyId }),
    ...(cursor === undefined ? {} : { cursor }),
    ...(outcome === undefined ? {} : { outcome: outcome as AuditOutcome }),
    ...(order === undefined ? {} : { order }),
  };
}

/**
 * Routes under `/v1/audit`: `GET /v1/audit?from&to&user&resource&policy&outcome&limit&cursor&order`
 * and `GET /v1/audit/verify`.
 */
export function auditRoutes(audit: AuditTrail | undefined): Route[] {
  const trail = (): AuditTrail => {
    if (audit === undefined)
      throw new ApiError(501, 'NOT_SUPPORTED', 'this node keeps no audit trail');
    return audit;
  };
  return [
    {
      method: 'GET',
      path: '/v1/audit',
      handler: async (request) => ({ status: 200, body: await trail().query(auditQuery(request)) }),
    },
    {
      method: 'GET',
      path: '/v1/audit/verify',
      handler: async () => {
        const result = await trail().verify();
        return { status: 200, body: result };
      },
    },
  ];
}
