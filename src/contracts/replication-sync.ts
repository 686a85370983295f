/**
 * DIST-05: replication sync — bringing another node up to date with this one,
 * online, offline or across an air gap, and settling the conflicts that turn up.
 *
 * A sync that cannot be carried out is reported in its {@link SyncResult}
 * (`success: false` with a stable `errorCode`); the methods reject only when the
 * call is cancelled, the request is malformed, or (for
 * {@link ReplicationSync.resolveConflict}) the configured strategy has no resolver.
 *
 * @packageDocumentation
 */

import type { CallOptions, Listener, Unsubscribe } from './common.js';
import type { ConsistencyLevel } from './consistency-level.js';
import type { ErrorCode } from './errors.js';
import type { VectorClock } from './vector-clock.js';

/**
 * Every way a sync can reach its target.
 *
 * - `online`: the target is reachable over the network; changes are exchanged directly.
 * - `offline`: the target is not reachable now; changes are staged and exchanged when it
 *   reconnects.
 * - `air-gap`: there is no network path at all; changes are exported to, and imported from,
 *   bundles carried between the nodes by other means (for example removable media).
 * - `hybrid`: online while the target is reachable, falling back to offline when it is not.
 *
 * @since 2.0.0
 */
export const SYNC_MODES = Object.freeze(['online', 'offline', 'air-gap', 'hybrid'] as const);

/**
 * A way a sync reaches its target; see {@link SYNC_MODES}.
 *
 * @since 2.0.0
 */
export type SyncMode = (typeof SYNC_MODES)[number];

/**
 * Every state the sync with one target node can be in.
 *
 * - `idle`: no sync with the target is running, and none has finished yet.
 * - `syncing`: a sync with the target is running.
 * - `paused`: a sync with the target has started but is suspended, for example while an
 *   offline target is unreachable or an air-gap bundle awaits transport.
 * - `error`: no sync is running, and the last one failed.
 * - `completed`: no sync is running, and the last one succeeded.
 *
 * @since 2.0.0
 */
export const SYNC_STATES = Object.freeze([
  'idle',
  'syncing',
  'paused',
  'error',
  'completed',
] as const);

/**
 * The state of the sync with one target node; see {@link SYNC_STATES}.
 *
 * @since 2.0.0
 */
export type SyncState = (typeof SYNC_STATES)[number];

/**
 * Every rule that can settle one conflict.
 *
 * - `local-wins`: this node's value is kept.
 * - `remote-wins`: the other node's value is kept.
 * - `latest-wins`: the value with the later timestamp is kept. When the timestamps are
 *   equal, the value that is greater in unsigned byte-by-byte order (a longer value beats
 *   its own prefix) is kept, so every node picks the same one.
 * - `merge`: a registered merge function combines both values into a new one.
 * - `custom`: a registered application resolver decides.
 *
 * This is the per-conflict rule that {@link ReplicationSync.resolveConflict} applies and
 * reports. It is distinct from the shared `ConflictResolution` (conflict-resolution.ts),
 * the store-wide mode of a replicated store, which decides which concurrent writes become
 * conflicts at all and how the store handles them. A store-wide mode typically maps onto a
 * strategy as follows: `last-writer-wins` → `latest-wins`, `crdt` → `merge`,
 * `custom-resolver` → `custom`; `vector-clock` surfaces only truly concurrent writes as
 * conflicts; `manual` holds conflicts until an operator settles each one with
 * `resolveConflict`. `local-wins` and `remote-wins` have no store-wide counterpart; they
 * suit one-directional syncs such as air-gap imports.
 *
 * @since 2.0.0
 */
export const CONFLICT_RESOLUTION_STRATEGIES = Object.freeze([
  'local-wins',
  'remote-wins',
  'latest-wins',
  'merge',
  'custom',
] as const);

/**
 * A rule that settles one conflict; see {@link CONFLICT_RESOLUTION_STRATEGIES}.
 *
 * @since 2.0.0
 */
export type ConflictResolutionStrategy = (typeof CONFLICT_RESOLUTION_STRATEGIES)[number];

/**
 * Every kind of sync event.
 *
 * - `sync-started`: a sync with the target began.
 * - `sync-completed`: a sync with the target succeeded.
 * - `sync-failed`: a sync with the target failed; `detail` says why.
 * - `conflict-detected`: a conflicting key was found; `detail` is the key.
 * - `conflict-resolved`: a conflict was settled; `detail` is the key.
 *
 * @since 2.0.0
 */
export const SYNC_EVENT_TYPES = Object.freeze([
  'sync-started',
  'sync-completed',
  'sync-failed',
  'conflict-detected',
  'conflict-resolved',
] as const);

/**
 * A kind of sync event; see {@link SYNC_EVENT_TYPES}.
 *
 * @since 2.0.0
 */
export type SyncEventType = (typeof SYNC_EVENT_TYPES)[number];

/**
 * A request to sync with one target node.
 *
 * @since 2.0.0
 */
export interface SyncRequest {
  /** The node to bring up to date. */
  readonly targetNodeId: string;
  /** How to reach the target for this sync. */
  readonly mode: SyncMode;
  /**
   * The names of the data sets to sync. Absent: every data set. An empty list syncs
   * nothing (and, when the target can be reached, succeeds with no items).
   */
  readonly dataSetFilter?: readonly string[];
  /**
   * Only changes made at or after this time, in epoch milliseconds. Absent: every change
   * the target lacks.
   */
  readonly sinceTimestamp?: number;
  /**
   * The consistency the sync must reach before it reports success; for example `strong`
   * waits until the target has applied every item, `eventual` may report once the items
   * are sent or staged. Absent: the implementation's default. A level the implementation
   * cannot provide gives a failed result with code `NOT_SUPPORTED`.
   */
  readonly consistency?: ConsistencyLevel;
}

/**
 * The outcome of one sync. Build it with `SyncResult.ok` or `SyncResult.error`.
 *
 * @since 2.0.0
 */
export interface SyncResult {
  /** Whether the sync finished successfully. */
  readonly success: boolean;
  /**
   * How many items this sync transferred (for `offline` and `air-gap` syncs: staged for
   * transfer). On failure, the items transferred before the failure.
   */
  readonly itemsSynced: number;
  /** How many conflicting keys this sync found. */
  readonly conflictsDetected: number;
  /** How long the sync took, in milliseconds. */
  readonly durationMs: number;
  /** Why the sync failed; present exactly when `success` is `false`. */
  readonly errorMessage?: string;
  /**
   * The stable code of the failure; present exactly when `success` is `false`. For example
   * `SYNC_UNAVAILABLE` when the target cannot be reached in the requested mode, or
   * `NOT_SUPPORTED` when the mode or consistency level is not available.
   */
  readonly errorCode?: ErrorCode;
}

/**
 * Builds {@link SyncResult} values.
 *
 * @since 2.0.0
 */
export const SyncResult = Object.freeze({
  /**
   * A successful sync.
   *
   * @param fields - The counts and duration of the sync.
   * @returns A result with `success: true` and no error.
   * @since 2.0.0
   */
  ok(fields: Pick<SyncResult, 'itemsSynced' | 'conflictsDetected' | 'durationMs'>): SyncResult {
    return {
      success: true,
      itemsSynced: fields.itemsSynced,
      conflictsDetected: fields.conflictsDetected,
      durationMs: fields.durationMs,
    };
  },

  /**
   * A failed sync.
   *
   * @param code - The stable code of the failure.
   * @param message - A human-readable explanation of the failure.
   * @param fields - What was done before the failure; each count defaults to `0`.
   * @returns A result with `success: false`, `errorCode` and `errorMessage`.
   * @since 2.0.0
   */
  error(
    code: ErrorCode,
    message: string,
    fields: Partial<Pick<SyncResult, 'itemsSynced' | 'conflictsDetected' | 'durationMs'>> = {},
  ): SyncResult {
    return {
      success: false,
      itemsSynced: fields.itemsSynced ?? 0,
      conflictsDetected: fields.conflictsDetected ?? 0,
      durationMs: fields.durationMs ?? 0,
      errorMessage: message,
      errorCode: code,
    };
  },
});

/**
 * Where the sync with one target node stands.
 *
 * @since 2.0.0
 */
export interface SyncStatus {
  /** The target node. */
  readonly targetNodeId: string;
  /** The state of the sync with the target. */
  readonly state: SyncState;
  /** How far the running or last sync got, from 0 to 100. */
  readonly progressPercent: number;
  /**
   * When the last successful sync with the target finished, in epoch milliseconds.
   * Absent when no sync with the target has succeeded yet.
   */
  readonly lastSyncAt?: number;
}

/**
 * Two different values of the same key: this node's and the other node's.
 *
 * @since 2.0.0
 */
export interface SyncConflict {
  /** The conflicting key. */
  readonly key: string;
  /** This node's value. */
  readonly localValue: Uint8Array;
  /** The other node's value. */
  readonly remoteValue: Uint8Array;
  /** When this node's value was written, in epoch milliseconds. */
  readonly localTimestamp: number;
  /** When the other node's value was written, in epoch milliseconds. */
  readonly remoteTimestamp: number;
  /** The version of this node's value, when the store versions its data. */
  readonly localVersion?: VectorClock;
  /** The version of the other node's value, when the store versions its data. */
  readonly remoteVersion?: VectorClock;
}

/**
 * How one conflict was settled.
 *
 * @since 2.0.0
 */
export interface ConflictResolutionResult {
  /** The key whose conflict was settled. */
  readonly key: string;
  /** The rule that settled it. */
  readonly strategy: ConflictResolutionStrategy;
  /** The value the key now has. */
  readonly resolvedValue: Uint8Array;
  /**
   * The version to store `resolvedValue` under. Present when the conflict carried both
   * versions: their merge (`localVersion.merge(remoteVersion)`), so the resolved value
   * supersedes both and nodes that settle the same conflict the same way end with the
   * same version.
   */
  readonly resolvedVersion?: VectorClock;
}

/**
 * Something that happened while syncing with a target node.
 *
 * @since 2.0.0
 */
export interface SyncEvent {
  /** What happened. */
  readonly eventType: SyncEventType;
  /**
   * The target node of the sync; empty (`''`) for the conflict events of a
   * {@link ReplicationSync.resolveConflict} call, which concerns no sync.
   */
  readonly targetNodeId: string;
  /** When it happened, in epoch milliseconds. */
  readonly timestamp: number;
  /** More about it: the key for conflict events, the reason for `sync-failed`. */
  readonly detail?: string;
}

/**
 * DIST-05: replication sync. Brings a target node up to date with this one in the
 * requested mode, reports where each target stands, and settles conflicts.
 *
 * @since 2.0.0
 */
export interface ReplicationSync {
  /**
   * The mode this node is currently operating in, for example `offline` while it has no
   * network. It may change as conditions change; one {@link ReplicationSync.sync} call may
   * ask for a different mode for its target.
   */
  readonly currentMode: SyncMode;

  /**
   * Syncs with one target node. Emits `sync-started`, then `conflict-detected` (and, once
   * settled, `conflict-resolved`) for each conflicting key, then `sync-completed` or
   * `sync-failed`. A sync refused before it starts (for example because the target cannot
   * be reached) emits only `sync-failed`. Conflicts are settled as the implementation is
   * configured: resolved as by {@link ReplicationSync.resolveConflict}, or held for an operator.
   *
   * @param request - The target, mode, and which changes to sync.
   * @param options - Cancellation.
   * @returns The outcome. A sync that cannot be carried out resolves with a failed result
   *   (for example `SYNC_UNAVAILABLE` when the target cannot be reached in the requested
   *   mode) rather than rejecting.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for a malformed request (for example
   *   an empty `targetNodeId` or a negative `sinceTimestamp`).
   */
  sync(request: SyncRequest, options?: CallOptions): Promise<SyncResult>;

  /**
   * Where the sync with one target node stands.
   *
   * @param targetNodeId - The target node.
   * @param options - Cancellation.
   * @returns The status; for a node never synced with, `idle` at 0 percent with no
   *   `lastSyncAt`.
   */
  getSyncStatus(targetNodeId: string, options?: CallOptions): Promise<SyncStatus>;

  /**
   * Settles one conflict with the strategy the implementation is configured with, and
   * emits `conflict-resolved`. The merge and custom resolvers are registered with the
   * implementation; how is implementation-specific.
   *
   * @param conflict - The two values of the key.
   * @param options - Cancellation.
   * @returns The value (and, when versions were given, the version) the key now has.
   * @throws {@link DistributedError} `RESOLVER_NOT_REGISTERED` when the configured strategy
   *   is `merge` or `custom` and no resolver is registered; `INVALID_ARGUMENT` for a
   *   malformed conflict.
   */
  resolveConflict(conflict: SyncConflict, options?: CallOptions): Promise<ConflictResolutionResult>;

  /**
   * Subscribes to sync events.
   *
   * @param listener - Called with every sync event.
   * @returns A disposer that removes the listener.
   */
  onSyncEvent(listener: Listener<SyncEvent>): Unsubscribe;
}
