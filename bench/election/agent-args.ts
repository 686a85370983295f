/**
 * The command line of one `dw agent` in the election benchmark. Kept apart
 * and small so the membership under test can be switched in one place.
 */

/** Which membership the agents run: the native SWIM + Raft one, or etcd's. */
export type BenchMembership = 'native' | 'etcd';

/** Raft timing passed to native agents; absent means the agent's defaults. */
export interface RaftTiming {
  /** `--raft-tick-ms`: the heartbeat interval. */
  readonly tickMs: number;
  /** `--raft-election-ticks`: the election timeout, in ticks. */
  readonly electionTicks: number;
}

/** One agent's fixed identity: the same ports and data directory on every restart. */
export interface AgentSlot {
  readonly nodeId: string;
  /** Cluster (peer) port on 127.0.0.1. */
  readonly bindPort: number;
  /** HTTP API port on 127.0.0.1. */
  readonly httpPort: number;
  readonly dataDir: string;
}

/** How a benchmark cluster is launched. */
export interface ClusterLaunch {
  readonly membership: BenchMembership;
  /** Every agent; the first founds the cluster. */
  readonly slots: readonly AgentSlot[];
  /** For `etcd` membership: the etcd client URLs. */
  readonly etcdEndpoints?: readonly string[];
  /** For `etcd` membership: this cluster's key prefix (unique per launch). */
  readonly etcdPrefix?: string;
  /** For `native` membership: the Raft timing; absent = the agent's defaults. */
  readonly raft?: RaftTiming;
}

const address = (port: number): string => `127.0.0.1:${String(port)}`;

/**
 * The arguments after `dw agent` for `slot`.
 *
 * Native: the first slot founds the cluster (no `--join`) and the others join
 * it. A restarted agent (its data directory holds its Raft state) is given
 * every other member's address, so it finds the cluster whichever members
 * are up, the founder included.
 *
 * @param restart - Whether the agent ran before on this data directory.
 */
export function agentArgs(slot: AgentSlot, launch: ClusterLaunch, restart: boolean): string[] {
  const common = [
    '--dev',
    '--bind',
    address(slot.bindPort),
    '--http',
    address(slot.httpPort),
    '--data-dir',
    slot.dataDir,
    '--node-id',
    slot.nodeId,
  ];
  if (launch.membership === 'etcd') {
    return [
      ...common,
      '--membership',
      'etcd',
      '--etcd-endpoints',
      (launch.etcdEndpoints ?? []).join(','),
      ...(launch.etcdPrefix === undefined ? [] : ['--etcd-prefix', launch.etcdPrefix]),
    ];
  }
  const founder = launch.slots[0];
  const seeds = restart
    ? launch.slots.filter((other) => other.nodeId !== slot.nodeId)
    : founder === undefined || founder.nodeId === slot.nodeId
      ? []
      : [founder];
  return [
    ...common,
    '--membership',
    'native',
    ...(seeds.length === 0
      ? []
      : ['--join', seeds.map((seed) => address(seed.bindPort)).join(',')]),
    ...(launch.raft === undefined
      ? []
      : [
          '--raft-tick-ms',
          String(launch.raft.tickMs),
          '--raft-election-ticks',
          String(launch.raft.electionTicks),
        ]),
  ];
}
