/**
 * The answering side of requests: the installed handler, the bound on
 * requests handled at once, and turning the handler's outcome into a
 * `response` or `error` envelope.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import type { PeerRequestHandler } from '../../contracts/p2p-network.js';
import type { Unsubscribe } from '../../contracts/common.js';
import { RequestHandlerSlot } from '../../core/request-handler-slot.js';
import type { Envelope } from '../../core/wire/envelope.js';
import type { Outgoing } from './outbox.js';
import type { PeerState } from './peer-table.js';

/** The most characters of an error message sent back to a requester. */
const MAX_ERROR_MESSAGE_CHARS = 1024;
const encoder = new TextEncoder();

/**
 * What {@link InboundRequests} needs from its network.
 *
 * @since 2.0.0
 */
export interface InboundRequestsOptions {
  /** This node's peer id, for error messages. */
  readonly localPeerId: string;
  /** The most requests handled at once, from all peers. */
  readonly maxInbound: number;
  /** The largest response a handler may give, in bytes. */
  readonly maxMessageBytes: number;
  /** Aborts when the network closes; handed to every handler. */
  readonly signal: AbortSignal;
  /** Wall-clock time, in epoch ms. */
  readonly now: () => number;
  /** Sends the answer to a request back to its peer. */
  readonly reply: (peerId: string, item: Outgoing) => void;
}

/**
 * Hands each request to the installed handler and sends back what it
 * resolves with, or the error it rejects with (a `DistributedError` keeps its
 * code, anything else becomes `REMOTE_ERROR`; messages are cut to 1,024
 * characters).
 *
 * @since 2.0.0
 */
export class InboundRequests {
  readonly #options: InboundRequestsOptions;
  readonly #handler = new RequestHandlerSlot();
  #count = 0;

  /**
   * @param options - Identity, bounds, the network's lifetime signal, the clock and the reply path.
   */
  constructor(options: InboundRequestsOptions) {
    this.#options = options;
  }

  /** Requests being handled now. */
  get count(): number {
    return this.#count;
  }

  /**
   * Installs the handler.
   *
   * @param handler - Answers each request.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` when `handler` is not a function.
   */
  setHandler(handler: PeerRequestHandler): Unsubscribe {
    return this.#handler.set(handler);
  }

  /**
   * Handles one request envelope from `peer`.
   *
   * @param peer - The greeted peer that sent it.
   * @param envelope - A `request` envelope.
   */
  handle(peer: PeerState, envelope: Envelope): void {
    const { correlationId } = envelope;
    const handler = this.#handler.current;
    if (handler === undefined) {
      this.#replyError(
        peer.peerId,
        correlationId,
        new DistributedError(
          'NO_REQUEST_HANDLER',
          `peer '${this.#options.localPeerId}' has no request handler installed`,
        ),
      );
      return;
    }
    if (this.#count >= this.#options.maxInbound) {
      this.#replyError(
        peer.peerId,
        correlationId,
        new DistributedError(
          'CAPACITY_EXCEEDED',
          `peer '${this.#options.localPeerId}' is handling ${this.#count} requests already`,
        ),
      );
      return;
    }
    this.#count += 1;
    peer.inboundRequests += 1;
    const request = Object.freeze({
      fromPeerId: peer.peerId,
      // The decoder's payload is a fresh copy that nothing else holds.
      data: envelope.payload,
      receivedAt: this.#options.now(),
    });
    let result: Promise<Uint8Array>;
    try {
      // Called at once rather than on a later microtask: one promise per request, not four.
      result = Promise.resolve(handler(request, { signal: this.#options.signal }));
    } catch (error) {
      this.#settled(peer, correlationId, false, error);
      return;
    }
    result.then(
      (response: unknown) => {
        this.#settled(peer, correlationId, true, response);
      },
      (error: unknown) => {
        this.#settled(peer, correlationId, false, error);
      },
    );
  }

  /** Releases the request's slot and answers with the handler's outcome. */
  #settled(peer: PeerState, correlationId: number, resolved: boolean, outcome: unknown): void {
    this.#count -= 1;
    peer.inboundRequests -= 1;
    if (!resolved) {
      this.#replyError(peer.peerId, correlationId, outcome);
    } else if (!(outcome instanceof Uint8Array)) {
      this.#replyError(
        peer.peerId,
        correlationId,
        new DistributedError(
          'INVALID_ARGUMENT',
          'the request handler must resolve with a Uint8Array',
        ),
      );
    } else if (outcome.length > this.#options.maxMessageBytes) {
      this.#replyError(
        peer.peerId,
        correlationId,
        new DistributedError(
          'INVALID_ARGUMENT',
          `the response is ${outcome.length} bytes, more than maxMessageBytes`,
        ),
      );
    } else {
      // Encoding (at once, when queued) copies the handler's bytes.
      this.#options.reply(peer.peerId, { kind: 'response', correlationId, payload: outcome });
    }
  }

  #replyError(peerId: string, correlationId: number, error: unknown): void {
    const code = error instanceof DistributedError ? error.code : 'REMOTE_ERROR';
    const message = (error instanceof Error ? error.message : String(error)).slice(
      0,
      MAX_ERROR_MESSAGE_CHARS,
    );
    this.#options.reply(peerId, {
      kind: 'error',
      correlationId,
      payload: encoder.encode(message),
      errorCode: code,
    });
  }
}
