/** The peers this node's network knows, messages to them, and gossip. */

import { randomUUID } from 'node:crypto';
import type { GossipMessage } from '../../../contracts/p2p-network.js';
import type { PeerActivity } from '../../peer-activity.js';
import type { NodeServices } from '../../services.js';
import type { Route } from '../router.js';
import { gossipBody, peerDataBody } from '../schemas.js';

/** Routes under `/v1/peers` and `/v1/gossip`. */
export function peerRoutes(
  services: NodeServices,
  activity: PeerActivity,
  now: () => number,
): Route[] {
  const { network, gossip } = services;
  let generation = 0;
  return [
    {
      method: 'GET',
      path: '/v1/peers',
      handler: async () => ({
        status: 200,
        body: {
          localPeerId: network.localPeerId,
          peers: await network.discoverPeers(),
          pendingGossip: (await gossip.getPending()).length,
          ...(services.networkDetails === undefined
            ? {}
            : { stats: services.networkDetails.stats() }),
        },
      }),
    },
    {
      method: 'GET',
      path: '/v1/peers/events',
      handler: () => ({ status: 200, body: { events: activity.peerEvents() } }),
    },
    {
      method: 'GET',
      path: '/v1/peers/messages',
      handler: () => ({ status: 200, body: { messages: activity.messages() } }),
    },
    {
      method: 'POST',
      path: '/v1/peers/broadcast',
      handler: async (request) => {
        const { data } = await request.json(peerDataBody);
        const bytes = Buffer.from(data, 'base64');
        await network.broadcast(bytes);
        // Queued for every known peer; delivery is best effort, as the network documents.
        return { status: 202, body: { queued: true, bytes: bytes.byteLength } };
      },
    },
    {
      method: 'POST',
      path: '/v1/peers/:peerId/request',
      handler: async (request) => {
        const peerId = request.params['peerId'] ?? '';
        const { data } = await request.json(peerDataBody);
        const reply = await network.requestFromPeer(peerId, Buffer.from(data, 'base64'));
        return {
          status: 200,
          body: { peerId, reply: Buffer.from(reply).toString('base64') },
        };
      },
    },
    {
      method: 'POST',
      path: '/v1/gossip',
      handler: async (request) => {
        const { payload } = await request.json(gossipBody);
        const message: GossipMessage = {
          messageId: randomUUID(),
          originNodeId: network.localPeerId,
          payload: Buffer.from(payload, 'base64'),
          generation: generation++,
          timestamp: now(),
        };
        await gossip.spread(message);
        return {
          status: 202,
          body: {
            messageId: message.messageId,
            originNodeId: message.originNodeId,
            generation: message.generation,
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/gossip/received',
      handler: () => ({ status: 200, body: { messages: activity.gossip() } }),
    },
  ];
}
