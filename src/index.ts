/**
 * The DataWarehouse distributed SDK: the seven contracts, the shared types, and
 * the embedded single-node defaults.
 *
 * @packageDocumentation
 */

export * from './contracts/index.js';
export * from './inmemory/index.js';
