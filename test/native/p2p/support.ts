import { vi } from 'vitest';
import { createNodeRuntime, type NodeRuntime } from '../../../src/runtime/node/node-runtime.js';
import type { NetworkAddress } from '../../../src/runtime/runtime.js';
import { Keyring } from '../../../src/native/transport/keyring.js';
import { SecureCodec } from '../../../src/native/transport/secure-codec.js';
import { NativeP2PNetwork } from '../../../src/native/p2p/native-p2p-network.js';
import type { NativeP2PNetworkOptions, P2PRejectReason } from '../../../src/native/p2p/options.js';

/** Key material shared by every node of a test cluster. */
export const CLUSTER_KEY = { keyId: 'k1', key: new Uint8Array(32).fill(7) };

/** A fresh keyring per node (separate processes do not share objects). */
export function clusterKeyring(): Keyring {
  return new Keyring(
    [{ keyId: CLUSTER_KEY.keyId, key: CLUSTER_KEY.key.slice() }],
    CLUSTER_KEY.keyId,
  );
}

/** One node on the Node runtime, listening on 127.0.0.1 with a free port. */
export interface LoopbackNode {
  readonly id: string;
  readonly runtime: NodeRuntime;
  readonly keyring: Keyring;
  readonly codec: SecureCodec;
  readonly network: NativeP2PNetwork;
  readonly address: NetworkAddress;
  readonly rejects: { reason: P2PRejectReason; peerId: string | undefined }[];
  close(): Promise<void>;
}

/** Starts a node on real loopback sockets. */
export async function startLoopbackNode(
  id: string,
  options: {
    seeds?: readonly NetworkAddress[];
    overrides?: Partial<Omit<NativeP2PNetworkOptions, 'runtime' | 'codec' | 'localPeerId'>>;
    keyring?: Keyring;
  } = {},
): Promise<LoopbackNode> {
  const runtime = createNodeRuntime({ nodeId: id });
  const keyring = options.keyring ?? clusterKeyring();
  const codec = new SecureCodec({ keyring, localNodeId: id, random: runtime.random });
  const rejects: LoopbackNode['rejects'] = [];
  const network = new NativeP2PNetwork({
    runtime,
    localPeerId: id,
    listen: { host: '127.0.0.1', port: 0 },
    seeds: options.seeds ?? [],
    codec,
    onReject: (reason, source) => rejects.push({ reason, peerId: source.peerId }),
    ...options.overrides,
  });
  await network.start();
  return {
    id,
    runtime,
    keyring,
    codec,
    network,
    address: network.listenAddress,
    rejects,
    close: async () => {
      await network.close();
      await runtime.close();
    },
  };
}

/** Waits until `network` knows exactly the peers `ids` (in any order). */
export async function waitForPeers(
  network: NativeP2PNetwork,
  ids: readonly string[],
  timeout = 5_000,
): Promise<void> {
  await vi.waitFor(
    async () => {
      const known = (await network.discoverPeers()).map((peer) => peer.peerId).sort();
      if (JSON.stringify(known) !== JSON.stringify([...ids].sort())) {
        throw new Error(`${network.localPeerId} knows ${known.join(',')}`);
      }
    },
    { timeout, interval: 10 },
  );
}
