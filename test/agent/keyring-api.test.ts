import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedServices } from '../../src/agent/embedded-services.js';
import type { KeyringApiOptions } from '../../src/agent/http/routes/keyring.js';
import { isLoopbackListener } from '../../src/agent/http/routes/keyring.js';
import { createApiServer } from '../../src/agent/http/server.js';
import { readKeyringFile, writeKeyringFile } from '../../src/native/transport/keyring-file.js';
import { KeyringStore } from '../../src/native/transport/keyring-store.js';
import { Keyring } from '../../src/native/transport/keyring.js';

// The keyring routes in-process: every refusal has its status and stable code and
// leaves the keyring and its file unchanged; the token and loopback guards hold.

const workDir = mkdtempSync(join(tmpdir(), 'dw-keyring-api-'));
const KEY_A = new Uint8Array(32).fill(0xa1);
const KEY_B = new Uint8Array(32).fill(0xb2);
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
let servers: Server[] = [];
let fileCount = 0;

afterEach(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  servers = [];
});

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function serve(keyring: KeyringApiOptions, host = '127.0.0.1'): Promise<string> {
  const server = createApiServer({
    services: createEmbeddedServices({ nodeId: 'keyring-node' }),
    logger: pino({ level: 'silent' }),
    now: Date.now,
    keyring,
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function newStore(write?: (path: string, ring: Keyring) => Promise<void>) {
  const path = join(workDir, `keyring-${fileCount++}.json`);
  await writeKeyringFile(path, new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1'));
  const keyring = await readKeyringFile(path);
  return new KeyringStore(keyring, path, write === undefined ? undefined : { write });
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

describe('the keyring API', () => {
  let store: KeyringStore;
  let base: string;

  beforeEach(async () => {
    store = await newStore();
    base = await serve({ store });
  });

  it('lists ids, the primary, fingerprints and ages, never key material', async () => {
    const { status, json } = await call(base, 'GET', '/v1/keyring');
    expect(status).toBe(200);
    expect(json).toMatchObject({ primaryKeyId: 'k1', maxKeys: 16, file: store.path });
    expect(json.keys).toEqual([
      expect.objectContaining({
        keyId: 'k1',
        primary: true,
        fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
        ageMs: expect.any(Number),
        sealed: 0,
        opened: 0,
      }),
    ]);
    expect(JSON.stringify(json)).not.toContain(b64(KEY_A));
  });

  it('installs, makes primary and removes, writing each change to the file', async () => {
    const installed = await call(base, 'POST', '/v1/keyring/keys', {
      keyId: 'k2',
      key: b64(KEY_B),
    });
    expect(installed.status).toBe(201);
    expect(installed.json).toMatchObject({ installed: true, key: { keyId: 'k2', primary: false } });
    expect((await readKeyringFile(store.path)).list().map((key) => key.keyId)).toEqual([
      'k1',
      'k2',
    ]);

    const again = await call(base, 'POST', '/v1/keyring/keys', { keyId: 'k2', key: b64(KEY_B) });
    expect(again.status).toBe(200);
    expect(again.json.installed).toBe(false);

    const used = await call(base, 'POST', '/v1/keyring/primary', { keyId: 'k2' });
    expect(used).toEqual({
      status: 200,
      json: { previousPrimaryKeyId: 'k1', primaryKeyId: 'k2' },
    });
    expect(store.keyring.primaryKeyId).toBe('k2');
    expect((await readKeyringFile(store.path)).primaryKeyId).toBe('k2');

    expect((await call(base, 'DELETE', '/v1/keyring/keys/k1')).status).toBe(204);
    const reread = await readKeyringFile(store.path);
    expect(reread.list().map((key) => key.keyId)).toEqual(['k2']);
    // The file keeps the installation time, so a restart does not reset a key's age.
    expect(reread.list()[0]?.installedAt).toBe(installed.json.key.installedAt);
  });

  it('generates a key when none is given, and never returns it', async () => {
    const { status, json } = await call(base, 'POST', '/v1/keyring/keys', { keyId: 'k3' });
    expect(status).toBe(201);
    expect(Object.keys(json.key).sort()).toEqual(
      ['ageMs', 'fingerprint', 'installedAt', 'keyId', 'opened', 'primary', 'sealed'].sort(),
    );
    const material = store.keyring.exportKeys().find((key) => key.keyId === 'k3');
    expect(material?.key).toHaveLength(32);
    expect(JSON.stringify(json)).not.toContain(b64(material!.key));
  });

  it('refuses bad input with stable codes and changes nothing', async () => {
    const before = readFileSync(store.path, 'utf8');
    const refusals: [string, string, unknown, number, string][] = [
      ['POST', '/v1/keyring/keys', { keyId: 'k2', key: 'c2hvcnQ=' }, 400, 'INVALID_KEY'],
      ['POST', '/v1/keyring/keys', { keyId: 'k2', key: 'not base64!' }, 400, 'INVALID_KEY'],
      [
        'POST',
        '/v1/keyring/keys',
        { keyId: 'k2', key: b64(KEY_B).slice(0, -1) },
        400,
        'INVALID_KEY',
      ],
      ['POST', '/v1/keyring/keys', { keyId: 'bad id', key: b64(KEY_B) }, 400, 'INVALID_KEY_ID'],
      ['POST', '/v1/keyring/keys', { keyId: 'x'.repeat(65) }, 400, 'INVALID_KEY_ID'],
      ['POST', '/v1/keyring/keys', { keyId: 'k1', key: b64(KEY_B) }, 400, 'KEY_ID_CONFLICT'],
      ['POST', '/v1/keyring/keys', { key: b64(KEY_B) }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/keyring/keys', { keyId: 'k2', extra: 1 }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/keyring/primary', { keyId: 'nope' }, 404, 'UNKNOWN_KEY'],
      ['DELETE', '/v1/keyring/keys/nope', undefined, 404, 'UNKNOWN_KEY'],
      ['DELETE', '/v1/keyring/keys/k1', undefined, 400, 'KEY_IS_PRIMARY'],
      ['PUT', '/v1/keyring', undefined, 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [method, path, body, status, code] of refusals) {
      const answer = await call(base, method, path, body);
      expect({ method, path, body, status: answer.status, code: answer.json?.error?.code }).toEqual(
        {
          method,
          path,
          body,
          status,
          code,
        },
      );
    }
    expect(readFileSync(store.path, 'utf8')).toBe(before);
    expect(store.list().map((key) => key.keyId)).toEqual(['k1']);
    expect(store.keyring.primaryKeyId).toBe('k1');
  });

  it('fuzz: any JSON body is answered without a 500, and a refusal changes nothing', async () => {
    const state = () => [readFileSync(store.path, 'utf8'), JSON.stringify(store.list())];
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record(
        { keyId: fc.oneof(fc.string(), fc.constant('k1'), fc.jsonValue()), key: fc.jsonValue() },
        { requiredKeys: [] },
      ),
    );
    const paths = fc.constantFrom('/v1/keyring/keys', '/v1/keyring/primary');
    await fc.assert(
      fc.asyncProperty(paths, body, async (path, json) => {
        const before = state();
        const answer = await call(base, 'POST', path, json);
        expect(answer.status).toBeLessThan(500);
        if (answer.status >= 400) {
          expect(answer.json.error.code).toMatch(/^[A-Z_]+$/);
          expect(state()).toEqual(before);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('refuses to install past maxKeys with KEYRING_FULL', async () => {
    for (let i = 2; i <= 16; i++) {
      expect((await call(base, 'POST', '/v1/keyring/keys', { keyId: `k${i}` })).status).toBe(201);
    }
    const full = await call(base, 'POST', '/v1/keyring/keys', { keyId: 'k17' });
    expect([full.status, full.json.error.code]).toEqual([400, 'KEYRING_FULL']);
    expect((await readKeyringFile(store.path)).list()).toHaveLength(16);
  });
});

describe('when the keyring file cannot be written', () => {
  it('answers 500 KEYRING_NOT_PERSISTED and leaves the live keyring as it was', async () => {
    let fail = false;
    const store = await newStore(async (path, ring) => {
      if (fail) throw Object.assign(new Error('disk full (injected)'), { code: 'ENOSPC' });
      await writeKeyringFile(path, ring);
    });
    const base = await serve({ store });
    const before = readFileSync(store.path, 'utf8');
    fail = true;
    const install = await call(base, 'POST', '/v1/keyring/keys', { keyId: 'k2', key: b64(KEY_B) });
    expect([install.status, install.json.error.code]).toEqual([500, 'KEYRING_NOT_PERSISTED']);
    expect(install.json.error.message).toMatch(/disk full/);
    expect(store.keyring.has('k2')).toBe(false);
    fail = false;
    expect(
      (await call(base, 'POST', '/v1/keyring/keys', { keyId: 'k2', key: b64(KEY_B) })).status,
    ).toBe(201);
    fail = true;
    const use = await call(base, 'POST', '/v1/keyring/primary', { keyId: 'k2' });
    expect(use.json.error.code).toBe('KEYRING_NOT_PERSISTED');
    expect(store.keyring.primaryKeyId).toBe('k1');
    const remove = await call(base, 'DELETE', '/v1/keyring/keys/k2');
    expect(remove.json.error.code).toBe('KEYRING_NOT_PERSISTED');
    expect(store.keyring.has('k2')).toBe(true);
    // The live keyring still seals with k1 and opens k2's frames.
    const sealedWithB = new Keyring([{ keyId: 'k2', key: KEY_B }], 'k2').seal(
      new Uint8Array([7]),
      new Uint8Array(0),
    );
    expect([...store.keyring.open(sealedWithB, new Uint8Array(0))]).toEqual([7]);
    expect(readFileSync(store.path, 'utf8')).not.toBe(before); // k2's install was written
    expect((await readKeyringFile(store.path)).primaryKeyId).toBe('k1');
  });
});

describe('the keyring API guard', () => {
  it('with a token: refuses a missing or wrong bearer token with 401, accepts the right one', async () => {
    const store = await newStore();
    const base = await serve({ store, token: 'correct-horse-battery-staple' });
    const missing = await call(base, 'GET', '/v1/keyring');
    expect([missing.status, missing.json.error.code]).toEqual([401, 'UNAUTHORIZED']);
    const wrong = await call(
      base,
      'GET',
      '/v1/keyring',
      undefined,
      'correct-horse-battery-stapler',
    );
    expect([wrong.status, wrong.json.error.code]).toEqual([401, 'UNAUTHORIZED']);
    const change = await call(
      base,
      'POST',
      '/v1/keyring/keys',
      { keyId: 'k2' },
      'nope-nope-nope-nope',
    );
    expect(change.status).toBe(401);
    expect(store.keyring.has('k2')).toBe(false);
    const right = await call(base, 'GET', '/v1/keyring', undefined, 'correct-horse-battery-staple');
    expect(right.status).toBe(200);
    // Other routes are not guarded by the keyring token.
    expect((await call(base, 'GET', '/v1/peers')).status).toBe(200);
  });

  it('without a token: refuses with 403 on a listener that is not loopback', async () => {
    const store = await newStore();
    const base = await serve({ store }, '0.0.0.0');
    for (const [method, path, body] of [
      ['GET', '/v1/keyring', undefined],
      ['POST', '/v1/keyring/keys', { keyId: 'k2' }],
      ['POST', '/v1/keyring/primary', { keyId: 'k1' }],
      ['DELETE', '/v1/keyring/keys/k1', undefined],
    ] as const) {
      const answer = await call(base, method, path, body);
      expect([answer.status, answer.json.error.code]).toEqual([403, 'API_TOKEN_NOT_CONFIGURED']);
    }
    expect(store.keyring.has('k2')).toBe(false);
  });

  it('with a token: serves a listener that is not loopback', async () => {
    const base = await serve({ store: await newStore(), token: 'sixteen-chars-ok' }, '0.0.0.0');
    expect((await call(base, 'GET', '/v1/keyring', undefined, 'sixteen-chars-ok')).status).toBe(
      200,
    );
  });

  it('an agent without a keyring answers 409 NO_KEYRING', async () => {
    const base = await serve({});
    const answer = await call(base, 'POST', '/v1/keyring/keys', { keyId: 'k2' });
    expect([answer.status, answer.json.error.code]).toEqual([409, 'NO_KEYRING']);
  });

  it('knows loopback listeners', () => {
    const info = (address: string) => ({ address, family: 'IPv4', port: 1 });
    expect(isLoopbackListener(info('127.0.0.1'))).toBe(true);
    expect(isLoopbackListener(info('127.1.2.3'))).toBe(true);
    expect(isLoopbackListener(info('::1'))).toBe(true);
    expect(isLoopbackListener(info('::ffff:127.0.0.1'))).toBe(true);
    expect(isLoopbackListener(info('0.0.0.0'))).toBe(false);
    expect(isLoopbackListener(info('::'))).toBe(false);
    expect(isLoopbackListener(info('10.0.0.1'))).toBe(false);
    expect(isLoopbackListener(null)).toBe(false);
  });
});
