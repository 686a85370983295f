/**
 * Options shared by every embedded default.
 *
 * @packageDocumentation
 */

/**
 * Options every embedded default accepts. All are optional: the defaults need
 * no configuration.
 *
 * @since 2.0.0
 */
export interface EmbeddedOptions {
  /**
   * The wall clock, in epoch milliseconds; timestamps in records and events come
   * from it. Defaults to `Date.now`. Tests pass a fixed or stepping clock.
   */
  readonly now?: () => number;
  /**
   * Receives any error an event listener throws, so one faulty listener cannot
   * break the component or silence the others. Defaults to printing it to
   * standard error, so it is reported, never lost.
   */
  readonly onListenerError?: (error: unknown) => void;
}

/**
 * The resolved form of {@link EmbeddedOptions}, with every default applied.
 *
 * @since 2.0.0
 */
export interface ResolvedEmbeddedOptions {
  /** See {@link EmbeddedOptions.now}. */
  readonly now: () => number;
  /** See {@link EmbeddedOptions.onListenerError}. */
  readonly onListenerError: (error: unknown) => void;
}

/**
 * Applies the defaults of {@link EmbeddedOptions}.
 *
 * @param options - What the caller supplied.
 * @since 2.0.0
 */
export function resolveEmbeddedOptions(options: EmbeddedOptions = {}): ResolvedEmbeddedOptions {
  return {
    now: options.now ?? Date.now,
    onListenerError:
      options.onListenerError ??
      ((error: unknown) => {
        console.error('an event listener threw:', error);
      }),
  };
}
