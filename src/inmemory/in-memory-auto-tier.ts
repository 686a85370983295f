/**
 * The embedded {@link AutoTier}: one in-memory `hot` tier with real usage accounting.
 *
 * @packageDocumentation
 */

import type {
  AutoTier,
  TierEvaluationContext,
  TierEvent,
  TierEventType,
  TierInfo,
  TierMigrationRequest,
  TierPlacement,
} from '../contracts/auto-tier.js';
import { TierMigrationResult } from '../contracts/auto-tier.js';
import type { CallOptions, Listener, Unsubscribe } from '../contracts/common.js';
import { DistributedError } from '../contracts/errors.js';
import { EventHub } from '../core/events.js';
import { requireCount, requireLabels, requireNonEmpty, requireTime } from './validation.js';
import { resolveEmbeddedOptions, type EmbeddedOptions } from './options.js';

/**
 * Options for {@link InMemoryAutoTier}.
 *
 * @since 2.0.0
 */
export interface InMemoryAutoTierOptions extends EmbeddedOptions {
  /** The name of the one tier. Defaults to `memory`. */
  readonly tierName?: string;
  /** The tier's capacity in bytes. Defaults to 256 MiB. */
  readonly capacityBytes?: number;
  /**
   * What storing one gigabyte in the tier for a month costs, in the deployment's currency.
   * Defaults to `0`: no cost is configured.
   */
  readonly costPerGbMonth?: number;
  /**
   * How many data keys the tier accounts for at most. A new key beyond this bound is not
   * recorded (see {@link InMemoryAutoTier.evaluatePlacement}). Defaults to 100 000.
   */
  readonly maxTrackedKeys?: number;
}

/** The default of {@link InMemoryAutoTierOptions.capacityBytes}: 256 MiB. */
const DEFAULT_CAPACITY_BYTES = 256 * 1024 * 1024;
/** The default of {@link InMemoryAutoTierOptions.maxTrackedKeys}. */
const DEFAULT_MAX_TRACKED_KEYS = 100_000;

/**
 * Single-tier placement. There is one tier, in memory, of class `hot`, so every placement
 * says stay there. Usage is accounted for real: each evaluated data key is recorded with
 * its `dataSizeBytes` (a new size replaces the old one), `usedBytes` is the sum, and
 * {@link InMemoryAutoTier.release} forgets deleted data.
 *
 * When recording a key would exceed the tier's capacity (or `maxTrackedKeys`), nothing is
 * recorded and the placement says so: confidence `0` and a reason beginning `tier full`.
 * The contract lets `evaluatePlacement` throw only for malformed input, and there is no
 * other tier to recommend, so a zero-confidence placement is the honest answer.
 *
 * Migration between tiers cannot happen: an unknown tier gives `UNKNOWN_TIER`, data never
 * evaluated (or released) gives `UNKNOWN_DATA_KEY`, and a migration to the tier the data
 * is already in succeeds without moving anything.
 *
 * @since 2.0.0
 */
export class InMemoryAutoTier implements AutoTier {
  /** The name of the one tier. */
  readonly tierName: string;
  /** The tier's capacity in bytes. */
  readonly capacityBytes: number;
  /** What storing one gigabyte in the tier for a month costs. */
  readonly costPerGbMonth: number;
  /** How many data keys the tier accounts for at most. */
  readonly maxTrackedKeys: number;
  readonly #events: EventHub<TierEvent>;
  readonly #now: () => number;
  readonly #sizes = new Map<string, number>();
  #usedBytes = 0;

  /**
   * @param options - The tier's name, capacity, cost and bounds; everything has a default.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for an empty tier name, a negative
   *   or fractional capacity, a negative cost, or a `maxTrackedKeys` that is not a
   *   positive integer.
   */
  constructor(options: InMemoryAutoTierOptions = {}) {
    const resolved = resolveEmbeddedOptions(options);
    this.#now = resolved.now;
    this.#events = new EventHub(resolved.onListenerError);
    this.tierName = options.tierName ?? 'memory';
    this.capacityBytes = options.capacityBytes ?? DEFAULT_CAPACITY_BYTES;
    this.costPerGbMonth = options.costPerGbMonth ?? 0;
    this.maxTrackedKeys = options.maxTrackedKeys ?? DEFAULT_MAX_TRACKED_KEYS;
    requireNonEmpty('tierName', this.tierName);
    requireCount('capacityBytes', this.capacityBytes);
    if (!Number.isFinite(this.costPerGbMonth) || this.costPerGbMonth < 0) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'costPerGbMonth must be a non-negative number',
      );
    }
    if (!Number.isSafeInteger(this.maxTrackedKeys) || this.maxTrackedKeys < 1) {
      throw new DistributedError('INVALID_ARGUMENT', 'maxTrackedKeys must be a positive integer');
    }
  }

  /** The bytes of all recorded data together. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /**
   * Subscribes to tiering events.
   *
   * @param listener - Called with every tiering event.
   */
  onTierEvent(listener: Listener<TierEvent>): Unsubscribe {
    return this.#events.subscribe(listener);
  }

  /**
   * Records the data's size (unless the tier is full) and recommends staying in the one
   * tier. Emits `placement-evaluated`.
   *
   * @param context - What is known about the data.
   * @param options - Cancellation.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for a malformed context.
   */
  async evaluatePlacement(
    context: TierEvaluationContext,
    options?: CallOptions,
  ): Promise<TierPlacement> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    validateContext(context);
    const { dataKey, dataSizeBytes } = context;
    const refusal = this.#record(dataKey, dataSizeBytes);
    const placement: TierPlacement = Object.freeze({
      dataKey,
      recommendedTier: this.tierName,
      currentTier: this.tierName,
      reason:
        refusal ?? `'${this.tierName}' is the only tier on this node, so the data stays in it`,
      confidenceScore: refusal === undefined ? 1 : 0,
    });
    this.#emit('placement-evaluated', dataKey, this.tierName, this.tierName);
    return placement;
  }

  /**
   * Stops accounting for data that was deleted, so its bytes no longer count as used.
   *
   * @param dataKey - The deleted data.
   * @returns `true` when the key was recorded, `false` when it was not.
   */
  release(dataKey: string): boolean {
    const size = this.#sizes.get(dataKey);
    if (size === undefined) return false;
    this.#sizes.delete(dataKey);
    this.#usedBytes -= size;
    return true;
  }

  /**
   * Succeeds, moving nothing, only for recorded data "migrated" from this tier to itself;
   * otherwise a failed result (`UNKNOWN_TIER` first, then `UNKNOWN_DATA_KEY`). Emits only
   * `migration-completed` or only `migration-failed`: no data ever starts to move.
   *
   * @param request - The data and the two tiers.
   * @param options - Cancellation.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for a malformed request.
   */
  async migrate(
    request: TierMigrationRequest,
    options?: CallOptions,
  ): Promise<TierMigrationResult> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    validateMigrationRequest(request);
    const { dataKey, sourceTier, targetTier } = request;
    const fields = { dataKey, sourceTier, targetTier };
    const unknownTier = [sourceTier, targetTier].find((tier) => tier !== this.tierName);
    let result: TierMigrationResult;
    if (unknownTier !== undefined) {
      result = TierMigrationResult.error(
        'UNKNOWN_TIER',
        `there is no tier '${unknownTier}': this node has one tier, '${this.tierName}'`,
        fields,
      );
    } else if (!this.#sizes.has(dataKey)) {
      result = TierMigrationResult.error(
        'UNKNOWN_DATA_KEY',
        `'${dataKey}' is not recorded in tier '${sourceTier}': evaluate its placement first`,
        fields,
      );
    } else {
      result = TierMigrationResult.ok({ ...fields, durationMs: 0 });
    }
    this.#emit(
      result.success ? 'migration-completed' : 'migration-failed',
      dataKey,
      sourceTier,
      targetTier,
    );
    return Object.freeze(result);
  }

  /**
   * The one tier, with the bytes of all recorded data as `usedBytes`.
   *
   * @param options - Cancellation.
   */
  async getTiers(options?: CallOptions): Promise<readonly TierInfo[]> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    const tier: TierInfo = Object.freeze({
      tierName: this.tierName,
      description: "This node's process memory: the embedded default's only tier",
      capacityBytes: this.capacityBytes,
      usedBytes: this.#usedBytes,
      costPerGbMonth: this.costPerGbMonth,
      performanceClass: 'hot',
    });
    return Object.freeze([tier]);
  }

  // Returns why the size was not recorded, or undefined when it was.
  #record(dataKey: string, sizeBytes: number): string | undefined {
    const previous = this.#sizes.get(dataKey);
    if (previous === sizeBytes) return undefined;
    if (previous === undefined && this.#sizes.size >= this.maxTrackedKeys) {
      return (
        `tier full: '${this.tierName}' already accounts for its maximum of ` +
        `${this.maxTrackedKeys} keys (maxTrackedKeys); '${dataKey}' was not recorded`
      );
    }
    const usedAfter = this.#usedBytes - (previous ?? 0) + sizeBytes;
    if (usedAfter > this.capacityBytes) {
      return (
        `tier full: ${sizeBytes} bytes for '${dataKey}' would bring '${this.tierName}' to ` +
        `${usedAfter} of its ${this.capacityBytes} bytes; ` +
        (previous === undefined
          ? 'the data was not recorded'
          : `its recorded size stays ${previous} bytes`)
      );
    }
    this.#sizes.set(dataKey, sizeBytes);
    this.#usedBytes = usedAfter;
    return undefined;
  }

  #emit(eventType: TierEventType, dataKey: string, fromTier: string, toTier: string): void {
    this.#events.emit(
      Object.freeze({ eventType, dataKey, fromTier, toTier, timestamp: this.#now() }),
    );
  }
}

function validateContext(context: TierEvaluationContext): void {
  if (typeof context !== 'object' || (context as unknown) === null) {
    throw new DistributedError('INVALID_ARGUMENT', 'a placement context must be an object');
  }
  requireNonEmpty('dataKey', context.dataKey);
  requireCount('dataSizeBytes', context.dataSizeBytes);
  requireCount('accessCount', context.accessCount);
  requireTime('lastAccessedAt', context.lastAccessedAt);
  requireTime('createdAt', context.createdAt);
  requireLabels('metadata', context.metadata);
}

function validateMigrationRequest(request: TierMigrationRequest): void {
  if (typeof request !== 'object' || (request as unknown) === null) {
    throw new DistributedError('INVALID_ARGUMENT', 'a migration request must be an object');
  }
  requireNonEmpty('dataKey', request.dataKey);
  requireNonEmpty('sourceTier', request.sourceTier);
  requireNonEmpty('targetTier', request.targetTier);
  if (typeof request.deleteFromSource !== 'boolean') {
    throw new DistributedError('INVALID_ARGUMENT', 'deleteFromSource must be a boolean');
  }
}
