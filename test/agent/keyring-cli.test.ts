import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDw } from '../support/dw-process.js';

describe('dw keyring', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dw-keyring-')), 'keyring.json');
  const keyring = (...args: string[]) => runDw(['keyring', ...args, '--file', file]);
  // Each line is `keyId  fingerprint[  (primary)]`; the fingerprint is 16 hex digits.
  const listed = () =>
    keyring('list')
      .stdout.trim()
      .split('\n')
      .map((line) => line.replace(/ {2}[0-9a-f]{16}/, ''));

  it('generates a keyring readable by its owner only, and lists ids, never keys', () => {
    expect(keyring('generate', '--key-id', 'k1').status).toBe(0);
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(listed()).toEqual(['k1  (primary)']);
    const key = (JSON.parse(readFileSync(file, 'utf8')) as { keys: { key: string }[] }).keys[0]
      ?.key;
    expect(key).toBeDefined();
    expect(keyring('list').stdout).not.toContain(key);
  });

  it('refuses to overwrite without --force', () => {
    const again = keyring('generate');
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/--force/);
  });

  it('rotates: install, use, remove the old key', () => {
    expect(keyring('install', '--key-id', 'k2').status).toBe(0);
    expect(listed()).toEqual(['k1  (primary)', 'k2']);
    const removePrimary = keyring('remove', '--key-id', 'k1');
    expect(removePrimary.status).toBe(1);
    expect(keyring('use', '--key-id', 'k2').status).toBe(0);
    expect(keyring('remove', '--key-id', 'k1').status).toBe(0);
    expect(listed()).toEqual(['k2  (primary)']);
  });

  it('refuses a key that is not 32 bytes of base64 and leaves the file alone', () => {
    const before = readFileSync(file, 'utf8');
    const bad = keyring('install', '--key-id', 'k3', '--key', 'c2hvcnQ=');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/32 bytes/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});
