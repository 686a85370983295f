/**
 * A networked node: the native P2P network and gossip on the Node runtime,
 * and with `nativeMembership` the native membership (SWIM + Raft) and its
 * Raft-replicated configuration; the other contracts are still the embedded
 * defaults. Without it membership stays single-node, and `/v1/node` says so.
 */

import type { Logger } from 'pino';
import type { ClusterConfigStore } from '../contracts/cluster-config.js';
import type { ClusterMembership } from '../contracts/cluster-membership.js';
import { NativeClusterMembership } from '../native/membership/native-cluster-membership.js';
import { NativeGossipProtocol } from '../native/gossip/native-gossip-protocol.js';
import { p2pGossipTransport } from '../native/gossip/gossip-transport.js';
import { NativeP2PNetwork } from '../native/p2p/native-p2p-network.js';
import type { Keyring } from '../native/transport/keyring.js';
import { SecureCodec } from '../native/transport/secure-codec.js';
import { createNodeRuntime } from '../runtime/node/node-runtime.js';
import type { Runtime } from '../runtime/runtime.js';
import { createTlsPskRuntime } from '../runtime/node/tls-psk-runtime.js';
import { keyringPreSharedKeys } from '../native/transport/tls-psk.js';
import type { ListenAddress } from './agent.js';
import { createEmbeddedServices } from './embedded-services.js';
import type { NodeServices } from './services.js';

/** What `/v1/node` says about membership without `nativeMembership`. */
export const NETWORKED_MEMBERSHIP = 'embedded (single node)';

/** What `/v1/node` says about the native membership. */
export const NATIVE_MEMBERSHIP = 'native (SWIM + Raft)';

/** Settings of the native membership (`dw agent --membership native`). */
export interface NativeMembershipSettings {
  /** One Raft tick in ms (the heartbeat interval); default 100. */
  readonly raftTickMs?: number;
  /** Ticks without a leader before an election (the timeout is drawn from [n, 2n) ticks); default 10. */
  readonly raftElectionTicks?: number;
  /** The most Raft voters; further members observe. Default 5. */
  readonly maxVoters?: number;
}

/** Options for {@link startNetworkedServices}. */
export interface NetworkedServicesOptions {
  /** This node's id, also its peer id; defaults to `node-` and eight random hex digits. */
  readonly nodeId?: string;
  /** A load-balancing strategy by name; defaults to the embedded round robin. */
  readonly loadBalancer?: string;
  /** Where to listen for peers; port `0` picks a free one. */
  readonly bind: ListenAddress;
  /** Peers to dial at start to find the network. */
  readonly join: readonly ListenAddress[];
  /** The cluster keyring; without one the node sends plaintext, which `allowPlaintext` must permit. */
  readonly keyring?: Keyring;
  /** Development only: accept plaintext frames (and send them when there is no keyring). */
  readonly allowPlaintext: boolean;
  /**
   * How cluster streams are protected with the keyring: `codec` seals each frame with
   * AES-256-GCM (the default); `tls-psk` runs TLS 1.2 with the keyring's keys as
   * pre-shared keys (needs a keyring; no plaintext).
   */
  readonly transport?: 'codec' | 'tls-psk';
  /** The runtime's data directory; default a temporary directory deleted on close. */
  readonly dataDir?: string;
  /** How long a peer may stay unreachable before it is reported lost, in ms; the network's default otherwise. */
  readonly peerLostAfterMs?: number;
  /** Run the native membership (needs `dataDir`: Raft's term, vote and log must survive a restart). */
  readonly nativeMembership?: NativeMembershipSettings;
  /** Where runtime errors, refused frames and listener errors are reported. */
  readonly logger: Logger;
}

/**
 * Starts the runtime and the network (listening on `bind`, dialling `join`)
 * and assembles the node. `close()` says goodbye to peers, then closes the
 * runtime.
 *
 * @throws The listen error (such as `EADDRINUSE`), after releasing the runtime.
 */
export async function startNetworkedServices(
  options: NetworkedServicesOptions,
): Promise<NodeServices> {
  const { logger } = options;
  const onListenerError = (error: unknown): void => {
    logger.error({ err: error }, 'an event listener threw');
  };
  const embedded = createEmbeddedServices({
    ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
    ...(options.loadBalancer === undefined ? {} : { loadBalancer: options.loadBalancer }),
    onListenerError,
  });
  const nodeId = embedded.membership.getSelf().nodeId;
  if (options.keyring === undefined && !options.allowPlaintext) {
    throw new Error('a keyring is required unless plaintext is allowed');
  }
  if (options.nativeMembership !== undefined && options.dataDir === undefined) {
    throw new Error('the native membership needs a data directory (Raft state must be durable)');
  }
  const tls = options.transport === 'tls-psk';
  if (tls && options.keyring === undefined) {
    throw new Error('--transport tls-psk needs a keyring');
  }
  const runtimeOptions = {
    nodeId,
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    onError: (error: unknown) => logger.error({ err: error }, 'runtime error'),
  };
  // With tls-psk the streams themselves are authenticated and encrypted, and the
  // network refuses any stream that is not; otherwise every frame is sealed.
  const runtime =
    tls && options.keyring !== undefined
      ? createTlsPskRuntime({ ...runtimeOptions, keys: keyringPreSharedKeys(options.keyring) })
      : createNodeRuntime(runtimeOptions);
  const security = tls
    ? { transportSecurity: 'tls-psk' as const }
    : {
        codec: new SecureCodec({
          ...(options.keyring === undefined ? {} : { keyring: options.keyring }),
          allowPlaintext: options.allowPlaintext,
          localNodeId: nodeId,
          random: runtime.random,
        }),
      };
  let network: NativeP2PNetwork;
  try {
    network = new NativeP2PNetwork({
      runtime,
      localPeerId: nodeId,
      listen: options.bind,
      seeds: options.join,
      ...security,
      ...(options.peerLostAfterMs === undefined ? {} : { lostAfterMs: options.peerLostAfterMs }),
      onReject: (reason, source) =>
        logger.warn(
          { reason, peerId: source.peerId, remote: `${source.remote.host}:${source.remote.port}` },
          'refused a frame from the network',
        ),
      onListenerError,
    });
    await network.start();
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const transport = p2pGossipTransport(network, {
    onSendError: (peerId, error) => logger.debug({ err: error, peerId }, 'gossip send failed'),
  });
  const gossip = new NativeGossipProtocol(runtime, transport, { nodeId, onListenerError });
  const listenAddress = network.listenAddress;
  let native: NativeClusterMembership | undefined;
  if (options.nativeMembership !== undefined) {
    try {
      native = await joinNativeMembership(
        runtime,
        network,
        options.join,
        options.nativeMembership,
        logger,
      );
    } catch (error) {
      gossip.close();
      transport.close();
      await network.close();
      await runtime.close();
      throw error;
    }
  }
  const membership: { membership: ClusterMembership; clusterConfig: ClusterConfigStore } =
    native === undefined ? embedded : { membership: native, clusterConfig: native.config };
  let closing: Promise<void> | undefined;
  return {
    ...embedded,
    ...membership,
    mode: native === undefined ? 'networked' : 'native',
    network,
    gossip,
    networkDetails: {
      listenAddress: { host: listenAddress.host, port: listenAddress.port },
      encryption: options.keyring === undefined ? 'plaintext' : tls ? 'tls-psk' : 'keyring',
      membership: native === undefined ? NETWORKED_MEMBERSHIP : NATIVE_MEMBERSHIP,
      stats: () => ({
        network: network.stats,
        gossip: gossip.stats,
        gossipTransport: { ...transport.stats },
        ...(native === undefined
          ? {}
          : {
              membership: native.stats,
              raft: native.raft.stats,
              swim: native.swim?.stats,
            }),
      }),
    },
    close: () => {
      closing ??= (async () => {
        try {
          // Told first, so the others fail over (and drop this node from Raft) at once.
          await native?.leave('agent stopping');
        } catch (error) {
          logger.warn({ err: error }, 'leaving the cluster failed');
        }
        gossip.close();
        transport.close();
        try {
          // Goodbyes first, so peers report this node lost at once rather than after lostAfterMs.
          await network.close();
        } finally {
          await runtime.close();
        }
      })();
      return closing;
    },
  };
}

/** Starts SWIM and Raft over the network and joins through `seeds` (none: found a cluster). */
async function joinNativeMembership(
  runtime: Runtime,
  network: NativeP2PNetwork,
  seeds: readonly ListenAddress[],
  settings: NativeMembershipSettings,
  logger: Logger,
): Promise<NativeClusterMembership> {
  const membership = new NativeClusterMembership({
    runtime,
    network,
    seeds,
    ...(settings.maxVoters === undefined ? {} : { maxVoters: settings.maxVoters }),
    raft: {
      ...(settings.raftTickMs === undefined ? {} : { tickMs: settings.raftTickMs }),
      ...(settings.raftElectionTicks === undefined
        ? {}
        : { electionTicks: settings.raftElectionTicks }),
    },
    onListenerError: (error) => logger.error({ err: error }, 'an event listener threw'),
    onReconcileError: (change, error) =>
      logger.warn({ err: error, change }, 'a Raft configuration change failed; it will be retried'),
  });
  membership.onMembershipChanged((event) => {
    logger.info(
      { event: event.eventType, nodeId: event.node.nodeId, reason: event.reason },
      'membership changed',
    );
  });
  const address = network.listenAddress;
  try {
    await membership.join({
      nodeId: network.localPeerId,
      address: address.host,
      port: address.port,
      requestedRole: 'follower',
      metadata: {},
    });
  } catch (error) {
    membership.close();
    throw error;
  }
  return membership;
}
