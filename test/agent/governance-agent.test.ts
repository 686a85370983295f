import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDw, startAgentProcess, type AgentProcess } from '../support/dw-process.js';

// One dev agent with a data directory, so its audit trail is a file `dw audit` can read.
let agent: AgentProcess;
const dataDir = mkdtempSync(join(tmpdir(), 'dw-governance-'));

const adminOnlyWrites = {
  policyId: 'admin-only-config',
  name: 'Only admins change the configuration',
  description: 'writes to /v1/config need the admin role',
  type: 'access',
  expression:
    'operation == "write" && resource.path.startsWith("/v1/config") && !("admin" in user.roles)',
  action: 'deny',
  priority: 50,
  isEnabled: true,
};

function file(name: string, content: unknown): string {
  const path = join(dataDir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

async function putConfig(headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(`${agent.url}/v1/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ key: 'tiers/hot', value: '{}' }),
  });
}

beforeAll(async () => {
  agent = await startAgentProcess(['--dev', '--http', '127.0.0.1:0', '--data-dir', dataDir]);
});

afterAll(() => {
  agent.child.kill('SIGKILL');
});

// Each step spawns a dw process; on a loaded two-core machine that takes seconds.
describe('governance on every API operation', { timeout: 60_000 }, () => {
  it('dw policy add/list: a CEL policy is registered; a bad one is refused with its position', () => {
    const added = runDw([
      'policy',
      'add',
      file('policy.json', adminOnlyWrites),
      '--agent',
      agent.url,
    ]);
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toContain('added admin-only-config');
    expect(runDw(['policy', 'list', '--agent', agent.url]).stdout).toContain(
      'admin-only-config  access  deny',
    );
    const bad = runDw([
      'policy',
      'add',
      file('bad.json', { ...adminOnlyWrites, policyId: 'bad', expression: 'resource.nope == 1' }),
      '--agent',
      agent.url,
    ]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('INVALID_POLICY_EXPRESSION');
    expect(bad.stderr).toMatch(/1:\d+/);
  });

  it('denies the operation without the role and allows it with it', async () => {
    const denied = await putConfig();
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('POLICY_DENIED');
    const allowed = await putConfig({ 'x-dw-user': 'ada', 'x-dw-roles': 'admin' });
    expect(allowed.status).toBe(200);
    expect((await fetch(`${agent.url}/v1/config?key=tiers/hot`)).status).toBe(200);
  });

  it('dw policy test prints the decision and which policies matched', () => {
    const context = file('context.json', {
      operationType: 'write',
      resourceId: '/v1/config',
      resource: { path: '/v1/config' },
      user: { roles: ['viewer'] },
    });
    const result = runDw(['policy', 'test', context, '--agent', agent.url]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('decision: DENY');
    expect(result.stdout).toMatch(/admin-only-config \(deny, priority 50\): holds, applied/);
  });

  it('the denial is in the audit trail, which verifies, through the API and dw audit', async () => {
    const page = (await (await fetch(`${agent.url}/v1/audit?outcome=denied`)).json()) as {
      entries: { policyIds: string[]; operation: string }[];
    };
    expect(page.entries.length).toBeGreaterThanOrEqual(1);
    expect(page.entries[0]?.policyIds).toEqual(['admin-only-config']);
    expect(page.entries[0]?.operation).toBe('PUT /v1/config');
    const verified = (await (await fetch(`${agent.url}/v1/audit/verify`)).json()) as {
      ok: boolean;
    };
    expect(verified.ok).toBe(true);
    const cli = runDw([
      'audit',
      'query',
      '--file',
      join(dataDir, 'audit.db'),
      '--outcome',
      'denied',
    ]);
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('denied  PUT /v1/config');
    expect(runDw(['audit', 'verify', '--file', join(dataDir, 'audit.db')]).status).toBe(0);
  });

  it('answers residency decisions from data-residency policies, and classifies content', async () => {
    const euOnly = {
      ...adminOnlyWrites,
      policyId: 'eu-stays-in-eu',
      type: 'data-residency',
      expression: 'resource.region == "eu" && request.targetRegion != "eu"',
    };
    expect(runDw(['policy', 'add', file('eu.json', euOnly), '--agent', agent.url]).status).toBe(0);
    const decide = async (region: string): Promise<{ allowed: boolean }> => {
      const answer = await fetch(`${agent.url}/v1/governance/residency`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          resource: { resourceId: 'customers/1', region: 'eu' },
          node: { nodeId: `node-${region}`, region },
          operation: 'replicate',
        }),
      });
      expect(answer.status).toBe(200);
      return (await answer.json()) as { allowed: boolean };
    };
    expect((await decide('us-east')).allowed).toBe(false);
    expect((await decide('eu')).allowed).toBe(true);
    expect(runDw(['policy', 'remove', 'eu-stays-in-eu', '--agent', agent.url]).status).toBe(0);
    const classified = await fetch(`${agent.url}/v1/governance/classify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'visa card 4111 1111 1111 1111, mail ada@example.com' }),
    });
    const body = (await classified.json()) as { resource: { labels: string[] } };
    expect(body.resource.labels).toEqual(expect.arrayContaining(['pci.card', 'pii.email']));
  });

  it('dw policy remove lifts the denial; health and governance routes are never gated', async () => {
    const everything = {
      ...adminOnlyWrites,
      policyId: 'deny-all',
      expression: 'true',
      priority: 1,
    };
    expect(
      runDw(['policy', 'add', file('all.json', everything), '--agent', agent.url]).status,
    ).toBe(0);
    expect((await fetch(`${agent.url}/v1/members`)).status).toBe(403);
    expect((await fetch(`${agent.url}/v1/health`)).status).toBe(200);
    expect(runDw(['policy', 'remove', 'deny-all', '--agent', agent.url]).status).toBe(0);
    expect(runDw(['policy', 'remove', 'admin-only-config', '--agent', agent.url]).status).toBe(0);
    expect((await putConfig()).status).toBe(200);
    expect(runDw(['policy', 'remove', 'admin-only-config', '--agent', agent.url]).status).toBe(1);
  });
});
