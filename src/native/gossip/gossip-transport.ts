/**
 * What gossip needs of a network — peers, an unreliable send, and receipt —
 * and two adapters: runtime datagrams (UDP-style, as memberlist gossips) and
 * any {@link P2PNetwork}.
 *
 * @packageDocumentation
 */

import type { Unsubscribe } from '../../contracts/common.js';
import type { P2PNetwork } from '../../contracts/p2p-network.js';
import { isGossipBatch } from '../../core/gossip/batch-codec.js';
import { createUnsubscribe } from '../../core/events.js';
import type { DatagramEndpoint, NetworkAddress, Runtime } from '../../runtime/runtime.js';

/**
 * A best-effort channel between gossip peers. Sends may be lost; gossip
 * retransmits, so the transport need not.
 *
 * @since 2.0.0
 */
export interface GossipTransport {
  /** The peers gossip may send to now (this node excluded). */
  peers(): readonly string[];
  /**
   * Sends one batch; never throws for delivery problems (counts them instead).
   *
   * @param peerId - A peer from {@link GossipTransport.peers}.
   * @param batch - The batch bytes.
   */
  send(peerId: string, batch: Uint8Array): void;
  /**
   * Subscribes to batches received.
   *
   * @param handler - Called with the sender and the untrusted bytes.
   * @returns A disposer.
   */
  onReceive(handler: (fromPeerId: string, batch: Uint8Array) => void): Unsubscribe;
  /** The largest batch the transport carries, when it has a limit. */
  readonly maxBatchBytes?: number;
}

/**
 * Counters of a transport adapter.
 *
 * @since 2.0.0
 */
export interface GossipTransportStats {
  /** Batches handed to the network. */
  sent: number;
  /** Bytes handed to the network. */
  bytesSent: number;
  /** Batches not sent: unknown peer, too large, or the network refused. */
  sendFailures: number;
  /** Batches received and passed on. */
  received: number;
}

/**
 * A {@link GossipTransport} that holds resources.
 *
 * @since 2.0.0
 */
export interface ClosableGossipTransport extends GossipTransport, Disposable {
  /** Counters. */
  readonly stats: Readonly<GossipTransportStats>;
  /** Releases the socket or subscriptions; sends are then ignored. */
  close(): void;
}

/**
 * Options of {@link datagramGossipTransport}.
 *
 * @since 2.0.0
 */
export interface DatagramGossipTransportOptions {
  /** The port to bind (on every interface); `0` picks one. */
  readonly port: number;
  /** The host to bind; default all interfaces (`''`). */
  readonly host?: string;
  /**
   * The peers by id and their gossip addresses; a function is called on every
   * round, so membership can feed it. This node's own id is skipped. A table
   * is indexed once per object: to change the peers, return a new object.
   */
  readonly peerAddresses:
    Readonly<Record<string, NetworkAddress>> | (() => Readonly<Record<string, NetworkAddress>>);
  /** This node's peer id, skipped in the peer list; default the runtime's node id. */
  readonly localPeerId?: string;
}

/**
 * Gossip over the runtime's datagrams (UDP on Node, the modelled network in
 * the simulator): one batch per datagram. A datagram from an address not in
 * the peer table is still handled, with `host:port` as its sender id.
 *
 * @param runtime - The node's runtime.
 * @param options - Where to bind and who the peers are.
 * @returns The bound transport; `maxBatchBytes` is the datagram limit.
 * @since 2.0.0
 */
export async function datagramGossipTransport(
  runtime: Runtime,
  options: DatagramGossipTransportOptions,
): Promise<ClosableGossipTransport> {
  const local = options.localPeerId ?? runtime.nodeId;
  const table = (): Readonly<Record<string, NetworkAddress>> =>
    typeof options.peerAddresses === 'function' ? options.peerAddresses() : options.peerAddresses;
  const stats: GossipTransportStats = { sent: 0, bytesSent: 0, sendFailures: 0, received: 0 };
  const handlers = new Set<(fromPeerId: string, batch: Uint8Array) => void>();
  let cachedTable: Readonly<Record<string, NetworkAddress>> | undefined;
  let byAddress = new Map<string, string>();
  let peerIds: readonly string[] = [];
  const refresh = (): void => {
    const current = table();
    if (current === cachedTable) return;
    cachedTable = current;
    const shared = sharedIndex(current);
    byAddress = shared.byAddress;
    peerIds = Object.freeze(shared.ids.filter((peerId) => peerId !== local));
  };
  let closed = false;
  const endpoint: DatagramEndpoint = await runtime.network.bindDatagram(
    { host: options.host ?? '', port: options.port },
    (data, from) => {
      if (closed) return;
      refresh();
      const fromPeerId =
        byAddress.get(`${from.host}:${String(from.port)}`) ?? `${from.host}:${String(from.port)}`;
      stats.received += 1;
      for (const handler of [...handlers]) handler(fromPeerId, data);
    },
  );
  const close = (): void => {
    if (closed) return;
    closed = true;
    handlers.clear();
    endpoint.close();
  };
  return {
    stats,
    maxBatchBytes: endpoint.maxDatagramBytes,
    peers: () => {
      refresh();
      return peerIds;
    },
    send: (peerId, batch) => {
      if (closed) return;
      refresh();
      const address = cachedTable?.[peerId];
      if (address === undefined || batch.length > endpoint.maxDatagramBytes) {
        stats.sendFailures += 1;
        return;
      }
      endpoint.send(batch, address);
      stats.sent += 1;
      stats.bytesSent += batch.length;
    },
    onReceive: (handler) => {
      const entry = (fromPeerId: string, batch: Uint8Array): void => {
        handler(fromPeerId, batch);
      };
      handlers.add(entry);
      return createUnsubscribe(() => handlers.delete(entry));
    },
    close,
    [Symbol.dispose]: close,
  };
}

// Nodes of one process (the simulator) often share one peer table: index it once, not per node.
const indexes = new WeakMap<object, { byAddress: Map<string, string>; ids: string[] }>();

function sharedIndex(table: Readonly<Record<string, NetworkAddress>>): {
  byAddress: Map<string, string>;
  ids: string[];
} {
  let index = indexes.get(table);
  if (index === undefined) {
    index = { byAddress: new Map(), ids: [] };
    for (const [peerId, address] of Object.entries(table)) {
      index.byAddress.set(`${address.host}:${String(address.port)}`, peerId);
      index.ids.push(peerId);
    }
    indexes.set(table, index);
  }
  return index;
}

/**
 * Options of {@link p2pGossipTransport}.
 *
 * @since 2.0.0
 */
export interface P2PGossipTransportOptions {
  /** Called with errors a send rejected with (they are counted either way). */
  readonly onSendError?: (peerId: string, error: unknown) => void;
  /**
   * Which messages this transport carries: those for which it returns true
   * (the others are left to the network's other listeners). Default
   * {@link isGossipBatch} (the gossip magic `DWG`). Give `isRaftMessage` or
   * `isSwimPacket` to carry Raft or SWIM, so each protocol gets its own
   * transport over one network.
   */
  readonly accepts?: (bytes: Uint8Array) => boolean;
}

/**
 * Gossip over a {@link P2PNetwork}: batches go by `sendToPeer`, arrive by
 * `onMessage` (messages that do not start like a gossip batch — or that
 * `options.accepts` refuses — are left to their other listeners), and the peers are those `discoverPeers` returned, kept up
 * to date by peer events. It calls `discoverPeers` once at the start.
 *
 * @param network - The network.
 * @param options - Error reporting, which messages to carry.
 * @returns The transport.
 * @since 2.0.0
 */
export function p2pGossipTransport(
  network: P2PNetwork,
  options: P2PGossipTransportOptions = {},
): ClosableGossipTransport {
  const stats: GossipTransportStats = { sent: 0, bytesSent: 0, sendFailures: 0, received: 0 };
  const accepts = options.accepts ?? isGossipBatch;
  const known = new Set<string>();
  let peerIds: readonly string[] = [];
  const changed = (): void => {
    peerIds = Object.freeze([...known]);
  };
  const add = (peerId: string): void => {
    if (peerId === network.localPeerId || known.has(peerId)) return;
    known.add(peerId);
    changed();
  };
  let closed = false;
  const offPeer = network.onPeerEvent((event) => {
    if (event.eventType === 'peer-lost') {
      if (known.delete(event.peer.peerId)) changed();
    } else add(event.peer.peerId);
  });
  const handlers = new Set<(fromPeerId: string, batch: Uint8Array) => void>();
  const offMessage = network.onMessage((message) => {
    if (closed || !accepts(message.data)) return;
    stats.received += 1;
    for (const handler of [...handlers]) handler(message.fromPeerId, message.data);
  });
  network.discoverPeers().then(
    (peers) => {
      for (const peer of peers) add(peer.peerId);
    },
    (error: unknown) => options.onSendError?.('(discovery)', error),
  );
  const close = (): void => {
    if (closed) return;
    closed = true;
    offPeer();
    offMessage();
    handlers.clear();
  };
  return {
    stats,
    peers: () => peerIds,
    send: (peerId, batch) => {
      if (closed) return;
      stats.sent += 1;
      stats.bytesSent += batch.length;
      network.sendToPeer(peerId, batch).catch((error: unknown) => {
        stats.sendFailures += 1;
        options.onSendError?.(peerId, error);
      });
    },
    onReceive: (handler) => {
      const entry = (fromPeerId: string, batch: Uint8Array): void => {
        handler(fromPeerId, batch);
      };
      handlers.add(entry);
      return createUnsubscribe(() => handlers.delete(entry));
    },
    close,
    [Symbol.dispose]: close,
  };
}
