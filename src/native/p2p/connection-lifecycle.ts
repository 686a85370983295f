/**
 * The life of the native network's connections: accepting and dialling,
 * redialling with backoff after a failure, reporting a peer lost when redials
 * keep failing, and the periodic sweep that closes idle connections and
 * probes quiet ones.
 *
 * @packageDocumentation
 */

import type { NetworkAddress, Runtime, StreamConnection, Timer } from '../../runtime/runtime.js';
import { sweepAction, sweepPeriod } from './connection-sweep.js';
import { encodeControl } from './control.js';
import { backoffDelay, type ResolvedP2POptions } from './options.js';
import type { Outbox } from './outbox.js';
import { PeerConnection, type SeedState } from './peer-connection.js';
import { openConnectionOf, type PeerState, type PeerTable } from './peer-table.js';
import type { SeedDialer } from './seed-dialer.js';

/**
 * The keepalive probe, and its answer: two bytes each.
 *
 * @since 2.0.0
 */
export const KEEPALIVE_PROBE = encodeControl({ op: 'keepalive', reply: false });

/**
 * What a {@link ConnectionLifecycle} needs from its network.
 *
 * @since 2.0.0
 */
export interface ConnectionLifecycleOptions {
  /** Streams, the clock and randomness (for the backoff jitter). */
  readonly runtime: Runtime;
  /** Bounds and timing. */
  readonly options: ResolvedP2POptions;
  /** Aborts dials in progress when the network closes. */
  readonly signal: AbortSignal;
  /** Whether the network is closed. */
  readonly closed: () => boolean;
  /** The known peers. */
  readonly peers: PeerTable;
  /** Seeds and probes, told when a dial for one fails. */
  readonly seeds: SeedDialer;
  /** Writes the hello, and flushes a peer's queue when its connection drains. */
  readonly outbox: Outbox;
  /** Arms a timer (never throws). */
  readonly setTimer: (delayMs: number, callback: () => void) => Timer;
  /** The `hello` payload for a new connection over `stream`. */
  readonly hello: (stream: StreamConnection) => Uint8Array;
  /** Receives every chunk a connection reads. */
  readonly onData: (connection: PeerConnection, chunk: Uint8Array) => void;
  /** Whether a peer has envelopes queued or requests in flight (so it is not idle). */
  readonly busy: (peer: PeerState) => boolean;
  /** Writes a control message (goodbye, keepalive) to a greeted connection. */
  readonly writeControl: (connection: PeerConnection, payload: Uint8Array) => void;
  /** Reports a peer lost and forgets it. */
  readonly losePeer: (peer: PeerState) => void;
  /**
   * A greeted peer's last open connection failed (closed or reset without a
   * goodbye, or its keepalive went unanswered); redials follow. A crashed
   * process shows up here within a round trip, long before the peer is lost.
   */
  readonly connectionFailed?: (peer: PeerState) => void;
  /**
   * Whether a stream's security is retired (a TLS-PSK stream keyed with a key that is no
   * longer primary): the sweep then closes it like an idle one as soon as its peer is not
   * busy, so a key rotation moves traffic to new connections without losing any.
   */
  readonly retired?: (stream: StreamConnection) => boolean;
}

/**
 * Opens, tracks and closes connections; decides when a failing peer is redialled or lost.
 *
 * @since 2.0.0
 */
export class ConnectionLifecycle {
  /** Open connections (greeted or handshaking), at most `maxConnections`. */
  readonly connections = new Set<PeerConnection>();
  readonly #host: ConnectionLifecycleOptions;
  #sweepTimer: Timer | undefined;
  #keepalivesSent = 0;
  #keepaliveTimeouts = 0;

  /**
   * @param host - What the lifecycle needs from its network.
   */
  constructor(host: ConnectionLifecycleOptions) {
    this.#host = host;
  }

  /** Keepalive probes sent. */
  get keepalivesSent(): number {
    return this.#keepalivesSent;
  }

  /** Connections reset because a probe went unanswered. */
  get keepaliveTimeouts(): number {
    return this.#keepaliveTimeouts;
  }

  /**
   * Adopts a connection a peer opened, unless closed or at `maxConnections`.
   *
   * @param stream - The accepted stream.
   */
  accept(stream: StreamConnection): void {
    if (this.#host.closed() || this.connections.size >= this.#host.options.maxConnections) {
      stream.destroy();
      return;
    }
    this.#adopt(stream, { outbound: false, expectedPeerId: undefined, seed: undefined });
  }

  /**
   * Dials an address, for a known peer or for a seed or probe.
   *
   * @param address - Where to connect.
   * @param expectedPeerId - The known peer it is dialled for, if any.
   * @param seed - The seed or probe it is dialled for, if any.
   */
  connect(address: NetworkAddress, expectedPeerId: string | undefined, seed?: SeedState): void {
    const { runtime, options } = this.#host;
    if (this.connections.size >= options.maxConnections) {
      // Too many connections: a failed dial, retried with backoff.
      queueMicrotask(() => {
        this.dialFailed(expectedPeerId, seed);
      });
      return;
    }
    runtime.network
      .connect({ host: address.host, port: address.port }, { signal: this.#host.signal })
      .then(
        (stream) => {
          if (this.#host.closed()) {
            stream.destroy();
            return;
          }
          this.#adopt(stream, { outbound: true, expectedPeerId, seed });
        },
        () => {
          this.dialFailed(expectedPeerId, seed);
        },
      );
  }

  /**
   * Dials a known peer that has no open connection and no dial in progress.
   *
   * @param peer - A known peer.
   */
  dial(peer: PeerState): void {
    if (this.#host.closed() || peer.dialing || openConnectionOf(peer) !== undefined) return;
    peer.reconnectTimer?.cancel();
    peer.reconnectTimer = undefined;
    peer.dialing = true;
    this.connect(peer.address, peer.peerId);
  }

  /**
   * A dial failed (or its connection closed before the hello).
   *
   * @param peerId - The known peer it was for, if any.
   * @param seed - The seed or probe it was for, if any.
   */
  dialFailed(peerId: string | undefined, seed: SeedState | undefined): void {
    if (this.#host.closed()) return;
    if (seed !== undefined) this.#host.seeds.failed(seed);
    const peer = peerId === undefined ? undefined : this.#host.peers.get(peerId);
    if (peer === undefined) return;
    peer.dialing = false;
    if (openConnectionOf(peer) !== undefined) return;
    this.#failing(peer);
  }

  /**
   * Cleans up after a connection closed, for whatever reason, and decides what
   * follows: nothing (closed by choice, or another connection is open), a
   * redial (it failed, or envelopes wait), or the peer lost (it said it is
   * shutting down). Harmless to call twice.
   *
   * @param connection - The connection.
   */
  closed(connection: PeerConnection): void {
    if (connection.state === 'closed') return;
    const wasGreeted = connection.peerId !== undefined;
    connection.state = 'closed';
    connection.release();
    this.connections.delete(connection);
    if (this.#host.closed()) return;
    if (!wasGreeted) {
      if (connection.outbound) this.dialFailed(connection.expectedPeerId, connection.seed);
      return;
    }
    const peer = this.#host.peers.get(connection.peerId ?? '');
    if (peer === undefined || !peer.connections.delete(connection)) return;
    if (openConnectionOf(peer) !== undefined) return;
    if (connection.goodbye === 'shutdown') {
      this.#host.losePeer(peer);
    } else if (connection.closedByUs || connection.goodbye === 'idle') {
      if (peer.queue.length > 0) this.dial(peer);
    } else {
      this.#host.connectionFailed?.(peer);
      this.#failing(peer);
    }
  }

  /**
   * Resets a connection at once (a refused frame, a lost peer) and cleans up.
   *
   * @param connection - The connection.
   * @param byChoice - This node decided it (no redial follows); `false` for a failure.
   */
  destroy(connection: PeerConnection, byChoice: boolean): void {
    if (byChoice) connection.closedByUs = true;
    connection.state = 'closing';
    connection.stream.destroy();
    this.closed(connection);
  }

  /** Starts the periodic sweep (idle close, keepalive). */
  startSweep(): void {
    this.#sweepTimer = this.#host.setTimer(sweepPeriod(this.#host.options), () => {
      if (this.#host.closed()) return;
      this.#sweep();
      this.startSweep();
    });
  }

  /** Stops the sweep. */
  stopSweep(): void {
    this.#sweepTimer?.cancel();
    this.#sweepTimer = undefined;
  }

  #adopt(
    stream: StreamConnection,
    init: { outbound: boolean; expectedPeerId: string | undefined; seed: SeedState | undefined },
  ): void {
    const { runtime, options, peers, outbox } = this.#host;
    const connection = new PeerConnection(stream, {
      ...init,
      maxFrameBytes: options.maxFrameBytes,
      now: runtime.clock.monotonic(),
    });
    this.connections.add(connection);
    connection.attach({
      onData: (chunk) => {
        this.#host.onData(connection, chunk);
      },
      onDrain: () => {
        connection.writable = true;
        const peer = connection.peerId === undefined ? undefined : peers.get(connection.peerId);
        if (peer !== undefined) outbox.flush(peer);
      },
      onClose: () => {
        this.closed(connection);
      },
    });
    connection.handshakeTimer = this.#host.setTimer(options.handshakeTimeoutMs, () => {
      if (connection.state !== 'handshaking') return;
      this.destroy(connection, false);
    });
    outbox.writeDirect(
      connection,
      init.expectedPeerId ?? '',
      { kind: 'hello', correlationId: 0, payload: this.#host.hello(stream) },
      true,
    );
  }

  /** The peer has no connection and should have one: redial with backoff, or report it lost. */
  #failing(peer: PeerState): void {
    const { runtime, options } = this.#host;
    const now = runtime.clock.monotonic();
    peer.failingSince ??= now;
    if (now - peer.failingSince >= options.lostAfterMs) {
      this.#host.losePeer(peer);
      return;
    }
    if (peer.reconnectTimer !== undefined || peer.dialing) return;
    const delay = backoffDelay(options, peer.attempt, runtime.random.next());
    peer.attempt += 1;
    peer.reconnectTimer = this.#host.setTimer(delay, () => {
      peer.reconnectTimer = undefined;
      if (this.#host.peers.get(peer.peerId) === peer) this.dial(peer);
    });
  }

  /** Closes idle connections, probes quiet ones, and fails those whose probe went unanswered. */
  #sweep(): void {
    const { runtime, options, peers } = this.#host;
    const now = runtime.clock.monotonic();
    for (const connection of [...this.connections]) {
      if (connection.state !== 'open') continue;
      const peer = peers.get(connection.peerId ?? '');
      const busy = peer !== undefined && this.#host.busy(peer);
      const retired = !busy && this.#host.retired?.(connection.stream) === true;
      switch (retired ? 'close-idle' : sweepAction(connection, now, options, busy)) {
        case 'close-idle':
          this.#host.writeControl(connection, encodeControl({ op: 'goodbye', reason: 'idle' }));
          connection.closedByUs = true;
          connection.state = 'closing';
          connection.stream.close();
          break;
        case 'probe':
          connection.keepaliveSentAt = now;
          this.#keepalivesSent += 1;
          this.#host.writeControl(connection, KEEPALIVE_PROBE);
          break;
        case 'unresponsive':
          // A failure, not a choice: the peer is redialled, and lost if redials keep failing.
          this.#keepaliveTimeouts += 1;
          this.destroy(connection, false);
          break;
        case 'keep':
          break;
      }
    }
  }
}
