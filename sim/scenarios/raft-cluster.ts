/**
 * `raft-3` and `raft-5`: the native Raft configuration log on 3 or 5
 * simulated members over datagrams, with a seeded fault schedule — random
 * crashes and restarts (only synced storage survives), partitions of every
 * kind, pauses, 0–20% loss, duplication and reordering — and a workload of
 * puts, deletes, compare-and-sets, linearizable reads and (with 5 members)
 * membership changes. The 5-member cluster starts with 4 voters and 1 observer.
 *
 * Invariants after every event:
 * - Election Safety: at most one leader per term, ever (every leadership is
 *   recorded, including those of members that crashed since).
 * - Leader Completeness: a new leader of term T holds every entry committed
 *   before T (applied anywhere while its applier was at a term below T).
 * - Log / State Machine Safety: every member applies the same entry at each
 *   index (term and bytes), in increasing order; an acknowledged proposal is
 *   the entry applied at its index.
 * - Linearizable reads: a read returns the key's state at some index at or
 *   after every write acknowledged before the read began.
 * - No member stopped on a fatal error (storage, or a log conflicting with its commit).
 *
 * Liveness (final check): the leader is crashed 1 s before the faults stop;
 * once they stop (all partitions healed, every member running again, no
 * loss), within {@link RAFT_LIVENESS_BOUND_MS} a leader is
 * elected and every member agrees on the leader, term, membership, commit
 * index and configuration state, which equals a reference replay of the
 * committed log.
 */

import { ConfigStateMachine } from '../../src/core/raft/config-state-machine.js';
import type { ConfigCommand } from '../../src/core/raft/config-state-machine.js';
import { datagramGossipTransport } from '../../src/native/gossip/gossip-transport.js';
import { NativeRaftNode } from '../../src/native/raft/native-raft-node.js';
import type { NetworkAddress, Runtime } from '../../src/runtime/runtime.js';
import type { SimScenario } from '../../src/runtime/sim/scenario.js';
import { Simulation, formatFailure } from '../../src/runtime/sim/simulation.js';
import { CutRecord, scheduleRandomFaults } from './faults.js';

const PORT = 7300;

/**
 * After faults stop, a leader must be elected and every member agree within
 * this long (virtual ms): 20 election timeouts at the scenario's 50 ms tick ×
 * 10 ticks. Measured worst case over 10 000 seeds is far below; see docs/raft.md.
 */
export const RAFT_LIVENESS_BOUND_MS = 10_000;

/** Options of {@link setupRaftCluster}. */
export interface RaftClusterOptions {
  /** Members: 3 or 5. Default 3. */
  readonly nodes?: number;
  /** Virtual time faults may happen in, from 1 s. Default 12 000. */
  readonly faultWindowMs?: number;
  /** Faults scheduled. Default 8. */
  readonly faults?: number;
  /** Quiet time after the faults for the liveness check. Default {@link RAFT_LIVENESS_BOUND_MS}. */
  readonly quietMs?: number;
  /** Tick length, ms. Default 50. */
  readonly tickMs?: number;
  /** Compact after this many applied entries (small, so snapshots are exercised). Default 16. */
  readonly snapshotEntries?: number;
  /** Proposals attempted per second. Default 10. */
  readonly opsPerSecond?: number;
  /** Check-quorum (off only for experiments). Default true. */
  readonly checkQuorum?: boolean;
  /** Decorates each member's runtime (negative tests break its storage on purpose). */
  readonly wrapRuntime?: (runtime: Runtime) => Runtime;
}

/** What a run recorded. */
export interface RaftClusterRecord {
  /** Member ids. */
  readonly ids: readonly string[];
  /** The leader of every term seen. */
  readonly leaders: Map<number, string>;
  /** The entry applied at every index: term and a digest of its bytes. */
  readonly committed: Map<number, { term: number; data: string }>;
  /** Virtual time faults stopped. */
  readonly quietFromMs: number;
  /** First virtual time after `quietFromMs` at which every member agreed, if ever. */
  convergedAtMs: number | undefined;
  /** Proposals acknowledged. */
  acknowledged: number;
  /** Linearizable reads that returned. */
  reads: number;
  /** Membership changes applied. */
  membershipChanges: number;
  /** Current member instances. */
  readonly members: Map<string, NativeRaftNode>;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/**
 * Sets up one Raft cluster run.
 *
 * @param sim - A fresh simulation.
 * @param options - Size, timing, workload.
 * @returns The record the run fills in.
 */
export function setupRaftCluster(
  sim: Simulation,
  options: RaftClusterOptions = {},
): RaftClusterRecord {
  const count = options.nodes ?? 3;
  const tickMs = options.tickMs ?? 50;
  const faultWindow = options.faultWindowMs ?? 12_000;
  const quietFrom = 1_000 + faultWindow;
  const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
  const voters = count >= 5 ? ids.slice(0, count - 1) : ids;
  const observers = count >= 5 ? ids.slice(count - 1) : [];
  const table: Record<string, NetworkAddress> = Object.fromEntries(
    ids.map((id) => [id, { host: id, port: PORT }]),
  );
  const members = new Map<string, NativeRaftNode>();
  const violations: string[] = [];
  const leaders = new Map<number, string>();
  // Per index: the entry's term and bytes, and the applying member's term when it was
  // first seen applied (at least the term it was committed in).
  const committed = new Map<number, { term: number; data: string; seenInTerm: number }>();
  // Per key: (index, revision-or-0) at every change, in index order, for the read check.
  const history = new Map<string, { index: number; revision: number }[]>();
  const keys = ['a', 'b', 'c', 'd'];
  let maxAcknowledged = 0;
  let maxCommitted = 0;
  const record: RaftClusterRecord = {
    ids,
    leaders,
    committed,
    quietFromMs: quietFrom,
    convergedAtMs: undefined,
    acknowledged: 0,
    reads: 0,
    membershipChanges: 0,
    members,
  };

  const program = (id: string) => async (given: Runtime) => {
    const runtime = options.wrapRuntime?.(given) ?? given;
    const transport = await datagramGossipTransport(runtime, { port: PORT, peerAddresses: table });
    const node = new NativeRaftNode(runtime, transport, {
      initialVoters: voters,
      initialObservers: observers,
      tickMs,
      electionTicks: 10,
      snapshotEntries: options.snapshotEntries ?? 16,
      requestTimeoutMs: 5_000,
      checkQuorum: options.checkQuorum ?? true,
      onFatalError: (error) => violations.push(`${id} stopped: ${String(error)}`),
      onListenerError: (error) => violations.push(`${id} listener threw: ${String(error)}`),
    });
    members.set(id, node);
    let lastApplied = node.appliedIndex;
    node.onApplied((entry) => {
      if (entry.index <= lastApplied) {
        violations.push(`${id} applied ${entry.index} after ${lastApplied}`);
      }
      lastApplied = entry.index;
      const data = `${entry.type}:${hex(entry.data)}`;
      const seen = committed.get(entry.index);
      if (seen === undefined) {
        committed.set(entry.index, { term: entry.term, data, seenInTerm: node.term });
        if (entry.index > maxCommitted) maxCommitted = entry.index;
        if (entry.result !== undefined && entry.result.ok && entry.type === 'command') {
          const key = entry.result.current?.key ?? entry.result.previous?.key;
          if (key !== undefined) {
            const changes = history.get(key) ?? [];
            changes.push({ index: entry.index, revision: entry.result.current?.revision ?? 0 });
            history.set(key, changes);
          }
        }
        if (entry.type === 'config') record.membershipChanges++;
      } else if (seen.term !== entry.term || seen.data !== data) {
        violations.push(
          `${id} applied (${entry.term}, ${data.slice(0, 40)}) at ${entry.index}, others (${seen.term}, ${seen.data.slice(0, 40)})`,
        );
      }
    });
    node.onRoleChange((change) => {
      if (change.role !== 'leader') return;
      const other = leaders.get(change.term);
      if (other !== undefined && other !== id) {
        violations.push(`two leaders in term ${change.term}: ${other} and ${id}`);
      }
      leaders.set(change.term, id);
      // Leader Completeness: an entry committed in an earlier term is in the new
      // leader's log. (Not every entry applied so far: a member paused since it
      // won an old term may take office after later terms committed more.)
      for (const [index, want] of committed) {
        if (want.seenInTerm >= change.term || index <= node.snapshotIndex) continue;
        if (node.termAt(index) !== want.term) {
          violations.push(
            `leader ${id} (term ${change.term}) lacks entry ${index} committed by term ${want.seenInTerm}`,
          );
          return;
        }
      }
    });
  };
  for (const id of ids) sim.addNode(id, program(id));

  // The network: a per-seed loss rate in 0–20%, duplication and reordering, until faults stop.
  const loss = sim.random.int(21) / 100;
  sim.setLink('*', '*', {
    loss,
    duplicate: sim.random.int(6) / 100,
    reorder: sim.random.int(11) / 100,
    reorderDelayMs: 30,
    latency: { baseMs: 1, jitterMs: 4 },
  });
  const cuts = new CutRecord();
  scheduleRandomFaults(sim, cuts, {
    count: options.faults ?? 8,
    fromMs: 1_000,
    untilMs: quietFrom,
    crashes: true,
  });
  // The last fault: the leader crashes 1 s before the quiet period, so the
  // measured agreement always includes electing a new leader.
  sim.schedule(quietFrom - 1_000, (s) => {
    const leader = ids.find((id) => s.isAlive(id) && members.get(id)?.role === 'leader');
    if (leader !== undefined) s.crash(leader);
  });
  sim.schedule(quietFrom, (s) => {
    s.healAll();
    s.setLink('*', '*', { latency: { baseMs: 1, jitterMs: 4 } });
    for (const id of ids) {
      if (!s.isAlive(id)) s.restart(id);
      if (s.isPaused(id)) s.resume(id);
    }
  });

  const live = (): NativeRaftNode[] =>
    ids.flatMap((id) => {
      const node = members.get(id);
      return node !== undefined && sim.isAlive(id) && !node.closed ? [node] : [];
    });

  // The workload, until faults stop: proposals at whoever is leader, reads anywhere.
  const gap = 1_000 / (options.opsPerSecond ?? 10);
  for (let at = 500; at < quietFrom; at += gap) {
    sim.schedule(at, (s) => {
      const nodes = live();
      const leader = nodes.find((node) => node.role === 'leader');
      const key = keys[s.random.int(keys.length)] ?? 'a';
      const roll = s.random.int(100);
      if (leader !== undefined && roll < 60) {
        const value = `v${s.random.int(1_000)}`;
        const command: ConfigCommand =
          roll < 35
            ? { op: 'put', key, value }
            : roll < 45
              ? { op: 'delete', key }
              : roll < 52
                ? {
                    op: 'cas',
                    key,
                    expectRevision: s.random.int(3) === 0 ? 0 : maxCommitted,
                    value,
                  }
                : {
                    op: 'cas',
                    key,
                    expectValue: `v${s.random.int(1_000)}`,
                    value: s.random.bytes(4),
                  };
        leader.propose(command).then(
          (result) => {
            record.acknowledged++;
            const at = committed.get(result.revision);
            if (at?.data.startsWith('command:') !== true) {
              violations.push(
                `acknowledged proposal at ${result.revision} is not what applied there`,
              );
            }
            if (result.revision > maxAcknowledged) maxAcknowledged = result.revision;
          },
          () => undefined, // Refused, dropped or timed out: allowed under faults.
        );
      } else if (leader !== undefined && roll < 66 && count >= 5) {
        changeMembership(leader, s.random.int(3));
      } else {
        const reader = nodes[s.random.int(Math.max(1, nodes.length))];
        if (reader === undefined) return;
        const floor = maxAcknowledged;
        reader.read(key).then(
          (entry) => {
            record.reads++;
            checkRead(key, floor, entry?.revision ?? 0);
          },
          () => undefined,
        );
      }
    });
  }

  function changeMembership(leader: NativeRaftNode, pick: number): void {
    const { voters: v, observers: o } = leader.membership;
    const target = ids[count - 1 - (pick % 2)] ?? 'n5';
    const noop = (): undefined => undefined;
    if (o.includes(target)) leader.addVoter(target).then(noop, noop);
    else if (v.includes(target) && v.length > 3) leader.removeVoter(target).then(noop, noop);
    else if (!v.includes(target)) leader.addObserver(target).then(noop, noop);
  }

  function checkRead(key: string, floor: number, revision: number): void {
    const changes = history.get(key) ?? [];
    // The key's revision at `floor`, and every revision it took after.
    let atFloor = 0;
    const allowed = new Set<number>();
    for (const change of changes) {
      if (change.index <= floor) atFloor = change.revision;
      else allowed.add(change.revision);
    }
    allowed.add(atFloor);
    if (!allowed.has(revision)) {
      violations.push(
        `stale read of ${key}: revision ${revision}, acknowledged writes up to ${floor}`,
      );
    }
  }

  sim.addInvariant('raft safety', () => violations[0]);
  sim.addInvariant('at most one leader per term among live members', () => {
    const byTerm = new Map<number, string>();
    for (const node of live()) {
      if (node.role !== 'leader') continue;
      const other = byTerm.get(node.term);
      if (other !== undefined) return `${other} and ${node.nodeId} lead term ${node.term}`;
      byTerm.set(node.term, node.nodeId);
    }
    return undefined;
  });
  // Checked every 10 virtual ms, not after every event: comparing states is the costly part.
  let lastLook = 0;
  sim.addInvariant('liveness tracker', () => {
    if (record.convergedAtMs !== undefined || sim.now < quietFrom || sim.now - lastLook < 10) {
      return undefined;
    }
    lastLook = sim.now;
    if (agreement() === undefined) record.convergedAtMs = sim.now;
    return undefined;
  });

  /** Why the members do not agree yet, or `undefined` when they do. */
  function agreement(): string | undefined {
    const nodes = live();
    if (nodes.length < ids.length) return 'not every member runs';
    const leader = nodes.find((node) => node.role === 'leader');
    if (leader === undefined) return 'no leader';
    const inCluster = new Set([...leader.membership.voters, ...leader.membership.observers]);
    const expected = hex(leader.configSnapshot());
    for (const node of nodes) {
      if (!inCluster.has(node.nodeId)) continue;
      if (node.leaderId !== leader.nodeId || node.term !== leader.term) {
        return `${node.nodeId} follows ${node.leaderId || 'nobody'} in term ${node.term}`;
      }
      if (node.commitIndex !== leader.lastIndex || node.appliedIndex !== leader.lastIndex) {
        return `${node.nodeId} at ${node.appliedIndex}/${node.commitIndex}, leader at ${leader.lastIndex}`;
      }
      if (node.membership.voters.join() !== leader.membership.voters.join()) {
        return `${node.nodeId} has voters ${node.membership.voters.join()}`;
      }
      if (hex(node.configSnapshot()) !== expected)
        return `${node.nodeId} has another configuration`;
    }
    return undefined;
  }

  sim.addFinalCheck(
    `every member agrees within ${RAFT_LIVENESS_BOUND_MS} ms of the faults stopping, and stays so`,
    () => {
      const converged = record.convergedAtMs;
      if (converged === undefined) return `no agreement by the end: ${agreement() ?? '?'}`;
      if (converged - quietFrom > RAFT_LIVENESS_BOUND_MS) {
        return `agreement took ${converged - quietFrom} ms`;
      }
      // And it lasts: with no faults, nothing may unseat the leader afterwards.
      const now = agreement();
      return now === undefined ? undefined : `agreement was lost again: ${now}`;
    },
  );
  sim.addFinalCheck('the configuration equals a replay of the committed log', () => {
    const leader = live().find((node) => node.role === 'leader');
    if (leader === undefined) return 'no leader';
    const replay = new ConfigStateMachine();
    replay.skip(1); // index 1 is the bootstrap snapshot (the founding membership)
    for (let i = 2; i <= leader.appliedIndex; i++) {
      const entry = committed.get(i);
      if (entry === undefined) return `index ${i} was never seen applied`;
      const [type, data] = entry.data.split(':') as [string, string];
      const bytes = Uint8Array.from((data.match(/../g) ?? []).map((h) => parseInt(h, 16)));
      if (type === 'command') replay.apply(i, bytes);
      else replay.skip(i);
    }
    return hex(replay.snapshot()) === hex(leader.configSnapshot())
      ? undefined
      : 'the leader configuration differs from the replay';
  });
  return record;
}

/**
 * Runs one seed the fast way (for the test command): a shorter fault window,
 * and the run stops 200 virtual ms after every member agrees (or at the
 * liveness bound), then the final checks run.
 *
 * @param nodes - 3 or 5.
 * @param seed - The seed.
 * @param faultWindowMs - Faults happen in [1 s, 1 s + this).
 * @param extra - More options.
 * @returns The failure line, or `undefined` when the run passed.
 */
export async function runRaftSeed(
  nodes: number,
  seed: number,
  faultWindowMs = 6_000,
  extra: RaftClusterOptions = {},
): Promise<{ failure: string | undefined; record: RaftClusterRecord; sim: Simulation }> {
  const sim = new Simulation({ seed, traceCapacity: 0 });
  const record = setupRaftCluster(sim, { nodes, faultWindowMs, faults: 6, ...extra });
  await sim.runUntil(
    () => record.convergedAtMs !== undefined && sim.now > record.convergedAtMs + 200,
    1_000 + faultWindowMs + RAFT_LIVENESS_BOUND_MS + 500,
  );
  const result = sim.runFinalChecks();
  return {
    failure: result.failure === undefined ? undefined : formatFailure(result.failure),
    record,
    sim,
  };
}

function scenario(nodes: number): SimScenario {
  const faultWindowMs = 12_000;
  return {
    name: `raft-${nodes}`,
    description: `native Raft on ${nodes} members: crashes, restarts, partitions, pauses, 0–20% loss, duplication, reordering; one leader per term, no committed entry lost, agreement within ${RAFT_LIVENESS_BOUND_MS / 1000} s of the faults stopping`,
    durationMs: 1_000 + faultWindowMs + RAFT_LIVENESS_BOUND_MS + 1_000,
    setup: (sim) => {
      setupRaftCluster(sim, { nodes, faultWindowMs });
    },
  };
}

/** The `raft-3` scenario. */
export const raft3: SimScenario = scenario(3);

/** The `raft-5` scenario (4 voters and 1 observer to start, membership changes in the workload). */
export const raft5: SimScenario = scenario(5);
