import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDw, startAgentProcess, type AgentProcess } from '../support/dw-process.js';
import { READ_ONLY_CONFIG_POLICY, addPolicy, putConfig } from '../support/cluster-policy.js';
import { freeTcpPorts } from '../support/free-ports.js';
import { waitFor } from '../support/wait-for.js';

// Three dw agents on loopback whose membership is the native one: SWIM and Raft
// over the P2P network, no external service.
const IDS = ['n1', 'n2', 'n3'] as const;
const agents = new Map<string, AgentProcess>();
const clusterPorts = new Map<string, number>();
const dataRoot = mkdtempSync(join(tmpdir(), 'dw-native-agent-'));

/** n1 founds the cluster; the others join through every other member. */
async function start(nodeId: string): Promise<AgentProcess> {
  const seeds = IDS.filter((id) => id !== nodeId && (nodeId !== 'n1' || agents.size > 0))
    .map((id) => `127.0.0.1:${String(clusterPorts.get(id))}`)
    .join(',');
  const agent = await startAgentProcess([
    '--dev',
    '--membership',
    'native',
    '--bind',
    `127.0.0.1:${String(clusterPorts.get(nodeId))}`,
    ...(seeds === '' ? [] : ['--join', seeds]),
    '--data-dir',
    join(dataRoot, nodeId),
    '--http',
    '127.0.0.1:0',
    '--node-id',
    nodeId,
    '--raft-tick-ms',
    '50',
  ]);
  agents.set(nodeId, agent);
  return agent;
}

function url(nodeId: string): string {
  const agent = agents.get(nodeId);
  if (agent === undefined) throw new Error(`no agent ${nodeId}`);
  return agent.url;
}

async function json(path: string, nodeId: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${url(nodeId)}${path}`, { signal: AbortSignal.timeout(2_000) });
  return { status: response.status, ...((await response.json()) as Record<string, unknown>) };
}

interface Node {
  nodeId: string;
  role: string;
  status: string;
}

async function members(nodeId: string): Promise<Node[]> {
  const answer = await json('/v1/members', nodeId);
  return (answer['members'] as Node[] | undefined) ?? [];
}

async function leaderOf(nodeId: string): Promise<string | undefined> {
  const answer: Record<string, unknown> = await json('/v1/leader', nodeId).catch(() => ({}));
  return (answer['leader'] as Node | undefined)?.nodeId;
}

/** Every named agent lists all of `ids` active and names the same leader among them. */
async function agreed(on: readonly string[], ids: readonly string[] = on): Promise<boolean> {
  try {
    const leaders = await Promise.all(on.map((id) => leaderOf(id)));
    if (leaders[0] === undefined || !ids.includes(leaders[0])) return false;
    if (leaders.some((leader) => leader !== leaders[0])) return false;
    for (const id of on) {
      const active = (await members(id)).filter((m) => m.status === 'active').map((m) => m.nodeId);
      if (active.sort().join() !== [...ids].sort().join()) return false;
    }
    return true;
  } catch {
    return false;
  }
}

function put(nodeId: string, key: string, value: string): Promise<Response> {
  return putConfig(url(nodeId), key, value);
}

beforeAll(async () => {
  const ports = await freeTcpPorts(IDS.length);
  IDS.forEach((id, index) => clusterPorts.set(id, ports[index] ?? 0));
  for (const id of IDS) await start(id);
  await waitFor(() => agreed(IDS), 30_000);
}, 60_000);

afterAll(() => {
  for (const agent of agents.values()) agent.child.kill('SIGKILL');
  rmSync(dataRoot, { recursive: true, force: true });
});

describe('dw agent --membership native', { timeout: 60_000 }, () => {
  it('members are voters with one leader; the configuration is shared and linearizable', async () => {
    const roles = (await members('n2')).map((m) => m.role).sort();
    expect(roles).toEqual(['follower', 'follower', 'leader']);
    const node = await json('/v1/node', 'n3');
    expect(node['membership']).toBe('native (SWIM + Raft)');
    expect((await put('n2', 'tiers/hot', 'ssd')).status).toBe(200);
    const read = await json('/v1/config?key=tiers/hot', 'n3');
    expect((read['entry'] as { value: string }).value).toBe('ssd');
  });

  it('a policy added on one agent denies on another: policies replicate through Raft', async () => {
    const added = await addPolicy(url('n3'), READ_ONLY_CONFIG_POLICY);
    expect(added.status).toBe(201);
    await waitFor(async () => (await put('n1', 'k', 'v')).status === 403);
    const removed = await fetch(`${url('n1')}/v1/governance/policies/no-config-writes`, {
      method: 'DELETE',
    });
    expect(removed.status).toBe(204);
    await waitFor(async () => (await put('n1', 'k', 'v')).status === 200);
  });

  it('SIGKILL of the leader: a new leader serves reads, the dead member is reported, and it rejoins', async () => {
    const leader = (await leaderOf('n1')) ?? '';
    expect(IDS).toContain(leader);
    const survivors = IDS.filter((id) => id !== leader);
    expect((await put(survivors[0] ?? '', 'before-kill', 'kept')).status).toBe(200);
    agents.get(leader)?.child.kill('SIGKILL');
    await agents.get(leader)?.exited;
    // A linearizable read needs a leader: it succeeds again once one is elected.
    await waitFor(async () => {
      const read = await json('/v1/config?key=before-kill', survivors[1] ?? '').catch(() => ({}));
      return (read as { entry?: { value: string } }).entry?.value === 'kept';
    }, 20_000);
    const next = await leaderOf(survivors[0] ?? '');
    expect(survivors).toContain(next);
    // SWIM declares the killed member dead on every survivor.
    await waitFor(async () => {
      for (const id of survivors) {
        const status = (await members(id)).find((m) => m.nodeId === leader)?.status;
        if (status !== 'dead') return false;
      }
      return true;
    }, 40_000);
    // It restarts with its data directory and rejoins as a follower.
    await start(leader);
    await waitFor(() => agreed(IDS), 40_000);
    const self = await json('/v1/node', leader);
    expect((self['node'] as Node).role).toBe('follower');
    const read = await json('/v1/config?key=before-kill', leader);
    expect((read['entry'] as { value: string }).value).toBe('kept');
  });
});

describe('dw agent --membership native: bad command lines', { timeout: 60_000 }, () => {
  it('refuses a missing --bind or --data-dir, Raft timing without native, and a bad tick, with exit 2', () => {
    const noDataDir = runDw(['agent', '--dev', '--membership', 'native', '--bind', '127.0.0.1:0']);
    expect(noDataDir.status).toBe(2);
    expect(noDataDir.stderr).toMatch(/--data-dir/);
    const noBind = runDw(['agent', '--dev', '--membership', 'native', '--data-dir', dataRoot]);
    expect(noBind.status).toBe(2);
    expect(noBind.stderr).toMatch(/--bind/);
    const timingAlone = runDw(['agent', '--dev', '--raft-tick-ms', '50']);
    expect(timingAlone.status).toBe(2);
    expect(timingAlone.stderr).toMatch(/need --membership native/);
    const badTick = ['agent', '--dev', '--membership', 'native', '--bind', '127.0.0.1:0'];
    expect(runDw([...badTick, '--data-dir', dataRoot, '--raft-tick-ms', '0']).status).toBe(2);
    expect(runDw([...badTick, '--data-dir', dataRoot, '--raft-election-ticks', 'x']).status).toBe(
      2,
    );
  });
});
