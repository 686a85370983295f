/**
 * The native {@link P2PNetwork}: peers over stream connections of a
 * {@link Runtime} (real TCP on the Node runtime, modelled streams in the
 * simulator), every frame sealed by a {@link SecureCodec}.
 *
 * @packageDocumentation
 */

import { RequestHandlerSlot } from '../../core/request-handler-slot.js';
import type { CallOptions, Listener, Unsubscribe } from '../../contracts/common.js';
import { DistributedError, ERROR_CODES, type ErrorCode } from '../../contracts/errors.js';
import type {
  P2PNetwork,
  PeerEvent,
  PeerEventType,
  PeerInfo,
  PeerMessage,
  PeerRequestHandler,
} from '../../contracts/p2p-network.js';
import { EventHub } from '../../core/events.js';
import { WIRE_VERSION, type Envelope, type EnvelopeKind } from '../../core/wire/envelope.js';
import { FRAME_PREFIX_BYTES } from '../../core/wire/frame.js';
import { WireError } from '../../core/wire/wire-error.js';
import type {
  NetworkAddress,
  Runtime,
  StreamConnection,
  StreamListener,
  Timer,
} from '../../runtime/runtime.js';
import type { SecureCodec } from '../transport/secure-codec.js';
import {
  CONTROL_LIMITS,
  decodeControl,
  decodeHello,
  encodeControl,
  encodeHello,
  type ControlMessage,
  type PeerAddressRecord,
} from './control.js';
import {
  P2P_REJECT_REASONS,
  backoffDelay,
  resolveP2POptions,
  type NativeP2PNetworkOptions,
  type P2PRejectReason,
  type ResolvedP2POptions,
} from './options.js';
import { PeerConnection, type SeedState } from './peer-connection.js';

/**
 * Counters of a {@link NativeP2PNetwork}, for metrics and tests.
 *
 * @since 2.0.0
 */
export interface NativeP2PStats {
  /** Refused inbound frames, by reason. */
  readonly rejected: Readonly<Record<P2PRejectReason, number>>;
  /** Frames written. */
  readonly framesSent: number;
  /** Frames received and accepted. */
  readonly framesReceived: number;
  /**
   * Queued envelopes discarded because their peer was lost or the network
   * closed before a connection took them.
   */
  readonly queuedDropped: number;
  /** Broadcast copies skipped because the peer's outbound queue was full. */
  readonly broadcastsSkipped: number;
  /** Responses that could not be queued back to the requester (its queue was full or it was lost). */
  readonly repliesDropped: number;
  /** Responses that arrived after their request settled (timed out, aborted). */
  readonly lateResponses: number;
  /** Open connections (greeted or handshaking). */
  readonly connections: number;
  /** Known peers. */
  readonly knownPeers: number;
  /** Requests waiting for a response. */
  readonly pendingRequests: number;
}

interface QueuedEnvelope {
  readonly kind: EnvelopeKind;
  readonly correlationId: number;
  readonly payload: Uint8Array;
  readonly errorCode?: string;
  readonly bytes: number;
}

interface PeerState {
  readonly peerId: string;
  address: NetworkAddress;
  metadata: Readonly<Record<string, string>>;
  lastSeenAt: number;
  readonly connections: Set<PeerConnection>;
  queue: QueuedEnvelope[];
  queuedBytes: number;
  dialing: boolean;
  reconnectTimer: Timer | undefined;
  attempt: number;
  failingSince: number | undefined;
  /** A connection to it completed a handshake at least once (it is not known only by hearsay). */
  greeted: boolean;
  pendingRequests: number;
  inboundRequests: number;
  /** A flush of the queue is scheduled for the end of the current task (see `#enqueue`). */
  flushScheduled: boolean;
}

interface PendingRequest {
  readonly peerId: string;
  readonly settle: (error: unknown, response?: Uint8Array) => void;
}

/** Bytes counted per queued envelope on top of its payload (header, ids, seal, frame prefix). */
const ENVELOPE_OVERHEAD_BYTES = 128;
/** A flush gathers small frames into one stream write until the batch holds this many bytes. */
const MAX_WRITE_BATCH_BYTES = 64 * 1024;
/** A frame at least this long is written on its own rather than copied into a batch. */
const SOLO_WRITE_BYTES = 16 * 1024;
/** The most characters of a remote error message kept. */
const MAX_ERROR_MESSAGE_CHARS = 1024;
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::']);
const KNOWN_CODES = new Set<string>(ERROR_CODES);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A peer-to-peer network over a {@link Runtime}'s stream connections.
 *
 * **Wire.** Every connection carries length-prefixed frames (`encodeFrame`),
 * each body a versioned envelope sealed by the {@link SecureCodec}
 * (AES-256-GCM with the keyring's primary key, replay-protected; plaintext only
 * when the codec's development flag allows it). Both sides send a `hello`
 * first, naming their peer id, the address to dial them on, their metadata and
 * the peers they are connected to; nothing else is accepted before it.
 *
 * **Refusals.** A frame that is oversized, truncated, malformed, unauthenticated,
 * sealed with an unknown key, replayed, plaintext (to a node that refuses
 * plaintext), misdirected, or that breaks the protocol (see
 * {@link P2P_REJECT_REASONS}) is counted in {@link NativeP2PNetwork.stats},
 * reported to `onReject`, changes no state, and closes that connection; the
 * node keeps serving everyone else.
 *
 * **Discovery.** Peers become known from the seeds dialled at start (retried
 * with backoff while no known peer has the address), from every `hello`
 * received, from the peers a `hello` lists and from announcements a peer sends
 * when someone new greets it. `peer-discovered` fires when a peer becomes
 * known; `peer-updated` when its advertised address, port or metadata change.
 * This node never lists itself.
 *
 * **Connections.** Sending to a known peer with no open connection dials it
 * (dial on demand). A connection with no traffic for `idleCloseMs` is closed
 * after a goodbye, and the peer stays known. When a connection fails without a
 * goodbye, the network redials with jittered exponential backoff; a peer whose
 * redials keep failing for `lostAfterMs` is reported `peer-lost` and forgotten
 * (its queued envelopes are discarded and its pending requests rejected with
 * `UNKNOWN_PEER`). A peer that closes its network says goodbye and is lost at
 * once. Two peers may hold two connections between them (simultaneous dials);
 * both carry traffic, and the unused one closes when idle.
 *
 * **Overflow policy.** Envelopes wait in a per-peer queue while there is no
 * open connection or the connection is above its high-water mark. A
 * {@link NativeP2PNetwork.sendToPeer} or {@link NativeP2PNetwork.requestFromPeer}
 * that would take the queue past `maxOutboundQueueBytes` rejects with
 * `CAPACITY_EXCEEDED` and queues nothing (backpressure to the caller); nothing
 * already queued is dropped to make room. {@link NativeP2PNetwork.broadcast}
 * is best effort: it skips such peers and counts them in `broadcastsSkipped`.
 *
 * **Delivery.** A send resolves once queued for the peer. Delivery is
 * at most once: bytes handed to a connection that then breaks may be lost
 * (the envelopes still queued are sent on the next connection). Envelopes are
 * sealed when written, not when queued, so a keyring rotation never strands a
 * queued envelope under a removed key. The queue is flushed at the end of the
 * task that queued (a microtask), so envelopes queued together go out in one
 * stream write (small frames batched up to 64 KiB; a large frame alone).
 *
 * **Requests.** Each request carries a correlation id; the response comes back
 * on any connection of the pair. No response within `requestTimeoutMs` rejects
 * with a `TimeoutError` `DOMException`; an aborted signal rejects with its
 * reason. A remote handler's `DistributedError` comes back with its code; any
 * other rejection comes back as a plain `Error` with the remote message.
 *
 * Call {@link NativeP2PNetwork.start} to listen and dial the seeds, and
 * {@link NativeP2PNetwork.close} (or `await using`) to leave.
 *
 * @example
 * ```ts
 * const codec = new SecureCodec({ keyring, localNodeId: 'n1', random: runtime.random });
 * const network = new NativeP2PNetwork({
 *   runtime,
 *   localPeerId: 'n1',
 *   listen: { host: '127.0.0.1', port: 7100 },
 *   seeds: [{ host: '127.0.0.1', port: 7101 }],
 *   codec,
 * });
 * await network.start();
 * network.onMessage((message) => console.log(message.fromPeerId, message.data));
 * ```
 *
 * @since 2.0.0
 */
export class NativeP2PNetwork implements P2PNetwork, AsyncDisposable {
  /** This node's peer id. */
  readonly localPeerId: string;
  readonly #runtime: Runtime;
  readonly #codec: SecureCodec;
  readonly #options: ResolvedP2POptions;
  readonly #listenAt: NetworkAddress;
  readonly #advertise: NetworkAddress | undefined;
  readonly #peerEvents: EventHub<PeerEvent>;
  readonly #messages: EventHub<PeerMessage>;
  readonly #peers = new Map<string, PeerState>();
  readonly #tombstones = new Map<string, number>();
  readonly #connections = new Set<PeerConnection>();
  readonly #pending = new Map<number, PendingRequest>();
  readonly #seeds: SeedState[];
  readonly #probes = new Map<string, SeedState>();
  readonly #lifetime = new AbortController();
  readonly #rejected: Record<P2PRejectReason, number>;
  readonly #requestHandler = new RequestHandlerSlot();
  #listener: StreamListener | undefined;
  #sweepTimer: Timer | undefined;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;
  #nextCorrelationId = 1;
  #inboundRequests = 0;
  #framesSent = 0;
  #framesReceived = 0;
  #queuedDropped = 0;
  #broadcastsSkipped = 0;
  #repliesDropped = 0;
  #lateResponses = 0;

  /**
   * @param options - The runtime, identity, codec and bounds; see {@link NativeP2PNetworkOptions}.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a bad option.
   */
  constructor(options: NativeP2PNetworkOptions) {
    this.#options = resolveP2POptions(options);
    this.localPeerId = options.localPeerId;
    this.#runtime = options.runtime;
    this.#codec = options.codec;
    this.#listenAt = { host: options.listen.host, port: options.listen.port };
    this.#advertise =
      options.advertise === undefined
        ? undefined
        : { host: options.advertise.host, port: options.advertise.port };
    this.#peerEvents = new EventHub(this.#options.onListenerError);
    this.#messages = new EventHub(this.#options.onListenerError);
    this.#rejected = Object.fromEntries(P2P_REJECT_REASONS.map((reason) => [reason, 0])) as Record<
      P2PRejectReason,
      number
    >;
    this.#seeds = (options.seeds ?? []).slice(0, this.#options.maxPeers).map((seed) => ({
      host: seed.host,
      port: seed.port,
      dialing: false,
      attempt: 0,
      timer: undefined,
      self: false,
      peerId: undefined,
      retry: true,
    }));
  }

  /**
   * The address this node listens on, with the port chosen when `0` was asked for.
   *
   * @throws A {@link DistributedError} `CLOSED` before {@link NativeP2PNetwork.start} resolved.
   */
  get listenAddress(): NetworkAddress {
    if (this.#listener === undefined) {
      throw new DistributedError('CLOSED', 'the network is not listening: call start() first');
    }
    return this.#listener.address;
  }

  /** A snapshot of the counters; see {@link NativeP2PStats}. */
  get stats(): NativeP2PStats {
    return Object.freeze({
      rejected: Object.freeze({ ...this.#rejected }),
      framesSent: this.#framesSent,
      framesReceived: this.#framesReceived,
      queuedDropped: this.#queuedDropped,
      broadcastsSkipped: this.#broadcastsSkipped,
      repliesDropped: this.#repliesDropped,
      lateResponses: this.#lateResponses,
      connections: this.#connections.size,
      knownPeers: this.#peers.size,
      pendingRequests: this.#pending.size,
    });
  }

  /**
   * Listens for peers and dials the seeds. Resolves once listening (not once
   * the seeds answered). Calling it again returns the same promise.
   *
   * @param options - Cancellation of the listen.
   * @throws A {@link DistributedError} `CLOSED` after {@link NativeP2PNetwork.close};
   *   the runtime's listen error (such as `EADDRINUSE`) otherwise.
   */
  async start(options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    this.#starting ??= (async () => {
      this.#throwIfClosed();
      const listener = await this.#runtime.network.listen(this.#listenAt, (stream) => {
        this.#onInbound(stream);
      });
      if (this.#closed) {
        listener.close();
        this.#throwIfClosed();
      }
      this.#listener = listener;
      this.#scheduleSweep();
      for (const seed of this.#seeds) this.#dialSeed(seed);
    })();
    await this.#starting;
  }

  /**
   * Leaves the network: says goodbye to every greeted peer (they report this
   * node lost at once), closes every connection and the listener, cancels every
   * timer, rejects pending requests with `CLOSED` and aborts the signals of
   * requests being handled. Resolves once the connections have closed (at most
   * `closeTimeoutMs`), so the goodbyes are out before the runtime is closed.
   * Harmless to call twice. The runtime stays open.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closing ?? Promise.resolve();
    this.#closing = this.#shutdown();
    return this.#closing;
  }

  #shutdown(): Promise<void> {
    this.#closed = true;
    this.#lifetime.abort(new DistributedError('CLOSED', 'the network was closed'));
    this.#sweepTimer?.cancel();
    for (const seed of this.#seeds) seed.timer?.cancel();
    this.#probes.clear();
    const closing: Promise<void>[] = [];
    for (const connection of [...this.#connections]) {
      if (connection.state === 'open') {
        this.#writeDirect(connection, 'ping', encodeControl({ op: 'goodbye', reason: 'shutdown' }));
      }
      connection.closedByUs = true;
      connection.state = 'closing';
      connection.release();
      // Wait for the close to complete, so the goodbye is not lost to a reset
      // when the runtime is closed right after.
      closing.push(
        new Promise<void>((resolve) => {
          connection.stream.onClose(() => {
            resolve();
          });
        }),
      );
      connection.stream.close();
    }
    this.#connections.clear();
    for (const peer of this.#peers.values()) {
      peer.reconnectTimer?.cancel();
      this.#queuedDropped += peer.queue.length;
      peer.queue = [];
      peer.queuedBytes = 0;
    }
    for (const pending of [...this.#pending.values()]) {
      pending.settle(new DistributedError('CLOSED', 'the network was closed'));
    }
    this.#listener?.close();
    if (closing.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = this.#timer(this.#options.closeTimeoutMs, resolve);
      void Promise.all(closing).then(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  /** Closes the network; see {@link NativeP2PNetwork.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Subscribes to peers being discovered, updated and lost.
   *
   * @param listener - Called with every change.
   */
  onPeerEvent(listener: Listener<PeerEvent>): Unsubscribe {
    return this.#peerEvents.subscribe(listener);
  }

  /**
   * Subscribes to data other peers send or broadcast to this node.
   *
   * @param listener - Called with every message; all listeners of one delivery share one copy.
   */
  onMessage(listener: Listener<PeerMessage>): Unsubscribe {
    return this.#messages.subscribe(listener);
  }

  /**
   * Installs the handler that answers other peers' requests. Its signal aborts
   * when this network closes (the requester's cancellation is not sent over the wire).
   *
   * @param handler - Answers each request.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` when `handler` is not a function.
   */
  setRequestHandler(handler: PeerRequestHandler): Unsubscribe {
    return this.#requestHandler.set(handler);
  }

  /**
   * Returns every known peer (never this node), and dials any seed that is
   * neither known nor already being dialled or waiting to be retried.
   *
   * @param options - Cancellation.
   * @throws A {@link DistributedError} `CLOSED` after {@link NativeP2PNetwork.close}.
   */
  async discoverPeers(options?: CallOptions): Promise<readonly PeerInfo[]> {
    options?.signal?.throwIfAborted();
    this.#throwIfClosed();
    if (this.#listener !== undefined) for (const seed of this.#seeds) this.#dialSeed(seed);
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    return Object.freeze([...this.#peers.values()].map((peer) => this.#info(peer)));
  }

  /**
   * Queues `data` for one peer, dialling it when there is no open connection.
   *
   * @param peerId - A known peer.
   * @param data - At most `maxMessageBytes`; copied at once.
   * @param options - Cancellation.
   * @throws A {@link DistributedError}: `UNKNOWN_PEER` for a peer that is not
   *   known (this node included); `CAPACITY_EXCEEDED` when the peer's outbound
   *   queue is full; `INVALID_ARGUMENT` for data that is not a `Uint8Array` or is
   *   too large; `CLOSED` after {@link NativeP2PNetwork.close}.
   */
  async sendToPeer(peerId: string, data: Uint8Array, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    this.#throwIfClosed();
    const payload = this.#copyIn(data, 'data');
    const peer = this.#requirePeer(peerId);
    this.#enqueue(peer, { kind: 'message', correlationId: 0, payload });
    return Promise.resolve();
  }

  /**
   * Queues `data` for every known peer. Best effort: a peer whose queue is full
   * is skipped and counted in `broadcastsSkipped`.
   *
   * @param data - At most `maxMessageBytes`; copied at once.
   * @param options - Cancellation.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for bad data;
   *   `CLOSED` after {@link NativeP2PNetwork.close}.
   */
  async broadcast(data: Uint8Array, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    this.#throwIfClosed();
    const payload = this.#copyIn(data, 'data');
    for (const peer of [...this.#peers.values()]) {
      try {
        this.#enqueue(peer, { kind: 'message', correlationId: 0, payload });
      } catch {
        this.#broadcastsSkipped += 1;
      }
    }
    return Promise.resolve();
  }

  /**
   * Sends a request to one peer's handler and waits for its response.
   *
   * @param peerId - A known peer.
   * @param request - At most `maxMessageBytes`; copied at once.
   * @param options - Cancellation: rejects with the signal's reason (the
   *   remote handler is not told).
   * @returns A copy of the bytes the peer's handler resolved with.
   * @throws A {@link DistributedError}: `UNKNOWN_PEER` for a peer that is not
   *   known, or that is lost while the request waits; `NO_REQUEST_HANDLER` when
   *   the peer has none; `CAPACITY_EXCEEDED` when `maxPendingRequests` requests
   *   wait already, the peer's queue is full, or the peer is too busy;
   *   `INVALID_ARGUMENT` for a bad request; `CLOSED` when the network closes; the
   *   remote handler's own code. A `TimeoutError` `DOMException` after
   *   `requestTimeoutMs`.
   */
  async requestFromPeer(
    peerId: string,
    request: Uint8Array,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    this.#throwIfClosed();
    const payload = this.#copyIn(request, 'request');
    const peer = this.#requirePeer(peerId);
    if (this.#pending.size >= this.#options.maxPendingRequests) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `${this.#pending.size} requests are waiting already (maxPendingRequests)`,
      );
    }
    const correlationId = this.#allocateCorrelationId();
    return new Promise<Uint8Array>((resolve, reject) => {
      const onAbort = (): void => {
        settle(signal?.reason);
      };
      const settle = (error: unknown, response?: Uint8Array): void => {
        if (this.#pending.get(correlationId) !== entry) return;
        this.#pending.delete(correlationId);
        peer.pendingRequests -= 1;
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        // The reason is whatever failed the request: an Error, or an abort signal's reason as given.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        if (response === undefined) reject(error);
        else resolve(response);
      };
      const entry: PendingRequest = { peerId, settle };
      this.#pending.set(correlationId, entry);
      peer.pendingRequests += 1;
      const timer = this.#timer(this.#options.requestTimeoutMs, () => {
        settle(
          new DOMException(
            `no response from peer '${peerId}' within ${this.#options.requestTimeoutMs} ms`,
            'TimeoutError',
          ),
        );
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.#enqueue(peer, { kind: 'request', correlationId, payload });
      } catch (error) {
        settle(error);
      }
    });
  }

  // ---- connections -------------------------------------------------------

  #onInbound(stream: StreamConnection): void {
    if (this.#closed || this.#connections.size >= this.#options.maxConnections) {
      stream.destroy();
      return;
    }
    this.#adopt(stream, { outbound: false, expectedPeerId: undefined, seed: undefined });
  }

  #adopt(
    stream: StreamConnection,
    init: { outbound: boolean; expectedPeerId: string | undefined; seed: SeedState | undefined },
  ): void {
    const connection = new PeerConnection(stream, {
      ...init,
      maxFrameBytes: this.#options.maxFrameBytes,
      now: this.#runtime.clock.monotonic(),
    });
    this.#connections.add(connection);
    connection.attach({
      onData: (chunk) => {
        this.#onData(connection, chunk);
      },
      onDrain: () => {
        connection.writable = true;
        const peer =
          connection.peerId === undefined ? undefined : this.#peers.get(connection.peerId);
        if (peer !== undefined) this.#flush(peer);
      },
      onClose: () => {
        this.#onClosed(connection);
      },
    });
    connection.handshakeTimer = this.#timer(this.#options.handshakeTimeoutMs, () => {
      if (connection.state !== 'handshaking') return;
      connection.state = 'closing';
      connection.stream.destroy();
      this.#onClosed(connection);
    });
    const hello = encodeHello({
      ...this.#advertisedFor(stream),
      metadata: this.#options.metadata,
      peers: this.#livePeers(),
    });
    this.#writeDirect(connection, 'hello', hello, init.expectedPeerId ?? '');
  }

  #advertisedFor(stream: StreamConnection): NetworkAddress {
    if (this.#advertise !== undefined) return this.#advertise;
    const bound = this.#listener?.address ?? this.#listenAt;
    return {
      host: WILDCARD_HOSTS.has(bound.host) ? stream.local.host : bound.host,
      port: bound.port,
    };
  }

  /** Peers believed alive: greeted at some point and not failing now (an idle peer counts). */
  #livePeers(): PeerAddressRecord[] {
    const records: PeerAddressRecord[] = [];
    for (const peer of this.#peers.values()) {
      if (records.length >= CONTROL_LIMITS.maxListedPeers) break;
      if (peer.failingSince === undefined && peer.greeted) {
        records.push({ peerId: peer.peerId, host: peer.address.host, port: peer.address.port });
      }
    }
    return records;
  }

  #connect(address: NetworkAddress, expectedPeerId: string | undefined, seed?: SeedState): void {
    if (this.#connections.size >= this.#options.maxConnections) {
      // Too many connections: a failed dial, retried with backoff.
      queueMicrotask(() => {
        this.#dialFailed(expectedPeerId, seed);
      });
      return;
    }
    this.#runtime.network
      .connect({ host: address.host, port: address.port }, { signal: this.#lifetime.signal })
      .then(
        (stream) => {
          if (this.#closed) {
            stream.destroy();
            return;
          }
          this.#adopt(stream, { outbound: true, expectedPeerId, seed });
        },
        () => {
          this.#dialFailed(expectedPeerId, seed);
        },
      );
  }

  #dial(peer: PeerState): void {
    if (this.#closed || peer.dialing || this.#hasOpen(peer)) return;
    peer.reconnectTimer?.cancel();
    peer.reconnectTimer = undefined;
    peer.dialing = true;
    this.#connect(peer.address, peer.peerId);
  }

  #dialFailed(peerId: string | undefined, seed: SeedState | undefined): void {
    if (this.#closed) return;
    if (seed !== undefined) {
      seed.dialing = false;
      if (seed.retry) this.#scheduleSeed(seed);
      else this.#probes.delete(`${seed.host}:${seed.port}`);
    }
    const peer = peerId === undefined ? undefined : this.#peers.get(peerId);
    if (peer === undefined) return;
    peer.dialing = false;
    if (this.#hasOpen(peer)) return;
    this.#connectionFailed(peer);
  }

  /** The peer has no connection and should have one: retry, or report it lost. */
  #connectionFailed(peer: PeerState): void {
    const now = this.#runtime.clock.monotonic();
    peer.failingSince ??= now;
    if (now - peer.failingSince >= this.#options.lostAfterMs) {
      this.#losePeer(peer);
      return;
    }
    if (peer.reconnectTimer !== undefined || peer.dialing) return;
    const delay = backoffDelay(this.#options, peer.attempt, this.#runtime.random.next());
    peer.attempt += 1;
    peer.reconnectTimer = this.#timer(delay, () => {
      peer.reconnectTimer = undefined;
      if (this.#peers.get(peer.peerId) === peer) this.#dial(peer);
    });
  }

  #dialSeed(seed: SeedState): void {
    if (this.#closed || seed.self || seed.dialing || seed.timer !== undefined) return;
    if (this.#seedSatisfied(seed)) return;
    seed.dialing = true;
    this.#connect(seed, undefined, seed);
  }

  #scheduleSeed(seed: SeedState): void {
    if (this.#closed || seed.self || seed.dialing || seed.timer !== undefined) return;
    if (this.#seedSatisfied(seed)) return;
    const delay = backoffDelay(this.#options, seed.attempt, this.#runtime.random.next());
    seed.attempt += 1;
    seed.timer = this.#timer(delay, () => {
      seed.timer = undefined;
      this.#dialSeed(seed);
    });
  }

  #seedSatisfied(seed: SeedState): boolean {
    if (seed.peerId !== undefined && this.#peers.has(seed.peerId)) return true;
    for (const peer of this.#peers.values()) {
      if (peer.address.host === seed.host && peer.address.port === seed.port) return true;
    }
    return false;
  }

  #onClosed(connection: PeerConnection): void {
    if (connection.state === 'closed') return;
    const wasGreeted = connection.peerId !== undefined;
    connection.state = 'closed';
    this.#forget(connection);
    if (this.#closed) return;
    if (!wasGreeted) {
      if (connection.outbound) this.#dialFailed(connection.expectedPeerId, connection.seed);
      return;
    }
    const peer = this.#peers.get(connection.peerId ?? '');
    if (peer === undefined || !peer.connections.delete(connection)) return;
    if (this.#hasOpen(peer)) return;
    if (connection.goodbye === 'shutdown') {
      this.#losePeer(peer);
    } else if (connection.closedByUs || connection.goodbye === 'idle') {
      if (peer.queue.length > 0) this.#dial(peer);
    } else {
      this.#connectionFailed(peer);
    }
  }

  #forget(connection: PeerConnection): void {
    connection.release();
    this.#connections.delete(connection);
  }

  #hasOpen(peer: PeerState): boolean {
    for (const connection of peer.connections) if (connection.state === 'open') return true;
    return false;
  }

  #scheduleSweep(): void {
    const period = Math.max(10, Math.floor(this.#options.idleCloseMs / 2));
    this.#sweepTimer = this.#timer(period, () => {
      if (this.#closed) return;
      this.#sweepIdle();
      this.#scheduleSweep();
    });
  }

  #sweepIdle(): void {
    const now = this.#runtime.clock.monotonic();
    for (const connection of [...this.#connections]) {
      if (
        connection.state !== 'open' ||
        now - connection.lastActivity < this.#options.idleCloseMs
      ) {
        continue;
      }
      const peer = this.#peers.get(connection.peerId ?? '');
      if (
        peer !== undefined &&
        (peer.queue.length > 0 || peer.pendingRequests > 0 || peer.inboundRequests > 0)
      ) {
        continue;
      }
      this.#writeDirect(connection, 'ping', encodeControl({ op: 'goodbye', reason: 'idle' }));
      connection.closedByUs = true;
      connection.state = 'closing';
      connection.stream.close();
    }
  }

  // ---- peers -------------------------------------------------------------

  #info(peer: PeerState): PeerInfo {
    return Object.freeze({
      peerId: peer.peerId,
      address: peer.address.host,
      port: peer.address.port,
      lastSeenAt: peer.lastSeenAt,
      metadata: peer.metadata,
    });
  }

  #emit(eventType: PeerEventType, peer: PeerState): void {
    const now = this.#runtime.clock.now();
    this.#peerEvents.emit(Object.freeze({ eventType, peer: this.#info(peer), timestamp: now }));
  }

  #addPeer(
    peerId: string,
    address: NetworkAddress,
    metadata: Readonly<Record<string, string>>,
  ): PeerState | undefined {
    if (this.#peers.size >= this.#options.maxPeers) return undefined;
    const peer: PeerState = {
      peerId,
      address: { host: address.host, port: address.port },
      metadata,
      lastSeenAt: this.#runtime.clock.now(),
      connections: new Set(),
      queue: [],
      queuedBytes: 0,
      dialing: false,
      reconnectTimer: undefined,
      attempt: 0,
      failingSince: undefined,
      greeted: false,
      pendingRequests: 0,
      inboundRequests: 0,
      flushScheduled: false,
    };
    this.#peers.set(peerId, peer);
    this.#tombstones.delete(peerId);
    this.#emit('peer-discovered', peer);
    return peer;
  }

  #losePeer(peer: PeerState): void {
    if (this.#peers.get(peer.peerId) !== peer) return;
    this.#peers.delete(peer.peerId);
    peer.reconnectTimer?.cancel();
    peer.reconnectTimer = undefined;
    for (const connection of [...peer.connections]) {
      connection.closedByUs = true;
      connection.state = 'closing';
      connection.stream.destroy();
      this.#onClosed(connection);
    }
    peer.connections.clear();
    this.#queuedDropped += peer.queue.length;
    peer.queue = [];
    peer.queuedBytes = 0;
    for (const pending of [...this.#pending.values()]) {
      if (pending.peerId === peer.peerId) {
        pending.settle(
          new DistributedError('UNKNOWN_PEER', `peer '${peer.peerId}' was lost before it answered`),
        );
      }
    }
    this.#tombstones.set(peer.peerId, this.#runtime.clock.monotonic());
    if (this.#tombstones.size > this.#options.maxPeers) {
      const oldest = this.#tombstones.keys().next().value;
      if (oldest !== undefined) this.#tombstones.delete(oldest);
    }
    this.#emit('peer-lost', peer);
    for (const seed of this.#seeds) this.#scheduleSeed(seed);
  }

  /**
   * Learns peers named by another peer (second hand). A peer lost within
   * `lostAfterMs` is not re-added on hearsay (the teller may not have noticed
   * yet): it is probed with one dial instead, and known again only if it answers.
   */
  #learn(records: readonly PeerAddressRecord[]): void {
    const now = this.#runtime.clock.monotonic();
    for (const record of records) {
      if (record.peerId === this.localPeerId || this.#peers.has(record.peerId)) continue;
      const lostAt = this.#tombstones.get(record.peerId);
      if (lostAt !== undefined && now - lostAt < this.#options.lostAfterMs) this.#probe(record);
      else this.#addPeer(record.peerId, record, Object.freeze({}));
    }
  }

  #probe(address: NetworkAddress): void {
    const key = `${address.host}:${address.port}`;
    if (this.#closed || this.#probes.has(key) || this.#probes.size >= this.#options.maxPeers) {
      return;
    }
    const probe: SeedState = {
      host: address.host,
      port: address.port,
      dialing: true,
      attempt: 0,
      timer: undefined,
      self: false,
      peerId: undefined,
      retry: false,
    };
    this.#probes.set(key, probe);
    this.#connect(probe, undefined, probe);
  }

  #requirePeer(peerId: string): PeerState {
    const peer = typeof peerId === 'string' ? this.#peers.get(peerId) : undefined;
    if (peer === undefined) {
      throw new DistributedError(
        'UNKNOWN_PEER',
        `peer '${peerId}' is not known to '${this.localPeerId}'` +
          (peerId === this.localPeerId ? ' (a node is not its own peer on this network)' : ''),
      );
    }
    return peer;
  }

  // ---- sending -----------------------------------------------------------

  #enqueue(peer: PeerState, item: Omit<QueuedEnvelope, 'bytes'>): void {
    const bytes = item.payload.length + ENVELOPE_OVERHEAD_BYTES;
    if (peer.queuedBytes + bytes > this.#options.maxOutboundQueueBytes) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `the outbound queue to peer '${peer.peerId}' holds ${peer.queuedBytes} bytes; ` +
          `${bytes} more would pass maxOutboundQueueBytes (${this.#options.maxOutboundQueueBytes})`,
      );
    }
    peer.queue.push({ ...item, bytes });
    peer.queuedBytes += bytes;
    if (this.#hasOpen(peer)) this.#scheduleFlush(peer);
    else if (!peer.dialing && peer.reconnectTimer === undefined) this.#dial(peer);
  }

  /**
   * Flushes `peer`'s queue once the current synchronous work and its microtasks
   * are done, so envelopes queued together (many requests in flight, replies to a
   * burst) go out in one stream write instead of one write per frame.
   */
  #scheduleFlush(peer: PeerState): void {
    if (peer.flushScheduled) return;
    peer.flushScheduled = true;
    queueMicrotask(() => {
      peer.flushScheduled = false;
      if (!this.#closed) this.#flush(peer);
    });
  }

  #flush(peer: PeerState): void {
    // One connection carries everything to a peer, in order, even while another
    // is open: the receiver's replay window must see sequence numbers from one
    // sender (nearly) in order, which two interleaved streams would not give.
    let target: PeerConnection | undefined;
    for (const connection of peer.connections) {
      if (connection.state === 'open') {
        target = connection;
        break;
      }
    }
    if (target === undefined) return;
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const writeBatch = (): void => {
      if (batch.length === 0) return;
      this.#writeFramed(target, batch);
      batch = [];
      batchBytes = 0;
    };
    // Small frames queued together go out in one stream write; a large frame
    // goes alone, without being copied into a batch. A frame is sealed only
    // when it is about to be written.
    while (peer.queue.length > 0 && target.writable && target.state === 'open') {
      const item = peer.queue.shift() as QueuedEnvelope;
      peer.queuedBytes -= item.bytes;
      const framed = this.#seal(peer.peerId, item);
      if (framed === undefined) continue;
      if (framed.length >= SOLO_WRITE_BYTES) {
        writeBatch();
        this.#writeFramed(target, [framed]);
      } else {
        batch.push(framed);
        batchBytes += framed.length;
        if (batchBytes >= MAX_WRITE_BATCH_BYTES) writeBatch();
      }
    }
    writeBatch();
  }

  /** Hands sealed frames (from {@link NativeP2PNetwork.#seal}) to a connection in one write. */
  #writeFramed(connection: PeerConnection, framed: readonly Uint8Array[]): void {
    try {
      connection.writeFramed(framed, this.#runtime.clock.monotonic());
      this.#framesSent += framed.length;
    } catch (error) {
      this.#options.onListenerError(error);
    }
  }

  /**
   * Seals one envelope for `to`, with room for the frame's length prefix in
   * front (see {@link PeerConnection.writeFramed}); `undefined` (reported) when sealing fails.
   */
  #seal(to: string, item: Omit<QueuedEnvelope, 'bytes'>): Uint8Array | undefined {
    const envelope: Envelope = {
      version: WIRE_VERSION,
      kind: item.kind,
      from: this.localPeerId,
      to,
      correlationId: item.correlationId,
      sentAt: this.#runtime.clock.now(),
      payload: item.payload,
      ...(item.errorCode === undefined ? {} : { errorCode: item.errorCode }),
    };
    try {
      return this.#codec.seal(envelope, FRAME_PREFIX_BYTES);
    } catch (error) {
      // Sealing only fails on a broken keyring; the envelope cannot be sent.
      this.#options.onListenerError(error);
      return undefined;
    }
  }

  #writeDirect(
    connection: PeerConnection,
    kind: EnvelopeKind,
    payload: Uint8Array,
    to?: string,
  ): void {
    this.#write(connection, to ?? connection.peerId ?? '', { kind, correlationId: 0, payload });
  }

  #write(connection: PeerConnection, to: string, item: Omit<QueuedEnvelope, 'bytes'>): void {
    const framed = this.#seal(to, item);
    if (framed !== undefined) this.#writeFramed(connection, [framed]);
  }

  #reply(
    peerId: string,
    correlationId: number,
    outcome: { response: Uint8Array } | { error: unknown },
  ): void {
    const peer = this.#peers.get(peerId);
    if (this.#closed || peer === undefined) {
      this.#repliesDropped += 1;
      return;
    }
    let item: Omit<QueuedEnvelope, 'bytes'>;
    if ('response' in outcome) {
      item = { kind: 'response', correlationId, payload: outcome.response };
    } else {
      const { error } = outcome;
      const code = error instanceof DistributedError ? error.code : 'REMOTE_ERROR';
      const message = (error instanceof Error ? error.message : String(error)).slice(
        0,
        MAX_ERROR_MESSAGE_CHARS,
      );
      item = { kind: 'error', correlationId, payload: encoder.encode(message), errorCode: code };
    }
    try {
      this.#enqueue(peer, item);
    } catch {
      this.#repliesDropped += 1;
    }
  }

  // ---- receiving ---------------------------------------------------------

  #onData(connection: PeerConnection, chunk: Uint8Array): void {
    if (this.#closed || (connection.state !== 'handshaking' && connection.state !== 'open')) return;
    let bodies: Uint8Array[];
    try {
      bodies = connection.frames(chunk);
    } catch (error) {
      this.#reject(connection, error instanceof WireError ? error.reason : 'malformed');
      return;
    }
    for (const body of bodies) {
      // A frame may have closed the connection: the rest of the chunk is dropped.
      if (!connection.live) return;
      this.#onFrame(connection, body);
    }
  }

  #onFrame(connection: PeerConnection, body: Uint8Array): void {
    let envelope: Envelope;
    try {
      envelope = this.#codec.open(body);
    } catch (error) {
      this.#reject(connection, error instanceof WireError ? error.reason : 'malformed');
      return;
    }
    const expectedTo =
      connection.state === 'handshaking' && envelope.kind === 'hello' ? '' : undefined;
    if (envelope.to !== this.localPeerId && envelope.to !== expectedTo) {
      this.#reject(connection, 'misdirected');
      return;
    }
    this.#framesReceived += 1;
    connection.lastActivity = this.#runtime.clock.monotonic();
    if (connection.state === 'handshaking') {
      if (envelope.kind !== 'hello') this.#reject(connection, 'protocol');
      else this.#onHello(connection, envelope);
      return;
    }
    const peer = this.#peers.get(envelope.from);
    if (envelope.from !== connection.peerId || peer === undefined) {
      this.#reject(connection, 'protocol');
      return;
    }
    peer.lastSeenAt = this.#runtime.clock.now();
    switch (envelope.kind) {
      case 'message':
        this.#messages.emit(
          Object.freeze({
            fromPeerId: peer.peerId,
            // The decoder's payload is a fresh copy that nothing else holds.
            data: envelope.payload,
            receivedAt: this.#runtime.clock.now(),
          }),
        );
        return;
      case 'request':
        this.#onRequest(peer, envelope);
        return;
      case 'response':
      case 'error':
        this.#onResponse(envelope);
        return;
      case 'ping':
        this.#onControl(connection, envelope.payload);
        return;
      default:
        // A second hello, or a kind this network does not speak.
        this.#reject(connection, 'protocol');
    }
  }

  #onHello(connection: PeerConnection, envelope: Envelope): void {
    const hello = decodeHello(envelope.payload);
    if (hello === undefined) {
      this.#reject(connection, 'protocol');
      return;
    }
    const from = envelope.from;
    if (from === this.localPeerId) {
      // Dialled itself (a seed list naming this node): never dial that seed again.
      if (connection.seed !== undefined) connection.seed.self = true;
      connection.closedByUs = true;
      connection.state = 'closing';
      connection.stream.close();
      return;
    }
    const address = { host: hello.host, port: hello.port };
    let peer = this.#peers.get(from);
    let discovered = false;
    if (peer === undefined) {
      peer = this.#addPeer(from, address, hello.metadata);
      if (peer === undefined) {
        // maxPeers reached: refuse politely; an outbound dial counts as failed.
        connection.closedByUs = true;
        connection.state = 'closing';
        connection.stream.close();
        return;
      }
      discovered = true;
    } else if (
      peer.address.host !== address.host ||
      peer.address.port !== address.port ||
      !sameMetadata(peer.metadata, hello.metadata)
    ) {
      peer.address = address;
      peer.metadata = hello.metadata;
      peer.lastSeenAt = this.#runtime.clock.now();
      this.#emit('peer-updated', peer);
    }
    peer.lastSeenAt = this.#runtime.clock.now();
    connection.handshakeTimer?.cancel();
    connection.handshakeTimer = undefined;
    connection.peerId = from;
    connection.state = 'open';
    peer.connections.add(connection);
    peer.greeted = true;
    peer.failingSince = undefined;
    peer.attempt = 0;
    peer.reconnectTimer?.cancel();
    peer.reconnectTimer = undefined;
    if (connection.expectedPeerId === from) peer.dialing = false;
    else if (connection.expectedPeerId !== undefined) {
      // The address now belongs to another peer: the dial for the expected one failed.
      this.#dialFailed(connection.expectedPeerId, undefined);
    }
    if (connection.seed !== undefined) {
      connection.seed.dialing = false;
      connection.seed.attempt = 0;
      connection.seed.peerId = from;
      if (!connection.seed.retry)
        this.#probes.delete(`${connection.seed.host}:${connection.seed.port}`);
    }
    this.#learn(hello.peers);
    // Our hello went out before this handshake finished; peers greeted since
    // then are told now, so two peers meeting a third at once still learn of each other.
    const greeted = this.#livePeers().filter((record) => record.peerId !== from);
    if (greeted.length > 0) {
      try {
        this.#enqueue(peer, {
          kind: 'ping',
          correlationId: 0,
          payload: encodeControl({ op: 'announce', peers: greeted }),
        });
      } catch {
        // A full queue only delays discovery.
      }
    }
    if (discovered) {
      const announcement = encodeControl({
        op: 'announce',
        peers: [{ peerId: from, host: address.host, port: address.port }],
      });
      for (const other of this.#peers.values()) {
        if (other !== peer && this.#hasOpen(other)) {
          try {
            this.#enqueue(other, { kind: 'ping', correlationId: 0, payload: announcement });
          } catch {
            // A full queue only delays discovery: the next hello lists the peer.
          }
        }
      }
    }
    this.#flush(peer);
  }

  #onControl(connection: PeerConnection, payload: Uint8Array): void {
    const control: ControlMessage | undefined = decodeControl(payload);
    if (control === undefined) {
      this.#reject(connection, 'protocol');
      return;
    }
    if (control.op === 'goodbye') connection.goodbye = control.reason;
    else this.#learn(control.peers);
  }

  #onRequest(peer: PeerState, envelope: Envelope): void {
    const { correlationId } = envelope;
    const handler = this.#requestHandler.current;
    if (handler === undefined) {
      this.#reply(peer.peerId, correlationId, {
        error: new DistributedError(
          'NO_REQUEST_HANDLER',
          `peer '${this.localPeerId}' has no request handler installed`,
        ),
      });
      return;
    }
    if (this.#inboundRequests >= this.#options.maxInboundRequests) {
      this.#reply(peer.peerId, correlationId, {
        error: new DistributedError(
          'CAPACITY_EXCEEDED',
          `peer '${this.localPeerId}' is handling ${this.#inboundRequests} requests already`,
        ),
      });
      return;
    }
    this.#inboundRequests += 1;
    peer.inboundRequests += 1;
    const request = Object.freeze({
      fromPeerId: peer.peerId,
      // The decoder's payload is a fresh copy that nothing else holds.
      data: envelope.payload,
      receivedAt: this.#runtime.clock.now(),
    });
    Promise.resolve()
      .then(() => handler(request, { signal: this.#lifetime.signal }))
      .then((response: unknown) => {
        if (!(response instanceof Uint8Array)) {
          throw new DistributedError(
            'INVALID_ARGUMENT',
            'the request handler must resolve with a Uint8Array',
          );
        }
        if (response.length > this.#options.maxMessageBytes) {
          throw new DistributedError(
            'INVALID_ARGUMENT',
            `the response is ${response.length} bytes, more than maxMessageBytes`,
          );
        }
        this.#reply(peer.peerId, correlationId, { response: response.slice() });
      })
      .catch((error: unknown) => {
        this.#reply(peer.peerId, correlationId, { error });
      })
      .finally(() => {
        this.#inboundRequests -= 1;
        peer.inboundRequests -= 1;
      });
  }

  #onResponse(envelope: Envelope): void {
    const pending = this.#pending.get(envelope.correlationId);
    if (pending === undefined || pending.peerId !== envelope.from) {
      this.#lateResponses += 1;
      return;
    }
    if (envelope.kind === 'response') {
      // The decoder's payload is a fresh copy that nothing else holds.
      pending.settle(undefined, envelope.payload);
      return;
    }
    const message = `peer '${envelope.from}': ${decoder.decode(envelope.payload)}`;
    const code = envelope.errorCode ?? '';
    pending.settle(
      KNOWN_CODES.has(code) ? new DistributedError(code as ErrorCode, message) : new Error(message),
    );
  }

  #reject(connection: PeerConnection, reason: P2PRejectReason): void {
    this.#rejected[reason] += 1;
    const source = {
      ...(connection.peerId === undefined ? {} : { peerId: connection.peerId }),
      remote: connection.stream.remote,
    };
    try {
      this.#options.onReject(reason, source);
    } catch (error) {
      this.#options.onListenerError(error);
    }
    connection.closedByUs = true;
    connection.state = 'closing';
    connection.stream.destroy();
    this.#onClosed(connection);
  }

  // ---- helpers -----------------------------------------------------------

  /**
   * A runtime timer; a no-op one when the runtime's clock is already closed
   * (the runtime was closed under the network), so no callback throws.
   */
  #timer(delayMs: number, callback: () => void): Timer {
    try {
      return this.#runtime.clock.setTimer(delayMs, callback);
    } catch (error) {
      if (error instanceof DistributedError && error.code === 'CLOSED') {
        return { cancel: () => undefined };
      }
      throw error;
    }
  }

  #allocateCorrelationId(): number {
    for (;;) {
      const id = this.#nextCorrelationId;
      this.#nextCorrelationId = id >= 0xffff_ffff ? 1 : id + 1;
      if (!this.#pending.has(id)) return id;
    }
  }

  #copyIn(data: Uint8Array, what: string): Uint8Array {
    if (!(data instanceof Uint8Array)) {
      throw new DistributedError('INVALID_ARGUMENT', `${what} must be a Uint8Array`);
    }
    if (data.length > this.#options.maxMessageBytes) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `${what} is ${data.length} bytes, more than maxMessageBytes (${this.#options.maxMessageBytes})`,
      );
    }
    return data.slice();
  }

  #throwIfClosed(): void {
    if (this.#closed) throw new DistributedError('CLOSED', 'the network was closed');
  }
}

function sameMetadata(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
