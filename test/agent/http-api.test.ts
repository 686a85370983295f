import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentProcess, type AgentProcess } from '../support/dw-process.js';

let agent: AgentProcess;

/** Sends one raw HTTP/1.1 request line, for targets that fetch() would normalise away. */
async function rawRequest(requestLine: string): Promise<string> {
  const { hostname: host, port } = new URL(agent.url);
  const socket = connect(Number(port), host);
  socket.end(`${requestLine}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  let answer = '';
  for await (const chunk of socket) answer += String(chunk);
  return answer;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  raw?: string,
): Promise<{ status: number; json: any }> {
  const init: RequestInit = { method };
  if (body !== undefined || raw !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = raw ?? JSON.stringify(body);
  }
  const response = await fetch(`${agent.url}${path}`, init);
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

function expectError(answer: { status: number; json: any }, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.json.error.code).toBe(code);
  expect(typeof answer.json.error.message).toBe('string');
  expect(answer.json.error.message.length).toBeGreaterThan(0);
}

const denyDeletes = {
  policyId: 'no-deletes',
  name: 'No deletes in logs',
  description: 'Log records are kept',
  type: 'retention',
  expression: 'operation == "delete" && resource.id.startsWith("logs/")',
  action: 'deny',
  priority: 10,
  isEnabled: true,
};

beforeAll(async () => {
  agent = await startAgentProcess(['--dev', '--http', '127.0.0.1:0', '--node-id', 'it-node']);
});

afterAll(async () => {
  if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
  await agent.exited;
});

describe('dw agent --dev HTTP API (real process)', () => {
  it('binds loopback and logs structured JSON', () => {
    expect(agent.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const listening = agent.logs.find((entry) => entry['msg'] === 'agent listening');
    expect(listening).toMatchObject({ nodeId: 'it-node', mode: 'embedded', level: 30 });
  });

  it('GET /v1/health reports a healthy node with its checks', async () => {
    const { status, json } = await call('GET', '/v1/health');
    expect(status).toBe(200);
    expect(json).toMatchObject({ nodeId: 'it-node', status: 'healthy' });
    expect(json.checks.map((check: any) => check.component)).toContain('membership');
  });

  it('reports this node, the members and the leader', async () => {
    expect((await call('GET', '/v1/node')).json.node).toMatchObject({
      nodeId: 'it-node',
      role: 'leader',
      status: 'active',
    });
    const members = (await call('GET', '/v1/members')).json.members;
    expect(members.map((member: any) => member.nodeId)).toEqual(['it-node']);
    expect((await call('GET', '/v1/leader')).json.leader.nodeId).toBe('it-node');
  });

  it('selects a node, records health, and refuses when every node is unhealthy', async () => {
    expect((await call('GET', '/v1/load-balancer')).json.algorithm).toBe('round-robin');
    const selected = await call('POST', '/v1/load-balancer/select', { requestKey: 'k1' });
    expect(selected.status).toBe(200);
    expect(selected.json.node.nodeId).toBe('it-node');
    expectError(
      await call('POST', '/v1/load-balancer/select', { requestKey: 'k1', nodeIds: ['ghost'] }),
      409,
      'NOT_A_MEMBER',
    );
    const report = { cpuUsage: 99, memoryUsage: 50, activeConnections: 3, averageLatencyMs: 12 };
    const reported = await call('POST', '/v1/load-balancer/health-reports', {
      nodeId: 'it-node',
      report: { ...report, status: 'unhealthy' },
    });
    expect(reported.status).toBe(204);
    expectError(
      await call('POST', '/v1/load-balancer/select', { requestKey: 'k2' }),
      503,
      'NO_HEALTHY_NODES',
    );
    await call('POST', '/v1/load-balancer/health-reports', {
      nodeId: 'it-node',
      report: { ...report, status: 'healthy' },
    });
    expectError(
      await call('POST', '/v1/load-balancer/outcomes', {
        nodeId: 'it-node',
        latencyMs: 5,
        success: true,
      }),
      501,
      'NOT_SUPPORTED',
    );
    expect((await call('POST', '/v1/load-balancer/select', { requestKey: 'k3' })).status).toBe(200);
  });

  it('lists the peers: only this node on the loopback network', async () => {
    const { status, json } = await call('GET', '/v1/peers');
    expect(status).toBe(200);
    expect(json.localPeerId).toBe('it-node');
    expect(json.peers.map((peer: any) => peer.peerId)).toEqual(['it-node']);
  });

  it('evaluates scaling, shows state, and says scale-out has no actuator', async () => {
    const hot = {
      cpuUsage: 97,
      memoryUsage: 40,
      storageUsage: 10,
      activeConnections: 5,
      queueDepth: 0,
    };
    // No bounds in the request: the agent's defaults (1 to 100 nodes) still let it recommend growth.
    const decision = await call('POST', '/v1/scaling/evaluate', { metrics: hot });
    expect(decision.status).toBe(200);
    expect(decision.json.action).toBe('scale-out');
    expect(decision.json.targetNodeCount).toBe(2);
    const capped = await call('POST', '/v1/scaling/evaluate', { metrics: hot, maxNodes: 1 });
    expect(capped.json.action).toBe('no-action');
    const state = await call('GET', '/v1/scaling/state');
    expect(state.json).toMatchObject({ currentNodeCount: 1, isScaling: false });
    const scaleOut = await call('POST', '/v1/scaling/scale-out', {
      requestedNodes: 1,
      reason: 'cpu',
    });
    expectError(scaleOut, 501, 'NO_ACTUATOR');
    expectError(
      await call('POST', '/v1/scaling/scale-in', { nodeIds: ['it-node'], reason: 'quiet' }),
      501,
      'NO_ACTUATOR',
    );
  });

  it('reports offline sync and refuses to sync with another node', async () => {
    expect((await call('GET', '/v1/sync')).json.mode).toBe('offline');
    expectError(
      await call('POST', '/v1/sync', { targetNodeId: 'other', mode: 'online' }),
      501,
      'SYNC_UNAVAILABLE',
    );
    const status = await call('GET', '/v1/sync/status/other');
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ targetNodeId: 'other', state: 'error' });
  });

  it('lists tiers, accounts usage through placement, and refuses unknown tiers', async () => {
    const before = (await call('GET', '/v1/tiers')).json.tiers;
    expect(before).toHaveLength(1);
    const tierName = before[0].tierName;
    const placement = await call('POST', '/v1/tiers/placement', {
      dataKey: 'obj-1',
      dataSizeBytes: 4096,
      accessCount: 3,
      lastAccessedAt: 1_700_000_000_000,
      createdAt: 1_690_000_000_000,
    });
    expect(placement.status).toBe(200);
    expect(placement.json).toMatchObject({ recommendedTier: tierName, currentTier: tierName });
    const after = (await call('GET', '/v1/tiers')).json.tiers;
    expect(after[0].usedBytes).toBe(before[0].usedBytes + 4096);
    expectError(
      await call('POST', '/v1/tiers/migrations', {
        dataKey: 'obj-1',
        sourceTier: tierName,
        targetTier: 'glacier',
        deleteFromSource: true,
      }),
      404,
      'UNKNOWN_TIER',
    );
  });

  it('registers, evaluates and removes governance policies', async () => {
    const created = await call('POST', '/v1/governance/policies', denyDeletes);
    expect(created.status).toBe(201);
    expectError(await call('POST', '/v1/governance/policies', denyDeletes), 409, 'POLICY_EXISTS');
    const policies = (await call('GET', '/v1/governance/policies')).json.policies;
    expect(policies.map((policy: any) => policy.policyId)).toEqual(['no-deletes']);

    const denied = await call('POST', '/v1/governance/evaluate', {
      operationType: 'delete',
      resourceId: 'logs/2026/11/27',
    });
    expect(denied.status).toBe(200);
    expect(denied.json.isAllowed).toBe(false);
    expect(denied.json.violations[0].policyId).toBe('no-deletes');
    const allowed = await call('POST', '/v1/governance/evaluate', {
      operationType: 'read',
      resourceId: 'logs/2026/11/27',
    });
    expect(allowed.json.isAllowed).toBe(true);

    expect((await call('DELETE', '/v1/governance/policies/no-deletes')).status).toBe(204);
    expectError(
      await call('DELETE', '/v1/governance/policies/no-deletes'),
      404,
      'POLICY_NOT_FOUND',
    );
    expect((await call('GET', '/v1/governance/policies')).json.policies).toEqual([]);
  });

  describe('bad input is refused with 400 and changes nothing', () => {
    it('malformed JSON', async () => {
      expectError(
        await call('POST', '/v1/governance/policies', undefined, '{"policyId": '),
        400,
        'MALFORMED_JSON',
      );
    });

    it('wrong types', async () => {
      expectError(
        await call('POST', '/v1/governance/policies', { ...denyDeletes, priority: 'high' }),
        400,
        'INVALID_REQUEST',
      );
      expectError(
        await call('POST', '/v1/scaling/evaluate', { metrics: { cpuUsage: 'hot' } }),
        400,
        'INVALID_REQUEST',
      );
    });

    it('configuration writes without a key, or with two expectations', async () => {
      expectError(await call('PUT', '/v1/config', { key: '', value: 'v' }), 400, 'INVALID_REQUEST');
      expectError(
        await call('POST', '/v1/config/cas', {
          key: 'k',
          value: 'v',
          expectedRevision: 0,
          expectedValue: null,
        }),
        400,
        'INVALID_REQUEST',
      );
      expectError(await call('DELETE', '/v1/config'), 400, 'INVALID_REQUEST');
      expectError(await call('GET', '/v1/config?key=k'), 404, 'NOT_FOUND');
      expect((await call('GET', '/v1/config?prefix=')).json.entries).toEqual([]);
    });

    it('unknown fields', async () => {
      expectError(
        await call('POST', '/v1/governance/policies', { ...denyDeletes, sneaky: true }),
        400,
        'INVALID_REQUEST',
      );
      expectError(
        await call('POST', '/v1/governance/evaluate', {
          operationType: 'read',
          resourceId: 'x',
          extra: 1,
        }),
        400,
        'INVALID_REQUEST',
      );
    });

    it('an expression that uses an unknown variable', async () => {
      expectError(
        await call('POST', '/v1/governance/policies', {
          ...denyDeletes,
          expression: 'verb == "delete"',
        }),
        400,
        'INVALID_POLICY_EXPRESSION',
      );
    });

    it('left no policy behind', async () => {
      expect((await call('GET', '/v1/governance/policies')).json.policies).toEqual([]);
    });

    it('a body that is not JSON at all, and a wrong content type', async () => {
      expectError(await call('POST', '/v1/sync', undefined, 'hello'), 400, 'MALFORMED_JSON');
      const response = await fetch(`${agent.url}/v1/sync`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      });
      expect(response.status).toBe(415);
      expect(((await response.json()) as any).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('a request target that is not a plain path', async () => {
      const answer = await rawRequest('GET //elsewhere.example/v1/health HTTP/1.1');
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toMatch(/INVALID_REQUEST/);
    });

    it('an oversized body', async () => {
      const huge = JSON.stringify({ requestKey: 'x'.repeat(2 * 1024 * 1024) });
      const response = await fetch(`${agent.url}/v1/load-balancer/select`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: huge,
      });
      expect(response.status).toBe(413);
    });
  });

  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    expectError(await call('GET', '/v1/nothing-here'), 404, 'NOT_FOUND');
    expectError(await call('DELETE', '/v1/health'), 405, 'METHOD_NOT_ALLOWED');
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    const messages = agent.logs.map((entry) => entry['msg']);
    expect(messages).toContain('agent stopping');
    expect(messages).toContain('agent stopped');
  });
});

describe('dw agent --dev shutdown', () => {
  it('stops gracefully on SIGINT with exit code 0', async () => {
    const other = await startAgentProcess(['--dev', '--http', '127.0.0.1:0']);
    expect((await fetch(`${other.url}/v1/health`)).status).toBe(200);
    other.child.kill('SIGINT');
    expect(await other.exited).toBe(0);
    expect(other.logs.map((entry) => entry['msg'])).toContain('agent stopped');
  });
});

describe('dw agent --dev --lb', () => {
  it('runs the named strategy, learns from outcomes and shows the per-node load it sees', async () => {
    const other = await startAgentProcess([
      '--dev',
      '--http',
      '127.0.0.1:0',
      '--node-id',
      'lb-node',
      '--lb',
      'peak-ewma',
    ]);
    try {
      const describeBalancer = async () =>
        (await fetch(`${other.url}/v1/load-balancer`)).json() as Promise<any>;
      const before = await describeBalancer();
      expect(before).toMatchObject({
        algorithm: 'latency-based',
        algorithmName: 'latency-based/peak-ewma',
      });
      const selected = await fetch(`${other.url}/v1/load-balancer/select`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ requestKey: 'k' }),
      });
      expect(((await selected.json()) as any).node.nodeId).toBe('lb-node');
      const recorded = await fetch(`${other.url}/v1/load-balancer/outcomes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ nodeId: 'lb-node', latencyMs: 42, success: true }),
      });
      expect(recorded.status).toBe(204);
      const node = (await describeBalancer()).snapshot.nodes.find(
        (entry: any) => entry.nodeId === 'lb-node',
      );
      expect(node).toMatchObject({ activeRequests: 0, consecutiveFailures: 0 });
      expect(node.peakEwmaMs).toBeGreaterThan(0);
    } finally {
      other.child.kill('SIGTERM');
      await other.exited;
    }
  });
});
