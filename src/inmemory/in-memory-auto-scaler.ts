/**
 * The embedded {@link AutoScaler}: evaluates scaling policies for real, but has
 * no way to add or remove nodes.
 *
 * @packageDocumentation
 */

import {
  ScalingResult,
  type AutoScaler,
  type ScaleInRequest,
  type ScaleOutRequest,
  type ScalingAction,
  type ScalingContext,
  type ScalingDecision,
  type ScalingEvent,
  type ScalingEventType,
  type ScalingMetrics,
  type ScalingPolicy,
  type ScalingState,
} from '../contracts/auto-scaler.js';
import type { CallOptions, Listener, Unsubscribe } from '../contracts/common.js';
import { DistributedError } from '../contracts/errors.js';
import { EventHub, createUnsubscribe } from '../core/events.js';
import { combineScalingDecisions, type PolicyVote } from '../core/scaling/combine.js';
import {
  scaleInRequestProblem,
  scaleOutRequestProblem,
  scalingContextProblem,
  scalingDecisionProblem,
} from '../core/scaling/validation.js';
import { resolveEmbeddedOptions, type EmbeddedOptions } from './options.js';

/**
 * Options for {@link InMemoryAutoScaler}.
 *
 * @since 2.0.0
 */
export interface InMemoryAutoScalerOptions extends EmbeddedOptions {
  /** Policies to register at once, as with {@link InMemoryAutoScaler.registerPolicy}. */
  readonly policies?: readonly ScalingPolicy[];
  /**
   * The most policies that may be registered at a time; registering one more
   * fails with `CAPACITY_EXCEEDED`. Defaults to 100.
   */
  readonly maxPolicies?: number;
}

/** The default of {@link InMemoryAutoScalerOptions.maxPolicies}. */
const DEFAULT_MAX_POLICIES = 100;

/** The embedded node is the whole cluster. */
const SINGLE_NODE = 1;

/**
 * An auto-scaler for a single node with no actuator.
 *
 * {@link InMemoryAutoScaler.evaluate} is real: it asks every registered policy
 * and combines their decisions (see `combineScalingDecisions` in the core: any
 * scale-out wins with the highest target; scale-in only when every policy agrees,
 * to the most conservative target; the target clamped to the context's bounds).
 * A scale-out it recommends is a proposal for a person to act on.
 *
 * {@link InMemoryAutoScaler.scaleOut} and {@link InMemoryAutoScaler.scaleIn}
 * always return an error result with code `NO_ACTUATOR`, because nothing here
 * can start or stop a machine; they never claim nodes were added or removed.
 * The state always shows one node.
 *
 * @since 2.0.0
 */
export class InMemoryAutoScaler implements AutoScaler {
  /** The most policies that may be registered at a time. */
  readonly maxPolicies: number;
  readonly #now: () => number;
  readonly #events: EventHub<ScalingEvent>;
  // Insertion order is registration order, which the combination uses to break ties.
  readonly #policies = new Map<string, ScalingPolicy>();
  #state: ScalingState = Object.freeze({
    currentNodeCount: SINGLE_NODE,
    targetNodeCount: SINGLE_NODE,
    isScaling: false,
  });

  /**
   * @param options - Initial policies and bounds; everything has a default.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` when `maxPolicies` is not a
   *   positive integer or a policy is malformed; `POLICY_EXISTS` or
   *   `CAPACITY_EXCEEDED` as for {@link InMemoryAutoScaler.registerPolicy}.
   */
  constructor(options: InMemoryAutoScalerOptions = {}) {
    const resolved = resolveEmbeddedOptions(options);
    this.#now = resolved.now;
    this.#events = new EventHub(resolved.onListenerError);
    const maxPolicies = options.maxPolicies ?? DEFAULT_MAX_POLICIES;
    if (!Number.isSafeInteger(maxPolicies) || maxPolicies < 1) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `maxPolicies must be a positive integer, got ${String(maxPolicies)}`,
      );
    }
    this.maxPolicies = maxPolicies;
    for (const policy of options.policies ?? []) this.registerPolicy(policy);
  }

  /**
   * Registers a policy; every later evaluation asks it.
   *
   * @param policy - The policy; its name must be unique among registered policies.
   * @returns A disposer that removes the policy, if it is still the one registered under its name.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` when the policy has no name or
   *   no `shouldScale` function; `POLICY_EXISTS` when a policy of that name is
   *   registered; `CAPACITY_EXCEEDED` when {@link InMemoryAutoScaler.maxPolicies} are.
   */
  registerPolicy(policy: ScalingPolicy): Unsubscribe {
    if (
      typeof policy !== 'object' ||
      (policy as unknown) === null ||
      typeof policy.policyName !== 'string' ||
      policy.policyName === '' ||
      typeof policy.shouldScale !== 'function'
    ) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'a scaling policy needs a non-empty policyName and a shouldScale function',
      );
    }
    const name = policy.policyName;
    if (this.#policies.has(name)) {
      throw new DistributedError(
        'POLICY_EXISTS',
        `a scaling policy named '${name}' is already registered`,
      );
    }
    if (this.#policies.size >= this.maxPolicies) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `cannot register scaling policy '${name}': ${this.maxPolicies} policies are registered (maxPolicies)`,
      );
    }
    this.#policies.set(name, policy);
    return createUnsubscribe(() => {
      if (this.#policies.get(name) === policy) this.#policies.delete(name);
    });
  }

  /**
   * Removes a policy by name.
   *
   * @param policyName - The policy's name.
   * @returns Whether a policy of that name was registered.
   */
  removePolicy(policyName: string): boolean {
    return this.#policies.delete(policyName);
  }

  /**
   * The names of the registered policies, in registration order.
   *
   * @returns A snapshot.
   */
  getPolicyNames(): readonly string[] {
    return Object.freeze([...this.#policies.keys()]);
  }

  /**
   * Subscribes to scaling events.
   *
   * @param listener - Called with every event.
   */
  onScalingEvent(listener: Listener<ScalingEvent>): Unsubscribe {
    return this.#events.subscribe(listener);
  }

  /**
   * Asks every registered policy (concurrently, each with a frozen copy of the
   * metrics and the caller's signal) and combines their decisions. With no
   * policies the decision is `no-action`, reason `no scaling policies registered`
   * (unless the cluster is outside its bounds). Records the decision as
   * `lastDecision` and emits `evaluated`; changes nothing else.
   *
   * @param context - The cluster's metrics, size and bounds.
   * @param options - Cancellation.
   * @returns The combined decision.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for an invalid context
   *   (for example `minNodes > maxNodes` or a negative metric), or when a policy
   *   returns a malformed decision. A policy's own rejection is passed on. In
   *   every such case nothing is recorded or emitted.
   */
  async evaluate(context: ScalingContext, options?: CallOptions): Promise<ScalingDecision> {
    options?.signal?.throwIfAborted();
    const problem = scalingContextProblem(context);
    if (problem !== undefined) {
      throw new DistributedError('INVALID_ARGUMENT', `invalid scaling context: ${problem}`);
    }
    const metrics = copyMetrics(context.metrics);
    const policies = [...this.#policies.values()];
    const decisions = await Promise.all(
      policies.map((policy) => policy.shouldScale(metrics, options)),
    );
    options?.signal?.throwIfAborted();
    const votes: PolicyVote[] = [];
    for (const [index, decision] of decisions.entries()) {
      const policyName = policies[index]?.policyName ?? '';
      const decisionProblem = scalingDecisionProblem(decision);
      if (decisionProblem !== undefined) {
        throw new DistributedError(
          'INVALID_ARGUMENT',
          `scaling policy '${policyName}' returned an invalid decision: ${decisionProblem}`,
        );
      }
      votes.push({ policyName, decision });
    }
    const combined = combineScalingDecisions(votes, context);
    this.#state = Object.freeze({ ...this.#state, lastDecision: combined });
    this.#emit('evaluated', combined.action, combined.reason);
    return combined;
  }

  /**
   * Cannot add nodes: returns an error result with code `NO_ACTUATOR` that says
   * what a person must do instead, records the attempt as the last action, and
   * emits `scaling-failed`. A malformed request rejects with `INVALID_ARGUMENT`
   * instead, recording and emitting nothing.
   *
   * @param request - How many nodes to add, and optionally their details.
   * @param options - Cancellation.
   * @returns A failed result; the cluster stays at one node.
   */
  async scaleOut(request: ScaleOutRequest, options?: CallOptions): Promise<ScalingResult> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    const problem = scaleOutRequestProblem(request);
    if (problem !== undefined) throw invalidRequest('scale-out', problem);
    const message =
      `no actuator configured: this embedded auto-scaler cannot provision nodes, so ` +
      `${request.requestedNodes} node(s) were not added. A person must start the new ` +
      'node(s) and join them to the cluster, or configure an auto-scaler with an actuator ' +
      '(for example one that drives Kubernetes or a cloud API)';
    const nodeIds = (request.nodes ?? []).flatMap((node) =>
      node.nodeId === undefined ? [] : [node.nodeId],
    );
    return this.#fail('scale-out', message, nodeIds);
  }

  /**
   * Cannot remove nodes: returns an error result with code `NO_ACTUATOR` that says
   * what a person must do instead, records the attempt as the last action, and
   * emits `scaling-failed`. A malformed request rejects with `INVALID_ARGUMENT`
   * instead, recording and emitting nothing.
   *
   * @param request - Which nodes to remove.
   * @param options - Cancellation.
   * @returns A failed result; the cluster stays at one node.
   */
  async scaleIn(request: ScaleInRequest, options?: CallOptions): Promise<ScalingResult> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    const problem = scaleInRequestProblem(request);
    if (problem !== undefined) throw invalidRequest('scale-in', problem);
    const message =
      `no actuator configured: this embedded auto-scaler cannot stop nodes, so ` +
      `${request.nodeIds.join(', ')} ${request.nodeIds.length === 1 ? 'was' : 'were'} not removed. ` +
      'A person must drain the node(s), make them leave the cluster and stop them, or ' +
      'configure an auto-scaler with an actuator (for example one that drives Kubernetes or a cloud API)';
    return this.#fail('scale-in', message, [...request.nodeIds]);
  }

  /**
   * The scaler's state: always one node, never scaling.
   *
   * @returns A frozen snapshot.
   */
  getCurrentState(): ScalingState {
    return this.#state;
  }

  #fail(action: ScalingAction, message: string, nodeIds: readonly string[]): ScalingResult {
    const result = freezeResult(
      ScalingResult.error('NO_ACTUATOR', message, {
        action,
        previousNodeCount: this.#state.currentNodeCount,
      }),
    );
    const at = this.#now();
    this.#state = Object.freeze({ ...this.#state, lastAction: action, lastActionAt: at });
    this.#emit('scaling-failed', action, message, nodeIds, at);
    return result;
  }

  #emit(
    eventType: ScalingEventType,
    action: ScalingAction,
    detail: string,
    nodeIds: readonly string[] = [],
    timestamp = this.#now(),
  ): void {
    this.#events.emit(
      Object.freeze({
        eventType,
        action,
        timestamp,
        detail,
        ...(nodeIds.length === 0 ? {} : { nodeIds: Object.freeze([...nodeIds]) }),
      }),
    );
  }
}

function copyMetrics(metrics: ScalingMetrics): ScalingMetrics {
  return Object.freeze({
    cpuUsage: metrics.cpuUsage,
    memoryUsage: metrics.memoryUsage,
    storageUsage: metrics.storageUsage,
    activeConnections: metrics.activeConnections,
    queueDepth: metrics.queueDepth,
    ...(metrics.collectedAt === undefined ? {} : { collectedAt: metrics.collectedAt }),
  });
}

function freezeResult(result: ScalingResult): ScalingResult {
  return Object.freeze({ ...result, nodesAffected: Object.freeze([...result.nodesAffected]) });
}

function invalidRequest(action: ScalingAction, problem: string): DistributedError {
  return new DistributedError('INVALID_ARGUMENT', `invalid ${action} request: ${problem}`);
}
