/**
 * {@link RetentionSweeper}: on the runtime clock, walks the resources in bounded batches,
 * resolves their retention and emits a `delete` or `archive` action for each one whose
 * deletion time has passed. It never deletes anything itself: the caller carries the
 * actions out.
 *
 * @packageDocumentation
 */

import type {
  AutoGovernance,
  GovernanceAction,
  PolicyViolation,
} from '../../contracts/auto-governance.js';
import type { CallOptions, Listener, Unsubscribe } from '../../contracts/common.js';
import { DistributedError } from '../../contracts/errors.js';
import { EventHub } from '../../core/events.js';
import type {
  RetentionDisposition,
  RetentionSubject,
} from '../../core/governance/retention/types.js';
import type { Clock, Timer } from '../../runtime/runtime.js';
import type { RetentionRuleSet } from './retention-rule-set.js';

/**
 * One page of resources from a {@link RetentionSource}.
 *
 * @since 2.0.0
 */
export interface RetentionPage {
  /** The resources, at most the `limit` asked for. */
  readonly subjects: readonly RetentionSubject[];
  /** Where the next page starts; absent at the end of the resources. */
  readonly nextCursor?: string;
}

/**
 * Where the sweeper finds the resources: a store lists them page by page.
 *
 * @since 2.0.0
 */
export interface RetentionSource {
  /**
   * Lists one page of resources.
   *
   * @param cursor - Where to start; `undefined` for the first page.
   * @param limit - The most resources to return.
   * @param options - Cancellation.
   */
  list(cursor: string | undefined, limit: number, options?: CallOptions): Promise<RetentionPage>;
}

/**
 * An action the sweeper asks the caller to carry out.
 *
 * @since 2.0.0
 */
export interface RetentionAction {
  /** `delete` or `archive`. */
  readonly action: RetentionDisposition;
  /** The resource. */
  readonly resourceId: string;
  /** The rule that made it due. */
  readonly ruleId: string;
  /** When it became due, epoch milliseconds. */
  readonly deleteAt: number;
  /** When the sweeper found it due. */
  readonly detectedAt: number;
  /** The obligations governance attached to the action (for example `audit`). */
  readonly requiredActions: readonly GovernanceAction[];
  /** How its retention was resolved. */
  readonly reasons: readonly string[];
}

/**
 * A due resource whose action governance denied: not emitted.
 *
 * @since 2.0.0
 */
export interface BlockedRetentionAction {
  /** The resource. */
  readonly resourceId: string;
  /** The action that was denied. */
  readonly action: RetentionDisposition;
  /** Why. */
  readonly violations: readonly PolicyViolation[];
}

/**
 * A malformed resource a source gave, skipped by a sweep.
 *
 * @since 2.0.0
 */
export interface InvalidRetentionSubject {
  /** Its id, as given. */
  readonly resourceId: string;
  /** What is wrong with it. */
  readonly message: string;
}

/**
 * What one sweep did.
 *
 * @since 2.0.0
 */
export interface RetentionSweepReport {
  /** The actions emitted, in order. */
  readonly actions: readonly RetentionAction[];
  /** The due resources whose action governance denied. */
  readonly blocked: readonly BlockedRetentionAction[];
  /** How many resources were examined. */
  readonly examined: number;
  /**
   * Resources the source gave that are malformed (for example without `createdAt`):
   * skipped, so one bad record cannot stall every sweep.
   */
  readonly invalid: readonly InvalidRetentionSubject[];
  /** Whether the sweep reached the end of the resources (the next one starts over). */
  readonly passComplete: boolean;
  /** The time the sweep used, epoch milliseconds. */
  readonly sweptAt: number;
}

/**
 * The clock a sweeper runs on: a runtime {@link Clock}, or anything with `now` and
 * `setTimer`.
 *
 * @since 2.0.0
 */
export type SweeperClock = Pick<Clock, 'now' | 'setTimer'>;

/**
 * Options of a {@link RetentionSweeper}. Every bound has a default.
 *
 * @since 2.0.0
 */
export interface RetentionSweeperOptions {
  /** The rules, or a function giving the current rules at each sweep. */
  readonly rules: RetentionRuleSet | (() => RetentionRuleSet);
  /** Where the resources are listed. */
  readonly source: RetentionSource;
  /** The clock: time and timers. */
  readonly clock: SweeperClock;
  /**
   * When given, each action is first evaluated as an operation (`delete` or `archive`,
   * user `retention-sweeper`, `request.initiator == "retention-sweeper"`) with the
   * resource's retention attributes; a denied action is reported as blocked, not emitted.
   */
  readonly governance?: Pick<AutoGovernance, 'evaluate'>;
  /** The time between the end of one scheduled sweep and the start of the next. Default 60,000 ms. */
  readonly intervalMs?: number;
  /** The most actions emitted per sweep. Default 100. */
  readonly maxActionsPerSweep?: number;
  /** The most resources examined per sweep. Default 1,000. */
  readonly maxExaminedPerSweep?: number;
  /** The most resources asked of the source per page. Default 100. */
  readonly pageSize?: number;
  /** Receives errors of listeners. Default: printed to standard error. */
  readonly onListenerError?: (error: unknown) => void;
  /** Receives errors of scheduled sweeps (a failing source). Default: printed to standard error. */
  readonly onSweepError?: (error: unknown) => void;
}

const DEFAULTS = Object.freeze({
  intervalMs: 60_000,
  maxActionsPerSweep: 100,
  maxExaminedPerSweep: 1000,
  pageSize: 100,
});

const report = (what: string) => (error: unknown) => {
  console.error(what, error);
};

/**
 * The retention sweeper. Each sweep continues where the previous one stopped: it asks the
 * source for pages from a cursor kept between sweeps, and stops after
 * `maxExaminedPerSweep` resources, `maxActionsPerSweep` actions or the end of the
 * resources (then the next sweep starts over). Resources of a page left unexamined when
 * the action bound is reached are kept (at most one page) and examined first next time.
 *
 * Delivery is at least once: a due resource is reported again at every pass until it is
 * gone from the source, so the caller's actions must be idempotent.
 *
 * @since 2.0.0
 */
export class RetentionSweeper implements Disposable {
  readonly #options: RetentionSweeperOptions;
  readonly #events: EventHub<RetentionAction>;
  readonly #onSweepError: (error: unknown) => void;
  readonly #intervalMs: number;
  readonly #maxActions: number;
  readonly #maxExamined: number;
  readonly #pageSize: number;
  #cursor: string | undefined;
  #carried: RetentionSubject[] = [];
  #carriedCursor: string | undefined;
  #carriedEnd = false;
  #sweeping = false;
  #timer: Timer | undefined;
  #started = false;

  /**
   * @param options - Rules, source, clock and bounds.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a bound that is not a positive integer.
   */
  constructor(options: RetentionSweeperOptions) {
    const positive = (name: string, value: number) => {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new DistributedError('INVALID_ARGUMENT', `${name} must be a positive integer`);
      }
      return value;
    };
    this.#options = options;
    this.#intervalMs = positive('intervalMs', options.intervalMs ?? DEFAULTS.intervalMs);
    this.#maxActions = positive(
      'maxActionsPerSweep',
      options.maxActionsPerSweep ?? DEFAULTS.maxActionsPerSweep,
    );
    this.#maxExamined = positive(
      'maxExaminedPerSweep',
      options.maxExaminedPerSweep ?? DEFAULTS.maxExaminedPerSweep,
    );
    this.#pageSize = positive('pageSize', options.pageSize ?? DEFAULTS.pageSize);
    this.#events = new EventHub(options.onListenerError ?? report('a listener threw:'));
    this.#onSweepError = options.onSweepError ?? report('a retention sweep failed:');
  }

  /** Whether scheduled sweeps are running. */
  get started(): boolean {
    return this.#started;
  }

  /**
   * Subscribes to the actions of every sweep, scheduled or not.
   *
   * @param listener - Called with each action, in order.
   */
  onAction(listener: Listener<RetentionAction>): Unsubscribe {
    return this.#events.subscribe(listener);
  }

  /** Starts scheduled sweeps: the first after `intervalMs`, each next one `intervalMs` after the end of the previous. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#arm();
  }

  /** Stops scheduled sweeps; a sweep in progress finishes. */
  stop(): void {
    this.#started = false;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Stops scheduled sweeps. */
  [Symbol.dispose](): void {
    this.stop();
  }

  /**
   * Runs one bounded sweep now and emits its actions.
   *
   * @param options - Cancellation: checked before each page and each governance check.
   * @returns What the sweep did.
   * @throws A {@link DistributedError} `UNAVAILABLE` when a sweep is already running;
   *   `INVALID_ARGUMENT` when the source returns more than it was asked for; whatever the
   *   source or governance throws (nothing is emitted then). The cursor stays where the last
   *   completed page left it.
   */
  async sweepOnce(options?: CallOptions): Promise<RetentionSweepReport> {
    options?.signal?.throwIfAborted();
    if (this.#sweeping) {
      throw new DistributedError('UNAVAILABLE', 'a retention sweep is already running');
    }
    this.#sweeping = true;
    try {
      return await this.#sweep(options);
    } finally {
      this.#sweeping = false;
    }
  }

  #arm(): void {
    if (!this.#started) return;
    this.#timer = this.#options.clock.setTimer(this.#intervalMs, () => {
      this.#timer = undefined;
      if (!this.#started) return;
      if (this.#sweeping) {
        this.#arm();
        return;
      }
      this.sweepOnce().then(
        () => {
          this.#arm();
        },
        (error: unknown) => {
          this.#onSweepError(error);
          this.#arm();
        },
      );
    });
  }

  async #sweep(options?: CallOptions): Promise<RetentionSweepReport> {
    const rules =
      typeof this.#options.rules === 'function' ? this.#options.rules() : this.#options.rules;
    const now = this.#options.clock.now();
    const actions: RetentionAction[] = [];
    const blocked: BlockedRetentionAction[] = [];
    const invalid: InvalidRetentionSubject[] = [];
    let examined = 0;
    let passComplete = false;
    while (examined < this.#maxExamined && actions.length < this.#maxActions) {
      let subjects: RetentionSubject[];
      let nextCursor: string | undefined;
      let end: boolean;
      if (this.#carried.length > 0) {
        subjects = this.#carried;
        nextCursor = this.#carriedCursor;
        end = this.#carriedEnd;
        this.#carried = [];
      } else {
        options?.signal?.throwIfAborted();
        const limit = Math.min(this.#pageSize, this.#maxExamined - examined);
        const page = await this.#options.source.list(this.#cursor, limit, options);
        if (page.subjects.length > limit) {
          throw new DistributedError(
            'INVALID_ARGUMENT',
            `the retention source returned ${page.subjects.length} resources for a limit of ${limit}`,
          );
        }
        subjects = [...page.subjects];
        nextCursor = page.nextCursor;
        end = page.nextCursor === undefined;
      }
      let index = 0;
      for (; index < subjects.length; index++) {
        if (actions.length >= this.#maxActions || examined >= this.#maxExamined) break;
        const subject = subjects[index] as RetentionSubject;
        examined += 1;
        let resolution;
        try {
          resolution = rules.resolve(subject, now);
        } catch (error) {
          if (!(error instanceof DistributedError) || error.code !== 'INVALID_ARGUMENT')
            throw error;
          invalid.push(
            Object.freeze({
              resourceId: String(subject.resourceId as unknown),
              message: error.message,
            }),
          );
          continue;
        }
        if (
          resolution.state !== 'expired' ||
          resolution.deleteAt === undefined ||
          resolution.deletionRule === undefined
        ) {
          continue;
        }
        const action = resolution.disposition ?? 'delete';
        let requiredActions: readonly GovernanceAction[] = [];
        if (this.#options.governance !== undefined) {
          options?.signal?.throwIfAborted();
          const context = rules.context(action, subject, now, {
            userId: 'retention-sweeper',
            metadata: { initiator: 'retention-sweeper', retentionRule: resolution.deletionRule },
          });
          const result = await this.#options.governance.evaluate(context, options);
          if (!result.isAllowed) {
            blocked.push(
              Object.freeze({
                resourceId: subject.resourceId,
                action,
                violations: result.violations,
              }),
            );
            continue;
          }
          requiredActions = result.requiredActions;
        }
        actions.push(
          Object.freeze({
            action,
            resourceId: subject.resourceId,
            ruleId: resolution.deletionRule,
            deleteAt: resolution.deleteAt,
            detectedAt: now,
            requiredActions,
            reasons: resolution.reasons,
          }),
        );
      }
      if (index < subjects.length) {
        // The bound was reached inside the page: keep the rest for the next sweep.
        this.#carried = subjects.slice(index);
        this.#carriedCursor = nextCursor;
        this.#carriedEnd = end;
        break;
      }
      this.#cursor = nextCursor;
      if (end) {
        passComplete = true;
        break;
      }
    }
    for (const action of actions) this.#events.emit(action);
    return Object.freeze({
      actions: Object.freeze(actions),
      blocked: Object.freeze(blocked),
      examined,
      invalid: Object.freeze(invalid),
      passComplete,
      sweptAt: now,
    });
  }
}

/**
 * A {@link RetentionSource} over a list held in memory (tests, small stores): the cursor
 * is the index of the next resource. The list is read at every call, so changes show.
 *
 * @param subjects - Gives the current resources.
 * @since 2.0.0
 */
export function listRetentionSource(subjects: () => readonly RetentionSubject[]): RetentionSource {
  return {
    list(cursor, limit, options) {
      options?.signal?.throwIfAborted();
      const all = subjects();
      const start = cursor === undefined ? 0 : Number(cursor);
      const page = all.slice(start, start + limit);
      const next = start + page.length;
      return Promise.resolve(
        Object.freeze({
          subjects: Object.freeze(page),
          ...(next < all.length ? { nextCursor: String(next) } : {}),
        }),
      );
    },
  };
}
