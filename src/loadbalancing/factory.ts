/**
 * One factory for every strategy: the shared {@link LoadBalancingAlgorithm}
 * value, or a variant name, plus options.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../contracts/errors.js';
import type { LoadBalancingAlgorithm } from '../contracts/load-balancing-algorithm.js';
import {
  AdaptiveLoadBalancer,
  type AdaptiveLoadBalancerOptions,
} from './adaptive-load-balancer.js';
import {
  ConsistentHashingLoadBalancer,
  type ConsistentHashingLoadBalancerOptions,
} from './consistent-hashing-load-balancer.js';
import {
  LatencyBasedLoadBalancer,
  type LatencyBasedLoadBalancerOptions,
} from './latency-based-load-balancer.js';
import { LeastRequestLoadBalancer } from './least-request-load-balancer.js';
import type { PooledLoadBalancer } from './pooled-load-balancer.js';
import { RandomLoadBalancer, type RandomLoadBalancerOptions } from './random-load-balancer.js';
import {
  ResourceAwareLoadBalancer,
  type ResourceAwareLoadBalancerOptions,
} from './resource-aware-load-balancer.js';
import { RoundRobinLoadBalancer } from './round-robin-load-balancer.js';
import { SmoothWeightedRoundRobinLoadBalancer } from './weighted-round-robin-load-balancer.js';

/**
 * The variant names {@link createLoadBalancer} accepts besides the eight
 * {@link LoadBalancingAlgorithm} values, and what each builds:
 *
 * - `least-request` → `least-connections/p2c`
 * - `weighted-random` → `random/weighted`
 * - `ewma` → `latency-based/ewma`; `peak-ewma` → `latency-based/peak-ewma`
 * - `ring-hash` → `consistent-hashing/ring`; `maglev` → `consistent-hashing/maglev`;
 *   `bounded-load` → `consistent-hashing/bounded-load`
 * - `smooth-weighted-round-robin` → `weighted-round-robin/smooth`
 *
 * Each strategy's precise `algorithmName` (for example `consistent-hashing/maglev`)
 * is accepted too.
 *
 * @since 2.0.0
 */
export const LOAD_BALANCER_VARIANTS = Object.freeze([
  'least-request',
  'weighted-random',
  'ewma',
  'peak-ewma',
  'ring-hash',
  'maglev',
  'bounded-load',
  'smooth-weighted-round-robin',
] as const);

/**
 * A variant name; see {@link LOAD_BALANCER_VARIANTS}.
 *
 * @since 2.0.0
 */
export type LoadBalancerVariant = (typeof LOAD_BALANCER_VARIANTS)[number];

/**
 * Options for {@link createLoadBalancer}: the union of every strategy's
 * options; each strategy reads the ones it knows.
 *
 * @since 2.0.0
 */
export interface LoadBalancerFactoryOptions
  extends
    Omit<ConsistentHashingLoadBalancerOptions, 'variant'>,
    Omit<LatencyBasedLoadBalancerOptions, 'variant'>,
    RandomLoadBalancerOptions,
    ResourceAwareLoadBalancerOptions,
    AdaptiveLoadBalancerOptions {
  /** For `consistent-hashing`: `ring` (default), `maglev` or `bounded-load`. For `latency-based`: `ewma` (default) or `peak-ewma`. */
  readonly variant?:
    ConsistentHashingLoadBalancerOptions['variant'] | LatencyBasedLoadBalancerOptions['variant'];
}

/** Every name the factory accepts, mapped to the precise name it builds. */
const CANONICAL: Readonly<Record<string, string>> = Object.freeze({
  'round-robin': 'round-robin',
  'weighted-round-robin': 'weighted-round-robin/smooth',
  'weighted-round-robin/smooth': 'weighted-round-robin/smooth',
  'smooth-weighted-round-robin': 'weighted-round-robin/smooth',
  random: 'random',
  'weighted-random': 'random/weighted',
  'random/weighted': 'random/weighted',
  'least-connections': 'least-connections',
  'least-request': 'least-connections',
  'least-connections/p2c': 'least-connections',
  'latency-based': 'latency-based',
  ewma: 'latency-based/ewma',
  'latency-based/ewma': 'latency-based/ewma',
  'peak-ewma': 'latency-based/peak-ewma',
  'latency-based/peak-ewma': 'latency-based/peak-ewma',
  'consistent-hashing': 'consistent-hashing',
  'ring-hash': 'consistent-hashing/ring',
  'consistent-hashing/ring': 'consistent-hashing/ring',
  maglev: 'consistent-hashing/maglev',
  'consistent-hashing/maglev': 'consistent-hashing/maglev',
  'bounded-load': 'consistent-hashing/bounded-load',
  'consistent-hashing/bounded-load': 'consistent-hashing/bounded-load',
  'resource-aware': 'resource-aware',
  'resource-aware/headroom': 'resource-aware',
  adaptive: 'adaptive',
});

/**
 * Every name {@link createLoadBalancer} accepts (for `--lb` help and validation).
 *
 * @since 2.0.0
 */
export const LOAD_BALANCER_NAMES: readonly string[] = Object.freeze(Object.keys(CANONICAL));

/**
 * Builds a strategy by name.
 *
 * `consistent-hashing` takes `options.variant` (`ring` | `maglev` | `bounded-load`),
 * `latency-based` takes `options.variant` (`ewma` | `peak-ewma`); the variant
 * names and the precise `algorithmName`s select them directly (a variant in the
 * name wins over `options.variant`).
 *
 * @param algorithm - A {@link LoadBalancingAlgorithm}, a {@link LoadBalancerVariant}
 *   or a precise algorithm name.
 * @param options - Options of the strategy built.
 * @returns A new strategy, every one an `ObservedLoadBalancer`.
 * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for an unknown name or invalid options.
 * @since 2.0.0
 */
export function createLoadBalancer(
  algorithm: LoadBalancingAlgorithm | LoadBalancerVariant | (string & {}),
  options: LoadBalancerFactoryOptions = {},
): PooledLoadBalancer {
  const name = CANONICAL[algorithm];
  if (name === undefined) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `unknown load-balancing algorithm '${algorithm}'; known: ${LOAD_BALANCER_NAMES.join(', ')}`,
    );
  }
  const { variant, ...rest } = options;
  switch (name) {
    case 'round-robin':
      return new RoundRobinLoadBalancer(rest);
    case 'weighted-round-robin/smooth':
      return new SmoothWeightedRoundRobinLoadBalancer(rest);
    case 'random':
      return new RandomLoadBalancer(rest);
    case 'random/weighted':
      return new RandomLoadBalancer({ ...rest, weighted: true });
    case 'least-connections':
      return new LeastRequestLoadBalancer(rest);
    case 'latency-based':
      return new LatencyBasedLoadBalancer({
        ...rest,
        ...(variant === undefined
          ? {}
          : { variant: variant as LatencyBasedLoadBalancerOptions['variant'] & string }),
      });
    case 'latency-based/ewma':
      return new LatencyBasedLoadBalancer({ ...rest, variant: 'ewma' });
    case 'latency-based/peak-ewma':
      return new LatencyBasedLoadBalancer({ ...rest, variant: 'peak-ewma' });
    case 'consistent-hashing':
      return new ConsistentHashingLoadBalancer({
        ...rest,
        ...(variant === undefined
          ? {}
          : { variant: variant as ConsistentHashingLoadBalancerOptions['variant'] & string }),
      });
    case 'consistent-hashing/ring':
      return new ConsistentHashingLoadBalancer({ ...rest, variant: 'ring' });
    case 'consistent-hashing/maglev':
      return new ConsistentHashingLoadBalancer({ ...rest, variant: 'maglev' });
    case 'consistent-hashing/bounded-load':
      return new ConsistentHashingLoadBalancer({ ...rest, variant: 'bounded-load' });
    case 'resource-aware':
      return new ResourceAwareLoadBalancer(rest);
    default:
      return new AdaptiveLoadBalancer(rest);
  }
}
