/** The peers this node's network knows. */

import type { NodeServices } from '../../services.js';
import type { Route } from '../router.js';

/** Routes under `/v1/peers`. */
export function peerRoutes(services: NodeServices): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/peers',
      handler: async () => ({
        status: 200,
        body: {
          localPeerId: services.network.localPeerId,
          peers: await services.network.discoverPeers(),
          pendingGossip: (await services.gossip.getPending()).length,
        },
      }),
    },
  ];
}
