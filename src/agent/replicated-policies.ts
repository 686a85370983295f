/**
 * Cluster-wide governance policies: a policy registered on any node is
 * written to the cluster configuration (`governance/policies/<id>`), and
 * every node applies what the configuration holds, in revision order, to its
 * own policy engine. So every node evaluates the same policy set, and the
 * configuration revision it has applied names that set's version.
 */

import type { Logger } from 'pino';
import type { GovernanceContext, GovernancePolicy } from '../contracts/auto-governance.js';
import type { ClusterConfigStore, ConfigChange } from '../contracts/cluster-config.js';
import { DistributedError } from '../contracts/errors.js';
import { CelAutoGovernance } from '../governance/policy/cel-auto-governance.js';
import type { PolicyExplanation } from '../governance/policy/cel-auto-governance.js';
import { policyBody } from './http/schemas.js';
import type { GovernanceAdmin } from './services.js';

/** Where policies live in the cluster configuration. */
export const POLICY_PREFIX = 'governance/policies/';

/** How long a change waits to be applied locally before answering (read-your-writes). */
const APPLY_WAIT_MS = 10_000;

/** How often the first listing is retried while the configuration cannot be read (no leader yet). */
const LOAD_RETRY_MS = 500;

/** The version of the policy set a node evaluates. */
export interface PolicySetVersion {
  /** The configuration revision of the last policy change applied here (0: none yet). */
  readonly configRevision: number;
  /** How many policies are registered here. */
  readonly policies: number;
  /** Policy records in the configuration this node refused (malformed, or failing to plan). */
  readonly rejected: number;
}

/** Registers, removes and applies cluster-wide policies for one node. */
export class ReplicatedPolicies implements GovernanceAdmin {
  readonly #config: ClusterConfigStore;
  readonly #engine: CelAutoGovernance;
  readonly #logger: Logger;
  readonly #revisions = new Map<string, number>();
  readonly #waiters = new Set<{ done: () => boolean; resolve: () => void }>();
  #applied = 0;
  #rejected = 0;
  #unsubscribe: (() => void) | undefined;
  #loaded = false;
  #retryTimer: NodeJS.Timeout | undefined;
  // Changes are applied one at a time, in the order the configuration delivers them.
  #queue: Promise<void> = Promise.resolve();

  /**
   * @param config - The cluster configuration (etcd's, Raft's, or one node's).
   * @param engine - This node's policy engine; only this class registers into it.
   * @param logger - Where refused records are reported.
   */
  constructor(config: ClusterConfigStore, engine: CelAutoGovernance, logger: Logger) {
    this.#config = config;
    this.#engine = engine;
    this.#logger = logger;
  }

  /**
   * Subscribes to changes, then loads what the configuration holds. When the
   * configuration cannot be read yet (`UNAVAILABLE`: a Raft cluster still
   * electing its leader), resolves anyway and keeps retrying; until the
   * policies are loaded, {@link ReplicatedPolicies.loaded} is false and the
   * agent refuses operations rather than run them unchecked.
   */
  async start(): Promise<void> {
    // Subscribe first so nothing written between the listing and the watch is missed.
    this.#unsubscribe = this.#config.onConfigChanged((change) => {
      if (change.key.startsWith(POLICY_PREFIX)) this.#enqueue(change);
    });
    try {
      await this.#load();
    } catch (error) {
      if (!(error instanceof DistributedError) || error.code !== 'UNAVAILABLE') throw error;
      this.#logger.warn(
        { err: error },
        'the cluster configuration is not readable yet; operations are refused until the governance policies are loaded',
      );
      this.#retryLoad();
    }
  }

  /** Whether the policies the configuration holds have been loaded. */
  get loaded(): boolean {
    return this.#loaded;
  }

  async #load(): Promise<void> {
    for (const entry of await this.#config.list(POLICY_PREFIX)) {
      this.#enqueue({ type: 'put', key: entry.key, value: entry.value, revision: entry.revision });
    }
    await this.#queue;
    this.#loaded = true;
  }

  #retryLoad(): void {
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#unsubscribe === undefined) return;
      this.#load().then(
        () => this.#logger.info('the governance policies are loaded'),
        () => {
          this.#retryLoad();
        },
      );
    }, LOAD_RETRY_MS);
  }

  #enqueue(change: ConfigChange): void {
    this.#queue = this.#queue.then(() => this.#apply(change));
  }

  /** Stops applying changes. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /** The policy set this node evaluates. */
  get version(): PolicySetVersion {
    return {
      configRevision: this.#applied,
      policies: this.#revisions.size,
      rejected: this.#rejected,
    };
  }

  /**
   * Registers a policy cluster-wide: checked here first (a bad expression is
   * refused with its position and nothing is written), then written to the
   * configuration if no policy has that id, then applied here.
   *
   * @throws A {@link DistributedError}: `INVALID_POLICY_EXPRESSION`, `INVALID_ARGUMENT`, `POLICY_EXISTS`.
   */
  async add(policy: GovernancePolicy): Promise<number> {
    await new CelAutoGovernance().registerPolicy(policy); // throws for a policy that cannot plan
    const written = await this.#config.compareAndSet(
      POLICY_PREFIX + policy.policyId,
      { value: undefined },
      JSON.stringify(policy),
    );
    if (!written.succeeded) {
      throw new DistributedError('POLICY_EXISTS', `a policy '${policy.policyId}' already exists`);
    }
    const revision = written.current?.revision ?? 0;
    await this.#until(() => this.#applied >= revision);
    return revision;
  }

  /**
   * Removes a policy cluster-wide.
   *
   * @throws A {@link DistributedError} `POLICY_NOT_FOUND` when no policy has that id.
   */
  async remove(policyId: string): Promise<void> {
    const key = POLICY_PREFIX + policyId;
    const existing = await this.#config.get(key);
    if (existing === undefined || !(await this.#config.delete(key))) {
      throw new DistributedError('POLICY_NOT_FOUND', `no policy '${policyId}'`);
    }
    await this.#until(() => !this.#revisions.has(policyId));
  }

  /** The decision for a context, with its trace. */
  async explain(context: GovernanceContext): Promise<PolicyExplanation> {
    return await this.#engine.explain(context);
  }

  async #apply(change: ConfigChange): Promise<void> {
    const policyId = change.key.slice(POLICY_PREFIX.length);
    const known = this.#revisions.get(policyId);
    if (known !== undefined && known >= change.revision) return; // seen in the listing already
    try {
      if (this.#engine.describePolicy(policyId) !== undefined) {
        await this.#engine.deregisterPolicy(policyId);
      }
      if (change.type === 'delete') {
        this.#revisions.delete(policyId);
      } else {
        const policy = decodePolicy(change.value ?? '', policyId);
        await this.#engine.registerPolicy(policy);
        this.#revisions.set(policyId, change.revision);
      }
    } catch (error) {
      // Another node wrote it after checking it, so this is damage or a version skew: refuse it loudly.
      this.#rejected += 1;
      this.#revisions.delete(policyId);
      this.#logger.error(
        { err: error, policyId, revision: change.revision },
        'refused a policy from the cluster configuration',
      );
    } finally {
      this.#applied = Math.max(this.#applied, change.revision);
      for (const waiter of [...this.#waiters]) {
        if (waiter.done()) {
          this.#waiters.delete(waiter);
          waiter.resolve();
        }
      }
    }
  }

  // Resolves once this node has applied the change (or after APPLY_WAIT_MS).
  async #until(done: () => boolean): Promise<void> {
    if (done()) return;
    await new Promise<void>((resolve) => {
      const waiter = { done, resolve };
      this.#waiters.add(waiter);
      // The change is written; if the watch is slow, answer anyway rather than hang.
      setTimeout(() => {
        this.#waiters.delete(waiter);
        resolve();
      }, APPLY_WAIT_MS).unref();
    });
  }
}

/** Decodes a stored policy: configuration values are untrusted input. */
function decodePolicy(value: string, policyId: string): GovernancePolicy {
  const parsed = policyBody.parse(JSON.parse(value));
  if (parsed.policyId !== policyId) {
    throw new Error(`record names policy '${parsed.policyId}' under the key of '${policyId}'`);
  }
  return parsed;
}
