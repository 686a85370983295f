/**
 * The native {@link P2PNetwork}: peers over stream connections of a
 * {@link Runtime} (real TCP on the Node runtime, modelled streams in the
 * simulator), every frame sealed by a {@link SecureCodec}.
 *
 * The parts live in files of their own: the peer table (`peer-table.ts`),
 * hellos and hearsay (`discovery.ts`), seeds and probes (`seed-dialer.ts`),
 * connections from dial to close with redial, loss and the idle/keepalive
 * sweep (`connection-lifecycle.ts`, whose decisions are in
 * `connection-sweep.ts`), the sending side (`outbox.ts`, `outbound-queue.ts`),
 * requests waiting for answers (`request-tracker.ts`) and requests being
 * answered (`inbound-requests.ts`). This class composes them: the public API,
 * start and close, and dispatch of what arrives.
 *
 * @packageDocumentation
 */

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
import type { Envelope, EnvelopeKind } from '../../core/wire/envelope.js';
import { WireError } from '../../core/wire/wire-error.js';
import type {
  NetworkAddress,
  Runtime,
  StreamConnection,
  StreamListener,
  Timer,
} from '../../runtime/runtime.js';
import type { SecureCodec } from '../transport/secure-codec.js';
import { resolveTransportSecurity } from '../transport/tls-psk.js';
import { ConnectionLifecycle, KEEPALIVE_PROBE } from './connection-lifecycle.js';
import { decodeControl, encodeControl, encodeHello, type PeerAddressRecord } from './control.js';
import { Discovery } from './discovery.js';
import { InboundRequests } from './inbound-requests.js';
import {
  P2P_REJECT_REASONS,
  backoffDelay,
  resolveP2POptions,
  type NativeP2PNetworkOptions,
  type P2PRejectReason,
  type ResolvedP2POptions,
} from './options.js';
import { Outbox, type Outgoing } from './outbox.js';
import { PeerConnection } from './peer-connection.js';
import { PeerTable, peerInfo, type PeerState } from './peer-table.js';
import { RequestTracker } from './request-tracker.js';
import { SeedDialer } from './seed-dialer.js';

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
  /** Keepalive probes sent on quiet connections. */
  readonly keepalivesSent: number;
  /** Connections reset because a keepalive probe went unanswered. */
  readonly keepaliveTimeouts: number;
}

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::']);
const KNOWN_CODES = new Set<string>(ERROR_CODES);
const decoder = new TextDecoder();
const KEEPALIVE_REPLY = encodeControl({ op: 'keepalive', reply: true });

/** Whether a `ping` payload is a keepalive (probe or answer), which is not traffic. */
function isKeepalive(envelope: Envelope): boolean {
  return envelope.kind === 'ping' && envelope.payload[0] === KEEPALIVE_PROBE[0];
}

/**
 * A peer-to-peer network over a {@link Runtime}'s stream connections.
 *
 * **Wire.** Every connection carries length-prefixed frames (`encodeFrame`),
 * each body one or a batch of versioned envelopes sealed by the {@link SecureCodec}
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
 * after a goodbye, and the peer stays known. A connection on which nothing
 * was received for `keepaliveIntervalMs` is probed with a keepalive (two bytes,
 * sealed and replay-checked like every frame; the peer answers at once, and
 * neither counts as traffic); one whose probe goes unanswered for
 * `keepaliveTimeoutMs` is reset as failed, so a peer that died or hung while
 * the connection was quiet is noticed without waiting for the next send. When a connection fails without a
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
 * encoded when queued (the one copy of the caller's data) and sealed when
 * written, so a keyring rotation never strands a queued envelope under a
 * removed key. The queue is flushed at the end of the task that queued (a
 * microtask), so envelopes queued together are sealed into one frame and go
 * out in one stream write (small envelopes batched up to 64 KiB; a large one
 * alone); see `Outbox`. Received data (messages, requests, responses)
 * is this node's own: a copy with a buffer of its own, or, from 4 KiB up, a
 * view (`byteOffset` not 0) of a buffer that held nothing but its envelope, so
 * a large payload is not copied once more on the way in.
 *
 * **Requests.** Each request carries a correlation id; the response comes back
 * on any connection of the pair. No response within `requestTimeoutMs` rejects
 * with a `TimeoutError` `DOMException` (one timer serves every request; see
 * `RequestTracker`); an aborted signal rejects with its reason. A remote handler's `DistributedError` comes back with its code; any
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
  readonly #connectionFailures: EventHub<PeerInfo>;
  readonly #peers: PeerTable;
  readonly #lifecycle: ConnectionLifecycle;
  readonly #requests: RequestTracker;
  readonly #inbound: InboundRequests;
  readonly #outbox: Outbox;
  readonly #seeds: SeedDialer;
  readonly #discovery: Discovery;
  readonly #lifetime = new AbortController();
  readonly #rejected: Record<P2PRejectReason, number>;
  #listener: StreamListener | undefined;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;
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
    const security = resolveTransportSecurity(options);
    this.#runtime = security.runtime;
    this.#codec = security.codec;
    this.#listenAt = { host: options.listen.host, port: options.listen.port };
    this.#advertise =
      options.advertise === undefined
        ? undefined
        : { host: options.advertise.host, port: options.advertise.port };
    this.#peerEvents = new EventHub(this.#options.onListenerError);
    this.#messages = new EventHub(this.#options.onListenerError);
    this.#connectionFailures = new EventHub(this.#options.onListenerError);
    const clock = this.#runtime.clock;
    const now = (): number => clock.now();
    const monotonic = (): number => clock.monotonic();
    const setTimer = (delayMs: number, callback: () => void): Timer =>
      this.#timer(delayMs, callback);
    this.#peers = new PeerTable({
      maxPeers: this.#options.maxPeers,
      maxOutboundQueueBytes: this.#options.maxOutboundQueueBytes,
      now,
      monotonic,
      flush: (peer) => {
        if (!this.#closed) this.#outbox.flush(peer);
      },
    });
    this.#requests = new RequestTracker({
      timeoutMs: this.#options.requestTimeoutMs,
      maxPending: this.#options.maxPendingRequests,
      monotonic,
      setTimer,
    });
    this.#outbox = new Outbox({
      localPeerId: this.localPeerId,
      codec: this.#codec,
      now,
      monotonic,
      dial: (peer) => {
        this.#lifecycle.dial(peer);
      },
      onError: this.#options.onListenerError,
    });
    this.#inbound = new InboundRequests({
      localPeerId: this.localPeerId,
      maxInbound: this.#options.maxInboundRequests,
      maxMessageBytes: this.#options.maxMessageBytes,
      signal: this.#lifetime.signal,
      now,
      reply: (peerId, item) => {
        this.#reply(peerId, item);
      },
    });
    this.#seeds = new SeedDialer((options.seeds ?? []).slice(0, this.#options.maxPeers), {
      peers: this.#peers,
      maxProbes: this.#options.maxPeers,
      connect: (seed) => {
        this.#lifecycle.connect(seed, undefined, seed);
      },
      setTimer,
      backoff: (attempt) => backoffDelay(this.#options, attempt, this.#runtime.random.next()),
      closed: () => this.#closed,
    });
    this.#discovery = new Discovery({
      localPeerId: this.localPeerId,
      peers: this.#peers,
      seeds: this.#seeds,
      outbox: this.#outbox,
      now,
      addPeer: (peerId, address, metadata) => this.#addPeer(peerId, address, metadata),
      updated: (peer) => {
        this.#emit('peer-updated', peer);
      },
      dialFailed: (peerId) => {
        this.#lifecycle.dialFailed(peerId, undefined);
      },
    });
    this.#lifecycle = new ConnectionLifecycle({
      runtime: this.#runtime,
      options: this.#options,
      signal: this.#lifetime.signal,
      closed: () => this.#closed,
      peers: this.#peers,
      seeds: this.#seeds,
      outbox: this.#outbox,
      setTimer,
      hello: (stream) => this.#hello(stream),
      onData: (connection, chunk) => {
        this.#onData(connection, chunk);
      },
      busy: (peer) =>
        peer.queue.length > 0 ||
        this.#requests.pendingFor(peer.peerId) > 0 ||
        peer.inboundRequests > 0,
      writeControl: (connection, payload) => {
        this.#writeControl(connection, payload);
      },
      losePeer: (peer) => {
        this.#losePeer(peer);
      },
      connectionFailed: (peer) => {
        this.#connectionFailures.emit(peerInfo(peer));
      },
      ...(security.retired !== undefined && { retired: security.retired }),
    });
    this.#rejected = Object.fromEntries(P2P_REJECT_REASONS.map((reason) => [reason, 0])) as Record<
      P2PRejectReason,
      number
    >;
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
      framesSent: this.#outbox.framesSent,
      framesReceived: this.#framesReceived,
      queuedDropped: this.#queuedDropped,
      broadcastsSkipped: this.#broadcastsSkipped,
      repliesDropped: this.#repliesDropped,
      lateResponses: this.#lateResponses,
      connections: this.#lifecycle.connections.size,
      knownPeers: this.#peers.size,
      pendingRequests: this.#requests.size,
      keepalivesSent: this.#lifecycle.keepalivesSent,
      keepaliveTimeouts: this.#lifecycle.keepaliveTimeouts,
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
        this.#lifecycle.accept(stream);
      });
      if (this.#closed) {
        listener.close();
        this.#throwIfClosed();
      }
      this.#listener = listener;
      this.#lifecycle.startSweep();
      this.#seeds.dialAll();
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
    this.#lifecycle.stopSweep();
    this.#seeds.cancel();
    const closing: Promise<void>[] = [];
    const connections = this.#lifecycle.connections;
    for (const connection of [...connections]) {
      if (connection.state === 'open') {
        this.#writeControl(connection, encodeControl({ op: 'goodbye', reason: 'shutdown' }));
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
    connections.clear();
    for (const peer of this.#peers.values()) {
      peer.reconnectTimer?.cancel();
      this.#queuedDropped += peer.queue.clear();
    }
    this.#requests.rejectAll(() => new DistributedError('CLOSED', 'the network was closed'));
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
   * Subscribes to connection failures: a known peer's last open connection
   * closed or was reset without a goodbye, or stopped answering keepalives.
   * The network redials it and reports it lost only after `lostAfterMs`; this
   * is the early hint (a crashed process's connections close at once), for
   * failure detectors that want it. A goodbye is reported as `peer-lost` instead.
   *
   * @param listener - Called with the peer, as last known.
   * @returns A disposer.
   */
  onConnectionFailed(listener: Listener<PeerInfo>): Unsubscribe {
    return this.#connectionFailures.subscribe(listener);
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
    return this.#inbound.setHandler(handler);
  }

  /**
   * Learns peers from outside the network, for example the members a cluster
   * membership reports: each becomes known (and is dialled on demand) unless it
   * is this node, already known, or was lost within `lostAfterMs` (then it is
   * probed with one dial, as for peers named by other peers).
   *
   * @param records - The peers: id and the address they listen on.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for a record without an id,
   *   host or port 1–65535 (nothing is learned); `CLOSED` after {@link NativeP2PNetwork.close}.
   */
  learnPeers(records: readonly PeerAddressRecord[]): void {
    this.#throwIfClosed();
    for (const record of records) {
      const { peerId, host, port } = record as Partial<Record<keyof PeerAddressRecord, unknown>>;
      if (
        typeof peerId !== 'string' ||
        peerId === '' ||
        typeof host !== 'string' ||
        host === '' ||
        typeof port !== 'number' ||
        !Number.isInteger(port) ||
        port < 1 ||
        port > 65_535
      ) {
        throw new DistributedError(
          'INVALID_ARGUMENT',
          'each peer needs a peerId, a host and a port from 1 to 65535',
        );
      }
    }
    this.#discovery.learn(records);
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
    if (this.#listener !== undefined) this.#seeds.dialAll();
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    return Object.freeze([...this.#peers.values()].map(peerInfo));
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
    const payload = this.#checkData(data, 'data');
    const peer = this.#requirePeer(peerId);
    // Encoding copies the payload into the envelope at once.
    this.#outbox.enqueue(peer, { kind: 'message', correlationId: 0, payload });
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
    const payload = this.#checkData(data, 'data');
    for (const peer of [...this.#peers.values()]) {
      try {
        this.#outbox.enqueue(peer, { kind: 'message', correlationId: 0, payload });
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
  requestFromPeer(peerId: string, request: Uint8Array, options?: CallOptions): Promise<Uint8Array> {
    // Not an async function: returning the tracker's promise as is saves the
    // extra promise and microtask turns an async wrapper adds to every request.
    // Every failure still comes back as a rejection, never a throw.
    const signal = options?.signal;
    let started: { correlationId: number; response: Promise<Uint8Array> };
    try {
      signal?.throwIfAborted();
      this.#throwIfClosed();
      const payload = this.#checkData(request, 'request');
      const peer = this.#requirePeer(peerId);
      started = this.#requests.open(peerId, signal);
      try {
        this.#outbox.enqueue(peer, {
          kind: 'request',
          correlationId: started.correlationId,
          payload,
        });
      } catch (error) {
        this.#requests.reject(peerId, started.correlationId, error);
      }
    } catch (error) {
      // The contract rejects with the abort signal's reason, whatever its type.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    return started.response;
  }

  // ---- connections -------------------------------------------------------

  /** The `hello` payload for a new connection: where to dial this node, its labels, its peers. */
  #hello(stream: StreamConnection): Uint8Array {
    return encodeHello({
      ...this.#advertisedFor(stream),
      metadata: this.#options.metadata,
      peers: this.#peers.livePeers(),
    });
  }

  #advertisedFor(stream: StreamConnection): NetworkAddress {
    if (this.#advertise !== undefined) return this.#advertise;
    const bound = this.#listener?.address ?? this.#listenAt;
    return {
      host: WILDCARD_HOSTS.has(bound.host) ? stream.local.host : bound.host,
      port: bound.port,
    };
  }

  // ---- peers -------------------------------------------------------------

  #emit(eventType: PeerEventType, peer: PeerState): void {
    const now = this.#runtime.clock.now();
    this.#peerEvents.emit(Object.freeze({ eventType, peer: peerInfo(peer), timestamp: now }));
  }

  #addPeer(
    peerId: string,
    address: NetworkAddress,
    metadata: Readonly<Record<string, string>>,
  ): PeerState | undefined {
    const peer = this.#peers.add(peerId, address, metadata);
    if (peer !== undefined) this.#emit('peer-discovered', peer);
    return peer;
  }

  #losePeer(peer: PeerState): void {
    if (!this.#peers.remove(peer)) return;
    for (const connection of [...peer.connections]) this.#lifecycle.destroy(connection, true);
    peer.connections.clear();
    this.#queuedDropped += peer.queue.clear();
    this.#requests.rejectPeer(
      peer.peerId,
      () =>
        new DistributedError('UNKNOWN_PEER', `peer '${peer.peerId}' was lost before it answered`),
    );
    this.#emit('peer-lost', peer);
    this.#seeds.retryAll();
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

  /** Writes an envelope straight to a connection, ahead of the queue. */
  #writeDirect(
    connection: PeerConnection,
    to: string,
    kind: EnvelopeKind,
    payload: Uint8Array,
    traffic: boolean,
  ): void {
    this.#outbox.writeDirect(connection, to, { kind, correlationId: 0, payload }, traffic);
  }

  /** Writes a control message (goodbye, keepalive) to a greeted connection; not traffic. */
  #writeControl(connection: PeerConnection, payload: Uint8Array): void {
    this.#writeDirect(connection, connection.peerId ?? '', 'ping', payload, false);
  }

  /** Queues the answer to a request; counted as dropped when it cannot be. */
  #reply(peerId: string, item: Outgoing): void {
    const peer = this.#peers.get(peerId);
    if (this.#closed || peer === undefined) {
      this.#repliesDropped += 1;
      return;
    }
    try {
      this.#outbox.enqueue(peer, item);
    } catch {
      this.#repliesDropped += 1;
    }
  }

  // ---- receiving ---------------------------------------------------------

  #onData(connection: PeerConnection, chunk: Uint8Array): void {
    // A connection this node is closing gracefully (idle, or keyed with a retired key) still
    // delivers what the peer sent before it saw the goodbye, so the close loses nothing.
    if (this.#closed || !stillLive(connection)) return;
    let bodies: Uint8Array[];
    try {
      bodies = connection.frames(chunk);
    } catch (error) {
      this.#reject(connection, error instanceof WireError ? error.reason : 'malformed');
      return;
    }
    for (const body of bodies) {
      // An envelope may have closed the connection: the rest of the chunk is dropped.
      if (!stillLive(connection)) return;
      let envelopes: Envelope[];
      try {
        envelopes = this.#codec.openBatch(body, PeerConnection.ownsBody(body, chunk));
      } catch (error) {
        this.#reject(connection, error instanceof WireError ? error.reason : 'malformed');
        return;
      }
      this.#framesReceived += 1;
      for (const envelope of envelopes) {
        if (!stillLive(connection)) return;
        this.#onEnvelope(connection, envelope);
      }
    }
  }

  #onEnvelope(connection: PeerConnection, envelope: Envelope): void {
    const expectedTo =
      connection.state === 'handshaking' && envelope.kind === 'hello' ? '' : undefined;
    if (envelope.to !== this.localPeerId && envelope.to !== expectedTo) {
      this.#reject(connection, 'misdirected');
      return;
    }
    connection.received(this.#runtime.clock.monotonic(), !isKeepalive(envelope));
    if (connection.state === 'handshaking') {
      if (envelope.kind !== 'hello') this.#reject(connection, 'protocol');
      else if (this.#discovery.onHello(connection, envelope) === 'protocol') {
        this.#reject(connection, 'protocol');
      }
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
            // The decoder's payload is a fresh copy, or a view of a buffer that held only its
            // envelope (large payloads), that nothing else holds.
            data: envelope.payload,
            receivedAt: peer.lastSeenAt,
          }),
        );
        return;
      case 'request':
        this.#inbound.handle(peer, envelope);
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

  #onControl(connection: PeerConnection, payload: Uint8Array): void {
    const control = decodeControl(payload);
    if (control === undefined) {
      this.#reject(connection, 'protocol');
      return;
    }
    switch (control.op) {
      case 'goodbye':
        connection.goodbye = control.reason;
        return;
      case 'keepalive':
        // Any frame answers a probe (see PeerConnection.received); a probe gets an answer.
        if (!control.reply) this.#writeControl(connection, KEEPALIVE_REPLY);
        return;
      case 'announce':
        this.#discovery.learn(control.peers);
        return;
    }
  }

  #onResponse(envelope: Envelope): void {
    let settled: boolean;
    if (envelope.kind === 'response') {
      // The decoder's payload is a fresh copy that nothing else holds.
      settled = this.#requests.resolve(envelope.from, envelope.correlationId, envelope.payload);
    } else {
      const message = `peer '${envelope.from}': ${decoder.decode(envelope.payload)}`;
      const code = envelope.errorCode ?? '';
      settled = this.#requests.reject(
        envelope.from,
        envelope.correlationId,
        KNOWN_CODES.has(code)
          ? new DistributedError(code as ErrorCode, message)
          : new Error(message),
      );
    }
    if (!settled) this.#lateResponses += 1;
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
    this.#lifecycle.destroy(connection, true);
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

  /** Checks caller data; the data is copied later, when it is encoded (still within the call). */
  #checkData(data: Uint8Array, what: string): Uint8Array {
    if (!(data instanceof Uint8Array)) {
      throw new DistributedError('INVALID_ARGUMENT', `${what} must be a Uint8Array`);
    }
    if (data.length > this.#options.maxMessageBytes) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `${what} is ${data.length} bytes, more than maxMessageBytes (${this.#options.maxMessageBytes})`,
      );
    }
    return data;
  }

  #throwIfClosed(): void {
    if (this.#closed) throw new DistributedError('CLOSED', 'the network was closed');
  }
}

/**
 * Whether a connection still carries traffic. A function rather than a
 * property read, so the check is repeated after each envelope (which may
 * close the connection) instead of being narrowed away by the compiler.
 */
function stillLive(connection: PeerConnection): boolean {
  // A greeted connection this node is closing by choice drains what the peer already sent.
  return connection.live || (connection.state === 'closing' && connection.peerId !== undefined);
}
