/**
 * The health and churn machinery every strategy shares: reported health,
 * requests in flight, latency averages, outlier ejection, slow start and the
 * panic threshold, turned into the set of nodes a selection may pick from.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from '../contracts/cluster-membership.js';
import { DistributedError } from '../contracts/errors.js';
import type { HealthStatus } from '../contracts/health.js';
import type { NodeHealthReport } from '../contracts/load-balancer.js';
import { healthReportProblem } from '../core/load-balancing/health-report.js';
import {
  ewmaUpdate,
  peakEwmaAt,
  peakEwmaUpdate,
  type DecayedAverage,
} from '../core/load-balancing/latency.js';
import {
  DEFAULT_OUTLIER_POLICY,
  INITIAL_OUTLIER_STATE,
  isEjected,
  recordOutcome,
  type OutlierPolicy,
  type OutlierState,
} from '../core/load-balancing/outlier.js';
import { isPanic } from '../core/load-balancing/panic.js';
import { SLOW_START_STEPS, slowStartFactor } from '../core/load-balancing/slow-start.js';
import type { NodeLoadSnapshot, RequestOutcome } from './observed-load-balancer.js';

/**
 * Options of a {@link NodePool}. Every one has a default.
 *
 * @since 2.0.0
 */
export interface NodePoolOptions {
  /** The clock, in milliseconds. Defaults to `Date.now`; simulations pass virtual time. */
  readonly now?: () => number;
  /**
   * The most nodes the pool keeps state for (reports, requests in flight,
   * averages, ejections). When a new node must be tracked and the pool is full,
   * the node touched least recently is forgotten. Defaults to 10 000.
   */
  readonly maxTrackedNodes?: number;
  /**
   * The smallest fraction of eligible candidates that is not panic, in [0, 1].
   * Below it (and always when none is eligible) selection spreads over every
   * candidate that is not `dead` (over all of them if all are), ignoring health
   * and ejection. Defaults to 0.5, Envoy's default.
   */
  readonly panicThreshold?: number;
  /** Outlier ejection; `false` disables it. Defaults to {@link DEFAULT_OUTLIER_POLICY}. */
  readonly outlierDetection?: Partial<OutlierPolicy> | false;
  /**
   * The slow-start window in milliseconds: a node that appears after the pool's
   * first selection gets a weight ramping from `slowStartMinFactor` to full over
   * this window. Weighted strategies (smooth weighted round robin, weighted
   * random, least request, latency, resource-aware) apply it; round robin and
   * consistent hashing do not (their placement has no weights to ramp). 0 disables.
   * Defaults to 30 000.
   */
  readonly slowStartWindowMs?: number;
  /** The weight fraction a node starts slow start with, in (0, 1]. Defaults to 0.1. */
  readonly slowStartMinFactor?: number;
  /** The time constant of the latency averages, in milliseconds. Defaults to 10 000. */
  readonly latencyDecayMs?: number;
  /**
   * Node weights by id, overriding `metadata.weight`. A node's weight is taken
   * from here, else from its `ClusterNode.metadata['weight']` when that parses as
   * a positive finite number, else 1.
   */
  readonly weights?: Readonly<Record<string, number>>;
}

/** Per-node state. Mutable, private to the pool. */
interface NodeState {
  verdict: HealthStatus | undefined;
  report: NodeHealthReport | undefined;
  active: number;
  latency: DecayedAverage | undefined;
  peak: DecayedAverage | undefined;
  outlier: OutlierState;
  /** When the pool first saw the node as a candidate; −∞ for the initial members. */
  firstSeen: number;
}

/**
 * The nodes one selection may pick from, computed by {@link NodePool.view} and
 * cached while nothing it depends on changes.
 *
 * @since 2.0.0
 */
export interface PoolView {
  /** Every distinct candidate (first listing of an id wins), sorted by id. */
  readonly all: readonly ClusterNode[];
  /** The nodes to pick from, sorted by id: the eligible ones, or the panic set. */
  readonly candidates: readonly ClusterNode[];
  /** The effective weight of each of `candidates` (configured weight × slow-start factor). */
  readonly weights: readonly number[];
  /** The configured weight of each of `all` (no slow start), for hash placement. */
  readonly configuredWeights: readonly number[];
  /** Whether this is panic routing. */
  readonly panic: boolean;
  /**
   * Whether a node of `all` is among `candidates`; `undefined` when every node is,
   * so callers can skip the check.
   */
  readonly accept: ((nodeId: string) => boolean) | undefined;
  /** Ids and configured weights of `all`: equal signatures mean the same hash placement. */
  readonly membershipSignature: string;
}

/** The defaults of {@link NodePoolOptions}. */
const DEFAULTS = {
  maxTrackedNodes: 10_000,
  panicThreshold: 0.5,
  slowStartWindowMs: 30_000,
  slowStartMinFactor: 0.1,
  latencyDecayMs: 10_000,
} as const;

/**
 * Shared per-node state and candidate filtering for the strategies in this folder.
 *
 * A candidate is eligible when its membership status is `active`, its latest
 * health verdict is not `unhealthy`, and outlier detection has not ejected it.
 * See {@link NodePoolOptions.panicThreshold} for what happens when too few are.
 *
 * Views are cached: a selection whose `availableNodes` is the same array (same
 * identity and length) as the previous one's, with no health, ejection or
 * slow-start step in between, reuses the previous view in O(1). Callers must
 * therefore not mutate a node array in place between selections; the contract
 * types it `readonly`.
 *
 * @since 2.0.0
 */
export class NodePool {
  /** The clock. */
  readonly now: () => number;
  /** See {@link NodePoolOptions.maxTrackedNodes}. */
  readonly maxTrackedNodes: number;
  /** See {@link NodePoolOptions.panicThreshold}. */
  readonly panicThreshold: number;
  /** The outlier policy, or `undefined` when ejection is disabled. */
  readonly outlierPolicy: OutlierPolicy | undefined;
  /** See {@link NodePoolOptions.slowStartWindowMs}. */
  readonly slowStartWindowMs: number;
  /** See {@link NodePoolOptions.slowStartMinFactor}. */
  readonly slowStartMinFactor: number;
  /** See {@link NodePoolOptions.latencyDecayMs}. */
  readonly latencyDecayMs: number;
  readonly #weightOverrides: ReadonlyMap<string, number>;
  // Insertion order is recency order: entries are re-inserted when touched.
  readonly #states = new Map<string, NodeState>();
  /** Bumped whenever eligibility may have changed. */
  #version = 0;
  #loadVersion = 0;
  #seenAny = false;
  #totalActive = 0;
  #lastPanic = false;
  #cache:
    | {
        nodes: readonly ClusterNode[];
        length: number;
        version: number;
        validUntil: number;
        view: PoolView;
      }
    | undefined;

  /**
   * @param options - Everything has a default.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for an out-of-range option.
   */
  constructor(options: NodePoolOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxTrackedNodes = options.maxTrackedNodes ?? DEFAULTS.maxTrackedNodes;
    requireThat(
      Number.isSafeInteger(this.maxTrackedNodes) && this.maxTrackedNodes >= 1,
      'maxTrackedNodes must be a positive integer',
    );
    this.panicThreshold = options.panicThreshold ?? DEFAULTS.panicThreshold;
    requireThat(
      this.panicThreshold >= 0 && this.panicThreshold <= 1,
      'panicThreshold must lie in [0, 1]',
    );
    if (options.outlierDetection === false) {
      this.outlierPolicy = undefined;
    } else {
      const policy = { ...DEFAULT_OUTLIER_POLICY, ...options.outlierDetection };
      requireThat(
        Number.isSafeInteger(policy.consecutiveFailures) && policy.consecutiveFailures >= 1,
        'outlierDetection.consecutiveFailures must be a positive integer',
      );
      requireThat(
        policy.baseEjectionMs >= 0 && policy.maxEjectionMs >= policy.baseEjectionMs,
        'outlierDetection needs 0 ≤ baseEjectionMs ≤ maxEjectionMs',
      );
      this.outlierPolicy = Object.freeze(policy);
    }
    this.slowStartWindowMs = options.slowStartWindowMs ?? DEFAULTS.slowStartWindowMs;
    requireThat(
      this.slowStartWindowMs >= 0 && Number.isFinite(this.slowStartWindowMs),
      'slowStartWindowMs must be finite and non-negative',
    );
    this.slowStartMinFactor = options.slowStartMinFactor ?? DEFAULTS.slowStartMinFactor;
    requireThat(
      this.slowStartMinFactor > 0 && this.slowStartMinFactor <= 1,
      'slowStartMinFactor must lie in (0, 1]',
    );
    this.latencyDecayMs = options.latencyDecayMs ?? DEFAULTS.latencyDecayMs;
    requireThat(
      this.latencyDecayMs > 0 && Number.isFinite(this.latencyDecayMs),
      'latencyDecayMs must be positive and finite',
    );
    const overrides = new Map<string, number>();
    for (const [nodeId, weight] of Object.entries(options.weights ?? {})) {
      requireThat(weight > 0 && Number.isFinite(weight), `weight of '${nodeId}' must be positive`);
      overrides.set(nodeId, weight);
    }
    this.#weightOverrides = overrides;
  }

  /** Requests in flight over every tracked node. */
  get totalActive(): number {
    return this.#totalActive;
  }

  /** Bumped by every report and request start or end: load figures may have changed. */
  get loadVersion(): number {
    return this.#loadVersion;
  }

  /** Whether the latest view was panic routing. */
  get lastPanic(): boolean {
    return this.#lastPanic;
  }

  /**
   * Records a node's latest health report (the contract's `reportNodeHealth`).
   * A report without `status` keeps the previous verdict.
   *
   * @param nodeId - The node.
   * @param report - Its figures and, optionally, verdict.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for an empty id or an
   *   invalid report; nothing is recorded then.
   */
  report(nodeId: string, report: NodeHealthReport): void {
    requireNodeId(nodeId);
    const problem = healthReportProblem(report);
    if (problem !== undefined) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `invalid health report for '${nodeId}': ${problem}`,
      );
    }
    const state = this.#touch(nodeId);
    this.#loadVersion += 1;
    const verdict = report.status ?? state.verdict;
    if (verdict !== state.verdict) this.#version += 1;
    state.verdict = verdict;
    state.report = Object.freeze({
      cpuUsage: report.cpuUsage,
      memoryUsage: report.memoryUsage,
      activeConnections: report.activeConnections,
      averageLatencyMs: report.averageLatencyMs,
      reportedAt: report.reportedAt,
      ...(verdict === undefined ? {} : { status: verdict }),
    });
  }

  /**
   * Records that a request was sent to a node.
   *
   * @param nodeId - The node.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for an empty id.
   */
  recordRequestStart(nodeId: string): void {
    requireNodeId(nodeId);
    const state = this.#touch(nodeId);
    state.active += 1;
    this.#totalActive += 1;
    this.#loadVersion += 1;
  }

  /**
   * Records that a request sent to a node ended: requests in flight go down,
   * latency averages take the sample (successes only), and outlier detection
   * sees the outcome.
   *
   * @param nodeId - The node.
   * @param outcome - Latency and success.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for an empty id or a bad latency.
   */
  recordRequestEnd(nodeId: string, outcome: RequestOutcome): void {
    requireNodeId(nodeId);
    const latency: unknown = outcome.latencyMs;
    if (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `latencyMs must be a finite, non-negative number, got ${String(latency)}`,
      );
    }
    const now = this.now();
    const state = this.#touch(nodeId);
    this.#loadVersion += 1;
    if (state.active > 0) {
      state.active -= 1;
      this.#totalActive -= 1;
    }
    if (outcome.success) {
      state.latency = ewmaUpdate(state.latency, latency, now, this.latencyDecayMs);
      state.peak = peakEwmaUpdate(state.peak, latency, now, this.latencyDecayMs);
    }
    if (this.outlierPolicy !== undefined) {
      const before = state.outlier;
      state.outlier = recordOutcome(before, outcome.success, now, this.outlierPolicy);
      if (state.outlier.ejectedUntil !== before.ejectedUntil) this.#version += 1;
    }
  }

  /**
   * Requests in flight to a node, as this balancer recorded them.
   *
   * @param nodeId - The node.
   * @returns The count (0 when untracked).
   */
  activeRequests(nodeId: string): number {
    return this.#states.get(nodeId)?.active ?? 0;
  }

  /**
   * The load a node carries: the larger of the requests recorded here and the
   * connections it last reported (its report already counts this balancer's
   * requests, so adding them would count those twice).
   *
   * @param nodeId - The node.
   * @returns The load (0 when unknown).
   */
  load(nodeId: string): number {
    const state = this.#states.get(nodeId);
    if (state === undefined) return 0;
    return Math.max(state.active, state.report?.activeConnections ?? 0);
  }

  /**
   * A node's latency EWMA: of recorded successes, else its reported average.
   *
   * @param nodeId - The node.
   * @returns Milliseconds, or `undefined` when nothing is known.
   */
  latencyEwma(nodeId: string): number | undefined {
    const state = this.#states.get(nodeId);
    return state?.latency?.value ?? state?.report?.averageLatencyMs;
  }

  /**
   * A node's peak EWMA as of `now` (decaying towards 0 while no samples come, so
   * an avoided node is eventually probed again); its reported average when no
   * request was recorded.
   *
   * @param nodeId - The node.
   * @param now - The moment of reading.
   * @returns Milliseconds (0 when nothing is known).
   */
  peakEwma(nodeId: string, now: number): number {
    const state = this.#states.get(nodeId);
    if (state?.peak === undefined) return state?.report?.averageLatencyMs ?? 0;
    return peakEwmaAt(state.peak, now, this.latencyDecayMs);
  }

  /**
   * The latest report recorded for a node.
   *
   * @param nodeId - The node.
   * @returns The frozen report, or `undefined`.
   */
  healthReport(nodeId: string): NodeHealthReport | undefined {
    return this.#states.get(nodeId)?.report;
  }

  /**
   * The nodes a selection over `nodes` may pick from, now.
   *
   * @param nodes - The context's `availableNodes`; not empty.
   * @param now - The current time.
   * @returns The view (cached while unchanged).
   */
  view(nodes: readonly ClusterNode[], now: number): PoolView {
    const cache = this.#cache;
    if (
      cache !== undefined &&
      cache.nodes === nodes &&
      cache.length === nodes.length &&
      cache.version === this.#version &&
      now < cache.validUntil
    ) {
      return cache.view;
    }
    const { view, validUntil } = this.#computeView(nodes, now);
    this.#cache = { nodes, length: nodes.length, version: this.#version, validUntil, view };
    this.#lastPanic = view.panic;
    return view;
  }

  /**
   * Per-node state for diagnostics, sorted by id.
   *
   * @param now - The moment of the snapshot.
   * @returns Frozen records, at most {@link NodePool.maxTrackedNodes}.
   */
  snapshotNodes(now: number): NodeLoadSnapshot[] {
    const ids = [...this.#states.keys()].sort(compareStrings);
    return ids.map((nodeId) => {
      const state = this.#states.get(nodeId) as NodeState;
      const report = state.report;
      const ejected = isEjected(state.outlier, now);
      return Object.freeze({
        nodeId,
        activeRequests: state.active,
        ...(state.latency === undefined ? {} : { latencyEwmaMs: state.latency.value }),
        ...(state.peak === undefined
          ? {}
          : { peakEwmaMs: peakEwmaAt(state.peak, now, this.latencyDecayMs) }),
        ...(state.verdict === undefined ? {} : { verdict: state.verdict }),
        ...(report === undefined
          ? {}
          : {
              cpuUsage: report.cpuUsage,
              memoryUsage: report.memoryUsage,
              reportedActiveConnections: report.activeConnections,
              reportedLatencyMs: report.averageLatencyMs,
            }),
        consecutiveFailures: state.outlier.consecutiveFailures,
        ejected,
        ...(ejected ? { ejectedUntil: state.outlier.ejectedUntil } : {}),
        ejections: state.outlier.ejections,
        slowStartFactor: this.#slowStart(state, now),
      });
    });
  }

  /**
   * The configured weight of a node (no slow start); see {@link NodePoolOptions.weights}.
   *
   * @param node - The node.
   * @returns A positive weight.
   */
  configuredWeight(node: ClusterNode): number {
    const override = this.#weightOverrides.get(node.nodeId);
    if (override !== undefined) return override;
    const text = node.metadata['weight'];
    if (text === undefined) return 1;
    const parsed = Number(text);
    return parsed > 0 && Number.isFinite(parsed) ? parsed : 1;
  }

  #computeView(nodes: readonly ClusterNode[], now: number): { view: PoolView; validUntil: number } {
    const initial = !this.#seenAny;
    this.#seenAny = true;
    const seen = new Set<string>();
    const all: ClusterNode[] = [];
    for (const node of nodes) {
      if (seen.has(node.nodeId)) continue;
      seen.add(node.nodeId);
      all.push(node);
    }
    all.sort((a, b) => compareStrings(a.nodeId, b.nodeId));
    let validUntil = Number.POSITIVE_INFINITY;
    const eligible: ClusterNode[] = [];
    for (const node of all) {
      const state =
        this.#states.get(node.nodeId) ??
        this.#track(node.nodeId, initial ? Number.NEGATIVE_INFINITY : now);
      const ejected = isEjected(state.outlier, now);
      if (ejected) validUntil = Math.min(validUntil, state.outlier.ejectedUntil);
      if (node.status === 'active' && state.verdict !== 'unhealthy' && !ejected)
        eligible.push(node);
    }
    const panic = isPanic(eligible.length, all.length, this.panicThreshold);
    let candidates: ClusterNode[] = eligible;
    if (panic) {
      const alive = all.filter((node) => node.status !== 'dead');
      candidates = alive.length > 0 ? alive : all;
    }
    const weights = candidates.map((node) => {
      const state = this.#states.get(node.nodeId);
      const factor = state === undefined ? 1 : this.#slowStart(state, now);
      if (factor < 1) {
        // Recompute at the next ramp step, so cached weights lag by at most one step.
        validUntil = Math.min(validUntil, now + this.slowStartWindowMs / SLOW_START_STEPS);
      }
      return this.configuredWeight(node) * factor;
    });
    const configuredWeights = all.map((node) => this.configuredWeight(node));
    let accept: ((nodeId: string) => boolean) | undefined;
    if (candidates.length < all.length) {
      const ids = new Set(candidates.map((node) => node.nodeId));
      accept = (nodeId) => ids.has(nodeId);
    }
    const membershipSignature = all
      .map((node, index) => `${node.nodeId}\u0000${configuredWeights[index] ?? 1}`)
      .join('\u0001');
    const view: PoolView = Object.freeze({
      all: Object.freeze(all),
      candidates: Object.freeze(candidates),
      weights: Object.freeze(weights),
      configuredWeights: Object.freeze(configuredWeights),
      panic,
      accept,
      membershipSignature,
    });
    return { view, validUntil };
  }

  #slowStart(state: NodeState, now: number): number {
    return slowStartFactor(now - state.firstSeen, this.slowStartWindowMs, this.slowStartMinFactor);
  }

  /** The state of a node, created if needed, and marked most recently used. */
  #touch(nodeId: string): NodeState {
    const state = this.#states.get(nodeId);
    if (state === undefined)
      return this.#track(nodeId, this.#seenAny ? this.now() : Number.NEGATIVE_INFINITY);
    this.#states.delete(nodeId);
    this.#states.set(nodeId, state);
    return state;
  }

  #track(nodeId: string, firstSeen: number): NodeState {
    if (this.#states.size >= this.maxTrackedNodes) {
      const oldest = this.#states.entries().next();
      if (oldest.done !== true) {
        this.#states.delete(oldest.value[0]);
        this.#totalActive -= oldest.value[1].active;
        // Its verdict and ejection are forgotten, which may change eligibility.
        this.#version += 1;
      }
    }
    const state: NodeState = {
      verdict: undefined,
      report: undefined,
      active: 0,
      latency: undefined,
      peak: undefined,
      outlier: INITIAL_OUTLIER_STATE,
      firstSeen,
    };
    this.#states.set(nodeId, state);
    return state;
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function requireThat(condition: boolean, message: string): void {
  if (!condition) throw new DistributedError('INVALID_ARGUMENT', message);
}

function requireNodeId(nodeId: string): void {
  if (typeof nodeId !== 'string' || nodeId === '') {
    throw new DistributedError('INVALID_ARGUMENT', 'nodeId must be a non-empty string');
  }
}
