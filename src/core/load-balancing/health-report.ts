/**
 * Validation of {@link NodeHealthReport} values, shared by every strategy.
 *
 * @packageDocumentation
 */

import { HEALTH_STATUSES } from '../../contracts/health.js';
import type { NodeHealthReport } from '../../contracts/load-balancer.js';

/**
 * Checks a health report. Percentages must lie in [0, 100]; connection counts,
 * latency and the report time must be finite and non-negative; a status, when
 * present, must be one of {@link HEALTH_STATUSES}.
 *
 * @param report - The report to check (typed loosely: it may come from outside TypeScript).
 * @returns What is wrong with the report, or `undefined` when it is valid.
 * @since 2.0.0
 */
export function healthReportProblem(report: NodeHealthReport): string | undefined {
  if (typeof report !== 'object') return 'a health report must be an object';
  for (const field of ['cpuUsage', 'memoryUsage'] as const) {
    const value = report[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
      return `${field} must be a percentage from 0 to 100, got ${String(value)}`;
    }
  }
  for (const field of ['activeConnections', 'averageLatencyMs', 'reportedAt'] as const) {
    const value = report[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      return `${field} must be a finite, non-negative number, got ${String(value)}`;
    }
  }
  if (report.status !== undefined && !HEALTH_STATUSES.includes(report.status)) {
    return `status must be one of ${HEALTH_STATUSES.join(', ')}, got '${report.status}'`;
  }
  return undefined;
}
