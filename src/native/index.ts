/**
 * The native multi-node implementations: the P2P network over the runtime's
 * streams (framed, authenticated and encrypted), infection-style gossip, and
 * the transport's keyring and secure codec.
 *
 * @packageDocumentation
 */

export * from './transport/keyring.js';
export * from './transport/keyring-file.js';
export * from './transport/keyring-store.js';
export * from './transport/secure-codec.js';
export * from './transport/tls-psk.js';
export * from './p2p/options.js';
export * from './p2p/control.js';
export * from './p2p/peer-connection.js';
export * from './p2p/native-p2p-network.js';
export * from './gossip/gossip-transport.js';
export * from './gossip/native-gossip-protocol.js';
export * from './swim/swim-transport.js';
export * from './swim/native-swim.js';
export * from './raft/raft-error.js';
export * from './raft/raft-storage.js';
export * from './raft/native-raft-node.js';
export * from './raft/raft-cluster-config.js';
export { isForwardMessage } from './raft/raft-forward-codec.js';
export * from './membership/leader-failover.js';
export * from './membership/native-cluster-membership.js';
export * from '../core/membership/voter-plan.js';
export * from './swim/swim-stream-channel.js';
