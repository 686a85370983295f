/**
 * The one event pattern every contract uses: `onX(listener)` returns an
 * {@link Unsubscribe}.
 *
 * @packageDocumentation
 */

import type { Listener, Unsubscribe } from '../contracts/common.js';

/**
 * Wraps a removal function as an {@link Unsubscribe}: callable, disposable, and
 * harmless to call twice.
 *
 * @param remove - Removes the subscription; called at most once.
 * @since 2.0.0
 */
export function createUnsubscribe(remove: () => void): Unsubscribe {
  let removed = false;
  const unsubscribe = (): void => {
    if (removed) return;
    removed = true;
    remove();
  };
  return Object.assign(unsubscribe, { [Symbol.dispose]: unsubscribe });
}

/**
 * The listeners of one event, called in subscription order. A listener that
 * throws does not stop the others; its error goes to `onListenerError`.
 *
 * @since 2.0.0
 */
export class EventHub<T> {
  readonly #listeners = new Set<Listener<T>>();
  readonly #onListenerError: (error: unknown) => void;

  /**
   * @param onListenerError - Receives any error a listener throws. The hub never swallows it.
   */
  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  /** How many listeners are subscribed. */
  get size(): number {
    return this.#listeners.size;
  }

  /**
   * Adds a listener. Subscribing the same function twice makes two subscriptions.
   *
   * @param listener - Called with every event emitted after this call.
   * @returns A disposer that removes the listener.
   */
  subscribe(listener: Listener<T>): Unsubscribe {
    // A wrapper makes each subscription distinct, so unsubscribing one does not remove another.
    const entry: Listener<T> = (event) => {
      listener(event);
    };
    this.#listeners.add(entry);
    return createUnsubscribe(() => this.#listeners.delete(entry));
  }

  /**
   * Calls every listener with `event`.
   *
   * @param event - The event to deliver.
   */
  emit(event: T): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}
