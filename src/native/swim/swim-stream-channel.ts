/**
 * The reliable channel SWIM's fallback ping travels on (memberlist's TCP
 * ping): one short request-reply exchange per stream. `addressStreamChannel`
 * carries it over the runtime's streams, listening on the same port number as
 * the datagram transport (stream and datagram ports are separate, as TCP and
 * UDP are), so a member's advertised address serves both.
 *
 * @packageDocumentation
 */

import type { Unsubscribe } from '../../contracts/common.js';
import { DistributedError } from '../../contracts/errors.js';
import { createUnsubscribe } from '../../core/events.js';
import { SWIM_FALLBACK_MAX_FRAME_BYTES } from '../../core/swim/fallback.js';
import type { SwimAddress } from '../../core/swim/messages.js';
import { encodeFrame, FrameDecoder } from '../../core/wire/frame.js';
import type {
  NetworkAddress,
  Runtime,
  StreamConnection,
  StreamListener,
  Timer,
} from '../../runtime/runtime.js';

/**
 * A reliable request-reply channel between members, for SWIM's fallback
 * ping. Bytes sent on it are not lost by the network (a stream retransmits);
 * an exchange fails only when the peer is unreachable, down, or slow.
 *
 * @since 2.0.0
 */
export interface SwimFallbackChannel {
  /**
   * Sends one request to a member and waits for its one reply.
   *
   * @param to - The member's advertised address.
   * @param nodeId - Its id, when known.
   * @param request - The request bytes.
   * @param options - The signal aborts the exchange (the driver aborts at the probe's deadline).
   * @returns The reply bytes.
   * @throws A {@link DistributedError} (or the signal's reason) when no reply came.
   */
  request(
    to: SwimAddress,
    nodeId: string | undefined,
    request: Uint8Array,
    options: { readonly signal: AbortSignal },
  ): Promise<Uint8Array>;
  /**
   * Serves requests from other members (one handler at a time; a later one replaces it).
   *
   * @param handler - Returns the reply, or `undefined` to close without one.
   * @returns A disposer.
   */
  serve(
    handler: (request: Uint8Array, from: NetworkAddress) => Uint8Array | undefined,
  ): Unsubscribe;
}

/**
 * Counters of an {@link AddressStreamChannel}.
 *
 * @since 2.0.0
 */
export interface SwimStreamChannelStats {
  /** Requests sent. */
  requests: number;
  /** Requests that got a reply. */
  replies: number;
  /** Requests that failed (refused, broken, aborted, bad frame). */
  failures: number;
  /** Requests served (a reply written). */
  served: number;
  /** Incoming connections refused because `maxConnections` were open. */
  refused: number;
  /** Incoming connections closed for a bad frame or no request within `requestTimeoutMs`. */
  dropped: number;
}

/**
 * Options of {@link addressStreamChannel}.
 *
 * @since 2.0.0
 */
export interface AddressStreamChannelOptions {
  /** The port to listen on (use the datagram transport's); `0` picks one. */
  readonly port: number;
  /** The host to bind; default all interfaces (`''`). */
  readonly host?: string;
  /** Incoming connections served at once; more are closed at once. Default 64. */
  readonly maxConnections?: number;
  /** Outgoing requests in flight at once; more fail at once. Default 16. */
  readonly maxPendingRequests?: number;
  /** An incoming connection that sends no whole request within this is closed. Default 5 000 ms. */
  readonly requestTimeoutMs?: number;
  /** The largest frame accepted either way. Default `SWIM_FALLBACK_MAX_FRAME_BYTES` (2 048). */
  readonly maxFrameBytes?: number;
}

/**
 * The channel {@link addressStreamChannel} returns.
 *
 * @since 2.0.0
 */
export interface AddressStreamChannel extends SwimFallbackChannel, Disposable {
  /** The address listened on (with the port chosen, when `0` was asked for). */
  readonly address: NetworkAddress;
  /** Counters. */
  readonly stats: Readonly<SwimStreamChannelStats>;
  /** Stops listening and breaks every open exchange. */
  close(): void;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new DistributedError('INVALID_ARGUMENT', `${name} must be a positive integer`);
  }
  return value;
}

/**
 * Listens for stream connections and returns a {@link SwimFallbackChannel}
 * over the runtime's streams: each request opens a connection to the
 * member's address, writes one length-prefixed frame and reads one back.
 *
 * @param runtime - The node's runtime.
 * @param options - Where to listen, and bounds.
 * @returns The channel.
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` for bad bounds.
 * @since 2.0.0
 */
export async function addressStreamChannel(
  runtime: Runtime,
  options: AddressStreamChannelOptions,
): Promise<AddressStreamChannel> {
  const maxConnections = positiveInteger('maxConnections', options.maxConnections ?? 64);
  const maxPending = positiveInteger('maxPendingRequests', options.maxPendingRequests ?? 16);
  const requestTimeoutMs = positiveInteger('requestTimeoutMs', options.requestTimeoutMs ?? 5_000);
  const maxFrameBytes = positiveInteger(
    'maxFrameBytes',
    options.maxFrameBytes ?? SWIM_FALLBACK_MAX_FRAME_BYTES,
  );
  const stats: SwimStreamChannelStats = {
    requests: 0,
    replies: 0,
    failures: 0,
    served: 0,
    refused: 0,
    dropped: 0,
  };
  let handler: ((request: Uint8Array, from: NetworkAddress) => Uint8Array | undefined) | undefined;
  let closed = false;
  const open = new Set<StreamConnection>();
  let pending = 0;

  const accept = (connection: StreamConnection): void => {
    if (closed || open.size >= maxConnections) {
      stats.refused += 1;
      connection.destroy();
      return;
    }
    open.add(connection);
    const decoder = new FrameDecoder({ maxFrameBytes });
    let answered = false;
    const timer: Timer = runtime.clock.setTimer(requestTimeoutMs, () => {
      if (answered) return;
      stats.dropped += 1;
      connection.destroy();
    });
    connection.onClose(() => {
      timer.cancel();
      open.delete(connection);
    });
    connection.onData((chunk) => {
      if (answered) return;
      let bodies: Uint8Array[];
      try {
        bodies = decoder.push(chunk);
      } catch {
        answered = true;
        stats.dropped += 1;
        connection.destroy();
        return;
      }
      const [body] = bodies;
      if (body === undefined) return;
      answered = true;
      timer.cancel();
      const reply = handler?.(body, connection.remote);
      if (reply === undefined) {
        connection.destroy();
        return;
      }
      stats.served += 1;
      connection.write(encodeFrame(reply, maxFrameBytes));
      connection.close();
    });
  };
  const listener: StreamListener = await runtime.network.listen(
    { host: options.host ?? '', port: options.port },
    accept,
  );

  const request = async (
    to: SwimAddress,
    _nodeId: string | undefined,
    bytes: Uint8Array,
    requestOptions: { readonly signal: AbortSignal },
  ): Promise<Uint8Array> => {
    const { signal } = requestOptions;
    signal.throwIfAborted();
    if (closed) throw new DistributedError('CLOSED', 'the SWIM stream channel is closed');
    if (pending >= maxPending) {
      stats.failures += 1;
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `${maxPending} fallback requests already in flight`,
      );
    }
    pending += 1;
    stats.requests += 1;
    try {
      const frame = encodeFrame(bytes, maxFrameBytes);
      const connection = await runtime.network.connect(
        { host: to.host, port: to.port },
        { signal },
      );
      const reply = await exchange(connection, frame, signal, maxFrameBytes, open);
      stats.replies += 1;
      return reply;
    } catch (error) {
      stats.failures += 1;
      throw error;
    } finally {
      pending -= 1;
    }
  };

  const close = (): void => {
    if (closed) return;
    closed = true;
    handler = undefined;
    listener.close();
    for (const connection of [...open]) connection.destroy();
    open.clear();
  };
  return {
    address: listener.address,
    stats,
    request,
    serve: (next) => {
      handler = next;
      return createUnsubscribe(() => {
        if (handler === next) handler = undefined;
      });
    },
    close,
    [Symbol.dispose]: close,
  };
}

/** Writes the request frame on an open connection and reads one reply frame. */
function exchange(
  connection: StreamConnection,
  frame: Uint8Array,
  signal: AbortSignal,
  maxFrameBytes: number,
  open: Set<StreamConnection>,
): Promise<Uint8Array> {
  open.add(connection);
  return new Promise<Uint8Array>((resolve, reject) => {
    const decoder = new FrameDecoder({ maxFrameBytes });
    let settled = false;
    const finish = (reply: Uint8Array | undefined, error?: unknown): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (reply !== undefined) {
        connection.close();
        resolve(reply);
      } else {
        connection.destroy();
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    const onAbort = (): void => {
      finish(undefined, signal.reason);
    };
    if (signal.aborted) {
      finish(undefined, signal.reason);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    connection.onClose((error) => {
      open.delete(connection);
      finish(
        undefined,
        error ?? new DistributedError('CLOSED', 'the stream closed before the fallback reply'),
      );
    });
    connection.onData((chunk) => {
      try {
        const [body] = decoder.push(chunk);
        if (body !== undefined) finish(body);
      } catch (error) {
        finish(undefined, error);
      }
    });
    connection.write(frame);
  });
}
