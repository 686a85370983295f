/**
 * Every tunable of the SWIM failure detector and membership protocol, in one
 * object, with three profiles taken from hashicorp/memberlist's
 * `DefaultLANConfig`, `DefaultWANConfig` and `DefaultLocalConfig` (and, for the
 * reconnect and reap periods memberlist leaves to its caller, serf's
 * defaults), plus the derived timeouts (suspicion, push-pull scaling, the
 * detection bound the simulations check).
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';

/**
 * The tunables of a SWIM node. Times are in milliseconds of the node's
 * monotonic clock.
 *
 * @since 2.0.0
 */
export interface SwimConfig {
  /**
   * Time between probes of one member (the protocol period). Lifeguard
   * stretches it by the local health multiplier. LAN 1 000, WAN 5 000, local 1 000.
   */
  readonly probeIntervalMs: number;
  /**
   * How long a direct ping waits for its ack before indirect probes start.
   * Should be about the 99th percentile round-trip time. Lifeguard stretches it
   * by the local health multiplier. LAN 500, WAN 3 000, local 200.
   */
  readonly probeTimeoutMs: number;
  /** Members asked to ping a target that missed its direct ping (k). LAN 3, WAN 3, local 1. */
  readonly indirectChecks: number;
  /**
   * Sends of each membership update: `max(minTransmits, retransmitMult · ⌈log10(N + 1)⌉)` for N
   * members (memberlist's formula). LAN 4, WAN 4, local 2.
   */
  readonly retransmitMult: number;
  /**
   * The fewest sends of each membership update whatever the cluster size (the
   * project's gossip engine uses the same floor): memberlist's formula gives
   * only 4 sends below 10 members, and an update then misses some member about
   * once in a hundred, to be repaired only by the next push-pull. 12 in every profile.
   */
  readonly minTransmits: number;
  /**
   * The base suspicion timeout is `suspicionMult · max(1, log10(N)) · probeIntervalMs`
   * (the timeout with Lifeguard off, the floor with it on). LAN 4, WAN 6, local 3.
   */
  readonly suspicionMult: number;
  /**
   * With Lifeguard, a suspicion starts at `suspicionMaxTimeoutMult` times the
   * base timeout and shrinks towards the base as independent confirmations
   * arrive. 6 in every profile.
   */
  readonly suspicionMaxTimeoutMult: number;
  /**
   * The largest local health multiplier (Lifeguard's awareness): the health
   * score runs from 0 to `awarenessMaxMultiplier − 1`. 8 in every profile.
   */
  readonly awarenessMaxMultiplier: number;
  /** Time between gossip rounds (sent only while updates are queued). LAN 200, WAN 500, local 100. */
  readonly gossipIntervalMs: number;
  /** Members sent a gossip packet per round. LAN 3, WAN 4, local 3. */
  readonly gossipNodes: number;
  /**
   * How long a dead member still receives gossip (so it can learn it was
   * declared dead and refute). LAN 30 000, WAN 60 000, local 15 000.
   */
  readonly gossipToTheDeadMs: number;
  /**
   * Time between full-state exchanges with a random member, scaled up for
   * clusters above 32 members (see {@link pushPullIntervalFor}). `0` disables
   * the periodic exchange (joins still use it). LAN 30 000, WAN 60 000, local 15 000.
   */
  readonly pushPullIntervalMs: number;
  /**
   * Time between attempts to reach one random dead member with a full-state
   * exchange, so a healed partition merges. `0` disables. Serf's 30 000 in
   * every profile but local (10 000).
   */
  readonly reconnectIntervalMs: number;
  /** Time between join attempts to the seeds until one answers. LAN 1 000, WAN 5 000, local 500. */
  readonly joinRetryIntervalMs: number;
  /**
   * A dead member is forgotten (reaped) this long after it was declared dead;
   * until then it is kept for reconnect attempts. Serf's 24 h (LAN, WAN); local 1 h.
   */
  readonly deadRetentionMs: number;
  /** A member that left is forgotten this long after it left. Serf's 24 h (LAN, WAN); local 1 h. */
  readonly leftRetentionMs: number;
  /**
   * The largest packet sent (probe, gossip, or one chunk of a full-state
   * exchange), in bytes; memberlist's UDP buffer size. 1 400 in every profile.
   */
  readonly maxPacketBytes: number;
  /** The most members remembered (dead and left included); more are ignored. 10 000. */
  readonly maxMembers: number;
  /** The most membership updates queued for dissemination; the most-sent is evicted first. 1 024. */
  readonly maxQueuedUpdates: number;
  /** The most indirect probes relayed for others at once; more requests are dropped. 1 024. */
  readonly maxRelays: number;
  /** The largest member metadata (keys and values, UTF-8 bytes); memberlist's MetaMaxSize. 512. */
  readonly maxMetaBytes: number;
  /**
   * Lifeguard on or off: local health awareness, dynamic suspicion timeouts,
   * the buddy system and nacks. Off gives classic SWIM with a fixed suspicion
   * timeout, for comparison. On in every profile.
   */
  readonly lifeguard: boolean;
  /**
   * memberlist's TCP fallback ping (its `DisableTcpPings`, inverted): when the
   * direct ping misses its timeout, the prober also pings the target over a
   * reliable stream, alongside the ping-reqs, and an ack that comes back that
   * way before the period ends counts. A datagram path that loses packets then
   * no longer makes a reachable member suspect. Needs a stream channel in the
   * driver; a driver without one (e.g. SWIM over the P2P gossip transport)
   * runs with it off. On in every profile.
   */
  readonly fallbackPing: boolean;
}

/**
 * The LAN profile: memberlist's `DefaultLANConfig`.
 *
 * @since 2.0.0
 */
export const SWIM_LAN_CONFIG: SwimConfig = Object.freeze({
  probeIntervalMs: 1_000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  retransmitMult: 4,
  minTransmits: 12,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  awarenessMaxMultiplier: 8,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  reconnectIntervalMs: 30_000,
  joinRetryIntervalMs: 1_000,
  deadRetentionMs: 24 * 3_600_000,
  leftRetentionMs: 24 * 3_600_000,
  maxPacketBytes: 1_400,
  maxMembers: 10_000,
  maxQueuedUpdates: 1_024,
  maxRelays: 1_024,
  maxMetaBytes: 512,
  lifeguard: true,
  fallbackPing: true,
});

/**
 * The WAN profile: memberlist's `DefaultWANConfig` (slower probes, longer
 * timeouts, more gossip fan-out).
 *
 * @since 2.0.0
 */
export const SWIM_WAN_CONFIG: SwimConfig = Object.freeze({
  ...SWIM_LAN_CONFIG,
  probeIntervalMs: 5_000,
  probeTimeoutMs: 3_000,
  suspicionMult: 6,
  gossipIntervalMs: 500,
  gossipNodes: 4,
  gossipToTheDeadMs: 60_000,
  pushPullIntervalMs: 60_000,
  joinRetryIntervalMs: 5_000,
});

/**
 * The local (loopback, one machine) profile: memberlist's `DefaultLocalConfig`.
 *
 * @since 2.0.0
 */
export const SWIM_LOCAL_CONFIG: SwimConfig = Object.freeze({
  ...SWIM_LAN_CONFIG,
  probeTimeoutMs: 200,
  indirectChecks: 1,
  retransmitMult: 2,
  suspicionMult: 3,
  gossipIntervalMs: 100,
  gossipToTheDeadMs: 15_000,
  pushPullIntervalMs: 15_000,
  reconnectIntervalMs: 10_000,
  joinRetryIntervalMs: 500,
  deadRetentionMs: 3_600_000,
  leftRetentionMs: 3_600_000,
});

/**
 * The profiles by name.
 *
 * @since 2.0.0
 */
export const SWIM_PROFILES: Readonly<{
  /** {@link SWIM_LAN_CONFIG}. */
  lan: SwimConfig;
  /** {@link SWIM_WAN_CONFIG}. */
  wan: SwimConfig;
  /** {@link SWIM_LOCAL_CONFIG}. */
  local: SwimConfig;
}> = Object.freeze({
  lan: SWIM_LAN_CONFIG,
  wan: SWIM_WAN_CONFIG,
  local: SWIM_LOCAL_CONFIG,
});

/**
 * A profile name; see {@link SWIM_PROFILES}.
 *
 * @since 2.0.0
 */
export type SwimProfile = keyof typeof SWIM_PROFILES;

/** Settings that are counts (positive integers). */
const INTEGER_SETTINGS = [
  'indirectChecks',
  'retransmitMult',
  'minTransmits',
  'suspicionMult',
  'suspicionMaxTimeoutMult',
  'awarenessMaxMultiplier',
  'gossipNodes',
  'maxPacketBytes',
  'maxMembers',
  'maxQueuedUpdates',
  'maxRelays',
  'maxMetaBytes',
] as const;

/** Durations that must be positive. */
const POSITIVE_DURATIONS = [
  'probeIntervalMs',
  'probeTimeoutMs',
  'gossipIntervalMs',
  'joinRetryIntervalMs',
] as const;

/** Durations that may be zero (disabled, or forget at once). */
const NON_NEGATIVE_DURATIONS = [
  'gossipToTheDeadMs',
  'pushPullIntervalMs',
  'reconnectIntervalMs',
  'deadRetentionMs',
  'leftRetentionMs',
] as const;

/** The smallest packet that holds a probe with the longest ids. */
const MIN_PACKET_BYTES = 1_200;
/** Datagrams above this cannot be sent over IPv4 UDP. */
const MAX_PACKET_BYTES = 65_507;

/**
 * Builds a complete, validated config: a profile with overrides.
 *
 * @param overrides - Settings that differ from the profile.
 * @param profile - The base profile; default `'lan'`.
 * @returns A frozen config.
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a setting out of range
 *   (counts must be positive integers, durations finite; the probe timeout must
 *   be shorter than the interval; `maxPacketBytes` 1 200..65 507).
 * @since 2.0.0
 */
export function resolveSwimConfig(
  overrides: Partial<SwimConfig> = {},
  profile: SwimProfile = 'lan',
): SwimConfig {
  const base = Object.hasOwn(SWIM_PROFILES, profile) ? SWIM_PROFILES[profile] : undefined;
  if (base === undefined) {
    throw new DistributedError('INVALID_ARGUMENT', `unknown SWIM profile '${profile}'`);
  }
  const defined = Object.fromEntries(
    Object.entries(overrides as Record<string, unknown>).filter(([, value]) => value !== undefined),
  );
  const config = { ...base, ...defined } as SwimConfig & Record<string, unknown>;
  for (const name of INTEGER_SETTINGS) {
    const value = config[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new DistributedError('INVALID_ARGUMENT', `${name} must be a positive integer`);
    }
  }
  for (const name of POSITIVE_DURATIONS) {
    const value = config[name];
    if (!Number.isFinite(value) || value <= 0) {
      throw new DistributedError('INVALID_ARGUMENT', `${name} must be a positive duration`);
    }
  }
  for (const name of NON_NEGATIVE_DURATIONS) {
    const value = config[name];
    if (!Number.isFinite(value) || value < 0) {
      throw new DistributedError('INVALID_ARGUMENT', `${name} must be a finite duration >= 0`);
    }
  }
  if (config.probeTimeoutMs >= config.probeIntervalMs) {
    throw new DistributedError('INVALID_ARGUMENT', 'probeTimeoutMs must be < probeIntervalMs');
  }
  if (config.maxPacketBytes < MIN_PACKET_BYTES || config.maxPacketBytes > MAX_PACKET_BYTES) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `maxPacketBytes must be in ${MIN_PACKET_BYTES}..${MAX_PACKET_BYTES}`,
    );
  }
  for (const name of ['lifeguard', 'fallbackPing'] as const) {
    if (typeof config[name] !== 'boolean') {
      throw new DistributedError('INVALID_ARGUMENT', `${name} must be a boolean`);
    }
  }
  return Object.freeze(config);
}

/**
 * The base suspicion timeout for a cluster of `memberCount` members:
 * `suspicionMult · max(1, log10(max(1, N))) · probeIntervalMs` (memberlist's
 * `suspicionTimeout`). It grows with log N because a suspicion must have time
 * to reach the suspected member, which takes O(log N) gossip rounds.
 *
 * @param config - The config.
 * @param memberCount - Members believed alive or suspect, this one included.
 * @returns Milliseconds.
 * @since 2.0.0
 */
export function baseSuspicionTimeoutMs(config: SwimConfig, memberCount: number): number {
  const scale = Math.max(1, Math.log10(Math.max(1, memberCount)));
  return Math.floor(config.suspicionMult * scale * config.probeIntervalMs);
}

/**
 * The longest a suspicion can last before the member is declared dead: with
 * Lifeguard, `suspicionMaxTimeoutMult` times the base (when no independent
 * confirmation arrives); without, the base.
 *
 * @param config - The config.
 * @param memberCount - Members believed alive or suspect, this one included.
 * @returns Milliseconds.
 * @since 2.0.0
 */
export function maxSuspicionTimeoutMs(config: SwimConfig, memberCount: number): number {
  const base = baseSuspicionTimeoutMs(config, memberCount);
  return config.lifeguard ? base * config.suspicionMaxTimeoutMult : base;
}

/**
 * The push-pull period for a cluster of `memberCount` members: the configured
 * interval up to 32 members, then multiplied by `⌈log2 N − log2 32⌉ + 1`
 * (memberlist's `pushPullScale`), so full-state traffic grows slower than N.
 *
 * @param config - The config.
 * @param memberCount - Members known.
 * @returns Milliseconds; 0 when periodic push-pull is disabled.
 * @since 2.0.0
 */
export function pushPullIntervalFor(config: SwimConfig, memberCount: number): number {
  const threshold = 32;
  if (memberCount <= threshold) return config.pushPullIntervalMs;
  const multiplier = Math.ceil(Math.log2(memberCount) - Math.log2(threshold)) + 1;
  return config.pushPullIntervalMs * multiplier;
}

/**
 * Probe periods allowed, in {@link failureDetectionBoundMs}, for some live
 * member to probe a crashed one. With randomised round-robin each of the N − 1
 * live members probes it within one pass of its list, at a uniformly random
 * position, so the chance nobody has probed it after t periods is about
 * `(1 − t/(N−1))^(N−1) ≤ e^−t`: 1.2·10⁻⁴ for t = 9.
 *
 * @since 2.0.0
 */
export const DETECTION_PROBE_PERIODS = 9;

/**
 * Gossip rounds allowed, in {@link failureDetectionBoundMs}, for the dead
 * declaration to reach every live member (an epidemic takes about log N rounds;
 * members that miss it still declare the member dead when their own suspicion
 * timer runs out, which the max suspicion timeout already covers).
 *
 * @since 2.0.0
 */
export const DETECTION_GOSSIP_ROUNDS = 10;

/**
 * The failure-detection bound the completeness simulation checks: every live
 * member declares a crashed member dead within
 * `DETECTION_PROBE_PERIODS · probeIntervalMs + probeIntervalMs` (to notice the
 * failed probe) `+ maxSuspicionTimeoutMs(N) + DETECTION_GOSSIP_ROUNDS · gossipIntervalMs`
 * of the crash, in a healthy cluster (health multipliers at 1). With the LAN
 * profile and Lifeguard on that is 36 s for N ≤ 10 and 10 s + 24·log10(N) s + 2 s
 * above; most runs finish far sooner because confirmations shrink the suspicion
 * timeout towards its base (measured numbers are in docs/swim.md).
 *
 * @param config - The config.
 * @param memberCount - Members in the cluster before the crash.
 * @returns Milliseconds.
 * @since 2.0.0
 */
export function failureDetectionBoundMs(config: SwimConfig, memberCount: number): number {
  return (
    (DETECTION_PROBE_PERIODS + 1) * config.probeIntervalMs +
    maxSuspicionTimeoutMs(config, memberCount) +
    DETECTION_GOSSIP_ROUNDS * config.gossipIntervalMs
  );
}
