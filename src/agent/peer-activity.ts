/**
 * What a node has heard from its peers, kept (bounded) so the HTTP API can show
 * it: direct and broadcast messages, gossip, and peer events. It also answers
 * peer requests with an echo, so requests across nodes are observable.
 */

import type { Unsubscribe } from '../contracts/common.js';
import type { GossipProtocol, P2PNetwork, PeerEventType } from '../contracts/p2p-network.js';
import { isGossipBatch } from '../core/gossip/batch-codec.js';

/** The default of {@link PeerActivityOptions.limit}. */
export const DEFAULT_ACTIVITY_LIMIT = 1000;

/** Options of {@link PeerActivity}. */
export interface PeerActivityOptions {
  /** The wall clock, in epoch milliseconds. */
  readonly now: () => number;
  /** How many entries each log keeps; the oldest go first. Default {@link DEFAULT_ACTIVITY_LIMIT}. */
  readonly limit?: number;
}

/** A direct or broadcast message received from a peer. */
export interface ReceivedPeerMessage {
  readonly fromPeerId: string;
  /** The bytes, base64. */
  readonly data: string;
  readonly receivedAt: number;
}

/** A gossip message delivered to this node (its own included). */
export interface ReceivedGossip {
  readonly messageId: string;
  readonly originNodeId: string;
  readonly generation: number;
  readonly timestamp: number;
  /** The bytes, base64. */
  readonly payload: string;
  readonly receivedAt: number;
}

/** A peer event as the network reported it. */
export interface PeerEventRecord {
  readonly eventType: PeerEventType;
  readonly peerId: string;
  readonly address: string;
  readonly port: number;
  readonly timestamp: number;
}

/** What a peer request's echo answers, as UTF-8 JSON. */
export interface EchoReply {
  /** The node that answered. */
  readonly nodeId: string;
  /** The request's bytes, base64. */
  readonly data: string;
}

/** Bounded logs of what the network and gossip delivered, and the echo request handler. */
export class PeerActivity implements Disposable {
  readonly #limit: number;
  readonly #messages: ReceivedPeerMessage[] = [];
  readonly #gossip: ReceivedGossip[] = [];
  readonly #events: PeerEventRecord[] = [];
  readonly #unsubscribes: Unsubscribe[];

  /**
   * Subscribes at once and installs the echo request handler.
   *
   * @throws RangeError when `limit` is not a positive integer.
   */
  constructor(network: P2PNetwork, gossip: GossipProtocol, options: PeerActivityOptions) {
    const limit = options.limit ?? DEFAULT_ACTIVITY_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`limit must be a positive integer, got ${String(limit)}`);
    }
    this.#limit = limit;
    const { now } = options;
    this.#unsubscribes = [
      network.onMessage((message) => {
        // Gossip batches travel as messages too; they show up as gossip, not here.
        if (isGossipBatch(message.data)) return;
        this.#push(this.#messages, {
          fromPeerId: message.fromPeerId,
          data: base64(message.data),
          receivedAt: message.receivedAt,
        });
      }),
      gossip.onGossipReceived((message) => {
        this.#push(this.#gossip, {
          messageId: message.messageId,
          originNodeId: message.originNodeId,
          generation: message.generation,
          timestamp: message.timestamp,
          payload: base64(message.payload),
          receivedAt: now(),
        });
      }),
      network.onPeerEvent((event) => {
        this.#push(this.#events, {
          eventType: event.eventType,
          peerId: event.peer.peerId,
          address: event.peer.address,
          port: event.peer.port,
          timestamp: event.timestamp,
        });
      }),
      network.setRequestHandler((request) => {
        const reply: EchoReply = { nodeId: network.localPeerId, data: base64(request.data) };
        return Promise.resolve(new TextEncoder().encode(JSON.stringify(reply)));
      }),
    ];
  }

  /** Messages received, oldest first. */
  messages(): readonly ReceivedPeerMessage[] {
    return Object.freeze([...this.#messages]);
  }

  /** Gossip delivered, oldest first. */
  gossip(): readonly ReceivedGossip[] {
    return Object.freeze([...this.#gossip]);
  }

  /** Peer events, oldest first. */
  peerEvents(): readonly PeerEventRecord[] {
    return Object.freeze([...this.#events]);
  }

  /** Unsubscribes and removes the echo handler. */
  close(): void {
    for (const unsubscribe of this.#unsubscribes.splice(0)) unsubscribe();
  }

  /** Same as {@link PeerActivity.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #push<T>(log: T[], entry: T): void {
    log.push(Object.freeze(entry));
    if (log.length > this.#limit) log.splice(0, log.length - this.#limit);
  }
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
