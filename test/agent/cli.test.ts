import { describe, expect, it } from 'vitest';
import { runDw } from '../support/dw-process.js';

describe('dw command line', () => {
  it('dw --help lists the commands and exits 0', () => {
    const result = runDw(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/agent/);
    expect(result.stdout).toMatch(/version/);
  });

  it('dw agent --help describes the agent options and exits 0', () => {
    const result = runDw(['agent', '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/--dev/);
    expect(result.stdout).toMatch(/--http <host:port>/);
  });

  it('dw version prints the SDK and contract versions', () => {
    const result = runDw(['version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^dw 2\.0\.0 \(contracts 2\.0\.0, node v\d+/);
  });

  it('an unknown command is a usage error (exit 2)', () => {
    const result = runDw(['frobnicate']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown command/);
  });

  it('a malformed --http address is a usage error that says what was expected', () => {
    const result = runDw(['agent', '--dev', '--http', 'not-an-address']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/expected host:port/);
  });

  it('an invalid node id or scaling bound is a usage error', () => {
    expect(runDw(['agent', '--dev', '--node-id', '']).status).toBe(2);
    expect(runDw(['agent', '--dev', '--node-id', 'has space']).stderr).toMatch(/expected 1 to 128/);
    expect(runDw(['agent', '--dev', '--max-nodes', '0']).status).toBe(2);
    const inverted = runDw(['agent', '--dev', '--min-nodes', '5', '--max-nodes', '2']);
    expect(inverted.status).toBe(2);
    expect(inverted.stderr).toMatch(/--min-nodes must not exceed --max-nodes/);
  });

  it('dw agent without --dev refuses honestly with exit 2', () => {
    const result = runDw(['agent']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/only the embedded single-node mode/);
  });
});

describe('dw agent --lb', () => {
  it('refuses an unknown strategy with the list of known ones', () => {
    const result = runDw(['agent', '--dev', '--lb', 'telepathy']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/maglev/);
  });
});
