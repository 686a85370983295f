/**
 * The per-link network model: how long a message takes, and how often it is
 * lost, duplicated or held back so that it overtakes or is overtaken.
 *
 * Latency is `baseMs + jitter`, where the jitter is drawn per message either
 * uniformly from [0, `jitterMs`) or log-normally with median `jitterMs` and
 * shape `sigma` (a long tail, like real networks), capped at
 * `maxJitterFactor × jitterMs` so one draw cannot stall a run.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import type { SeededRandom } from '../../core/random/seeded-random.js';

/**
 * The latency distribution of one link.
 *
 * @since 2.0.0
 */
export interface LatencyModel {
  /** The fixed part of every delay, in ms. */
  readonly baseMs: number;
  /** The scale of the random part, in ms (uniform: its maximum; log-normal: its median). */
  readonly jitterMs: number;
  /** How the random part is drawn. */
  readonly distribution: 'uniform' | 'lognormal';
  /** Log-normal shape (standard deviation of the log); ignored for uniform. */
  readonly sigma: number;
  /** Log-normal cap, as a multiple of `jitterMs`; ignored for uniform. */
  readonly maxJitterFactor: number;
}

/**
 * The full model of one directed link.
 *
 * @since 2.0.0
 */
export interface LinkModel {
  /** Delay of each message (each datagram, each stream segment). */
  readonly latency: LatencyModel;
  /**
   * Probability a datagram is lost. For streams (reliable) a "lost" segment
   * is retransmitted instead: it arrives one retransmit interval later.
   */
  readonly loss: number;
  /** Probability a datagram is delivered twice (each copy with its own delay). */
  readonly duplicate: number;
  /** Probability a datagram is held back by an extra delay, so later ones overtake it. */
  readonly reorder: number;
  /** The largest extra delay of a held-back datagram, in ms (drawn uniformly). */
  readonly reorderDelayMs: number;
  /** Stream throughput per connection and direction, in bytes per ms. */
  readonly bandwidthBytesPerMs: number;
}

/**
 * A partial link model, as given in options and overrides.
 *
 * @since 2.0.0
 */
export interface LinkModelInput {
  /** Overrides part of the latency model. */
  readonly latency?: Partial<LatencyModel>;
  /** See {@link LinkModel.loss}. */
  readonly loss?: number;
  /** See {@link LinkModel.duplicate}. */
  readonly duplicate?: number;
  /** See {@link LinkModel.reorder}. */
  readonly reorder?: number;
  /** See {@link LinkModel.reorderDelayMs}. */
  readonly reorderDelayMs?: number;
  /** See {@link LinkModel.bandwidthBytesPerMs}. */
  readonly bandwidthBytesPerMs?: number;
}

/**
 * The default link: 1 ms + uniform jitter up to 0.5 ms, nothing lost,
 * duplicated or reordered beyond what jitter does, 100 Mbit/s per stream.
 *
 * @since 2.0.0
 */
export const DEFAULT_LINK_MODEL: LinkModel = Object.freeze({
  latency: Object.freeze({
    baseMs: 1,
    jitterMs: 0.5,
    distribution: 'uniform',
    sigma: 1,
    maxJitterFactor: 50,
  }),
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelayMs: 10,
  bandwidthBytesPerMs: 12_500,
} satisfies LinkModel);

function checkProbability(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) {
    throw new DistributedError('INVALID_ARGUMENT', `${name} must be in [0, 1], got ${value}`);
  }
}

function checkNonNegative(name: string, value: number): void {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new DistributedError('INVALID_ARGUMENT', `${name} must be finite and >= 0, got ${value}`);
  }
}

/**
 * Applies a partial model over a base one and validates the result.
 *
 * @param base - The model to start from.
 * @param input - The overrides.
 * @returns A frozen, validated model.
 * @throws DistributedError `INVALID_ARGUMENT` for out-of-range values.
 * @since 2.0.0
 */
export function resolveLinkModel(base: LinkModel, input: LinkModelInput | undefined): LinkModel {
  if (input === undefined) return base;
  const latency = Object.freeze({ ...base.latency, ...input.latency });
  const model: LinkModel = Object.freeze({
    latency,
    loss: input.loss ?? base.loss,
    duplicate: input.duplicate ?? base.duplicate,
    reorder: input.reorder ?? base.reorder,
    reorderDelayMs: input.reorderDelayMs ?? base.reorderDelayMs,
    bandwidthBytesPerMs: input.bandwidthBytesPerMs ?? base.bandwidthBytesPerMs,
  });
  checkNonNegative('latency.baseMs', latency.baseMs);
  checkNonNegative('latency.jitterMs', latency.jitterMs);
  checkNonNegative('latency.sigma', latency.sigma);
  checkNonNegative('latency.maxJitterFactor', latency.maxJitterFactor);
  if (!['uniform', 'lognormal'].includes(latency.distribution)) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `latency.distribution must be 'uniform' or 'lognormal'`,
    );
  }
  checkProbability('loss', model.loss);
  checkProbability('duplicate', model.duplicate);
  checkProbability('reorder', model.reorder);
  checkNonNegative('reorderDelayMs', model.reorderDelayMs);
  if (!(model.bandwidthBytesPerMs > 0) || !Number.isFinite(model.bandwidthBytesPerMs)) {
    throw new DistributedError('INVALID_ARGUMENT', 'bandwidthBytesPerMs must be finite and > 0');
  }
  return model;
}

/**
 * Draws one message delay from a link's latency model.
 *
 * @param model - The link.
 * @param random - The network's random stream.
 * @returns The delay in ms (>= `baseMs`).
 * @since 2.0.0
 */
export function sampleLatency(model: LinkModel, random: SeededRandom): number {
  const latency = model.latency;
  if (latency.jitterMs === 0) return latency.baseMs;
  if (latency.distribution === 'uniform') return latency.baseMs + random.next() * latency.jitterMs;
  // Box–Muller: one standard normal from two uniforms.
  const u = 1 - random.next();
  const v = random.next();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  const jitter = Math.min(
    latency.jitterMs * Math.exp(latency.sigma * normal),
    latency.jitterMs * latency.maxJitterFactor,
  );
  return latency.baseMs + jitter;
}
