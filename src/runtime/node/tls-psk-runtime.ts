/**
 * A Node runtime whose network is a {@link TlsPskNetwork}.
 *
 * @packageDocumentation
 */

import type { Runtime } from '../runtime.js';
import { createNodeRuntime, type NodeRuntimeOptions } from './node-runtime.js';
import { TlsPskNetwork, type PreSharedKeys } from './tls-psk-network.js';

/**
 * Options of {@link createTlsPskRuntime}: the Node runtime's, plus the keys.
 *
 * @since 2.0.0
 */
export interface TlsPskRuntimeOptions extends NodeRuntimeOptions {
  /** The cluster keys the streams authenticate with. */
  readonly keys: PreSharedKeys;
  /** See `TlsPskNetworkOptions.keyCheckIntervalMs`. */
  readonly keyCheckIntervalMs?: number;
}

/**
 * The Node runtime with TLS-PSK streams, and `close`.
 *
 * @since 2.0.0
 */
export interface TlsPskRuntime extends Runtime, AsyncDisposable {
  /** Streams over TLS 1.2 PSK; datagrams plain UDP. */
  readonly network: TlsPskNetwork;
  /** Closes the network, timers and storage; harmless to call twice. */
  close(): Promise<void>;
}

/**
 * Creates a Node runtime (clock, random source, storage as
 * `createNodeRuntime`) whose network is a {@link TlsPskNetwork} with the same
 * socket options and error handler.
 *
 * @param options - The Node runtime's options and the keys.
 * @returns The runtime.
 * @throws DistributedError `INVALID_ARGUMENT` for a bad option.
 * @since 2.0.0
 */
export function createTlsPskRuntime(options: TlsPskRuntimeOptions): TlsPskRuntime {
  const base = createNodeRuntime(options);
  let network: TlsPskNetwork;
  try {
    network = new TlsPskNetwork({
      ...options.network,
      keys: options.keys,
      ...(options.keyCheckIntervalMs !== undefined && {
        keyCheckIntervalMs: options.keyCheckIntervalMs,
      }),
      ...(options.onError !== undefined && { onError: options.onError }),
    });
  } catch (error) {
    void base.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await network.close();
      } finally {
        await base.close();
      }
    })();
    return closing;
  };
  return Object.freeze({
    nodeId: base.nodeId,
    clock: base.clock,
    random: base.random,
    storage: base.storage,
    network,
    close,
    [Symbol.asyncDispose]: close,
  });
}
