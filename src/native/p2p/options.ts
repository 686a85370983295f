/**
 * Options of the native `NativeP2PNetwork`: every bound, timeout and
 * policy, with its default, validated once at construction.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import { WIRE_REJECT_REASONS, type WireRejectReason } from '../../core/wire/wire-error.js';
import type { NetworkAddress, Runtime } from '../../runtime/runtime.js';
import type { SecureCodec } from '../transport/secure-codec.js';
import type { TransportSecurity } from '../transport/tls-psk.js';

/**
 * Every reason the native network refuses an inbound frame: the wire reasons
 * (see {@link WIRE_REJECT_REASONS}) plus `protocol`, for a frame that decodes
 * and authenticates but breaks the connection protocol (a first frame that is
 * not a `hello`, a malformed `hello`, a sender id that changes within one
 * connection, an envelope kind the network does not handle).
 *
 * @since 2.0.0
 */
export const P2P_REJECT_REASONS = Object.freeze([...WIRE_REJECT_REASONS, 'protocol'] as const);

/**
 * A reason an inbound frame was refused; see {@link P2P_REJECT_REASONS}.
 *
 * @since 2.0.0
 */
export type P2PRejectReason = WireRejectReason | 'protocol';

/**
 * Who sent a refused frame, as far as the network knows.
 *
 * @since 2.0.0
 */
export interface RejectSource {
  /** The sender's peer id, once its `hello` was accepted on this connection. */
  readonly peerId?: string;
  /** The remote end of the connection. */
  readonly remote: NetworkAddress;
}

/**
 * Reconnection backoff: after the `n`-th consecutive failure (from 0) the next
 * attempt waits `min(maxMs, initialMs · 2ⁿ)`, of which the fraction `jitter`
 * is drawn at random from the runtime's random source, so peers that failed
 * together do not retry together.
 *
 * @since 2.0.0
 */
export interface ReconnectOptions {
  /** The first delay, in ms. Default 100. */
  readonly initialMs?: number;
  /** The largest delay, in ms. Default 10 000. */
  readonly maxMs?: number;
  /** The random fraction of each delay, in [0, 1]. Default 0.5. */
  readonly jitter?: number;
}

/**
 * Options of `NativeP2PNetwork`. `runtime`, `localPeerId`, `listen` and
 * `codec` (unless `transportSecurity` is `'tls-psk'`) are required; every bound has a default.
 *
 * @since 2.0.0
 */
export interface NativeP2PNetworkOptions {
  /** Everything the network touches of the world: clock, random source, sockets. */
  readonly runtime: Runtime;
  /** This node's peer id: non-empty, at most 256 UTF-8 bytes; unique in the network. */
  readonly localPeerId: string;
  /** Where to listen for peers; port `0` picks a free one (see `NativeP2PNetwork.listenAddress`). */
  readonly listen: NetworkAddress;
  /**
   * The address other peers should dial, announced in `hello`. Default: the
   * bound listen address; when it is a wildcard host (`''`, `0.0.0.0`, `::`),
   * the local address of each connection.
   */
  readonly advertise?: NetworkAddress;
  /** Addresses to dial at start to find the network; retried with backoff while no known peer has them. */
  readonly seeds?: readonly NetworkAddress[];
  /**
   * Seals and opens every frame body (authenticated encryption, replay protection).
   * Required with `transportSecurity` `'codec'` (the default); must be absent with `'tls-psk'`.
   */
  readonly codec?: SecureCodec;
  /**
   * Where the frames' authenticated encryption happens; see `TransportSecurity`.
   * Default `'codec'`. With `'tls-psk'` the runtime's network must be a
   * `TlsPskNetwork` and the network makes its own plaintext-frame codec.
   */
  readonly transportSecurity?: TransportSecurity;
  /** Labels advertised to other peers in `PeerInfo.metadata`; at most 32 entries of at most 256 characters. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** How long `NativeP2PNetwork.requestFromPeer` waits for the response, in ms. Default 5 000. */
  readonly requestTimeoutMs?: number;
  /**
   * A connection with no traffic in either direction for this long is closed,
   * in ms. Keepalive probes do not count as traffic. Default 60 000.
   */
  readonly idleCloseMs?: number;
  /**
   * A connection on which nothing was received for this long is probed with a
   * keepalive (a two-byte control message, sealed like every frame), in ms; the
   * peer answers at once. So a peer that died or hung while the connection was
   * quiet is noticed without waiting for the next send. Default
   * {@link DEFAULT_KEEPALIVE_INTERVAL_MS}.
   */
  readonly keepaliveIntervalMs?: number;
  /**
   * A probed connection on which still nothing was received this long after
   * the probe is reset as failed, in ms: the network redials, and reports the
   * peer lost once redials have failed for `lostAfterMs`. Default
   * {@link DEFAULT_KEEPALIVE_TIMEOUT_MS}.
   */
  readonly keepaliveTimeoutMs?: number;
  /** A connection whose peer has not said `hello` within this long is reset, in ms. Default 10 000. */
  readonly handshakeTimeoutMs?: number;
  /** How long `NativeP2PNetwork.close` waits for connections to close after its goodbyes, in ms. Default 2 000. */
  readonly closeTimeoutMs?: number;
  /** Reconnection backoff; see {@link ReconnectOptions}. */
  readonly reconnect?: ReconnectOptions;
  /**
   * A peer whose connection failed is reported lost (and forgotten) once
   * reconnection attempts have kept failing for this long, in ms. Default 30 000.
   * A peer that closes its network gracefully says goodbye and is lost at once.
   */
  readonly lostAfterMs?: number;
  /**
   * Bytes of messages, requests and responses queued for one peer and not yet
   * handed to a connection. A send that would exceed it is refused with
   * `CAPACITY_EXCEEDED` (backpressure to the caller); nothing already queued is
   * dropped for it. Default 8 MiB.
   */
  readonly maxOutboundQueueBytes?: number;
  /** Known peers; a new peer past it is refused (its connection closed). Default 1 024. */
  readonly maxPeers?: number;
  /** Open connections, inbound and outbound together; more are reset. Default 2 048. */
  readonly maxConnections?: number;
  /** Requests this node waits on at once; more are refused with `CAPACITY_EXCEEDED`. Default 4 096. */
  readonly maxPendingRequests?: number;
  /** Inbound requests handled at once; more are answered with `CAPACITY_EXCEEDED`. Default 1 024. */
  readonly maxInboundRequests?: number;
  /** The largest message, request or response, in bytes; larger ones are `INVALID_ARGUMENT`. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** The largest frame accepted, in bytes. Default: the wire default (1 MiB + 4 KiB). */
  readonly maxFrameBytes?: number;
  /**
   * Told about every refused inbound frame, after it is counted (see
   * `NativeP2PNetwork.stats`). Default: a one-line warning on standard error.
   */
  readonly onReject?: (reason: P2PRejectReason, source: RejectSource) => void;
  /** Receives errors thrown by event listeners and the reject hook. Default: standard error. */
  readonly onListenerError?: (error: unknown) => void;
}

/**
 * The options of {@link NativeP2PNetworkOptions} with every default applied.
 *
 * @since 2.0.0
 */
export interface ResolvedP2POptions {
  /** See {@link NativeP2PNetworkOptions.requestTimeoutMs}. */
  readonly requestTimeoutMs: number;
  /** See {@link NativeP2PNetworkOptions.idleCloseMs}. */
  readonly idleCloseMs: number;
  /** See {@link NativeP2PNetworkOptions.keepaliveIntervalMs}. */
  readonly keepaliveIntervalMs: number;
  /** See {@link NativeP2PNetworkOptions.keepaliveTimeoutMs}. */
  readonly keepaliveTimeoutMs: number;
  /** See {@link NativeP2PNetworkOptions.handshakeTimeoutMs}. */
  readonly handshakeTimeoutMs: number;
  /** See {@link NativeP2PNetworkOptions.closeTimeoutMs}. */
  readonly closeTimeoutMs: number;
  /** See {@link ReconnectOptions.initialMs}. */
  readonly reconnectInitialMs: number;
  /** See {@link ReconnectOptions.maxMs}. */
  readonly reconnectMaxMs: number;
  /** See {@link ReconnectOptions.jitter}. */
  readonly reconnectJitter: number;
  /** See {@link NativeP2PNetworkOptions.lostAfterMs}. */
  readonly lostAfterMs: number;
  /** See {@link NativeP2PNetworkOptions.maxOutboundQueueBytes}. */
  readonly maxOutboundQueueBytes: number;
  /** See {@link NativeP2PNetworkOptions.maxPeers}. */
  readonly maxPeers: number;
  /** See {@link NativeP2PNetworkOptions.maxConnections}. */
  readonly maxConnections: number;
  /** See {@link NativeP2PNetworkOptions.maxPendingRequests}. */
  readonly maxPendingRequests: number;
  /** See {@link NativeP2PNetworkOptions.maxInboundRequests}. */
  readonly maxInboundRequests: number;
  /** See {@link NativeP2PNetworkOptions.maxMessageBytes}. */
  readonly maxMessageBytes: number;
  /** See {@link NativeP2PNetworkOptions.maxFrameBytes}; `undefined` for the wire default. */
  readonly maxFrameBytes: number | undefined;
  /** See {@link NativeP2PNetworkOptions.metadata}. */
  readonly metadata: Readonly<Record<string, string>>;
  /** See {@link NativeP2PNetworkOptions.onReject}. */
  readonly onReject: (reason: P2PRejectReason, source: RejectSource) => void;
  /** See {@link NativeP2PNetworkOptions.onListenerError}. */
  readonly onListenerError: (error: unknown) => void;
}

/**
 * The default {@link NativeP2PNetworkOptions.keepaliveIntervalMs}: 5 s. Short
 * enough that a dead peer is noticed well within the default `lostAfterMs`,
 * long enough that a quiet cluster of a thousand connections sends a few
 * hundred two-byte probes a second at most; a busy connection sends none.
 *
 * @since 2.0.0
 */
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 5_000;

/**
 * The default {@link NativeP2PNetworkOptions.keepaliveTimeoutMs}: 10 s, so a
 * peer's garbage-collection pause or a loaded event loop is not taken for a
 * dead peer.
 *
 * @since 2.0.0
 */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 10_000;

const MAX_METADATA_ENTRIES = 32;
const MAX_METADATA_CHARS = 256;

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < 1) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `${name} must be a positive integer, got ${String(resolved)}`,
    );
  }
  return resolved;
}

function checkAddress(name: string, address: unknown, allowPortZero: boolean): void {
  const candidate = address as NetworkAddress | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.host !== 'string' ||
    !Number.isInteger(candidate.port) ||
    candidate.port < (allowPortZero ? 0 : 1) ||
    candidate.port > 65_535
  ) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `${name} must be { host: string, port: ${allowPortZero ? 0 : 1}..65535 }`,
    );
  }
}

/**
 * Validates `options` and applies the defaults.
 *
 * @param options - What the caller supplied.
 * @returns The resolved options.
 * @throws A `DistributedError` `INVALID_ARGUMENT` for a bad option.
 * @since 2.0.0
 */
export function resolveP2POptions(options: NativeP2PNetworkOptions): ResolvedP2POptions {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new DistributedError('INVALID_ARGUMENT', 'options are required');
  }
  const id = options.localPeerId;
  if (typeof id !== 'string' || id === '' || new TextEncoder().encode(id).length > 256) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      'localPeerId must be a non-empty string of at most 256 UTF-8 bytes',
    );
  }
  checkAddress('listen', options.listen, true);
  if (options.advertise !== undefined) checkAddress('advertise', options.advertise, false);
  for (const seed of options.seeds ?? []) checkAddress('each seed', seed, false);
  const reconnect = options.reconnect ?? {};
  const reconnectInitialMs = positiveInt('reconnect.initialMs', reconnect.initialMs, 100);
  const reconnectMaxMs = positiveInt('reconnect.maxMs', reconnect.maxMs, 10_000);
  const reconnectJitter = reconnect.jitter ?? 0.5;
  if (!(reconnectJitter >= 0 && reconnectJitter <= 1)) {
    throw new DistributedError('INVALID_ARGUMENT', 'reconnect.jitter must be in [0, 1]');
  }
  if (reconnectMaxMs < reconnectInitialMs) {
    throw new DistributedError('INVALID_ARGUMENT', 'reconnect.maxMs must be >= initialMs');
  }
  const metadata = options.metadata ?? {};
  const entries = Object.entries(metadata);
  if (
    entries.length > MAX_METADATA_ENTRIES ||
    entries.some(
      ([key, value]) =>
        typeof value !== 'string' ||
        key.length > MAX_METADATA_CHARS ||
        value.length > MAX_METADATA_CHARS,
    )
  ) {
    throw new DistributedError(
      'INVALID_ARGUMENT',
      `metadata must have at most ${MAX_METADATA_ENTRIES} string entries of at most ${MAX_METADATA_CHARS} characters`,
    );
  }
  const maxPeers = positiveInt('maxPeers', options.maxPeers, 1024);
  return {
    requestTimeoutMs: positiveInt('requestTimeoutMs', options.requestTimeoutMs, 5_000),
    idleCloseMs: positiveInt('idleCloseMs', options.idleCloseMs, 60_000),
    keepaliveIntervalMs: positiveInt(
      'keepaliveIntervalMs',
      options.keepaliveIntervalMs,
      DEFAULT_KEEPALIVE_INTERVAL_MS,
    ),
    keepaliveTimeoutMs: positiveInt(
      'keepaliveTimeoutMs',
      options.keepaliveTimeoutMs,
      DEFAULT_KEEPALIVE_TIMEOUT_MS,
    ),
    handshakeTimeoutMs: positiveInt('handshakeTimeoutMs', options.handshakeTimeoutMs, 10_000),
    closeTimeoutMs: positiveInt('closeTimeoutMs', options.closeTimeoutMs, 2_000),
    reconnectInitialMs,
    reconnectMaxMs,
    reconnectJitter,
    lostAfterMs: positiveInt('lostAfterMs', options.lostAfterMs, 30_000),
    maxOutboundQueueBytes: positiveInt(
      'maxOutboundQueueBytes',
      options.maxOutboundQueueBytes,
      8 * 1024 * 1024,
    ),
    maxPeers,
    maxConnections: positiveInt('maxConnections', options.maxConnections, 2 * maxPeers),
    maxPendingRequests: positiveInt('maxPendingRequests', options.maxPendingRequests, 4_096),
    maxInboundRequests: positiveInt('maxInboundRequests', options.maxInboundRequests, 1_024),
    maxMessageBytes: positiveInt('maxMessageBytes', options.maxMessageBytes, 1024 * 1024),
    maxFrameBytes:
      options.maxFrameBytes === undefined
        ? undefined
        : positiveInt('maxFrameBytes', options.maxFrameBytes, 1),
    metadata: Object.freeze({ ...metadata }),
    onReject:
      options.onReject ??
      ((reason, source) => {
        console.warn(
          `p2p: refused a frame from ${source.peerId ?? '?'} at ${source.remote.host}:${source.remote.port}: ${reason}`,
        );
      }),
    onListenerError:
      options.onListenerError ??
      ((error: unknown) => {
        console.error('p2p: a listener threw:', error);
      }),
  };
}

/**
 * The delay before reconnection attempt `attempt` (0 for the first retry).
 *
 * @param options - The resolved backoff settings.
 * @param attempt - Consecutive failures so far, minus one.
 * @param random - A uniform number in [0, 1).
 * @returns The delay in ms.
 * @since 2.0.0
 */
export function backoffDelay(options: ResolvedP2POptions, attempt: number, random: number): number {
  const base = Math.min(
    options.reconnectMaxMs,
    options.reconnectInitialMs * 2 ** Math.min(attempt, 30),
  );
  return Math.round(base * (1 - options.reconnectJitter) + base * options.reconnectJitter * random);
}
