/**
 * Health types shared by membership, load balancing and the node agent.
 *
 * @packageDocumentation
 */

/**
 * Every health status, best first.
 *
 * - `healthy`: working normally.
 * - `degraded`: working, but slower or with reduced capacity; still eligible for traffic.
 * - `unhealthy`: not able to serve; must not be sent traffic.
 *
 * @since 2.0.0
 */
export const HEALTH_STATUSES = Object.freeze(['healthy', 'degraded', 'unhealthy'] as const);

/**
 * A health status; see {@link HEALTH_STATUSES}.
 *
 * @since 2.0.0
 */
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/**
 * The outcome of one health check of one component.
 *
 * @since 2.0.0
 */
export interface HealthCheckResult {
  /** The component that was checked, for example `membership` or `storage`. */
  readonly component: string;
  /** The component's status. */
  readonly status: HealthStatus;
  /** Why the component has this status, when it is not `healthy`. */
  readonly message?: string;
  /** When the check ran, in epoch milliseconds. */
  readonly checkedAt: number;
}

/**
 * The health of a whole node: the worst status among its checks, and the checks.
 *
 * @since 2.0.0
 */
export interface HealthReport {
  /** The node that reports. */
  readonly nodeId: string;
  /** The worst status among {@link HealthReport.checks}. */
  readonly status: HealthStatus;
  /** Every check that contributed to the status. */
  readonly checks: readonly HealthCheckResult[];
  /** When the report was produced, in epoch milliseconds. */
  readonly reportedAt: number;
}
