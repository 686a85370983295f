/**
 * Adapters to trusted engines: etcd for membership, leader election and the
 * cluster configuration.
 *
 * @packageDocumentation
 */

export * from './etcd/etcd-cluster-membership.js';
export * from './etcd/etcd-config-store.js';
export * from './etcd/etcd-errors.js';
export * from './etcd/member-record.js';
