/**
 * DIST-03: peer-to-peer networking — discovering peers, sending them data,
 * answering their requests, and spreading messages through the network by gossip.
 *
 * @packageDocumentation
 */

import type { CallOptions, Listener, Unsubscribe } from './common.js';

/**
 * Every kind of change in the set of known peers.
 *
 * - `peer-discovered`: a peer became known.
 * - `peer-lost`: a known peer stopped answering or left, and is no longer known.
 * - `peer-updated`: a known peer's address, port or metadata changed.
 *
 * @since 2.0.0
 */
export const PEER_EVENT_TYPES = Object.freeze([
  'peer-discovered',
  'peer-lost',
  'peer-updated',
] as const);

/**
 * A kind of peer change; see {@link PEER_EVENT_TYPES}.
 *
 * @since 2.0.0
 */
export type PeerEventType = (typeof PEER_EVENT_TYPES)[number];

/**
 * One peer of the network, as plain serialisable data.
 *
 * @since 2.0.0
 */
export interface PeerInfo {
  /** The peer's id, unique in the network; in a cluster, normally its cluster node id. */
  readonly peerId: string;
  /** The peer's network address (host name or IP). */
  readonly address: string;
  /** The peer's port. */
  readonly port: number;
  /** When the peer was last heard from, in epoch milliseconds. */
  readonly lastSeenAt: number;
  /** Free-form labels the peer advertises. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * A change in the set of known peers.
 *
 * @since 2.0.0
 */
export interface PeerEvent {
  /** What changed. */
  readonly eventType: PeerEventType;
  /** The peer the change concerns, as last known. */
  readonly peer: PeerInfo;
  /** When the change was observed, in epoch milliseconds. */
  readonly timestamp: number;
}

/**
 * Data another peer sent to this one with {@link P2PNetwork.sendToPeer} or
 * {@link P2PNetwork.broadcast}.
 *
 * @since 2.0.0
 */
export interface PeerMessage {
  /** The peer that sent the data. */
  readonly fromPeerId: string;
  /** The bytes sent, exactly as given to the sender's call. */
  readonly data: Uint8Array;
  /** When this node received the data, in epoch milliseconds. */
  readonly receivedAt: number;
}

/**
 * A request another peer made to this one with {@link P2PNetwork.requestFromPeer}.
 *
 * @since 2.0.0
 */
export interface PeerRequest {
  /** The peer that made the request. */
  readonly fromPeerId: string;
  /** The request's bytes, exactly as given to the requester's call. */
  readonly data: Uint8Array;
  /** When this node received the request, in epoch milliseconds. */
  readonly receivedAt: number;
}

/**
 * Answers requests from other peers; installed with
 * {@link P2PNetwork.setRequestHandler}. The bytes it resolves with are the
 * requester's response. When it rejects, the requester's call rejects; a
 * {@link DistributedError} thrown by the handler keeps its code.
 *
 * @param request - The request and who made it.
 * @param options - Its signal aborts when the requester cancels (where the
 *   transport can tell) or the network shuts down.
 * @returns The response bytes.
 *
 * @since 2.0.0
 */
export type PeerRequestHandler = (
  request: PeerRequest,
  options: CallOptions,
) => Promise<Uint8Array>;

/**
 * A message spread through the network by gossip. Messages are identified by
 * {@link GossipMessage.messageId}; a node handles each id once.
 *
 * @since 2.0.0
 */
export interface GossipMessage {
  /** The message's id, unique in the network. */
  readonly messageId: string;
  /** The node that first spread the message. */
  readonly originNodeId: string;
  /** The message's bytes. */
  readonly payload: Uint8Array;
  /**
   * The originator's generation: a non-negative integer the originator increases
   * with each new message it issues, so receivers can order messages from the same
   * origin. It is not changed as the message spreads.
   */
  readonly generation: number;
  /** When the originator issued the message, in epoch milliseconds. */
  readonly timestamp: number;
}

/**
 * DIST-03: a peer-to-peer network. Finds peers, sends them data, and lets this
 * node receive data and answer requests from them.
 *
 * @since 2.0.0
 */
export interface P2PNetwork {
  /** This node's own peer id, as other peers know it. */
  readonly localPeerId: string;

  /**
   * Subscribes to changes in the set of known peers.
   *
   * @param listener - Called with every change.
   * @returns A disposer that removes the listener.
   */
  onPeerEvent(listener: Listener<PeerEvent>): Unsubscribe;

  /**
   * Subscribes to data other peers send to this node with
   * {@link P2PNetwork.sendToPeer} or {@link P2PNetwork.broadcast}. Requests
   * go to the request handler instead. A node receives its own sends and
   * broadcasts only when it is one of its own known peers (a loopback network,
   * where it is the only peer).
   *
   * @param listener - Called with every message received.
   * @returns A disposer that removes the listener.
   */
  onMessage(listener: Listener<PeerMessage>): Unsubscribe;

  /**
   * Installs the handler that answers other peers' {@link P2PNetwork.requestFromPeer}
   * calls. One handler is installed at a time: setting one replaces the previous one.
   *
   * @param handler - Answers each request.
   * @returns A disposer that removes the handler only if it is still the
   *   installed one; after that, requests fail with `NO_REQUEST_HANDLER`.
   */
  setRequestHandler(handler: PeerRequestHandler): Unsubscribe;

  /**
   * Looks for peers and returns every peer now known. Newly found peers are
   * also announced as `peer-discovered` events.
   *
   * @param options - Cancellation.
   * @returns Every known peer. This node is included only when it can address
   *   itself as a peer (a loopback network, where it is the only peer);
   *   networks that reach other nodes leave it out.
   */
  discoverPeers(options?: CallOptions): Promise<readonly PeerInfo[]>;

  /**
   * Sends data to one peer, which receives it through its
   * {@link P2PNetwork.onMessage} listeners. Resolves once the data has been
   * accepted for delivery to the peer; it does not wait for the peer's listeners.
   *
   * @param peerId - The peer to send to.
   * @param data - The bytes to send.
   * @param options - Cancellation.
   * @throws {@link DistributedError} `UNKNOWN_PEER` when `peerId` is not a known peer.
   */
  sendToPeer(peerId: string, data: Uint8Array, options?: CallOptions): Promise<void>;

  /**
   * Sends data to every peer known when the call starts. Best effort: a peer that
   * cannot be reached does not make the broadcast reject. With no known peers it
   * resolves at once.
   *
   * @param data - The bytes to send.
   * @param options - Cancellation.
   */
  broadcast(data: Uint8Array, options?: CallOptions): Promise<void>;

  /**
   * Sends a request to one peer's request handler and waits for its response.
   *
   * @param peerId - The peer to ask.
   * @param request - The request's bytes.
   * @param options - Cancellation.
   * @returns The bytes the peer's handler resolved with.
   * @throws {@link DistributedError} `UNKNOWN_PEER` when `peerId` is not a known peer;
   *   `NO_REQUEST_HANDLER` when the peer has no request handler installed. When the
   *   peer's handler rejects, the call rejects too (a `DistributedError` keeps its code).
   */
  requestFromPeer(peerId: string, request: Uint8Array, options?: CallOptions): Promise<Uint8Array>;
}

/**
 * DIST-03: gossip. Spreads messages to every node of the network by repeated
 * exchange with peers, delivering each message once per node.
 *
 * @since 2.0.0
 */
export interface GossipProtocol {
  /**
   * Starts spreading a message. Resolves once the message is accepted for
   * spreading, not when every node has it. Spreading a message whose id this
   * node has already seen has no further effect.
   *
   * @param message - The message to spread.
   * @param options - Cancellation.
   */
  spread(message: GossipMessage, options?: CallOptions): Promise<void>;

  /**
   * The messages spread but not yet delivered to every known recipient. This
   * node is a recipient too: a message is delivered locally once at least one
   * {@link GossipProtocol.onGossipReceived} subscriber has received it.
   *
   * @param options - Cancellation.
   * @returns The pending messages; empty when everything has been delivered.
   */
  getPending(options?: CallOptions): Promise<readonly GossipMessage[]>;

  /**
   * Subscribes to the gossip this node receives: messages spread by other nodes
   * and by this node itself. Each message id is delivered once per node, to every
   * subscriber present when the node delivers it.
   *
   * @param listener - Called with every new message received.
   * @returns A disposer that removes the listener.
   */
  onGossipReceived(listener: Listener<GossipMessage>): Unsubscribe;
}
