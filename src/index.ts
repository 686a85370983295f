/**
 * The DataWarehouse distributed SDK: the seven contracts, the shared types, the
 * embedded single-node defaults and the load-balancing strategies.
 *
 * @packageDocumentation
 */

export * from './contracts/index.js';
export * from './inmemory/index.js';
export * from './loadbalancing/index.js';
