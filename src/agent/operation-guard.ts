/**
 * Every API operation the agent serves is evaluated against the active
 * governance policies before it runs; a denial answers 403 `POLICY_DENIED`.
 * Decisions that deny, or that require `audit`, are appended to the audit
 * trail first.
 */

import type { AutoGovernance, GovernanceContext } from '../contracts/auto-governance.js';
import type { AuditTrail } from '../governance/audit/audit-trail.js';
import { ApiError } from './http/api-error.js';
import type { GuardedOperation } from './http/router.js';
import type { GovernanceAdmin } from './services.js';

/**
 * Paths never gated: health (for load balancers), the governance routes
 * themselves (so a policy that denies everything can still be removed), and
 * the keyring and audit routes (protected by their own rules).
 */
const UNGATED = [
  /^\/v1\/health$/,
  /^\/v1\/governance(\/|$)/,
  /^\/v1\/keyring(\/|$)/,
  /^\/v1\/audit(\/|$)/,
];

/** The audit trail's user for requests that name none (no `x-dw-user` header). */
const ANONYMOUS = 'anonymous';

const OPERATION_BY_METHOD: Readonly<Record<string, string>> = {
  GET: 'read',
  POST: 'write',
  PUT: 'write',
  DELETE: 'delete',
};

/** The governance context of one API request. */
export function operationContext(operation: GuardedOperation): GovernanceContext {
  const metadata: Record<string, string> = {
    method: operation.method,
    route: operation.route,
  };
  for (const [name, value] of operation.query) metadata[`query.${name}`] = value;
  const userHeader = operation.headers['x-dw-user'];
  const rolesHeader = operation.headers['x-dw-roles'];
  const userId = typeof userHeader === 'string' && userHeader !== '' ? userHeader : undefined;
  const roles =
    typeof rolesHeader === 'string'
      ? rolesHeader
          .split(',')
          .map((role) => role.trim())
          .filter((role) => role !== '')
      : [];
  return {
    operationType: OPERATION_BY_METHOD[operation.method] ?? operation.method.toLowerCase(),
    resourceId: operation.path,
    metadata,
    resource: { path: operation.path },
    ...(userId === undefined ? {} : { userId }),
    user: { roles },
  };
}

/**
 * Makes the router's guard: evaluates the request, audits what must be
 * audited, and refuses what is denied.
 */
export function operationGuard(
  governance: AutoGovernance,
  audit: AuditTrail | undefined,
  admin?: GovernanceAdmin,
): (operation: GuardedOperation) => Promise<void> {
  return async (operation) => {
    if (UNGATED.some((pattern) => pattern.test(operation.path))) return;
    if (admin !== undefined && !admin.loaded) {
      // Evaluating with an incomplete policy set would let through what a policy denies.
      throw new ApiError(
        503,
        'UNAVAILABLE',
        'the cluster governance policies are not loaded yet (the cluster configuration is not readable: no leader?)',
      );
    }
    const context = operationContext(operation);
    const result = await governance.evaluate(context);
    const policyIds = result.violations.map((violation) => violation.policyId);
    if (audit !== undefined && (!result.isAllowed || result.requiredActions.includes('audit'))) {
      await audit.append({
        userId: context.userId ?? ANONYMOUS,
        resourceId: context.resourceId,
        operation: `${operation.method} ${operation.route}`,
        policyIds,
        outcome: result.isAllowed ? 'allowed' : 'denied',
        requiredActions: result.requiredActions,
        message: result.auditMessage ?? (result.isAllowed ? 'allowed' : 'denied'),
      });
    }
    if (!result.isAllowed) {
      const reasons = result.violations.map((violation) => violation.policyName).join(', ');
      throw new ApiError(403, 'POLICY_DENIED', `denied by governance policy: ${reasons}`);
    }
  };
}
