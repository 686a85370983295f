/**
 * The embedded {@link ReplicationSync}: one node, no replication transport.
 *
 * @packageDocumentation
 */

import { randomUUID } from 'node:crypto';
import type { CallOptions, Listener, Unsubscribe } from '../contracts/common.js';
import { CONSISTENCY_LEVELS } from '../contracts/consistency-level.js';
import { DistributedError } from '../contracts/errors.js';
import {
  CONFLICT_RESOLUTION_STRATEGIES,
  SYNC_MODES,
  SyncResult,
  type ConflictResolutionResult,
  type ConflictResolutionStrategy,
  type ReplicationSync,
  type SyncConflict,
  type SyncEvent,
  type SyncEventType,
  type SyncMode,
  type SyncRequest,
  type SyncStatus,
} from '../contracts/replication-sync.js';
import {
  chooseConflictSide,
  isBuiltInConflictStrategy,
  resolvedConflictVersion,
  validateSyncConflict,
} from '../core/replication/conflict.js';
import { createUnsubscribe, EventHub } from '../core/events.js';
import { requireNonEmpty } from './validation.js';
import { resolveEmbeddedOptions, type EmbeddedOptions } from './options.js';

/**
 * Settles one conflict for the `merge` or `custom` strategy: returns the key's new value.
 * It receives a copy of the conflict, so it may keep or change what it is given.
 *
 * @param conflict - The two values of the key (copies).
 * @param options - The cancellation of the `resolveConflict` call.
 * @returns The key's new value.
 * @since 2.0.0
 */
export type ConflictResolver = (
  conflict: SyncConflict,
  options: CallOptions,
) => Promise<Uint8Array> | Uint8Array;

/**
 * Options for {@link InMemoryReplicationSync}.
 *
 * @since 2.0.0
 */
export interface InMemoryReplicationSyncOptions extends EmbeddedOptions {
  /** This node's id. Defaults to `node-` and eight random hex digits. */
  readonly nodeId?: string;
  /** The rule {@link InMemoryReplicationSync.resolveConflict} applies. Defaults to `latest-wins`. */
  readonly conflictStrategy?: ConflictResolutionStrategy;
  /**
   * How many target nodes' sync statuses are kept. When a sync is attempted with one more,
   * the status of the target attempted longest ago is forgotten, and it reads as `idle`
   * again. Defaults to 1024.
   */
  readonly maxTrackedTargets?: number;
}

/** The default of {@link InMemoryReplicationSyncOptions.maxTrackedTargets}. */
const DEFAULT_MAX_TRACKED_TARGETS = 1024;

/**
 * Single-node replication sync. This node has no replication transport, so it works in
 * `offline` mode and cannot bring any other node up to date: every sync with another node
 * resolves with a failed result, code `SYNC_UNAVAILABLE`, emits only `sync-failed`, and
 * leaves the target's status `error`. Syncing with itself is `INVALID_ARGUMENT`: a node
 * is always up to date with itself, and a success would claim a sync that never ran.
 *
 * Conflict settlement is real: `local-wins`, `remote-wins` and `latest-wins` are built in;
 * `merge` and `custom` use the resolver registered with
 * {@link InMemoryReplicationSync.registerResolver}. `resolveConflict` emits
 * `conflict-detected` and then `conflict-resolved`, both with an empty `targetNodeId`.
 *
 * @since 2.0.0
 */
export class InMemoryReplicationSync implements ReplicationSync {
  /** This node's id. */
  readonly nodeId: string;
  /** The rule {@link InMemoryReplicationSync.resolveConflict} applies. */
  readonly conflictStrategy: ConflictResolutionStrategy;
  /** How many target nodes' sync statuses are kept. */
  readonly maxTrackedTargets: number;
  readonly #events: EventHub<SyncEvent>;
  readonly #now: () => number;
  // Insertion order is attempt order: a target is re-inserted on every attempt.
  readonly #statuses = new Map<string, SyncStatus>();
  readonly #resolvers = new Map<'merge' | 'custom', ConflictResolver>();

  /**
   * @param options - Identity, conflict strategy and bounds; everything has a default.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for an empty node id, an unknown
   *   strategy, or a `maxTrackedTargets` that is not a positive integer.
   */
  constructor(options: InMemoryReplicationSyncOptions = {}) {
    const resolved = resolveEmbeddedOptions(options);
    this.#now = resolved.now;
    this.#events = new EventHub(resolved.onListenerError);
    this.nodeId = options.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
    this.conflictStrategy = options.conflictStrategy ?? 'latest-wins';
    this.maxTrackedTargets = options.maxTrackedTargets ?? DEFAULT_MAX_TRACKED_TARGETS;
    if (typeof this.nodeId !== 'string' || this.nodeId.length === 0) {
      throw new DistributedError('INVALID_ARGUMENT', 'nodeId must be a non-empty string');
    }
    if (!CONFLICT_RESOLUTION_STRATEGIES.includes(this.conflictStrategy)) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `conflictStrategy must be one of ${CONFLICT_RESOLUTION_STRATEGIES.join(', ')}`,
      );
    }
    if (!Number.isSafeInteger(this.maxTrackedTargets) || this.maxTrackedTargets < 1) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'maxTrackedTargets must be a positive integer',
      );
    }
  }

  /** Always `offline`: this node has no network path to other nodes' replicas. */
  get currentMode(): SyncMode {
    return 'offline';
  }

  /**
   * Registers the resolver for `merge` or `custom`, replacing any earlier one for that
   * strategy. It is used only while the configured strategy is the same one.
   *
   * @param strategy - The strategy the resolver settles.
   * @param resolver - Returns the key's new value.
   * @returns A disposer that removes the resolver, unless another has replaced it since.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for another strategy or a
   *   resolver that is not a function.
   */
  registerResolver(strategy: 'merge' | 'custom', resolver: ConflictResolver): Unsubscribe {
    // Callers may be untyped JavaScript: check the value, not only the type.
    const given: unknown = strategy;
    if (given !== 'merge' && given !== 'custom') {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `resolvers are registered for 'merge' or 'custom', not '${String(given)}'`,
      );
    }
    if (typeof resolver !== 'function') {
      throw new DistributedError('INVALID_ARGUMENT', 'resolver must be a function');
    }
    this.#resolvers.set(strategy, resolver);
    return createUnsubscribe(() => {
      if (this.#resolvers.get(strategy) === resolver) this.#resolvers.delete(strategy);
    });
  }

  /**
   * Subscribes to sync events.
   *
   * @param listener - Called with every sync event.
   */
  onSyncEvent(listener: Listener<SyncEvent>): Unsubscribe {
    return this.#events.subscribe(listener);
  }

  /**
   * Always fails for another node, with `SYNC_UNAVAILABLE`, emitting only `sync-failed`
   * and leaving the target's status `error`.
   *
   * @param request - The target, mode, and which changes to sync.
   * @param options - Cancellation.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for a malformed request or a sync
   *   with this node itself.
   */
  async sync(request: SyncRequest, options?: CallOptions): Promise<SyncResult> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    validateSyncRequest(request);
    if (request.targetNodeId === this.nodeId) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `'${this.nodeId}' is this node: a node cannot sync with itself`,
      );
    }
    const startedAt = this.#now();
    const reason =
      `cannot sync with '${request.targetNodeId}' in ${request.mode} mode: this is a ` +
      'single-node embedded default with no replication transport; configure a multi-node ' +
      'replication implementation to sync between nodes';
    this.#track({ targetNodeId: request.targetNodeId, state: 'error', progressPercent: 0 });
    this.#emit('sync-failed', request.targetNodeId, reason);
    return Object.freeze(
      SyncResult.error('SYNC_UNAVAILABLE', reason, {
        durationMs: Math.max(0, this.#now() - startedAt),
      }),
    );
  }

  /**
   * Where the sync with one target stands: `error` after a failed attempt, `idle` for a
   * target never tried (or forgotten; see {@link InMemoryReplicationSyncOptions.maxTrackedTargets}).
   *
   * @param targetNodeId - The target node.
   * @param options - Cancellation.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for an empty or non-string id.
   */
  async getSyncStatus(targetNodeId: string, options?: CallOptions): Promise<SyncStatus> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    requireNonEmpty('targetNodeId', targetNodeId);
    return (
      this.#statuses.get(targetNodeId) ??
      Object.freeze({ targetNodeId, state: 'idle', progressPercent: 0 })
    );
  }

  /**
   * Settles one conflict with the configured strategy. Emits `conflict-detected` once the
   * conflict is accepted, then `conflict-resolved` once it is settled. A malformed conflict
   * or a missing resolver emits nothing; a failing resolver leaves the conflict detected
   * but not resolved.
   *
   * @param conflict - The two values of the key.
   * @param options - Cancellation; also passed to a registered resolver.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for a malformed conflict or a
   *   resolver that returns something other than a `Uint8Array`;
   *   `RESOLVER_NOT_REGISTERED` for `merge` or `custom` with no resolver. Whatever a
   *   resolver throws is rethrown.
   */
  async resolveConflict(
    conflict: SyncConflict,
    options?: CallOptions,
  ): Promise<ConflictResolutionResult> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    validateSyncConflict(conflict);
    const strategy = this.conflictStrategy;
    const settle = this.#settlerFor(strategy);
    // Copy once: the result must not share bytes with the caller's conflict.
    const copy = copyConflict(conflict);
    this.#emit('conflict-detected', '', copy.key);
    const resolvedValue = await settle(copy, options ?? {});
    // A resolver may run long; a call cancelled meanwhile must not report success.
    options?.signal?.throwIfAborted();
    const resolvedVersion = resolvedConflictVersion(copy);
    const result: ConflictResolutionResult = Object.freeze({
      key: copy.key,
      strategy,
      resolvedValue,
      ...(resolvedVersion === undefined ? {} : { resolvedVersion }),
    });
    this.#emit('conflict-resolved', '', copy.key);
    return result;
  }

  #settlerFor(
    strategy: ConflictResolutionStrategy,
  ): (conflict: SyncConflict, options: CallOptions) => Promise<Uint8Array> | Uint8Array {
    if (isBuiltInConflictStrategy(strategy)) {
      return (conflict) =>
        chooseConflictSide(conflict, strategy) === 'local'
          ? conflict.localValue
          : conflict.remoteValue;
    }
    const resolver = this.#resolvers.get(strategy);
    if (!resolver) {
      throw new DistributedError(
        'RESOLVER_NOT_REGISTERED',
        `the conflict strategy is '${strategy}' but no ${strategy} resolver is registered; ` +
          `call registerResolver('${strategy}', resolver) first`,
      );
    }
    return async (conflict, options) => {
      // The resolver gets its own copy, so what it keeps or changes cannot reach the result.
      const value: unknown = await resolver(copyConflict(conflict), options);
      if (!(value instanceof Uint8Array)) {
        throw new DistributedError(
          'INVALID_ARGUMENT',
          `the ${strategy} resolver returned ${typeof value}, not a Uint8Array`,
        );
      }
      return value.slice();
    };
  }

  #track(status: SyncStatus): void {
    this.#statuses.delete(status.targetNodeId);
    while (this.#statuses.size >= this.maxTrackedTargets) {
      const oldest = this.#statuses.keys().next();
      if (oldest.done === true) break;
      this.#statuses.delete(oldest.value);
    }
    this.#statuses.set(status.targetNodeId, Object.freeze(status));
  }

  #emit(eventType: SyncEventType, targetNodeId: string, detail: string): void {
    this.#events.emit(Object.freeze({ eventType, targetNodeId, timestamp: this.#now(), detail }));
  }
}

function validateSyncRequest(request: SyncRequest): void {
  if (typeof request !== 'object' || (request as unknown) === null) {
    throw new DistributedError('INVALID_ARGUMENT', 'a sync request must be an object');
  }
  requireNonEmpty('targetNodeId', request.targetNodeId);
  if (!SYNC_MODES.includes(request.mode)) {
    throw new DistributedError('INVALID_ARGUMENT', `mode must be one of ${SYNC_MODES.join(', ')}`);
  }
  const filter: unknown = request.dataSetFilter;
  if (
    filter !== undefined &&
    !(Array.isArray(filter) && filter.every((name) => typeof name === 'string'))
  ) {
    throw new DistributedError('INVALID_ARGUMENT', 'dataSetFilter must be a list of names');
  }
  const since: unknown = request.sinceTimestamp;
  if (since !== undefined && (typeof since !== 'number' || !Number.isFinite(since) || since < 0)) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      'sinceTimestamp must be a finite, non-negative number of epoch milliseconds',
    );
  }
  if (request.consistency !== undefined && !CONSISTENCY_LEVELS.includes(request.consistency)) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `consistency must be one of ${CONSISTENCY_LEVELS.join(', ')}`,
    );
  }
}

function copyConflict(conflict: SyncConflict): SyncConflict {
  return Object.freeze({
    key: conflict.key,
    localValue: conflict.localValue.slice(),
    remoteValue: conflict.remoteValue.slice(),
    localTimestamp: conflict.localTimestamp,
    remoteTimestamp: conflict.remoteTimestamp,
    ...(conflict.localVersion === undefined ? {} : { localVersion: conflict.localVersion }),
    ...(conflict.remoteVersion === undefined ? {} : { remoteVersion: conflict.remoteVersion }),
  });
}
