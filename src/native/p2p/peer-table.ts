/**
 * The peers a native network knows: their addresses, metadata, connections,
 * outbound queues and reconnection state, bounded by `maxPeers`, with a memory
 * of recently lost peers.
 *
 * @packageDocumentation
 */

import type { PeerInfo } from '../../contracts/p2p-network.js';
import type { NetworkAddress, Timer } from '../../runtime/runtime.js';
import type { PeerAddressRecord } from './control.js';
import { CONTROL_LIMITS } from './control.js';
import { OutboundQueue } from './outbound-queue.js';
import type { PeerConnection } from './peer-connection.js';

/**
 * What the network keeps about one known peer.
 *
 * @since 2.0.0
 */
export interface PeerState {
  /** The peer's id. */
  readonly peerId: string;
  /** Where to dial it (as it advertised). */
  address: NetworkAddress;
  /** Its advertised labels. */
  metadata: Readonly<Record<string, string>>;
  /** Wall-clock time it was last heard from (or learnt of). */
  lastSeenAt: number;
  /** Its greeted connections (usually one; two after simultaneous dials). */
  readonly connections: Set<PeerConnection>;
  /** Envelopes waiting for a writable connection. */
  readonly queue: OutboundQueue;
  /** A dial to it is in progress. */
  dialing: boolean;
  /** The scheduled redial, if any. */
  reconnectTimer: Timer | undefined;
  /** Consecutive failed dials, for the backoff. */
  attempt: number;
  /** Monotonic time its connections started failing; `undefined` while it is reachable. */
  failingSince: number | undefined;
  /** A connection to it completed a handshake at least once (it is not known only by hearsay). */
  greeted: boolean;
  /** Its requests this node is handling now. */
  inboundRequests: number;
  /** A flush of the queue is scheduled for the end of the current task. */
  flushScheduled: boolean;
  /** The scheduled flush: one function per peer, not a closure per flush. */
  readonly flushTask: () => void;
}

/**
 * What a {@link PeerTable} needs from its network.
 *
 * @since 2.0.0
 */
export interface PeerTableOptions {
  /** The most peers known at once (and the most tombstones kept). */
  readonly maxPeers: number;
  /** Bytes each peer's outbound queue holds at most. */
  readonly maxOutboundQueueBytes: number;
  /** Wall-clock time, in epoch ms. */
  readonly now: () => number;
  /** Monotonic time, in ms. */
  readonly monotonic: () => number;
  /** Flushes a peer's queue (called from the peer's scheduled flush task). */
  readonly flush: (peer: PeerState) => void;
}

/**
 * The known peers, in the order they became known. A lost peer leaves a
 * tombstone, so hearsay alone never brings it back: the teller may not have
 * noticed the loss yet, and two tellers that keep re-teaching each other a dead
 * peer would otherwise keep it known for ever. It is known again only when it
 * connects, or answers a probe.
 *
 * @since 2.0.0
 */
export class PeerTable {
  readonly #options: PeerTableOptions;
  readonly #peers = new Map<string, PeerState>();
  /** Lost peers, oldest first, at most `maxPeers`. */
  readonly #tombstones = new Set<string>();

  /**
   * @param options - Bounds, clocks and the flush to schedule.
   */
  constructor(options: PeerTableOptions) {
    this.#options = options;
  }

  /** How many peers are known. */
  get size(): number {
    return this.#peers.size;
  }

  /**
   * The peer with this id, if known.
   *
   * @param peerId - A peer id.
   */
  get(peerId: string): PeerState | undefined {
    return this.#peers.get(peerId);
  }

  /** Every known peer, in the order they became known. */
  values(): IterableIterator<PeerState> {
    return this.#peers.values();
  }

  /**
   * Adds a peer, unless `maxPeers` are known already.
   *
   * @param peerId - Its id (not known yet).
   * @param address - Where to dial it.
   * @param metadata - Its labels.
   * @returns The new peer, or `undefined` at `maxPeers`.
   */
  add(
    peerId: string,
    address: NetworkAddress,
    metadata: Readonly<Record<string, string>>,
  ): PeerState | undefined {
    if (this.#peers.size >= this.#options.maxPeers) return undefined;
    const flush = this.#options.flush;
    const peer: PeerState = {
      peerId,
      address: { host: address.host, port: address.port },
      metadata,
      lastSeenAt: this.#options.now(),
      connections: new Set(),
      queue: new OutboundQueue(this.#options.maxOutboundQueueBytes),
      dialing: false,
      reconnectTimer: undefined,
      attempt: 0,
      failingSince: undefined,
      greeted: false,
      inboundRequests: 0,
      flushScheduled: false,
      flushTask: () => {
        peer.flushScheduled = false;
        flush(peer);
      },
    };
    this.#peers.set(peerId, peer);
    this.#tombstones.delete(peerId);
    return peer;
  }

  /**
   * Forgets a peer and leaves a tombstone (the oldest tombstone goes past `maxPeers`).
   *
   * @param peer - A known peer.
   * @returns `false` when it was not (or no longer) the known peer of that id.
   */
  remove(peer: PeerState): boolean {
    if (this.#peers.get(peer.peerId) !== peer) return false;
    this.#peers.delete(peer.peerId);
    peer.reconnectTimer?.cancel();
    peer.reconnectTimer = undefined;
    this.#tombstones.delete(peer.peerId);
    this.#tombstones.add(peer.peerId);
    if (this.#tombstones.size > this.#options.maxPeers) {
      const oldest = this.#tombstones.keys().next();
      if (oldest.done !== true) this.#tombstones.delete(oldest.value);
    }
    return true;
  }

  /**
   * Whether a peer was lost and has not been known since (its tombstone is kept).
   *
   * @param peerId - A peer id.
   */
  wasLost(peerId: string): boolean {
    return this.#tombstones.has(peerId);
  }

  /**
   * Whether a known peer advertises this address.
   *
   * @param address - A host and port.
   */
  knownAt(address: NetworkAddress): boolean {
    for (const peer of this.#peers.values()) {
      if (peer.address.host === address.host && peer.address.port === address.port) return true;
    }
    return false;
  }

  /**
   * Peers believed alive: greeted at some point and not failing now (an idle
   * peer counts); at most as many as a `hello` or announcement may list.
   */
  livePeers(): PeerAddressRecord[] {
    const records: PeerAddressRecord[] = [];
    for (const peer of this.#peers.values()) {
      if (records.length >= CONTROL_LIMITS.maxListedPeers) break;
      if (peer.failingSince === undefined && peer.greeted) {
        records.push({ peerId: peer.peerId, host: peer.address.host, port: peer.address.port });
      }
    }
    return records;
  }
}

/**
 * The open connection that carries a peer's traffic, if it has one. One
 * connection carries everything to a peer, in order, even while another is
 * open: the receiver's replay window must see sequence numbers from one sender
 * (nearly) in order, which two interleaved streams would not give.
 *
 * @param peer - A known peer.
 * @returns Its first open connection.
 * @since 2.0.0
 */
export function openConnectionOf(peer: PeerState): PeerConnection | undefined {
  for (const connection of peer.connections) if (connection.state === 'open') return connection;
  return undefined;
}

/**
 * A peer as the contract shows it.
 *
 * @param peer - A known peer.
 * @returns A frozen {@link PeerInfo}.
 * @since 2.0.0
 */
export function peerInfo(peer: PeerState): PeerInfo {
  return Object.freeze({
    peerId: peer.peerId,
    address: peer.address.host,
    port: peer.address.port,
    lastSeenAt: peer.lastSeenAt,
    metadata: peer.metadata,
  });
}
