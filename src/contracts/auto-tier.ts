/**
 * DIST-06: automatic tiering — deciding which storage tier each piece of data
 * belongs in, from how it is accessed, and carrying out the moves.
 *
 * AutoTier decides placement; it is not a storage API. It never reads or writes data
 * for callers: storage plugins own the bytes and the tiers, and ask AutoTier where
 * data should live.
 *
 * A migration that cannot be carried out is reported in its {@link TierMigrationResult}
 * (`success: false` with a stable `errorCode`); the methods reject only when the call is
 * cancelled or the request is malformed.
 *
 * @packageDocumentation
 */

import type { CallOptions, Listener, Unsubscribe } from './common.js';
import type { ErrorCode } from './errors.js';

/**
 * Every performance class a tier can have, fastest (and usually most expensive) first.
 *
 * - `hot`: the fastest storage, for data in constant use (for example memory or NVMe).
 * - `warm`: fast storage for data in regular use (for example SSD).
 * - `cool`: cheaper storage for data used now and then (for example HDD).
 * - `cold`: cheap storage for data rarely used, with slower access (for example object storage).
 * - `archive`: the cheapest storage, for data kept but almost never read; reads may take
 *   minutes or hours.
 *
 * @since 2.0.0
 */
export const TIER_PERFORMANCE_CLASSES = Object.freeze([
  'hot',
  'warm',
  'cool',
  'cold',
  'archive',
] as const);

/**
 * A tier's performance class; see {@link TIER_PERFORMANCE_CLASSES}.
 *
 * @since 2.0.0
 */
export type TierPerformanceClass = (typeof TIER_PERFORMANCE_CLASSES)[number];

/**
 * Every kind of tiering event.
 *
 * - `placement-evaluated`: a placement was evaluated; `fromTier` is the current tier and
 *   `toTier` the recommended one.
 * - `migration-started`: data started moving from `fromTier` to `toTier`.
 * - `migration-completed`: data finished moving from `fromTier` to `toTier`.
 * - `migration-failed`: a migration from `fromTier` to `toTier` failed or was refused.
 *
 * @since 2.0.0
 */
export const TIER_EVENT_TYPES = Object.freeze([
  'placement-evaluated',
  'migration-started',
  'migration-completed',
  'migration-failed',
] as const);

/**
 * A kind of tiering event; see {@link TIER_EVENT_TYPES}.
 *
 * @since 2.0.0
 */
export type TierEventType = (typeof TIER_EVENT_TYPES)[number];

/**
 * What is known about one piece of data, for deciding where it belongs.
 *
 * @since 2.0.0
 */
export interface TierEvaluationContext {
  /** The data's key, as the storage plugin names it. */
  readonly dataKey: string;
  /** The data's size in bytes. */
  readonly dataSizeBytes: number;
  /** How often the data has been accessed, as the caller counts it (for example since creation). */
  readonly accessCount: number;
  /** When the data was last accessed, in epoch milliseconds. */
  readonly lastAccessedAt: number;
  /** When the data was created, in epoch milliseconds. */
  readonly createdAt: number;
  /** Free-form labels that may influence placement, for example `classification`. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * A placement decision for one piece of data. A recommendation only: nothing moves
 * until {@link AutoTier.migrate} is called.
 *
 * @since 2.0.0
 */
export interface TierPlacement {
  /** The data the decision is about. */
  readonly dataKey: string;
  /** The tier the data should be in; equal to `currentTier` when it should stay. */
  readonly recommendedTier: string;
  /**
   * The tier that holds the data now, as the implementation has recorded it; for data it
   * has no record of, the tier it places new data in.
   */
  readonly currentTier: string;
  /** Why this tier is recommended, for people and logs. */
  readonly reason: string;
  /** How confident the decision is, from 0 (a guess) to 1 (certain). */
  readonly confidenceScore: number;
}

/**
 * A request to move one piece of data between tiers.
 *
 * @since 2.0.0
 */
export interface TierMigrationRequest {
  /** The data to move. */
  readonly dataKey: string;
  /** The tier that holds the data now. */
  readonly sourceTier: string;
  /** The tier to move it to. */
  readonly targetTier: string;
  /**
   * Whether to delete the data from `sourceTier` once it is safely in `targetTier`.
   * `false` copies: the data stays in both, and `targetTier` becomes its recorded tier.
   */
  readonly deleteFromSource: boolean;
}

/**
 * The outcome of one migration. Build it with `TierMigrationResult.ok` or
 * `TierMigrationResult.error`.
 *
 * @since 2.0.0
 */
export interface TierMigrationResult {
  /** Whether the data is now in `targetTier`. */
  readonly success: boolean;
  /** The data that was to be moved. */
  readonly dataKey: string;
  /** The tier it was to be moved from. */
  readonly sourceTier: string;
  /** The tier it was to be moved to. */
  readonly targetTier: string;
  /** How long the migration took, in milliseconds. */
  readonly durationMs: number;
  /** Why the migration failed; present exactly when `success` is `false`. */
  readonly errorMessage?: string;
  /**
   * The stable code of the failure; present exactly when `success` is `false`. For example
   * `UNKNOWN_TIER` when either tier is not one of {@link AutoTier.getTiers},
   * `UNKNOWN_DATA_KEY` when the data is not in `sourceTier`, or `TIER_CAPACITY_EXCEEDED`
   * when `targetTier` has no room for it.
   */
  readonly errorCode?: ErrorCode;
}

/**
 * Builds {@link TierMigrationResult} values.
 *
 * @since 2.0.0
 */
export const TierMigrationResult = Object.freeze({
  /**
   * A successful migration.
   *
   * @param fields - The data, both tiers, and the duration.
   * @returns A result with `success: true` and no error.
   * @since 2.0.0
   */
  ok(
    fields: Pick<TierMigrationResult, 'dataKey' | 'sourceTier' | 'targetTier' | 'durationMs'>,
  ): TierMigrationResult {
    return {
      success: true,
      dataKey: fields.dataKey,
      sourceTier: fields.sourceTier,
      targetTier: fields.targetTier,
      durationMs: fields.durationMs,
    };
  },

  /**
   * A failed migration.
   *
   * @param code - The stable code of the failure.
   * @param message - A human-readable explanation of the failure.
   * @param fields - The data and both tiers of the request, and the time spent before the
   *   failure (`durationMs` defaults to `0`).
   * @returns A result with `success: false`, `errorCode` and `errorMessage`.
   * @since 2.0.0
   */
  error(
    code: ErrorCode,
    message: string,
    fields: Pick<TierMigrationResult, 'dataKey' | 'sourceTier' | 'targetTier'> &
      Partial<Pick<TierMigrationResult, 'durationMs'>>,
  ): TierMigrationResult {
    return {
      success: false,
      dataKey: fields.dataKey,
      sourceTier: fields.sourceTier,
      targetTier: fields.targetTier,
      durationMs: fields.durationMs ?? 0,
      errorMessage: message,
      errorCode: code,
    };
  },
});

/**
 * One storage tier AutoTier can place data in.
 *
 * @since 2.0.0
 */
export interface TierInfo {
  /** The tier's name, unique among the tiers; what placements and migrations refer to. */
  readonly tierName: string;
  /** What the tier is, for people. */
  readonly description: string;
  /** The tier's total capacity in bytes. */
  readonly capacityBytes: number;
  /** How many of those bytes are in use. */
  readonly usedBytes: number;
  /**
   * What storing one gigabyte in the tier for a month costs, in the deployment's currency;
   * used to compare tiers.
   */
  readonly costPerGbMonth: number;
  /** The tier's performance class. */
  readonly performanceClass: TierPerformanceClass;
}

/**
 * Something that happened in tiering.
 *
 * @since 2.0.0
 */
export interface TierEvent {
  /** What happened. */
  readonly eventType: TierEventType;
  /** The data it concerns. */
  readonly dataKey: string;
  /** The tier the data is in, or moves from; see {@link TIER_EVENT_TYPES}. */
  readonly fromTier?: string;
  /** The tier the data should go to, or moves to; see {@link TIER_EVENT_TYPES}. */
  readonly toTier?: string;
  /** When it happened, in epoch milliseconds. */
  readonly timestamp: number;
}

/**
 * DIST-06: automatic tiering. Recommends the tier each piece of data belongs in from how
 * it is accessed, carries out migrations between tiers, and lists the tiers.
 *
 * @since 2.0.0
 */
export interface AutoTier {
  /**
   * Decides which tier one piece of data belongs in. Moves nothing; emits
   * `placement-evaluated`.
   *
   * @param context - What is known about the data.
   * @param options - Cancellation.
   * @returns The recommendation.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for a malformed context (for example
   *   a negative size or access count).
   */
  evaluatePlacement(context: TierEvaluationContext, options?: CallOptions): Promise<TierPlacement>;

  /**
   * Moves one piece of data between tiers. Emits `migration-started` when data starts to
   * move and `migration-completed` or `migration-failed` when it stops; a request refused
   * before anything moves emits only `migration-failed`. Migrating to the tier the data is
   * already in succeeds without moving or deleting anything, and emits only
   * `migration-completed`.
   *
   * @param request - The data and the two tiers.
   * @param options - Cancellation.
   * @returns The outcome. A migration that cannot be carried out resolves with a failed
   *   result (see {@link TierMigrationResult.errorCode}) rather than rejecting.
   * @throws {@link DistributedError} `INVALID_ARGUMENT` for a malformed request (for example
   *   an empty `dataKey`).
   */
  migrate(request: TierMigrationRequest, options?: CallOptions): Promise<TierMigrationResult>;

  /**
   * Lists the tiers data can be placed in.
   *
   * @param options - Cancellation.
   * @returns Every tier, fastest performance class first (tiers of the same class in the
   *   implementation's configured order).
   */
  getTiers(options?: CallOptions): Promise<readonly TierInfo[]>;

  /**
   * Subscribes to tiering events.
   *
   * @param listener - Called with every tiering event.
   * @returns A disposer that removes the listener.
   */
  onTierEvent(listener: Listener<TierEvent>): Unsubscribe;
}
