/**
 * Pure, deterministic algorithms and protocol state machines: no I/O, no
 * clocks, no randomness of their own.
 *
 * @packageDocumentation
 */

export * from './events.js';
