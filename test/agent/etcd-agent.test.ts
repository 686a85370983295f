import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcdCluster, type EtcdCluster } from '../support/etcd-cluster.js';
import { DW_MAIN, runDw, startAgentProcess, type AgentProcess } from '../support/dw-process.js';
import { READ_ONLY_CONFIG_POLICY, addPolicy, putConfig } from '../support/cluster-policy.js';
import { waitFor } from '../support/wait-for.js';

// Two dw agents whose membership and configuration live in a three-member etcd on loopback.
let etcd: EtcdCluster;
const agents = new Map<string, AgentProcess>();
const PREFIX = '/dw-agent-test/';

async function start(nodeId: string): Promise<AgentProcess> {
  const agent = await startAgentProcess([
    '--dev',
    '--membership',
    'etcd',
    '--etcd-endpoints',
    etcd.endpoints.join(','),
    '--etcd-prefix',
    PREFIX,
    '--http',
    '127.0.0.1:0',
    '--node-id',
    nodeId,
  ]);
  agents.set(nodeId, agent);
  return agent;
}

function url(nodeId: string): string {
  const agent = agents.get(nodeId);
  if (agent === undefined) throw new Error(`no agent ${nodeId}`);
  return agent.url;
}

function dwJson(args: readonly string[]): unknown {
  const result = runDw([...args, '--json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

beforeAll(async () => {
  etcd = await startEtcdCluster(3);
  await start('alpha');
  await start('beta');
}, 60_000);

afterAll(async () => {
  for (const agent of agents.values()) agent.child.kill('SIGKILL');
  await etcd.stop();
});

// Each step spawns a dw process; on a loaded two-core machine that takes seconds.
describe('dw agent --membership etcd', { timeout: 60_000 }, () => {
  it('both agents list both members and agree on the leader', async () => {
    await waitFor(() => {
      const members = dwJson(['members', '--agent', url('alpha')]) as { members: unknown[] };
      return members.members.length === 2;
    });
    const leaders = ['alpha', 'beta'].map(
      (id) =>
        (dwJson(['leader', '--agent', url(id)]) as { leader: { nodeId: string } }).leader.nodeId,
    );
    expect(leaders[0]).toBe(leaders[1]);
    expect(['alpha', 'beta']).toContain(leaders[0]);
    const text = runDw(['members', '--agent', url('beta')]).stdout;
    expect(text).toMatch(/alpha {2}(leader|follower) {2}active/);
  });

  it('dw config: a put on one agent is read on the other; cas refuses a stale revision', () => {
    const put = runDw(['config', 'put', 'tiers/hot', '{"maxBytes":1}', '--agent', url('alpha')]);
    expect(put.status, put.stderr).toBe(0);
    const get = runDw(['config', 'get', 'tiers/hot', '--agent', url('beta')]);
    expect(get.stdout).toBe('{"maxBytes":1}\n');
    const entry = (
      dwJson(['config', 'get', 'tiers/hot', '--agent', url('beta')]) as {
        entry: { revision: number };
      }
    ).entry;
    const stale = runDw([
      'config',
      'cas',
      'tiers/hot',
      'x',
      '--revision',
      String(entry.revision - 1),
      '--agent',
      url('beta'),
    ]);
    expect(stale.status).toBe(1);
    expect(stale.stdout).toContain('not changed');
    const fresh = runDw([
      'config',
      'cas',
      'tiers/hot',
      '{"maxBytes":2}',
      '--revision',
      String(entry.revision),
      '--agent',
      url('beta'),
    ]);
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(runDw(['config', 'get', 'tiers/hot', '--agent', url('alpha')]).stdout).toBe(
      '{"maxBytes":2}\n',
    );
    expect(
      runDw(['config', 'cas', 'tiers/hot', 'y', '--absent', '--agent', url('alpha')]).status,
    ).toBe(1);
    expect(runDw(['config', 'list', 'tiers/', '--agent', url('alpha')]).stdout).toContain(
      'tiers/hot',
    );
    expect(runDw(['config', 'delete', 'tiers/hot', '--agent', url('alpha')]).stdout).toBe(
      'deleted\n',
    );
    const missing = runDw(['config', 'get', 'tiers/hot', '--agent', url('beta')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('NOT_FOUND');
    expect(runDw(['config', 'cas', 'k', 'v', '--agent', url('beta')]).status).toBe(2);
  });

  it('a policy added on one agent denies an operation on the other, at the same version', async () => {
    const added = await addPolicy(url('alpha'), READ_ONLY_CONFIG_POLICY);
    expect(added.status).toBe(201);
    const put = (): Promise<Response> => putConfig(url('beta'), 'k', 'v');
    await waitFor(async () => (await put()).status === 403);
    const refused = (await (await put()).json()) as { error: { code: string } };
    expect(refused.error.code).toBe('POLICY_DENIED');
    const versions = await Promise.all(
      ['alpha', 'beta'].map(async (id) => {
        const answer = (await (await fetch(`${url(id)}/v1/governance`)).json()) as {
          version: { configRevision: number; policies: number };
        };
        return answer.version;
      }),
    );
    expect(versions[0]).toEqual(versions[1]);
    expect(versions[0]?.policies).toBe(1);
    const removed = runDw(['policy', 'remove', 'no-config-writes', '--agent', url('beta')]);
    expect(removed.status, removed.stderr).toBe(0);
    await waitFor(async () => (await put()).status === 200);
  });

  it('networked agents find their P2P peers through the membership, with no --join', async () => {
    const networked = async (nodeId: string): Promise<AgentProcess> => {
      const agent = await startAgentProcess([
        '--dev',
        '--bind',
        '127.0.0.1:0',
        '--membership',
        'etcd',
        '--etcd-endpoints',
        etcd.endpoints.join(','),
        '--etcd-prefix',
        '/dw-p2p-test/',
        '--http',
        '127.0.0.1:0',
        '--node-id',
        nodeId,
      ]);
      agents.set(nodeId, agent);
      return agent;
    };
    const first = await networked('p1');
    const second = await networked('p2');
    const peersOf = async (agent: AgentProcess): Promise<string[]> => {
      const answer = (await (await fetch(`${agent.url}/v1/peers`)).json()) as {
        peers: { peerId: string }[];
      };
      return answer.peers.map((peer) => peer.peerId);
    };
    await waitFor(async () => (await peersOf(first)).includes('p2'));
    await waitFor(async () => (await peersOf(second)).includes('p1'));
    const echo = await fetch(`${first.url}/v1/peers/p2/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: Buffer.from('hello').toString('base64') }),
    });
    expect(echo.status).toBe(200);
    for (const id of ['p1', 'p2']) {
      agents.get(id)?.child.kill('SIGKILL');
      agents.delete(id);
    }
  });

  it('a SIGKILLed agent is reported dead and dropped; the survivor leads', async () => {
    const beta = agents.get('beta');
    beta?.child.kill('SIGKILL');
    await beta?.exited;
    agents.delete('beta');
    await waitFor(() => {
      const members = dwJson(['members', '--agent', url('alpha')]) as {
        members: { nodeId: string }[];
      };
      return members.members.length === 1;
    }, 20_000);
    await waitFor(
      () =>
        (dwJson(['leader', '--agent', url('alpha')]) as { leader: { nodeId: string } | null })
          .leader?.nodeId === 'alpha',
      20_000,
    );
    // The log line travels through a pipe: wait for it rather than expect it already read.
    const log = agents.get('alpha')?.logs ?? [];
    await waitFor(() =>
      log.some((line) => line['event'] === 'node-dead' && line['nodeId'] === 'beta'),
    );
  }, 40_000);

  it('fails to start with exit 1 when etcd cannot be reached', () => {
    const result = spawnSync(
      process.execPath,
      [
        DW_MAIN,
        'agent',
        '--dev',
        '--membership',
        'etcd',
        '--etcd-endpoints',
        'http://127.0.0.1:1',
        '--http',
        '127.0.0.1:0',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('etcd');
  }, 40_000);
});
