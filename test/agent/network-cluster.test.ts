import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runDw, startAgentProcess, type AgentProcess } from '../support/dw-process.js';

// Five real `dw agent` processes on loopback, one shared keyring: peers, broadcast,
// gossip and requests across them; a SIGKILLed node is reported lost and rejoins.

const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'] as const;
const WAIT = { timeout: 15_000, interval: 100 };
const workDir = mkdtempSync(join(tmpdir(), 'dw-cluster-'));
const keyringFile = join(workDir, 'keyring.json');
const agents = new Map<string, AgentProcess>();

function agent(id: string): AgentProcess {
  const found = agents.get(id);
  if (found === undefined) throw new Error(`no agent ${id}`);
  return found;
}

async function call(id: string, method: string, path: string, body?: unknown): Promise<any> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`${agent(id).url}${path}`, init);
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

async function peerIds(id: string): Promise<string[]> {
  const { json } = await call(id, 'GET', '/v1/peers');
  return (json.peers as { peerId: string }[])
    .map((peer) => peer.peerId)
    .filter((peerId) => peerId !== id)
    .sort();
}

const others = (id: string, ids: readonly string[] = IDS): string[] =>
  ids.filter((other) => other !== id);
const b64 = (text: string): string => Buffer.from(text).toString('base64');

async function start(id: string): Promise<AgentProcess> {
  const seed = id === 'n1' ? [] : ['--join', agent('n1').clusterAddress ?? ''];
  const started = await startAgentProcess([
    '--http',
    '127.0.0.1:0',
    '--bind',
    '127.0.0.1:0',
    '--node-id',
    id,
    '--keyring',
    keyringFile,
    '--peer-lost-after-ms',
    '1000',
    // A data directory of our own: a SIGKILLed node cannot remove a temporary one, and the restart reuses it.
    '--data-dir',
    join(workDir, id),
    ...seed,
  ]);
  agents.set(id, started);
  return started;
}

async function expectFullMesh(ids: readonly string[] = IDS): Promise<void> {
  for (const id of ids) {
    await vi.waitFor(async () => expect(await peerIds(id)).toEqual(others(id, ids)), WAIT);
  }
}

beforeAll(async () => {
  expect(runDw(['keyring', 'generate', '--file', keyringFile]).status).toBe(0);
  await start('n1');
  await Promise.all(IDS.slice(1).map((id) => start(id)));
}, 20_000);

afterAll(async () => {
  for (const running of agents.values()) {
    if (running.child.exitCode === null) running.child.kill('SIGKILL');
    await running.exited;
  }
  rmSync(workDir, { recursive: true, force: true });
});

describe('five dw agents on loopback (real processes)', () => {
  it('each log the bound cluster address, and say membership is still single-node', async () => {
    for (const id of IDS) expect(agent(id).clusterAddress).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    const { json } = await call('n2', 'GET', '/v1/node');
    expect(json).toMatchObject({
      mode: 'networked',
      membership: 'embedded (single node)',
      encryption: 'keyring',
      node: { nodeId: 'n2' },
    });
  });

  it('every node sees the other four, with addresses and lastSeenAt', async () => {
    await expectFullMesh();
    const { json } = await call('n3', 'GET', '/v1/peers');
    const n1 = (json.peers as any[]).find((peer) => peer.peerId === 'n1');
    expect(`${n1.address}:${n1.port}`).toBe(agent('n1').clusterAddress);
    expect(n1.lastSeenAt).toBeGreaterThan(0);
    expect(json.stats.network.rejected).toMatchObject({ unauthenticated: 0 });
  }, 20_000);

  it('a broadcast from one node reaches all the others', async () => {
    const sent = await call('n1', 'POST', '/v1/peers/broadcast', { data: b64('hello, all') });
    expect(sent.status).toBe(202);
    for (const id of others('n1')) {
      await vi.waitFor(async () => {
        const { json } = await call(id, 'GET', '/v1/peers/messages');
        expect(json.messages).toContainEqual(
          expect.objectContaining({ fromPeerId: 'n1', data: b64('hello, all') }),
        );
      }, WAIT);
    }
  }, 20_000);

  it('gossip from one node reaches all the others', async () => {
    const spread = await call('n3', 'POST', '/v1/gossip', { payload: b64('rumour') });
    expect(spread.status).toBe(202);
    const { messageId } = spread.json;
    for (const id of others('n3')) {
      await vi.waitFor(async () => {
        const { json } = await call(id, 'GET', '/v1/gossip/received');
        expect(json.messages).toContainEqual(
          expect.objectContaining({ messageId, originNodeId: 'n3', payload: b64('rumour') }),
        );
      }, WAIT);
    }
  }, 20_000);

  it('a request from one node to another gets that node’s echo', async () => {
    const { status, json } = await call('n2', 'POST', '/v1/peers/n4/request', {
      data: b64('ping'),
    });
    expect(status).toBe(200);
    expect(JSON.parse(Buffer.from(json.reply, 'base64').toString('utf8'))).toEqual({
      nodeId: 'n4',
      data: b64('ping'),
    });
  });

  it('refuses bad bodies and unknown peers in the API’s error format', async () => {
    const bad = await call('n1', 'POST', '/v1/peers/broadcast', { data: 'not base64!' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_REQUEST');
    const extra = await call('n1', 'POST', '/v1/gossip', { payload: '', extra: 1 });
    expect(extra.json.error.code).toBe('INVALID_REQUEST');
    const unknown = await call('n1', 'POST', '/v1/peers/nobody/request', { data: b64('x') });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('UNKNOWN_PEER');
  });

  it('a SIGKILLed node is reported lost by the others, and rejoins when restarted', async () => {
    const victim = agent('n5');
    victim.child.kill('SIGKILL');
    await victim.exited;
    const survivors = others('n5');
    for (const id of survivors) {
      await vi.waitFor(async () => {
        expect(await peerIds(id)).toEqual(others(id, survivors));
        const { json } = await call(id, 'GET', '/v1/peers/events');
        expect(json.events).toContainEqual(
          expect.objectContaining({ eventType: 'peer-lost', peerId: 'n5' }),
        );
      }, WAIT);
    }
    await start('n5');
    await expectFullMesh();
  }, 30_000);
});
