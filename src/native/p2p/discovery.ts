/**
 * How peers become known: the `hello` that opens every connection (who the
 * peer is, where it listens, whom it knows) and the announcements greeted
 * peers exchange, so peers meeting the same node learn of each other.
 *
 * @packageDocumentation
 */

import type { NetworkAddress } from '../../runtime/runtime.js';
import type { Envelope } from '../../core/wire/envelope.js';
import { decodeHello, encodeControl, type PeerAddressRecord } from './control.js';
import type { Outbox } from './outbox.js';
import type { PeerConnection } from './peer-connection.js';
import { openConnectionOf, type PeerState, type PeerTable } from './peer-table.js';
import type { SeedDialer } from './seed-dialer.js';

/**
 * What {@link Discovery} needs from its network.
 *
 * @since 2.0.0
 */
export interface DiscoveryOptions {
  /** This node's peer id (a hello from it means this node dialled itself). */
  readonly localPeerId: string;
  /** The known peers. */
  readonly peers: PeerTable;
  /** Seeds and probes, told when a dial for one reached a peer. */
  readonly seeds: SeedDialer;
  /** Queues announcements. */
  readonly outbox: Outbox;
  /** Wall-clock time, in epoch ms. */
  readonly now: () => number;
  /** Adds a peer and reports it discovered; `undefined` at `maxPeers`. */
  readonly addPeer: (
    peerId: string,
    address: NetworkAddress,
    metadata: Readonly<Record<string, string>>,
  ) => PeerState | undefined;
  /** Reports a known peer's changed address or metadata. */
  readonly updated: (peer: PeerState) => void;
  /** A dial for `peerId` reached someone else: it failed. */
  readonly dialFailed: (peerId: string) => void;
}

/**
 * The outcome of a `hello`: `protocol` (a malformed hello: refuse the
 * connection), `closed` (the connection was closed politely: this node
 * itself, or no room for another peer), or the greeted peer.
 *
 * @since 2.0.0
 */
export type HelloOutcome = 'protocol' | 'closed' | PeerState;

/**
 * Handles hellos and hearsay.
 *
 * @since 2.0.0
 */
export class Discovery {
  readonly #options: DiscoveryOptions;

  /**
   * @param options - Identity, the peer table, seeds, outbox, clock and callbacks.
   */
  constructor(options: DiscoveryOptions) {
    this.#options = options;
  }

  /**
   * Completes a connection's handshake with the peer's `hello`: the peer
   * becomes known (or is updated), the connection opens for it, the peers it
   * lists are learnt, and announcements go out so that peers meeting this node
   * at the same time learn of each other.
   *
   * @param connection - A handshaking connection.
   * @param envelope - Its first envelope, of kind `hello`.
   * @returns What happened; see {@link HelloOutcome}.
   */
  onHello(connection: PeerConnection, envelope: Envelope): HelloOutcome {
    const { peers, outbox, now } = this.#options;
    const hello = decodeHello(envelope.payload);
    if (hello === undefined) return 'protocol';
    const from = envelope.from;
    if (from === this.#options.localPeerId) {
      // Dialled itself (a seed list naming this node): never dial that seed again.
      if (connection.seed !== undefined) connection.seed.self = true;
      closePolitely(connection);
      return 'closed';
    }
    const address = { host: hello.host, port: hello.port };
    let peer = peers.get(from);
    let discovered = false;
    if (peer === undefined) {
      peer = this.#options.addPeer(from, address, hello.metadata);
      if (peer === undefined) {
        // maxPeers reached: refuse politely; an outbound dial counts as failed.
        closePolitely(connection);
        return 'closed';
      }
      discovered = true;
    } else if (
      peer.address.host !== address.host ||
      peer.address.port !== address.port ||
      !sameMetadata(peer.metadata, hello.metadata)
    ) {
      peer.address = address;
      peer.metadata = hello.metadata;
      peer.lastSeenAt = now();
      this.#options.updated(peer);
    }
    peer.lastSeenAt = now();
    connection.handshakeTimer?.cancel();
    connection.handshakeTimer = undefined;
    connection.peerId = from;
    connection.state = 'open';
    peer.connections.add(connection);
    peer.greeted = true;
    peer.failingSince = undefined;
    peer.attempt = 0;
    peer.reconnectTimer?.cancel();
    peer.reconnectTimer = undefined;
    if (connection.expectedPeerId === from) peer.dialing = false;
    else if (connection.expectedPeerId !== undefined) {
      // The address now belongs to another peer: the dial for the expected one failed.
      this.#options.dialFailed(connection.expectedPeerId);
    }
    if (connection.seed !== undefined) this.#options.seeds.greeted(connection.seed, from);
    this.learn(hello.peers);
    // Our hello went out before this handshake finished; peers greeted since
    // then are told now, so two peers meeting a third at once still learn of each other.
    const greeted = peers.livePeers().filter((record) => record.peerId !== from);
    if (greeted.length > 0) {
      try {
        outbox.enqueue(peer, {
          kind: 'ping',
          correlationId: 0,
          payload: encodeControl({ op: 'announce', peers: greeted }),
        });
      } catch {
        // A full queue only delays discovery.
      }
    }
    if (discovered) {
      const announcement = encodeControl({
        op: 'announce',
        peers: [{ peerId: from, host: address.host, port: address.port }],
      });
      for (const other of peers.values()) {
        if (other !== peer && openConnectionOf(other) !== undefined) {
          try {
            outbox.enqueue(other, { kind: 'ping', correlationId: 0, payload: announcement });
          } catch {
            // A full queue only delays discovery: the next hello lists the peer.
          }
        }
      }
    }
    outbox.flush(peer);
    return peer;
  }

  /**
   * Learns peers named by another peer (second hand). A peer this node lost
   * is not re-added on hearsay (the teller may not have noticed yet): it is
   * probed with one dial instead, and known again only if it answers.
   *
   * @param records - The peers named.
   */
  learn(records: readonly PeerAddressRecord[]): void {
    const { peers } = this.#options;
    for (const record of records) {
      if (record.peerId === this.#options.localPeerId || peers.get(record.peerId) !== undefined) {
        continue;
      }
      if (peers.wasLost(record.peerId)) this.#options.seeds.probe(record);
      else this.#options.addPeer(record.peerId, record, Object.freeze({}));
    }
  }
}

/** Closes a connection this node chose to close (no reconnection follows). */
function closePolitely(connection: PeerConnection): void {
  connection.closedByUs = true;
  connection.state = 'closing';
  connection.stream.close();
}

function sameMetadata(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
