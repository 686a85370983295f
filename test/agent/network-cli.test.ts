import { afterAll, describe, expect, it, vi } from 'vitest';
import { runDw, startAgentProcess, type AgentProcess } from '../support/dw-process.js';

const started: AgentProcess[] = [];

afterAll(async () => {
  for (const running of started) {
    if (running.child.exitCode === null) running.child.kill('SIGKILL');
    await running.exited;
  }
});

async function devNode(id: string, join?: string): Promise<AgentProcess> {
  const node = await startAgentProcess([
    '--dev',
    '--http',
    '127.0.0.1:0',
    '--bind',
    '127.0.0.1:0',
    '--node-id',
    id,
    ...(join === undefined ? [] : ['--join', join]),
  ]);
  started.push(node);
  return node;
}

async function getJson(node: AgentProcess, path: string): Promise<any> {
  return (await fetch(`${node.url}${path}`)).json();
}

describe('dw agent networked options', () => {
  it('--bind without --keyring or --dev is a usage error that says what to do', () => {
    const result = runDw(['agent', '--bind', '127.0.0.1:0']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--keyring/);
  });

  it('network options without --bind are usage errors', () => {
    expect(runDw(['agent', '--dev', '--join', '127.0.0.1:7946']).stderr).toMatch(/needs --bind/);
    expect(runDw(['agent', '--dev', '--keyring', 'k.json']).status).toBe(2);
  });

  it('a malformed --join or --peer-lost-after-ms is a usage error', () => {
    expect(runDw(['agent', '--dev', '--bind', '127.0.0.1:0', '--join', 'nowhere']).status).toBe(2);
    expect(runDw(['agent', '--dev', '--bind', '127.0.0.1:0', '--join', 'a:0']).status).toBe(2);
    const lost = runDw(['agent', '--dev', '--bind', '127.0.0.1:0', '--peer-lost-after-ms', '0']);
    expect(lost.status).toBe(2);
  });

  it('a keyring file that does not exist is a usage error', () => {
    const result = runDw(['agent', '--bind', '127.0.0.1:0', '--keyring', '/nonexistent/k.json']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--keyring/);
  });
});

describe('dw agent --dev --bind (plaintext, real processes)', () => {
  it('warns that traffic is plaintext and reports it', async () => {
    const node = await devNode('plain-a');
    const warning = node.logs.find((entry) => entry['level'] === 40);
    expect(String(warning?.['msg'])).toMatch(/PLAINTEXT/);
    expect(await getJson(node, '/v1/node')).toMatchObject({
      mode: 'networked',
      encryption: 'plaintext',
      membership: 'embedded (single node)',
    });
  });

  it('a graceful stop says goodbye: the peer reports it lost at once, not after 30 s', async () => {
    const a = await devNode('bye-a');
    const b = await devNode('bye-b', a.clusterAddress);
    const peerIds = async (): Promise<string[]> =>
      ((await getJson(a, '/v1/peers')).peers as { peerId: string }[]).map((p) => p.peerId);
    await vi.waitFor(async () => expect(await peerIds()).toContain('bye-b'), { timeout: 10_000 });
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(b.logs.map((entry) => entry['msg'])).toContain('agent stopped');
    // The default lostAfterMs is 30 s; only the goodbye makes this happen within the wait.
    await vi.waitFor(
      async () => {
        expect(await peerIds()).not.toContain('bye-b');
        const { events } = await getJson(a, '/v1/peers/events');
        expect(events).toContainEqual(
          expect.objectContaining({ eventType: 'peer-lost', peerId: 'bye-b' }),
        );
      },
      { timeout: 5_000 },
    );
  }, 20_000);
});
