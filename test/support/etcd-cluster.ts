/**
 * Starts a real etcd cluster on loopback for tests and benchmarks: N members
 * of Debian's `etcd` (3.4), each on free ports, in a temporary data directory.
 * `scripts/install-system-packages.sh` installs the binary.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPorts } from './free-ports.js';

/** Where the etcd binary is; `ETCD_BIN` overrides. */
export const ETCD_BIN = process.env['ETCD_BIN'] ?? 'etcd';

/** Whether an etcd binary can be run here. */
export function etcdAvailable(): boolean {
  return spawnSync(ETCD_BIN, ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Raft timing of the etcd members, in ms (etcd's defaults are 100 / 1000). */
export interface EtcdTiming {
  readonly heartbeatMs: number;
  readonly electionMs: number;
}

/** One member process. */
export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  child: ChildProcess | undefined;
}

/** A running etcd cluster. */
export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Client URLs of every member. */
  readonly endpoints: readonly string[];
  /** The name of the current raft leader, when every running member agrees on it. */
  leaderName(): Promise<string | undefined>;
  /** SIGKILLs one member. */
  kill(name: string): Promise<void>;
  /** Starts a killed member again on its old data directory. */
  restart(name: string): Promise<void>;
  /** Stops every member and removes the data directory. */
  stop(): Promise<void>;
}

/**
 * Starts `size` members and waits until the cluster has a leader.
 *
 * @param size - Member count (3 for tests, 5 for the election benchmark).
 * @param timing - Heartbeat and election timeout.
 */
export async function startEtcdCluster(
  size = 3,
  timing: EtcdTiming = { heartbeatMs: 100, electionMs: 1000 },
): Promise<EtcdCluster> {
  const dataRoot = mkdtempSync(join(tmpdir(), 'dw-etcd-'));
  const members: EtcdMember[] = [];
  const ports = await freeTcpPorts(2 * size);
  for (let index = 0; index < size; index += 1) {
    const [clientPort, peerPort] = [ports[2 * index] ?? 0, ports[2 * index + 1] ?? 0];
    members.push({
      name: `etcd${String(index)}`,
      clientUrl: `http://127.0.0.1:${String(clientPort)}`,
      peerUrl: `http://127.0.0.1:${String(peerPort)}`,
      child: undefined,
    });
  }
  const initialCluster = members.map((member) => `${member.name}=${member.peerUrl}`).join(',');
  const launch = (member: EtcdMember): void => {
    const child = spawn(
      ETCD_BIN,
      [
        `--name=${member.name}`,
        `--data-dir=${join(dataRoot, member.name)}`,
        `--listen-client-urls=${member.clientUrl}`,
        `--advertise-client-urls=${member.clientUrl}`,
        `--listen-peer-urls=${member.peerUrl}`,
        `--initial-advertise-peer-urls=${member.peerUrl}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
        '--initial-cluster-token=dw-test',
        `--heartbeat-interval=${String(timing.heartbeatMs)}`,
        `--election-timeout=${String(timing.electionMs)}`,
        '--log-level=error',
        '--logger=zap',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.resume();
    member.child = child;
  };
  for (const member of members) launch(member);

  const status = async (
    member: EtcdMember,
  ): Promise<{ leader: string; id: string } | undefined> => {
    try {
      const response = await fetch(`${member.clientUrl}/v3/maintenance/status`, {
        method: 'POST',
        body: '{}',
        signal: AbortSignal.timeout(500),
      });
      const body = (await response.json()) as { leader?: string; header?: { member_id?: string } };
      if (body.leader === undefined || body.header?.member_id === undefined) return undefined;
      return { leader: body.leader, id: body.header.member_id };
    } catch {
      return undefined;
    }
  };

  // The leader as every running member reports it; undefined while they disagree.
  const leaderName = async (): Promise<string | undefined> => {
    const statuses = await Promise.all(
      members
        .filter((member) => member.child !== undefined)
        .map(async (member) => ({ member, status: await status(member) })),
    );
    const reported = new Set(statuses.map((entry) => entry.status?.leader ?? 'none'));
    if (reported.size !== 1 || reported.has('none') || reported.has('0')) return undefined;
    const leaderId = statuses.find(
      (entry) => entry.status !== undefined && entry.status.leader !== '0',
    )?.status?.leader;
    return statuses.find((entry) => entry.status?.id === leaderId)?.member.name;
  };

  const deadline = Date.now() + 30_000;
  while ((await leaderName()) === undefined) {
    if (Date.now() > deadline) {
      for (const member of members) member.child?.kill('SIGKILL');
      throw new Error('etcd cluster did not elect a leader within 30 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const stopMember = async (member: EtcdMember, signal: NodeJS.Signals): Promise<void> => {
    const child = member.child;
    member.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };

  const byName = (name: string): EtcdMember => {
    const member = members.find((candidate) => candidate.name === name);
    if (member === undefined) throw new Error(`no etcd member ${name}`);
    return member;
  };

  return {
    members,
    endpoints: members.map((member) => member.clientUrl),
    leaderName,
    kill: async (name) => {
      await stopMember(byName(name), 'SIGKILL');
    },
    restart: async (name) => {
      const member = byName(name);
      if (member.child !== undefined) return;
      launch(member);
      await Promise.resolve();
    },
    stop: async () => {
      await Promise.all(members.map((member) => stopMember(member, 'SIGKILL')));
      rmSync(dataRoot, { recursive: true, force: true });
    },
  };
}
