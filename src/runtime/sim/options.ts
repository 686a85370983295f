/**
 * The simulator's settings: every bound and every modelled delay, with its
 * default.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import {
  DEFAULT_LINK_MODEL,
  resolveLinkModel,
  type LinkModel,
  type LinkModelInput,
} from './network-model.js';
import { DEFAULT_TRACE_CAPACITY } from './trace.js';

/**
 * Stream (TCP-like) settings.
 *
 * @since 2.0.0
 */
export interface SimStreamOptions {
  /** `write` returns `false` once this many bytes are unsent or unacknowledged. Default 65 536. */
  readonly highWaterMark?: number;
  /** The largest segment the network carries, in bytes. Default 16 384. */
  readonly maxSegmentBytes?: number;
  /**
   * Probability a segment is cut at a random length instead of taking as much
   * as fits, so chunk boundaries move (framing bugs show). Default 0.3.
   */
  readonly splitProbability?: number;
  /** Delay before a lost or blocked segment is sent again, in ms. Default 200. */
  readonly retransmitMs?: number;
  /**
   * A partition between the two ends lasting this long breaks the
   * connection: both ends see `onClose` with an error. Default 10 000 ms.
   */
  readonly timeoutMs?: number;
  /** `connect` rejects when no answer came within this long. Default 5 000 ms. */
  readonly connectTimeoutMs?: number;
}

/**
 * Storage settings.
 *
 * @since 2.0.0
 */
export interface SimStorageOptions {
  /** Fixed part of an fsync, in ms. Default 2. */
  readonly fsyncBaseMs?: number;
  /** Uniform random extra part of an fsync, in ms. Default 3. */
  readonly fsyncJitterMs?: number;
  /** Writes a store keeps unsynced before `put` throws `CAPACITY_EXCEEDED`. Default 1 000 000. */
  readonly maxUnsyncedWrites?: number;
  /** Stores one node may open. Default 1 024. */
  readonly maxStoresPerNode?: number;
}

/**
 * Options of a `Simulation`.
 *
 * @since 2.0.0
 */
export interface SimulationOptions {
  /** The one seed every random choice derives from. */
  readonly seed: number | string;
  /** The default link model, applied to every directed link without an override. */
  readonly network?: LinkModelInput;
  /** Stream settings. */
  readonly stream?: SimStreamOptions;
  /** Storage settings. */
  readonly storage?: SimStorageOptions;
  /** The largest datagram, in bytes. Default 65 507 (UDP over IPv4). */
  readonly maxDatagramBytes?: number;
  /** Trace entries kept (the most recent); `0` keeps none (fastest). Default 100 000. */
  readonly traceCapacity?: number;
  /** Wall-clock time, in epoch ms, at virtual time 0. Default 1 700 000 000 000. */
  readonly epochMs?: number;
  /** Queued events before the run fails (a runaway program). Default 10 000 000. */
  readonly maxPendingEvents?: number;
  /** Nodes in one simulation. Default 4 096. */
  readonly maxNodes?: number;
}

/**
 * Options with every default filled in.
 *
 * @since 2.0.0
 */
export interface ResolvedSimulationOptions {
  /** See {@link SimulationOptions.seed}. */
  readonly seed: number | string;
  /** See {@link SimulationOptions.network}. */
  readonly network: LinkModel;
  /** See {@link SimStreamOptions}. */
  readonly stream: Required<SimStreamOptions>;
  /** See {@link SimStorageOptions}. */
  readonly storage: Required<SimStorageOptions>;
  /** See {@link SimulationOptions.maxDatagramBytes}. */
  readonly maxDatagramBytes: number;
  /** See {@link SimulationOptions.traceCapacity}. */
  readonly traceCapacity: number;
  /** See {@link SimulationOptions.epochMs}. */
  readonly epochMs: number;
  /** See {@link SimulationOptions.maxPendingEvents}. */
  readonly maxPendingEvents: number;
  /** See {@link SimulationOptions.maxNodes}. */
  readonly maxNodes: number;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new DistributedError('INVALID_ARGUMENT', `${name} must be a positive integer`);
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new DistributedError('INVALID_ARGUMENT', `${name} must be finite and >= 0`);
  }
  return value;
}

/**
 * Fills in defaults and validates.
 *
 * @param options - As given.
 * @returns The resolved options.
 * @throws DistributedError `INVALID_ARGUMENT` for a bad value.
 * @since 2.0.0
 */
export function resolveSimulationOptions(options: SimulationOptions): ResolvedSimulationOptions {
  const seed = options.seed;
  if (typeof seed === 'number' && !Number.isFinite(seed)) {
    throw new DistributedError('INVALID_ARGUMENT', 'seed must be finite');
  }
  const stream = options.stream ?? {};
  const storage = options.storage ?? {};
  const splitProbability = stream.splitProbability ?? 0.3;
  if (!(splitProbability >= 0 && splitProbability <= 1)) {
    throw new DistributedError('INVALID_ARGUMENT', 'stream.splitProbability must be in [0, 1]');
  }
  return {
    seed,
    network: resolveLinkModel(DEFAULT_LINK_MODEL, options.network),
    stream: {
      highWaterMark: positiveInteger('stream.highWaterMark', stream.highWaterMark ?? 65_536),
      maxSegmentBytes: positiveInteger('stream.maxSegmentBytes', stream.maxSegmentBytes ?? 16_384),
      splitProbability,
      retransmitMs: nonNegative('stream.retransmitMs', stream.retransmitMs ?? 200),
      timeoutMs: nonNegative('stream.timeoutMs', stream.timeoutMs ?? 10_000),
      connectTimeoutMs: nonNegative('stream.connectTimeoutMs', stream.connectTimeoutMs ?? 5_000),
    },
    storage: {
      fsyncBaseMs: nonNegative('storage.fsyncBaseMs', storage.fsyncBaseMs ?? 2),
      fsyncJitterMs: nonNegative('storage.fsyncJitterMs', storage.fsyncJitterMs ?? 3),
      maxUnsyncedWrites: positiveInteger(
        'storage.maxUnsyncedWrites',
        storage.maxUnsyncedWrites ?? 1_000_000,
      ),
      maxStoresPerNode: positiveInteger(
        'storage.maxStoresPerNode',
        storage.maxStoresPerNode ?? 1_024,
      ),
    },
    maxDatagramBytes: positiveInteger('maxDatagramBytes', options.maxDatagramBytes ?? 65_507),
    traceCapacity:
      options.traceCapacity === 0
        ? 0
        : positiveInteger('traceCapacity', options.traceCapacity ?? DEFAULT_TRACE_CAPACITY),
    epochMs: nonNegative('epochMs', options.epochMs ?? 1_700_000_000_000),
    maxPendingEvents: positiveInteger('maxPendingEvents', options.maxPendingEvents ?? 10_000_000),
    maxNodes: positiveInteger('maxNodes', options.maxNodes ?? 4_096),
  };
}
