/**
 * The embedded {@link P2PNetwork}: a loopback network whose only peer is this node.
 *
 * @packageDocumentation
 */

import { RequestHandlerSlot } from '../core/request-handler-slot.js';
import { randomUUID } from 'node:crypto';
import type { CallOptions, Listener, Unsubscribe } from '../contracts/common.js';
import { DistributedError } from '../contracts/errors.js';
import type {
  P2PNetwork,
  PeerEvent,
  PeerInfo,
  PeerMessage,
  PeerRequestHandler,
} from '../contracts/p2p-network.js';
import { EventHub } from '../core/events.js';
import { resolveEmbeddedOptions, type EmbeddedOptions } from './options.js';

/**
 * Options for {@link InMemoryP2PNetwork}.
 *
 * @since 2.0.0
 */
export interface InMemoryP2PNetworkOptions extends EmbeddedOptions {
  /** This node's peer id. Defaults to `peer-` and eight random hex digits. */
  readonly peerId?: string;
  /** This node's address, as advertised in its {@link PeerInfo}. Defaults to `127.0.0.1`. */
  readonly address?: string;
  /** This node's port, as advertised in its {@link PeerInfo}. Defaults to `0` (not listening). */
  readonly port?: number;
  /** This node's labels, as advertised in its {@link PeerInfo}. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * The most bytes one message or request may hold; larger ones are refused with
   * `INVALID_ARGUMENT`. Defaults to 1 MiB.
   */
  readonly maxMessageBytes?: number;
}

/** The default of {@link InMemoryP2PNetworkOptions.maxMessageBytes}: 1 MiB. */
const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * A loopback peer-to-peer network. This node is its only known peer: data sent
 * to it, or broadcast, reaches its own {@link InMemoryP2PNetwork.onMessage}
 * listeners, and requests to it are answered by its own request handler. Any
 * other peer id is unknown (`UNKNOWN_PEER`): nothing pretends to reach another node.
 *
 * Delivery happens before `sendToPeer` and `broadcast` resolve, but never inside
 * the caller's synchronous code. Bytes are copied on the way in and out, so the
 * sender may reuse its buffer at once. The known peers never change, so no
 * peer events are emitted.
 *
 * @since 2.0.0
 */
export class InMemoryP2PNetwork implements P2PNetwork {
  /** This node's peer id. */
  readonly localPeerId: string;
  /** The most bytes one message or request may hold. */
  readonly maxMessageBytes: number;
  readonly #address: string;
  readonly #port: number;
  readonly #metadata: Readonly<Record<string, string>>;
  readonly #now: () => number;
  readonly #peerEvents: EventHub<PeerEvent>;
  readonly #messages: EventHub<PeerMessage>;
  readonly #requestHandler = new RequestHandlerSlot();

  /**
   * @param options - This node's identity and limits; everything has a default.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for an empty peer id, a port
   *   outside 0–65535, or a `maxMessageBytes` that is not a positive integer.
   */
  constructor(options: InMemoryP2PNetworkOptions = {}) {
    const resolved = resolveEmbeddedOptions(options);
    this.#now = resolved.now;
    this.#peerEvents = new EventHub(resolved.onListenerError);
    this.#messages = new EventHub(resolved.onListenerError);
    const peerId = options.peerId ?? `peer-${randomUUID().slice(0, 8)}`;
    const port = options.port ?? 0;
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (typeof peerId !== 'string' || peerId === '') {
      throw new DistributedError('INVALID_ARGUMENT', 'peerId must be a non-empty string');
    }
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new DistributedError('INVALID_ARGUMENT', `port must be 0–65535, got ${String(port)}`);
    }
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `maxMessageBytes must be a positive integer, got ${String(maxMessageBytes)}`,
      );
    }
    this.localPeerId = peerId;
    this.maxMessageBytes = maxMessageBytes;
    this.#address = options.address ?? '127.0.0.1';
    this.#port = port;
    this.#metadata = Object.freeze({ ...options.metadata });
  }

  /**
   * Subscribes to peer changes. The loopback network's peers never change, so
   * the listener is never called; subscribing is still valid.
   *
   * @param listener - Called with every change.
   */
  onPeerEvent(listener: Listener<PeerEvent>): Unsubscribe {
    return this.#peerEvents.subscribe(listener);
  }

  /**
   * Subscribes to data this node sends or broadcasts to itself.
   *
   * @param listener - Called with every message; all listeners of one delivery
   *   share one copy of the bytes.
   */
  onMessage(listener: Listener<PeerMessage>): Unsubscribe {
    return this.#messages.subscribe(listener);
  }

  /**
   * Installs the handler that answers requests this node makes to itself.
   *
   * @param handler - Answers each request.
   */
  setRequestHandler(handler: PeerRequestHandler): Unsubscribe {
    return this.#requestHandler.set(handler);
  }

  /**
   * Returns the only known peer: this node, last seen now.
   *
   * @param options - Cancellation.
   */
  async discoverPeers(options?: CallOptions): Promise<readonly PeerInfo[]> {
    options?.signal?.throwIfAborted();
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    return Object.freeze([this.#selfInfo()]);
  }

  /**
   * Delivers a copy of `data` to this node's message listeners when `peerId` is
   * this node.
   *
   * @param peerId - Must be {@link InMemoryP2PNetwork.localPeerId}.
   * @param data - The bytes to send.
   * @param options - Cancellation.
   * @throws A {@link DistributedError}: `UNKNOWN_PEER` for any other peer id;
   *   `INVALID_ARGUMENT` when `data` is not a `Uint8Array` or is larger than
   *   {@link InMemoryP2PNetwork.maxMessageBytes}.
   */
  async sendToPeer(peerId: string, data: Uint8Array, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    const copy = this.#copyIn(data, 'data');
    this.#requireKnown(peerId);
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    this.#deliver(copy);
  }

  /**
   * Delivers a copy of `data` to this node's message listeners: this node is
   * every known peer.
   *
   * @param data - The bytes to send.
   * @param options - Cancellation.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` when `data` is not a
   *   `Uint8Array` or is larger than {@link InMemoryP2PNetwork.maxMessageBytes}.
   */
  async broadcast(data: Uint8Array, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    const copy = this.#copyIn(data, 'data');
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    this.#deliver(copy);
  }

  /**
   * Asks this node's own request handler, when `peerId` is this node. The
   * handler gets a copy of the request and the caller's signal; the caller gets
   * a copy of the response. Cancelling rejects at once with the signal's reason.
   *
   * @param peerId - Must be {@link InMemoryP2PNetwork.localPeerId}.
   * @param request - The request's bytes.
   * @param options - Cancellation.
   * @returns The bytes the handler resolved with.
   * @throws A {@link DistributedError}: `UNKNOWN_PEER` for any other peer id;
   *   `NO_REQUEST_HANDLER` when no handler is installed; `INVALID_ARGUMENT` when
   *   `request` is not a `Uint8Array` or is too large, or the handler resolves
   *   with something other than a `Uint8Array`. A handler's own rejection is passed on.
   */
  async requestFromPeer(
    peerId: string,
    request: Uint8Array,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    options?.signal?.throwIfAborted();
    const copy = this.#copyIn(request, 'request');
    this.#requireKnown(peerId);
    await Promise.resolve();
    options?.signal?.throwIfAborted();
    const handler = this.#requestHandler.current;
    if (handler === undefined) {
      throw new DistributedError(
        'NO_REQUEST_HANDLER',
        `peer '${peerId}' has no request handler installed: call setRequestHandler first`,
      );
    }
    const signal = options?.signal ?? new AbortController().signal;
    // Promise.resolve turns a handler that returns synchronously into a promise too.
    const reply = Promise.resolve(
      handler(
        Object.freeze({ fromPeerId: this.localPeerId, data: copy, receivedAt: this.#now() }),
        {
          signal,
        },
      ),
    );
    const response = await raceAbort(reply, options?.signal);
    if (!(response instanceof Uint8Array)) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        'the request handler must resolve with a Uint8Array',
      );
    }
    return response.slice();
  }

  #selfInfo(): PeerInfo {
    return Object.freeze({
      peerId: this.localPeerId,
      address: this.#address,
      port: this.#port,
      lastSeenAt: this.#now(),
      metadata: this.#metadata,
    });
  }

  #requireKnown(peerId: string): void {
    if (peerId !== this.localPeerId) {
      throw new DistributedError(
        'UNKNOWN_PEER',
        `peer '${peerId}' is not known: this loopback network's only peer is ` +
          `'${this.localPeerId}'; configure a multi-node network to reach other peers`,
      );
    }
  }

  #copyIn(data: Uint8Array, what: string): Uint8Array {
    if (!(data instanceof Uint8Array)) {
      throw new DistributedError('INVALID_ARGUMENT', `${what} must be a Uint8Array`);
    }
    if (data.byteLength > this.maxMessageBytes) {
      throw new DistributedError(
        'INVALID_ARGUMENT',
        `${what} is ${data.byteLength} bytes, more than maxMessageBytes (${this.maxMessageBytes})`,
      );
    }
    return data.slice();
  }

  #deliver(data: Uint8Array): void {
    this.#messages.emit(
      Object.freeze({ fromPeerId: this.localPeerId, data, receivedAt: this.#now() }),
    );
  }
}

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it aborts.
 *
 * @param promise - The work to wait for.
 * @param signal - Cancels the wait (the work itself sees the same signal).
 */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
    };
    if (signal.aborted) {
      // The work's own outcome no longer matters; keep its rejection from going unhandled.
      promise.catch(() => undefined);
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    promise
      .finally(() => {
        signal.removeEventListener('abort', onAbort);
      })
      .then(resolve, reject);
  });
}
