/**
 * The runtime seam and its two implementations: the Node runtime (real
 * sockets, timers, SQLite, `node:crypto`) and the deterministic simulator
 * (virtual time, one seed, a modelled network, crashes that lose what was not
 * synced).
 *
 * @packageDocumentation
 */

export * from './runtime.js';
export * from './node/address.js';
export * from './node/error-handler.js';
export * from './node/node-clock.js';
export * from './node/node-random.js';
export * from './node/node-datagram-endpoint.js';
export * from './node/node-stream-connection.js';
export * from './node/node-network.js';
export * from './node/sqlite-durable-store.js';
export * from './node/sqlite-storage.js';
export * from './node/node-runtime.js';
export * from './node/tls-psk-network.js';
export * from './node/tls-psk-runtime.js';
export * from './sim/options.js';
export * from './sim/network-model.js';
export * from './sim/trace.js';
export * from './sim/sim-runtime.js';
export * from './sim/simulation.js';
export * from './sim/scenario.js';
export * from './sim/kernel.js';
export * from './sim/sim-storage.js';
export * from './sim/sim-clock.js';
export * from './sim/sim-network.js';
export * from './sim/sim-stream.js';
export * from './sim/event-queue.js';
export * from './sim/store-data.js';
