import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DistributedError } from '../../src/contracts/errors.js';
import { readKeyringFile, writeKeyringFile } from '../../src/native/transport/keyring-file.js';
import { KeyringPersistError, KeyringStore } from '../../src/native/transport/keyring-store.js';
import { Keyring, KeyringError, keyFingerprint } from '../../src/native/transport/keyring.js';

// The store behind the agent's keyring API: changes run one at a time, the file is
// written before the live keyring changes, and a failed write changes nothing.

const workDir = mkdtempSync(join(tmpdir(), 'dw-keyring-store-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
const KEY_A = new Uint8Array(32).fill(1);
let count = 0;

async function store(options?: ConstructorParameters<typeof KeyringStore>[2]) {
  const path = join(workDir, `k${count++}.json`);
  const keyring = new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1');
  await writeKeyringFile(path, keyring);
  return new KeyringStore(keyring, path, options);
}

describe('KeyringStore', () => {
  it('runs concurrent changes one at a time, and the file ends as memory does', async () => {
    const subject = await store();
    const keys = Array.from({ length: 8 }, (_, i) => `n${i}`);
    await Promise.all(keys.map((keyId) => subject.install(keyId, Keyring.generateKey())));
    await Promise.all([subject.use('n3'), subject.remove('k1'), subject.remove('n0')]);
    const onDisk = await readKeyringFile(subject.path);
    expect(onDisk.exportKeys()).toEqual(subject.keyring.exportKeys());
    expect(onDisk.primaryKeyId).toBe('n3');
  });

  it('refuses bad changes with KeyringError reasons before writing', async () => {
    let writes = 0;
    const subject = await store({
      write: async (path, ring) => {
        writes += 1;
        await writeKeyringFile(path, ring);
      },
    });
    const reason = async (work: Promise<unknown>) =>
      work.then(
        () => 'accepted',
        (error: unknown) => (error instanceof KeyringError ? error.reason : String(error)),
      );
    expect(await reason(subject.install('k1', new Uint8Array(32)))).toBe('key-id-conflict');
    expect(await reason(subject.install('k 2', new Uint8Array(32)))).toBe('invalid-key-id');
    expect(await reason(subject.install('k2', new Uint8Array(31)))).toBe('invalid-key');
    expect(await reason(subject.use('k9'))).toBe('unknown-key');
    expect(await reason(subject.remove('k1'))).toBe('key-is-primary');
    expect(await reason(subject.install('k1', KEY_A))).toBe('accepted');
    expect(await reason(subject.use('k1'))).toBe('accepted');
    expect(writes).toBe(0);
    const error = await subject.remove('k1').catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(DistributedError);
    expect((error as DistributedError).code).toBe('INVALID_ARGUMENT');
  });

  it('a failed write changes nothing, rewrites the old file, and says so', async () => {
    const calls: string[] = [];
    const subject = await store({
      write: async (path, ring) => {
        calls.push(
          ring
            .list()
            .map((key) => key.keyId)
            .join(','),
        );
        if (calls.length === 1) throw new Error('EIO (injected)');
        await writeKeyringFile(path, ring);
      },
    });
    const error = await subject.install('k2', Keyring.generateKey()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyringPersistError);
    expect((error as KeyringPersistError).fileRestored).toBe(true);
    expect(calls).toEqual(['k1,k2', 'k1']);
    expect(subject.keyring.has('k2')).toBe(false);
  });

  it('bounds the changes waiting, and honours an aborted signal', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const subject = await store({
      maxPendingChanges: 2,
      write: async (path, ring) => {
        await gate;
        await writeKeyringFile(path, ring);
      },
    });
    const first = subject.install('k2', Keyring.generateKey());
    const second = subject.install('k3', Keyring.generateKey());
    await expect(subject.install('k4', Keyring.generateKey())).rejects.toMatchObject({
      code: 'CAPACITY_EXCEEDED',
    });
    release();
    await Promise.all([first, second]);
    expect(subject.list().map((key) => key.keyId)).toEqual(['k1', 'k2', 'k3']);
    const aborted = AbortSignal.abort(new Error('stop'));
    await expect(subject.use('k2', { signal: aborted })).rejects.toThrow('stop');
    expect(subject.keyring.primaryKeyId).toBe('k1');
  });

  it('counts what each key sealed and opened, and fingerprints keys', () => {
    const a = new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1');
    const b = new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1');
    const ad = new Uint8Array(0);
    b.open(a.seal(new Uint8Array([1]), ad), ad);
    b.open(a.seal(new Uint8Array([2]), ad), ad);
    expect(a.details()[0]).toMatchObject({ sealed: 2, opened: 0 });
    expect(b.details()[0]).toMatchObject({ sealed: 0, opened: 2 });
    expect(a.details()[0]?.fingerprint).toBe(keyFingerprint(KEY_A));
    expect(keyFingerprint(KEY_A)).not.toBe(keyFingerprint(new Uint8Array(32)));
  });
});
