/**
 * Runs a node's membership and cluster configuration on etcd
 * (`dw agent --membership etcd`): the other contracts stay as they are.
 */

import type { Logger } from 'pino';
import { EtcdClusterMembership } from '../adapters/etcd/etcd-cluster-membership.js';
import type { ClusterNode } from '../contracts/cluster-membership.js';
import { NativeP2PNetwork } from '../native/p2p/native-p2p-network.js';
import type { NodeServices } from './services.js';

/** Where etcd is and how this node registers. */
export interface EtcdMembershipOptions {
  /** etcd client URLs. */
  readonly endpoints: readonly string[];
  /** Key prefix of this cluster; default `/dw/`. */
  readonly prefix?: string;
  /** Registration lease TTL in seconds; default 5. */
  readonly leaseTtlSeconds?: number;
  /** Where other nodes reach this one (the cluster address, or the HTTP address without --bind). */
  readonly advertise: { readonly host: string; readonly port: number };
  readonly logger: Logger;
}

/**
 * Replaces the services' membership and configuration with etcd's, joined.
 *
 * @returns The services with etcd membership; `close` leaves the cluster first.
 */
export async function withEtcdMembership(
  services: NodeServices,
  options: EtcdMembershipOptions,
): Promise<NodeServices> {
  const { logger } = options;
  const nodeId = services.membership.getSelf().nodeId;
  const membership = new EtcdClusterMembership({
    endpoints: options.endpoints,
    nodeId,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.leaseTtlSeconds === undefined ? {} : { leaseTtlSeconds: options.leaseTtlSeconds }),
    onListenerError: (error) => logger.error({ err: error }, 'an event listener threw'),
  });
  membership.onMembershipChanged((event) => {
    logger.info(
      { event: event.eventType, nodeId: event.node.nodeId, reason: event.reason },
      'membership changed',
    );
  });
  await membership.join({
    nodeId,
    address: options.advertise.host,
    port: options.advertise.port,
    requestedRole: 'follower',
    metadata: {},
  });
  // A networked node finds its P2P peers through the membership: every member
  // advertises its cluster address under its node id, which is its peer id.
  const network = services.network;
  if (network instanceof NativeP2PNetwork) {
    const learn = (nodes: readonly ClusterNode[]): void => {
      const records = nodes
        .filter((node) => node.nodeId !== nodeId && node.port > 0)
        .map((node) => ({ peerId: node.nodeId, host: node.address, port: node.port }));
      try {
        network.learnPeers(records);
      } catch (error) {
        logger.warn({ err: error }, 'could not learn peers from the membership');
      }
    };
    learn(membership.getMembers());
    membership.onMembershipChanged((event) => {
      if (event.eventType === 'node-joined') learn([event.node]);
    });
  }
  const details = services.networkDetails;
  const described = `etcd (${options.endpoints.join(', ')}, prefix ${options.prefix ?? '/dw/'})`;
  return {
    ...services,
    mode: `${services.mode}+etcd`,
    membership,
    clusterConfig: membership.config,
    ...(details === undefined ? {} : { networkDetails: { ...details, membership: described } }),
    close: async () => {
      try {
        await membership.leave('agent stopping');
      } finally {
        await services.close?.();
      }
    },
  };
}
