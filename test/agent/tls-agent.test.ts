import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDw, startAgentProcess, type AgentProcess } from '../support/dw-process.js';
import { waitFor } from '../support/wait-for.js';

// Three dw agents whose cluster streams are TLS 1.2 with the keyring's keys as pre-shared keys.
const workDir = mkdtempSync(join(tmpdir(), 'dw-tls-'));
const keyringFile = join(workDir, 'keyring.json');
const otherKeyring = join(workDir, 'other.json');
const agents: AgentProcess[] = [];

async function start(id: string, keyring: string, join_: string[]): Promise<AgentProcess> {
  const agent = await startAgentProcess([
    '--http',
    '127.0.0.1:0',
    '--bind',
    '127.0.0.1:0',
    '--node-id',
    id,
    '--keyring',
    keyring,
    '--transport',
    'tls-psk',
    ...(join_.length === 0 ? [] : ['--join', join_.join(',')]),
  ]);
  agents.push(agent);
  return agent;
}

async function peers(agent: AgentProcess): Promise<string[]> {
  const answer = (await (await fetch(`${agent.url}/v1/peers`)).json()) as {
    peers: { peerId: string }[];
  };
  return answer.peers.map((peer) => peer.peerId).sort();
}

beforeAll(() => {
  expect(runDw(['keyring', 'generate', '--file', keyringFile]).status).toBe(0);
  expect(runDw(['keyring', 'generate', '--file', otherKeyring]).status).toBe(0);
});

afterAll(() => {
  for (const agent of agents) agent.child.kill('SIGKILL');
});

describe('dw agent --transport tls-psk', { timeout: 60_000 }, () => {
  it('three agents with one keyring find each other and answer requests; a stranger cannot join', async () => {
    const first = await start('t1', keyringFile, []);
    const seed = first.clusterAddress ?? '';
    const second = await start('t2', keyringFile, [seed]);
    const third = await start('t3', keyringFile, [seed]);
    for (const [agent, expected] of [
      [first, ['t2', 't3']],
      [second, ['t1', 't3']],
      [third, ['t1', 't2']],
    ] as const) {
      await waitFor(
        async () => JSON.stringify(await peers(agent)) === JSON.stringify(expected),
        20_000,
      );
    }
    const echo = await fetch(`${second.url}/v1/peers/t3/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: Buffer.from('over tls').toString('base64') }),
    });
    expect(echo.status).toBe(200);
    const node = (await (await fetch(`${first.url}/v1/node`)).json()) as { encryption: string };
    expect(node.encryption).toBe('tls-psk');
    const stranger = await start('x', otherKeyring, [seed]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await peers(stranger)).toEqual([]);
    expect(await peers(first)).not.toContain('x');
  });

  it('refuses tls-psk without --bind and --keyring', () => {
    const result = runDw(['agent', '--dev', '--transport', 'tls-psk']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--transport tls-psk needs');
  });
});
