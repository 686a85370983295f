/**
 * `membership`: the native ClusterMembership (SWIM + Raft over the encrypted
 * P2P network) on five simulated members. n1 founds the cluster, the others
 * join with every other member as a seed; once they agree, a seeded fault
 * schedule runs (crashes with restarts from synced storage, partitions of
 * every kind, pauses, clock offsets, 0–10% loss with duplication and
 * reordering), and the leader is crashed 1 s before the faults stop.
 *
 * Invariant after every event: at most one leader per term, ever.
 *
 * Liveness (final check): within {@link MEMBERSHIP_LIVENESS_BOUND_MS} of the
 * faults stopping (all healed, every member running), every member names
 * the same leader, lists all five members `active`, and Raft has all five
 * as voters.
 */

import {
  NativeClusterMembership,
  type NativeClusterMembershipOptions,
} from '../../src/native/membership/native-cluster-membership.js';
import { NativeP2PNetwork } from '../../src/native/p2p/native-p2p-network.js';
import { Keyring } from '../../src/native/transport/keyring.js';
import { SecureCodec } from '../../src/native/transport/secure-codec.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import type { SimScenario } from '../../src/runtime/sim/scenario.js';
import { Simulation, formatFailure } from '../../src/runtime/sim/simulation.js';
import { CutRecord, scheduleRandomFaults } from './faults.js';

const PORT = 7400;
const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'];
const KEY = new Uint8Array(32).fill(9);

/**
 * After faults stop, every member must agree within this long (virtual ms).
 * The slow part is SWIM: members on the two sides of a healed partition each
 * declared the other dead and no longer probe them; they meet again at the
 * next reconnect attempt or push-pull (every 30 s, LAN profile), and a
 * member that learns it was declared dead refutes. Two such rounds, plus
 * suspicion and election time, fit in 90 s.
 */
export const MEMBERSHIP_LIVENESS_BOUND_MS = 90_000;

/** Options of {@link setupNativeMembership}. */
export interface NativeMembershipScenarioOptions {
  /** Virtual time faults may happen in, after formation. Default 20 000. */
  readonly faultWindowMs?: number;
  /** Faults scheduled. Default 8. */
  readonly faults?: number;
  /** Fast failover on. Default true. */
  readonly fastFailover?: boolean;
}

/** What a run recorded. */
export interface NativeMembershipRecord {
  /** The leader of every term seen. */
  readonly leaders: Map<number, string>;
  /** When the members first agreed after forming, virtual ms. */
  formedAtMs: number | undefined;
  /** When the faults stopped, virtual ms. */
  quietFromMs: number | undefined;
  /** First agreement after the faults stopped, virtual ms. */
  convergedAtMs: number | undefined;
}

/**
 * Starts one simulated member: the P2P network (keyring-encrypted) on
 * `PORT`, advertised under its id as host, and the membership, joined
 * through `seeds` (member ids; none founds the cluster). Resolves once joined;
 * the membership is returned before that through `onCreated`.
 *
 * @param runtime - The member's simulated runtime.
 * @param id - Its id, also its host name.
 * @param seeds - Ids of members to join through.
 * @param options - Membership options (Raft timing, failover, SWIM profile).
 * @param onCreated - Told of the membership as soon as it exists (Raft runs before the join ends).
 * @returns The joined membership.
 */
export async function startSimMember(
  runtime: Runtime,
  id: string,
  seeds: readonly string[],
  options: Omit<NativeClusterMembershipOptions, 'runtime' | 'network' | 'seeds'> = {},
  onCreated?: (membership: NativeClusterMembership) => void,
): Promise<NativeClusterMembership> {
  const addresses = seeds.map((host) => ({ host, port: PORT }));
  const network = new NativeP2PNetwork({
    runtime,
    localPeerId: id,
    listen: { host: '', port: PORT },
    advertise: { host: id, port: PORT },
    seeds: addresses,
    codec: new SecureCodec({
      keyring: new Keyring([{ keyId: 'k1', key: KEY.slice() }], 'k1'),
      localNodeId: id,
      random: runtime.random,
    }),
  });
  await network.start();
  const membership = new NativeClusterMembership({
    joinTimeoutMs: 600_000,
    ...options,
    runtime,
    network,
    seeds: addresses,
  });
  onCreated?.(membership);
  await membership.join({
    nodeId: id,
    address: id,
    port: PORT,
    requestedRole: 'follower',
    metadata: {},
  });
  return membership;
}

/** Formation is given this long before the faults start. */
const FORMATION_MS = 30_000;

/**
 * Sets up one run.
 *
 * @param sim - A fresh simulation.
 * @param options - Faults and failover.
 * @returns The record the run fills in.
 */
export function setupNativeMembership(
  sim: Simulation,
  options: NativeMembershipScenarioOptions = {},
): NativeMembershipRecord {
  const members = new Map<string, NativeClusterMembership>();
  const record: NativeMembershipRecord = {
    leaders: new Map(),
    formedAtMs: undefined,
    quietFromMs: undefined,
    convergedAtMs: undefined,
  };
  for (const id of IDS) {
    sim.addNode(id, async (runtime) => {
      const seeds = id === 'n1' ? [] : IDS.filter((o) => o !== id);
      await startSimMember(
        runtime,
        id,
        seeds,
        {
          raft: { tickMs: 50, electionTicks: 10, snapshotEntries: 64 },
          fastFailover: options.fastFailover ?? true,
        },
        (membership) => members.set(id, membership),
      );
    });
  }
  const live = (): NativeClusterMembership[] =>
    IDS.flatMap((id) => {
      const m = members.get(id);
      return m !== undefined && sim.isAlive(id) && !m.raft.closed ? [m] : [];
    });
  sim.addInvariant('at most one leader per term', () => {
    for (const m of live()) {
      if (m.raft.role !== 'leader') continue;
      const known = record.leaders.get(m.raft.term);
      if (known !== undefined && known !== m.nodeId) {
        return `${known} and ${m.nodeId} both lead term ${String(m.raft.term)}`;
      }
      record.leaders.set(m.raft.term, m.nodeId);
    }
    return true;
  });
  /** Why the members do not agree yet, or `undefined` when they do. */
  const disagreement = (): string | undefined => {
    const running = live();
    if (running.length !== IDS.length) return `${String(running.length)} members running`;
    const leader = running[0]?.getLeader()?.nodeId;
    if (leader === undefined) return 'no leader known';
    for (const m of running) {
      if (m.getLeader()?.nodeId !== leader) return `${m.nodeId} names another leader`;
      const active = m.getMembers().filter((node) => node.status === 'active').length;
      if (active !== IDS.length) return `${m.nodeId} sees ${String(active)} active`;
      if (m.raft.membership.voters.length !== IDS.length) return `${m.nodeId}: not all voters`;
    }
    return undefined;
  };
  const watcher = (): void => {
    if (disagreement() === undefined) {
      if (record.formedAtMs === undefined) {
        record.formedAtMs = sim.now;
        startFaults();
      } else if (record.quietFromMs !== undefined && record.convergedAtMs === undefined) {
        record.convergedAtMs = sim.now;
      }
    }
    if (record.convergedAtMs === undefined) sim.after(50, watcher);
  };
  sim.after(50, watcher);
  const startFaults = (): void => {
    const from = sim.now + 1_000;
    const window = options.faultWindowMs ?? 20_000;
    const quietFrom = from + window;
    sim.setLink('*', '*', {
      loss: sim.random.int(11) / 100,
      duplicate: sim.random.int(6) / 100,
      reorder: sim.random.int(11) / 100,
      reorderDelayMs: 30,
      latency: { baseMs: 1, jitterMs: 4 },
    });
    scheduleRandomFaults(sim, new CutRecord(), {
      count: options.faults ?? 8,
      fromMs: from,
      untilMs: quietFrom,
      crashes: true,
    });
    sim.schedule(quietFrom - 1_000, (s) => {
      const leader = live().find((m) => m.raft.role === 'leader');
      if (leader !== undefined) s.crash(leader.nodeId);
    });
    sim.schedule(quietFrom, (s) => {
      s.healAll();
      s.setLink('*', '*', { latency: { baseMs: 1, jitterMs: 4 } });
      for (const id of IDS) {
        s.setClockOffset(id, 0);
        if (!s.isAlive(id)) s.restart(id);
        if (s.isPaused(id)) s.resume(id);
      }
      record.quietFromMs = s.now;
    });
  };
  sim.addFinalCheck('the members formed a cluster', () =>
    record.formedAtMs === undefined ? `never formed: ${disagreement() ?? '?'}` : undefined,
  );
  sim.addFinalCheck(
    `every member agrees within ${String(MEMBERSHIP_LIVENESS_BOUND_MS / 1000)} s of the faults stopping`,
    () => {
      const quiet = record.quietFromMs;
      const converged = record.convergedAtMs;
      if (quiet === undefined) return 'the faults never stopped';
      if (converged === undefined) return `no agreement by the end: ${disagreement() ?? '?'}`;
      if (converged - quiet > MEMBERSHIP_LIVENESS_BOUND_MS) {
        return `agreement took ${String(converged - quiet)} ms`;
      }
      return undefined;
    },
  );
  return record;
}

/**
 * Runs one seed, stopping soon after agreement (for tests and scripts).
 *
 * @param seed - The seed.
 * @param options - Faults and failover.
 * @returns The failure line (or `undefined`) and the record.
 */
export async function runNativeMembershipSeed(
  seed: number,
  options: NativeMembershipScenarioOptions = {},
): Promise<{ failure: string | undefined; record: NativeMembershipRecord }> {
  const sim = new Simulation({ seed, traceCapacity: 0 });
  const record = setupNativeMembership(sim, options);
  await sim.runUntil(
    () => record.convergedAtMs !== undefined,
    FORMATION_MS + (options.faultWindowMs ?? 20_000) + 1_000 + MEMBERSHIP_LIVENESS_BOUND_MS,
  );
  const result = sim.runFinalChecks();
  return {
    failure: result.failure === undefined ? undefined : formatFailure(result.failure),
    record,
  };
}

/** The `membership` scenario. */
export const nativeMembership: SimScenario = {
  name: 'membership',
  description: `native membership (SWIM + Raft over P2P) on 5 members: crashes, partitions, pauses, loss; one leader per term; agreement on leader and members within ${String(MEMBERSHIP_LIVENESS_BOUND_MS / 1000)} s of the faults stopping`,
  durationMs: FORMATION_MS + 20_000 + 1_000 + MEMBERSHIP_LIVENESS_BOUND_MS,
  setup: (sim) => {
    setupNativeMembership(sim);
  },
};
