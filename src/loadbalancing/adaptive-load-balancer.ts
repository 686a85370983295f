/**
 * The adaptive strategy: round robin while load is even, least request when it
 * is not, latency-based when some nodes are much slower, switching with hysteresis.
 *
 * @packageDocumentation
 */

import type { ClusterNode } from '../contracts/cluster-membership.js';
import { DistributedError } from '../contracts/errors.js';
import type { LoadBalancerContext } from '../contracts/load-balancer.js';
import {
  AdaptiveController,
  DEFAULT_ADAPTIVE_POLICY,
  type AdaptiveDecision,
  type AdaptiveMode,
  type AdaptivePolicy,
} from '../core/load-balancing/adaptive.js';
import { LatencyBasedLoadBalancer } from './latency-based-load-balancer.js';
import { LeastRequestLoadBalancer } from './least-request-load-balancer.js';
import type { PoolView } from './node-pool.js';
import type { ActiveStrategy } from './observed-load-balancer.js';
import { PooledLoadBalancer, type PooledLoadBalancerOptions } from './pooled-load-balancer.js';
import { RoundRobinLoadBalancer } from './round-robin-load-balancer.js';

/**
 * Options of {@link AdaptiveLoadBalancer}.
 *
 * @since 2.0.0
 */
export interface AdaptiveLoadBalancerOptions extends PooledLoadBalancerOptions {
  /** Thresholds and hysteresis; each defaults to {@link DEFAULT_ADAPTIVE_POLICY}. */
  readonly adaptivePolicy?: Partial<AdaptivePolicy>;
  /** How often conditions are evaluated, in milliseconds (at selection time). Defaults to 1 000. */
  readonly evaluationIntervalMs?: number;
  /** The choice count of the least-request and latency-based modes; defaults to 2. */
  readonly choiceCount?: number;
}

/**
 * Watches load imbalance (max/mean requests in flight) and latency spread
 * (slowest over median latency EWMA, by default) over the eligible nodes and delegates to
 * round robin, least request (P2C) or latency-based (peak EWMA, P2C), as
 * {@link AdaptiveController} decides: a switch needs the condition for several
 * evaluations in a row and a minimum dwell time, so it does not flap.
 * {@link AdaptiveLoadBalancer.snapshot} and {@link AdaptiveLoadBalancer.decision}
 * say which one is in use and why. The three share this balancer's pool, so
 * each has the full history when it takes over.
 *
 * @since 2.0.0
 */
export class AdaptiveLoadBalancer extends PooledLoadBalancer {
  /** Always `adaptive`. */
  readonly algorithm = 'adaptive';
  /** Always `adaptive`; the strategy in use is in {@link AdaptiveLoadBalancer.decision}. */
  readonly algorithmName: string = 'adaptive';
  /** How often conditions are evaluated, in milliseconds. */
  readonly evaluationIntervalMs: number;
  readonly #controller: AdaptiveController;
  readonly #strategies: Readonly<Record<AdaptiveMode, PooledLoadBalancer>>;
  #lastEvaluation = Number.NEGATIVE_INFINITY;
  #decision: AdaptiveDecision | undefined;

  /**
   * @param options - Pool options, the random source, the policy and interval.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for a bad policy or interval.
   */
  constructor(options: AdaptiveLoadBalancerOptions = {}) {
    super(options);
    const policy: AdaptivePolicy = { ...DEFAULT_ADAPTIVE_POLICY, ...options.adaptivePolicy };
    if (
      !(policy.imbalanceExit <= policy.imbalanceEnter) ||
      !(policy.spreadExit <= policy.spreadEnter) ||
      !Number.isSafeInteger(policy.confirmations) ||
      policy.confirmations < 1 ||
      !(policy.minDwellMs >= 0) ||
      !(policy.spreadPercentile > 0.5 && policy.spreadPercentile <= 1)
    ) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'adaptivePolicy needs exit ≤ enter thresholds, confirmations ≥ 1, minDwellMs ≥ 0 and spreadPercentile in (0.5, 1]',
      );
    }
    this.evaluationIntervalMs = options.evaluationIntervalMs ?? 1_000;
    if (!(this.evaluationIntervalMs >= 0) || !Number.isFinite(this.evaluationIntervalMs)) {
      throw new DistributedError('INVALID_ARGUMENT', 'evaluationIntervalMs must be finite and ≥ 0');
    }
    this.#controller = new AdaptiveController(Object.freeze(policy), this.pool.now());
    const shared = {
      pool: this.pool,
      random: this.random,
      ...(options.choiceCount === undefined ? {} : { choiceCount: options.choiceCount }),
    };
    this.#strategies = Object.freeze({
      'round-robin': new RoundRobinLoadBalancer(shared),
      'least-request': new LeastRequestLoadBalancer(shared),
      'latency-based': new LatencyBasedLoadBalancer({ ...shared, variant: 'peak-ewma' }),
    });
  }

  /** The mode in use, the latest figures and why; `undefined` before the first selection. */
  get decision(): AdaptiveDecision | undefined {
    return this.#decision;
  }

  /** The precise name of the strategy in use, for example `least-connections/p2c`. */
  get currentAlgorithmName(): string {
    return this.#strategies[this.#controller.mode].algorithmName;
  }

  /**
   * @param view - The candidates.
   * @param context - The request, passed to the strategy in use.
   * @param now - The current time.
   * @returns The node the strategy in use picks.
   */
  protected pick(view: PoolView, context: LoadBalancerContext, now: number): ClusterNode {
    if (now - this.#lastEvaluation >= this.evaluationIntervalMs) {
      this.#lastEvaluation = now;
      const pool = this.pool;
      const activeRequests = view.candidates.map((node) => pool.load(node.nodeId));
      const latencies: number[] = [];
      for (const node of view.candidates) {
        const latency = pool.latencyEwma(node.nodeId);
        if (latency !== undefined) latencies.push(latency);
      }
      this.#decision = this.#controller.evaluate({ activeRequests, latencies }, now);
    }
    // The sub-strategy shares the pool, so its view is the cached one: O(1).
    return this.#strategies[this.#controller.mode].selectNode(context);
  }

  /**
   * @returns The strategy in use and why.
   */
  protected override activeStrategy(): ActiveStrategy | undefined {
    return {
      algorithmName: this.currentAlgorithmName,
      reason: this.#controller.reason,
      since: this.#controller.since,
    };
  }
}
