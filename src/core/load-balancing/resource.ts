/**
 * Resource-aware scoring: how much headroom a node has, from the CPU, memory,
 * connection and latency figures of its health report.
 *
 * @packageDocumentation
 */

/**
 * The load figures of one node that the score uses.
 *
 * @since 2.0.0
 */
export interface ResourceFigures {
  /** CPU usage, percent 0–100. */
  readonly cpuUsage: number;
  /** Memory usage, percent 0–100. */
  readonly memoryUsage: number;
  /** Connections or requests in flight. */
  readonly activeConnections: number;
  /** Recent average latency, in milliseconds. */
  readonly averageLatencyMs: number;
}

/**
 * Limits above which a node is excluded, and how the score weighs each figure.
 *
 * @since 2.0.0
 */
export interface ResourcePolicy {
  /** Exclude nodes whose CPU usage is above this percentage. */
  readonly maxCpuUsage: number;
  /** Exclude nodes whose memory usage is above this percentage. */
  readonly maxMemoryUsage: number;
  /** Exclude nodes with more connections than this. */
  readonly maxActiveConnections: number;
  /** Exclude nodes whose average latency is above this, in milliseconds. */
  readonly maxAverageLatencyMs: number;
  /** Weight of CPU headroom in the score. */
  readonly cpuWeight: number;
  /** Weight of memory headroom in the score. */
  readonly memoryWeight: number;
  /** Weight of connection headroom in the score. */
  readonly connectionWeight: number;
  /** Weight of latency headroom in the score. */
  readonly latencyWeight: number;
  /** The connection count at which connection headroom is one half. */
  readonly connectionScale: number;
  /** The latency, in milliseconds, at which latency headroom is one half. */
  readonly latencyScaleMs: number;
}

/**
 * The defaults of {@link ResourcePolicy}: exclude above 90 % CPU or memory, no
 * connection or latency limit; CPU and memory weigh 0.35 each, connections and
 * latency 0.15 each; half headroom at 100 connections or 100 ms.
 *
 * @since 2.0.0
 */
export const DEFAULT_RESOURCE_POLICY: ResourcePolicy = Object.freeze({
  maxCpuUsage: 90,
  maxMemoryUsage: 90,
  maxActiveConnections: Number.POSITIVE_INFINITY,
  maxAverageLatencyMs: Number.POSITIVE_INFINITY,
  cpuWeight: 0.35,
  memoryWeight: 0.35,
  connectionWeight: 0.15,
  latencyWeight: 0.15,
  connectionScale: 100,
  latencyScaleMs: 100,
});

/**
 * Which limit of a policy a node is over, if any.
 *
 * @param figures - The node's figures.
 * @param policy - The limits.
 * @returns A short reason, or `undefined` when the node is within every limit.
 * @since 2.0.0
 */
export function resourceExclusion(
  figures: ResourceFigures,
  policy: ResourcePolicy,
): string | undefined {
  if (figures.cpuUsage > policy.maxCpuUsage)
    return `cpu ${figures.cpuUsage}% > ${policy.maxCpuUsage}%`;
  if (figures.memoryUsage > policy.maxMemoryUsage) {
    return `memory ${figures.memoryUsage}% > ${policy.maxMemoryUsage}%`;
  }
  if (figures.activeConnections > policy.maxActiveConnections) {
    return `connections ${figures.activeConnections} > ${policy.maxActiveConnections}`;
  }
  if (figures.averageLatencyMs > policy.maxAverageLatencyMs) {
    return `latency ${figures.averageLatencyMs} ms > ${policy.maxAverageLatencyMs} ms`;
  }
  return undefined;
}

/**
 * A node's headroom: a weighted mean of its free CPU, free memory, and
 * `scale / (scale + x)` for connections and latency (1 when idle, ½ at the scale).
 * Higher is better; the result lies in (0, 1], with a small floor so a busy node
 * still gets a trickle of traffic (and so of fresh figures).
 *
 * @param figures - The node's figures.
 * @param policy - The weights and scales.
 * @returns The headroom score.
 * @since 2.0.0
 */
export function headroomScore(figures: ResourceFigures, policy: ResourcePolicy): number {
  const totalWeight =
    policy.cpuWeight + policy.memoryWeight + policy.connectionWeight + policy.latencyWeight;
  if (!(totalWeight > 0)) return 1;
  const cpu = 1 - clampPercent(figures.cpuUsage) / 100;
  const memory = 1 - clampPercent(figures.memoryUsage) / 100;
  const connections =
    policy.connectionScale / (policy.connectionScale + Math.max(figures.activeConnections, 0));
  const latency =
    policy.latencyScaleMs / (policy.latencyScaleMs + Math.max(figures.averageLatencyMs, 0));
  const score =
    (policy.cpuWeight * cpu +
      policy.memoryWeight * memory +
      policy.connectionWeight * connections +
      policy.latencyWeight * latency) /
    totalWeight;
  return Math.max(score, MIN_HEADROOM);
}

/** The floor of {@link headroomScore}. */
const MIN_HEADROOM = 0.01;

function clampPercent(value: number): number {
  return Math.min(Math.max(value, 0), 100);
}
