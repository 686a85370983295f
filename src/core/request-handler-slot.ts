/**
 * The one request handler a {@link P2PNetwork} holds: setting replaces it, and a
 * disposer removes it only while it is still the current one.
 *
 * @packageDocumentation
 */

import type { Unsubscribe } from '../contracts/common.js';
import { DistributedError } from '../contracts/errors.js';
import type { PeerRequestHandler } from '../contracts/p2p-network.js';
import { createUnsubscribe } from './events.js';

/**
 * Holds the current {@link PeerRequestHandler}, as every `P2PNetwork`'s
 * `setRequestHandler` requires.
 *
 * @since 2.0.0
 */
export class RequestHandlerSlot {
  #handler: PeerRequestHandler | undefined;

  /** The current handler, if one is set. */
  get current(): PeerRequestHandler | undefined {
    return this.#handler;
  }

  /**
   * Installs `handler`, replacing any other.
   *
   * @param handler - Answers each request.
   * @returns A disposer that removes `handler` if it is still the current one, so
   *   an old disposer never removes its replacement.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` when `handler` is not a function.
   */
  set(handler: PeerRequestHandler): Unsubscribe {
    if (typeof handler !== 'function') {
      throw new DistributedError('INVALID_ARGUMENT', 'the request handler must be a function');
    }
    this.#handler = handler;
    return createUnsubscribe(() => {
      if (this.#handler === handler) this.#handler = undefined;
    });
  }
}
