/**
 * The embedded {@link AutoGovernance}: policies held in memory, matched with the simple
 * matcher of `core/governance/simple-matcher.ts`.
 *
 * @packageDocumentation
 */

import {
  type AutoGovernance,
  type GovernanceContext,
  type GovernanceEvent,
  type GovernanceEventType,
  type GovernancePolicy,
  type PolicyEvaluationResult,
} from '../contracts/auto-governance.js';
import type { CallOptions, Listener, Unsubscribe } from '../contracts/common.js';
import { DistributedError } from '../contracts/errors.js';
import { EventHub } from '../core/events.js';
import { combinePolicies, orderPolicies } from '../core/governance/combine.js';
import { parseSimpleMatcher, type SimpleMatcher } from '../core/governance/simple-matcher.js';
import { requireLabels } from './validation.js';
import { resolveEmbeddedOptions, type EmbeddedOptions } from './options.js';
import { checkPolicyFields } from '../core/governance/policy-fields.js';

/**
 * Options for {@link InMemoryAutoGovernance}.
 *
 * @since 2.0.0
 */
export interface InMemoryAutoGovernanceOptions extends EmbeddedOptions {
  /**
   * How many policies may be registered at once; registering one more fails with
   * `CAPACITY_EXCEEDED`. Defaults to 1024.
   */
  readonly maxPolicies?: number;
}

/** The default of {@link InMemoryAutoGovernanceOptions.maxPolicies}. */
const DEFAULT_MAX_POLICIES = 1024;

interface RegisteredPolicy {
  readonly policy: GovernancePolicy;
  readonly matcher: SimpleMatcher;
}

/**
 * Single-node governance with real policy evaluation. Expressions use the simple matcher
 * (documented in `core/governance/simple-matcher.ts`): `*`, or whitespace-separated terms
 * `operation=<glob>` and `resource=<glob>` that must all hold, where `*` in a glob matches
 * any run of characters. An expression is parsed once, at registration; one that does not
 * parse is refused with `INVALID_POLICY_EXPRESSION` naming the position. Simple-matcher
 * expressions cannot fail while evaluated, so fail-closed never arises here.
 *
 * Decisions combine the applying policies as the contract states (see
 * `core/governance/combine.ts`); the result carries an audit message naming the deciding
 * policy.
 *
 * @since 2.0.0
 */
export class InMemoryAutoGovernance implements AutoGovernance {
  /** How many policies may be registered at once. */
  readonly maxPolicies: number;
  readonly #events: EventHub<GovernanceEvent>;
  readonly #now: () => number;
  // Map iteration order is registration order, which breaks priority ties.
  readonly #policies = new Map<string, RegisteredPolicy>();

  /**
   * @param options - Bounds; everything has a default.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` when `maxPolicies` is not a
   *   positive integer.
   */
  constructor(options: InMemoryAutoGovernanceOptions = {}) {
    const resolved = resolveEmbeddedOptions(options);
    this.#now = resolved.now;
    this.#events = new EventHub(resolved.onListenerError);
    this.maxPolicies = options.maxPolicies ?? DEFAULT_MAX_POLICIES;
    if (!Number.isSafeInteger(this.maxPolicies) || this.maxPolicies < 1) {
      throw new DistributedError('INVALID_ARGUMENT', 'maxPolicies must be a positive integer');
    }
  }

  /**
   * Subscribes to governance events.
   *
   * @param listener - Called with every governance event.
   */
  onGovernanceEvent(listener: Listener<GovernanceEvent>): Unsubscribe {
    return this.#events.subscribe(listener);
  }

  /**
   * Checks an operation against the enabled policies. Emits, highest priority first,
   * `policy-violated` for each violation and `policy-evaluated` for every other applying
   * policy, each with the resource and the operation type as `detail`.
   *
   * @param context - The operation to check.
   * @param options - Cancellation.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for a malformed context.
   */
  async evaluate(
    context: GovernanceContext,
    options?: CallOptions,
  ): Promise<PolicyEvaluationResult> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    validateContext(context);
    const decision = combinePolicies(
      context,
      [...this.#policies.values()].map(({ policy, matcher }) => ({
        policy,
        outcome: matcher.matches(context) ? 'holds' : 'does-not-hold',
      })),
    );
    const violated = new Set(decision.violated);
    const timestamp = this.#now();
    for (const policy of decision.applied) {
      this.#events.emit(
        Object.freeze({
          eventType: violated.has(policy) ? 'policy-violated' : 'policy-evaluated',
          policyId: policy.policyId,
          resourceId: context.resourceId,
          timestamp,
          detail: context.operationType,
        }),
      );
    }
    return decision.result;
  }

  /**
   * Every registered policy, enabled or not, highest priority first (equal priorities in
   * registration order).
   *
   * @param options - Cancellation.
   */
  async getActivePolicies(options?: CallOptions): Promise<readonly GovernancePolicy[]> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    return Object.freeze(orderPolicies([...this.#policies.values()].map(({ policy }) => policy)));
  }

  /**
   * Validates, parses and registers a policy, and emits `policy-registered`.
   *
   * @param policy - The policy to register; a frozen copy is kept.
   * @param options - Cancellation.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for a malformed policy;
   *   `POLICY_EXISTS` for a registered id; `INVALID_POLICY_EXPRESSION` for an expression the
   *   simple matcher cannot parse; `CAPACITY_EXCEEDED` when `maxPolicies` are registered.
   *   Nothing is registered when it throws.
   */
  async registerPolicy(policy: GovernancePolicy, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    checkPolicyFields(policy);
    if (this.#policies.has(policy.policyId)) {
      throw new DistributedError(
        'POLICY_EXISTS',
        `a policy with id '${policy.policyId}' is already registered; deregister it first to replace it`,
      );
    }
    const parsed = parseSimpleMatcher(policy.expression);
    if (!parsed.ok) {
      throw new DistributedError(
        'INVALID_POLICY_EXPRESSION',
        `policy '${policy.policyId}': invalid expression at position ${parsed.position}: ${parsed.message}`,
      );
    }
    if (this.#policies.size >= this.maxPolicies) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `cannot register policy '${policy.policyId}': ${this.maxPolicies} policies are ` +
          'registered, the most allowed (maxPolicies)',
      );
    }
    const stored: GovernancePolicy = Object.freeze({
      policyId: policy.policyId,
      name: policy.name,
      description: policy.description,
      type: policy.type,
      expression: policy.expression,
      action: policy.action,
      priority: policy.priority,
      isEnabled: policy.isEnabled,
    });
    this.#policies.set(stored.policyId, { policy: stored, matcher: parsed.matcher });
    this.#emit('policy-registered', stored.policyId);
  }

  /**
   * Removes a policy and emits `policy-deregistered`.
   *
   * @param policyId - The policy to remove.
   * @param options - Cancellation.
   * @throws {@link DistributedError} `POLICY_NOT_FOUND` when no policy has that id;
   *   `INVALID_ARGUMENT` for an empty or non-string id.
   */
  async deregisterPolicy(policyId: string, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    if (typeof policyId !== 'string' || policyId.length === 0) {
      invalid('policyId must be a non-empty string');
    }
    if (!this.#policies.delete(policyId)) {
      throw new DistributedError(
        'POLICY_NOT_FOUND',
        `no policy with id '${policyId}' is registered`,
      );
    }
    this.#emit('policy-deregistered', policyId);
  }

  #emit(eventType: GovernanceEventType, policyId: string): void {
    this.#events.emit(Object.freeze({ eventType, policyId, timestamp: this.#now() }));
  }
}

function invalid(message: string): never {
  throw new DistributedError('INVALID_ARGUMENT', message);
}

function validateContext(context: GovernanceContext): void {
  if (typeof context !== 'object' || (context as unknown) === null) {
    invalid('a governance context must be an object');
  }
  if (typeof context.operationType !== 'string' || context.operationType.length === 0) {
    invalid('operationType must be a non-empty string');
  }
  if (typeof context.resourceId !== 'string' || context.resourceId.length === 0) {
    invalid('resourceId must be a non-empty string');
  }
  const userId: unknown = context.userId;
  if (userId !== undefined && typeof userId !== 'string') invalid('userId must be a string');
  requireLabels('metadata', context.metadata);
}
