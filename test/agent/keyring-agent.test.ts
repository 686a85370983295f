import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDw, startAgentProcess, type AgentProcess } from '../support/dw-process.js';

// `dw keyring … --agent` against real `dw agent` processes: the API token file,
// changes that survive a restart, a keyring file that cannot be written, an agent
// without a keyring, and the exit codes (1: the agent refused, 2: usage).

const workDir = mkdtempSync(join(tmpdir(), 'dw-keyring-agent-'));
const keyringDir = join(workDir, 'keys');
const keyringFile = join(keyringDir, 'keyring.json');
const newKeyFile = join(workDir, 'new-key.json');
const tokenFile = join(workDir, 'data', 'api-token');
const running: AgentProcess[] = [];

async function start(args: string[]): Promise<AgentProcess> {
  const agent = await startAgentProcess(['--http', '127.0.0.1:0', ...args]);
  running.push(agent);
  return agent;
}

async function startNode(): Promise<AgentProcess> {
  return start([
    '--bind',
    '127.0.0.1:0',
    '--keyring',
    keyringFile,
    '--data-dir',
    join(workDir, 'data'),
    '--api-token-file',
    tokenFile,
  ]);
}

async function stop(agent: AgentProcess): Promise<void> {
  agent.child.kill('SIGTERM');
  expect(await agent.exited).toBe(0);
}

const keyring = (agent: AgentProcess, ...args: string[]) =>
  runDw(['keyring', ...args, '--agent', agent.url, '--api-token-file', tokenFile]);

// What `dw keyring list` prints, without the fingerprints (the CLI itself is checked once, below).
const listedByCli = (agent: AgentProcess): string[] =>
  keyring(agent, 'list')
    .stdout.trim()
    .split('\n')
    .map((line) => line.replace(/ {2}[0-9a-f]{16}/, ''));

// The same, straight from the API (no process to spawn).
async function listed(agent: AgentProcess): Promise<string[]> {
  const token = readFileSync(tokenFile, 'utf8').trim();
  const response = await fetch(`${agent.url}/v1/keyring`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const { keys } = (await response.json()) as { keys: { keyId: string; primary: boolean }[] };
  return keys.map(({ keyId, primary }) => `${keyId}${primary ? '  (primary)' : ''}`);
}

beforeAll(() => {
  mkdirSync(keyringDir);
  expect(runDw(['keyring', 'generate', '--file', keyringFile, '--key-id', 'k1']).status).toBe(0);
  expect(runDw(['keyring', 'generate', '--file', newKeyFile, '--key-id', 'k2']).status).toBe(0);
});

afterAll(async () => {
  for (const agent of running) {
    if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    await agent.exited;
  }
  rmSync(workDir, { recursive: true, force: true });
});

// Each step spawns a dw process; on a loaded two-core machine that takes seconds.
describe('dw keyring --agent', { timeout: 60_000 }, () => {
  it('the agent creates an owner-only API token file, and the keyring API requires it', async () => {
    const agent = await startNode();
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(tokenFile).mode & 0o077).toBe(0);
    expect(agent.logs).toContainEqual(
      expect.objectContaining({ msg: 'created a new API token file', apiTokenFile: tokenFile }),
    );
    expect(JSON.stringify(agent.logs)).not.toContain(token);

    const anonymous = runDw(['keyring', 'list', '--agent', agent.url]);
    expect(anonymous.status).toBe(1);
    expect(anonymous.stderr).toMatch(/401 UNAUTHORIZED/);
    expect(listedByCli(agent)).toEqual(['k1  (primary)']);
    await stop(agent);
  });

  it('rotates a running agent, and a restart keeps every change', async () => {
    let agent = await startNode();
    const install = keyring(agent, 'install', '--key-from', newKeyFile);
    expect(install.status).toBe(0);
    expect(install.stdout).toMatch(/^installed k2 \(fingerprint [0-9a-f]{16}\)/);
    expect(keyring(agent, 'install', '--key-from', newKeyFile).stdout).toMatch(/already installed/);

    const removePrimary = keyring(agent, 'remove', '--key-id', 'k1');
    expect(removePrimary.status).toBe(1);
    expect(removePrimary.stderr).toMatch(/400 KEY_IS_PRIMARY/);
    expect(keyring(agent, 'use', '--key-id', 'k2').status).toBe(0);
    const before = JSON.parse(keyring(agent, 'list', '--json').stdout);

    await stop(agent);
    agent = await startNode();
    const after = JSON.parse(keyring(agent, 'list', '--json').stdout);
    const stable = (keys: any[]) =>
      keys.map(({ keyId, primary, fingerprint, installedAt }) => ({
        keyId,
        primary,
        fingerprint,
        installedAt,
      }));
    expect(stable(after)).toEqual(stable(before));
    expect(await listed(agent)).toEqual(['k1', 'k2  (primary)']);

    expect(keyring(agent, 'remove', '--key-id', 'k1').status).toBe(0);
    await stop(agent);
    agent = await startNode();
    expect(await listed(agent)).toEqual(['k2  (primary)']);
    await stop(agent);
  });

  it('a change the agent cannot write to its keyring file fails and changes nothing', async () => {
    const agent = await startNode();
    const saved = readFileSync(keyringFile, 'utf8');
    rmSync(keyringDir, { recursive: true });
    try {
      const install = keyring(agent, 'install', '--key-id', 'k3');
      expect(install.status).toBe(1);
      expect(install.stderr).toMatch(/500 KEYRING_NOT_PERSISTED/);
      expect(await listed(agent)).toEqual(['k2  (primary)']);
    } finally {
      mkdirSync(keyringDir);
      writeFileSync(keyringFile, saved, { mode: 0o600 });
    }
    // Once the file can be written again, changes go through.
    expect(keyring(agent, 'install', '--key-id', 'k3').status).toBe(0);
    expect(await listed(agent)).toEqual(['k2  (primary)', 'k3']);
    await stop(agent);
  });

  it('an agent without a keyring says so', async () => {
    const agent = await start(['--dev', '--bind', '127.0.0.1:0']);
    const list = runDw(['keyring', 'list', '--agent', agent.url]);
    expect(list.status).toBe(1);
    expect(list.stderr).toMatch(/409 NO_KEYRING/);
    await stop(agent);
  });

  it('usage mistakes exit 2 without contacting anyone', () => {
    const usage: string[][] = [
      ['list', '--agent', 'not a url'],
      ['list', '--agent', 'ftp://127.0.0.1:7700'],
      ['list', '--agent', 'http://127.0.0.1:9', '--file', keyringFile],
      ['list', '--api-token-file', tokenFile],
      ['list', '--agent', 'http://127.0.0.1:9', '--api-token-file', join(workDir, 'missing')],
      ['install', '--agent', 'http://127.0.0.1:9', '--key-from', newKeyFile, '--key', 'x'],
      ['install', '--agent', 'http://127.0.0.1:9', '--key', 'c2hvcnQ='],
      ['use', '--agent', 'http://127.0.0.1:9', '--key-id', 'bad id'],
    ];
    for (const args of usage) {
      const result = runDw(['keyring', ...args]);
      expect({ args, status: result.status }).toEqual({ args, status: 2 });
      expect(result.stderr).not.toBe('');
    }
  });

  it('an agent refuses to start with a token file that holds no valid token', () => {
    const bad = join(workDir, 'bad-token');
    writeFileSync(bad, 'short\n');
    const result = runDw(['agent', '--dev', '--http', '127.0.0.1:0', '--api-token-file', bad]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--api-token-file/);
  });
});
