/**
 * Pure, deterministic algorithms and protocol state machines: no I/O, no
 * clocks, no randomness of their own.
 *
 * @packageDocumentation
 */

export * from './events.js';
export * from './load-balancing/round-robin.js';
export * from './load-balancing/health-report.js';
export * from './load-balancing/selection.js';
export * from './load-balancing/latency.js';
export * from './load-balancing/outlier.js';
export * from './load-balancing/panic.js';
export * from './load-balancing/resource.js';
export * from './load-balancing/slow-start.js';
export * from './load-balancing/adaptive.js';
export * from './load-balancing/hashing/hash.js';
export * from './load-balancing/hashing/members.js';
export * from './load-balancing/hashing/ring.js';
export * from './load-balancing/hashing/maglev.js';
export * from './load-balancing/hashing/bounded-load.js';
export * from './load-balancing/hashing/jump.js';
export * from './gossip/gossip-message.js';
export * from './gossip/batch-codec.js';
export * from './gossip/transmit-queue.js';
export * from './gossip/gossip-engine.js';
export * from './scaling/validation.js';
export * from './scaling/combine.js';
export * from './scaling/thresholds.js';
export * from './replication/conflict.js';
export * from './governance/simple-matcher.js';
export * from './governance/combine.js';
export * from './random/seeded-random.js';
export * from './wire/wire-error.js';
export * from './wire/frame.js';
export * from './wire/envelope.js';
export * from './request-handler-slot.js';
export * from './governance/classification/types.js';
export * from './governance/classification/checksums.js';
export * from './governance/classification/evidence.js';
export * from './governance/classification/financial-detectors.js';
export * from './governance/classification/personal-detectors.js';
export * from './governance/classification/network-detectors.js';
export * from './governance/classification/pattern-detector.js';
export * from './governance/classification/classifier.js';
export * from './governance/policy-index.js';
export * from './governance/policy-fields.js';
export * from './config/config-arguments.js';
export * from './time/iso-time.js';
export * from './swim/config.js';
export * from './swim/messages.js';
export * from './swim/codec.js';
export * from './swim/awareness.js';
export * from './swim/suspicion.js';
export * from './swim/member-table.js';
export * from './swim/probe.js';
export * from './swim/push-pull.js';
export * from './swim/swim-node.js';
export * from './governance/retention/types.js';
export * from './governance/retention/rules.js';
export * from './governance/retention/resolve.js';
export * from './raft/types.js';
export * from './raft/raft-log.js';
export * from './raft/progress.js';
export * from './raft/raft-node-options.js';
export * from './raft/raft-node.js';
export * from './raft/message-codec.js';
export * from './raft/config-state-machine.js';
export * from './membership/voter-plan.js';
export * from './membership/join-request.js';
export * from './swim/fallback.js';
