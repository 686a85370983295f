/**
 * A `GossipTransport` for SWIM over the runtime's datagrams, keyed by
 * address: a peer id is `host:port`, so a member can answer a ping from an
 * address it has never seen (a joining node, a seed known only by address)
 * without a peer table. `datagramGossipTransport` needs every peer in a table
 * up front, which does not fit a protocol that discovers its peers.
 *
 * @packageDocumentation
 */

import { createUnsubscribe } from '../../core/events.js';
import type { DatagramEndpoint, NetworkAddress, Runtime } from '../../runtime/runtime.js';
import type { ClosableGossipTransport, GossipTransportStats } from '../gossip/gossip-transport.js';

/**
 * The peer id of an address: `host:port`.
 *
 * @param address - The address.
 * @returns The id.
 * @since 2.0.0
 */
export function addressPeerId(address: NetworkAddress): string {
  return `${address.host}:${String(address.port)}`;
}

/**
 * The address of a peer id made by {@link addressPeerId} (the host may itself
 * hold colons: an IPv6 address).
 *
 * @param peerId - The id.
 * @returns The address, or `undefined` when the id is not `host:port`.
 * @since 2.0.0
 */
export function parseAddressPeerId(peerId: string): NetworkAddress | undefined {
  const colon = peerId.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const port = Number(peerId.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65_535) return undefined;
  return { host: peerId.slice(0, colon), port };
}

/**
 * Options of {@link addressDatagramTransport}.
 *
 * @since 2.0.0
 */
export interface AddressDatagramTransportOptions {
  /** The port to bind; `0` picks one. */
  readonly port: number;
  /** The host to bind; default all interfaces (`''`). */
  readonly host?: string;
}

/**
 * The transport {@link addressDatagramTransport} returns.
 *
 * @since 2.0.0
 */
export interface AddressDatagramTransport extends ClosableGossipTransport {
  /** The address actually bound (with the port chosen, when `0` was asked for). */
  readonly address: NetworkAddress;
}

/**
 * Binds a datagram endpoint and exposes it as a `GossipTransport` whose
 * peer ids are addresses (`host:port`). `peers()` is empty: the protocol on
 * top knows its peers.
 *
 * @param runtime - The node's runtime.
 * @param options - Where to bind.
 * @returns The transport; `maxBatchBytes` is the datagram limit.
 * @since 2.0.0
 */
export async function addressDatagramTransport(
  runtime: Runtime,
  options: AddressDatagramTransportOptions,
): Promise<AddressDatagramTransport> {
  const stats: GossipTransportStats = { sent: 0, bytesSent: 0, sendFailures: 0, received: 0 };
  const handlers = new Set<(fromPeerId: string, batch: Uint8Array) => void>();
  let closed = false;
  const endpoint: DatagramEndpoint = await runtime.network.bindDatagram(
    { host: options.host ?? '', port: options.port },
    (data, from) => {
      if (closed) return;
      stats.received += 1;
      const fromPeerId = addressPeerId(from);
      for (const handler of [...handlers]) handler(fromPeerId, data);
    },
  );
  const close = (): void => {
    if (closed) return;
    closed = true;
    handlers.clear();
    endpoint.close();
  };
  const none: readonly string[] = Object.freeze([]);
  return {
    stats,
    address: endpoint.address,
    maxBatchBytes: endpoint.maxDatagramBytes,
    peers: () => none,
    send: (peerId, batch) => {
      if (closed) return;
      const address = parseAddressPeerId(peerId);
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
