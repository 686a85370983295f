import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import { Keyring } from '../../../src/native/transport/keyring.js';
import {
  formatKeyringFile,
  parseKeyringFile,
  readKeyringFile,
  writeKeyringFile,
} from '../../../src/native/transport/keyring-file.js';
import { KEY_A, KEY_B, TRANSPORT_FUZZ_TARGETS } from './fuzz-targets.js';

const keyA = Buffer.from(KEY_A).toString('base64');

function invalid(text: string): void {
  try {
    parseKeyringFile(text);
  } catch (error) {
    expect(error).toBeInstanceOf(DistributedError);
    expect((error as DistributedError).code).toBe('INVALID_ARGUMENT');
    return;
  }
  throw new Error(`accepted ${text}`);
}

describe('keyring file', () => {
  it('round-trips a keyring', () => {
    const keyring = new Keyring(
      [
        { keyId: 'k1', key: KEY_A },
        { keyId: 'k2', key: KEY_B },
      ],
      'k2',
    );
    const text = formatKeyringFile(keyring);
    expect(JSON.parse(text)).toEqual({
      version: 1,
      primary: 'k2',
      keys: [
        { keyId: 'k1', key: keyA, installedAt: expect.any(Number) },
        {
          keyId: 'k2',
          key: Buffer.from(KEY_B).toString('base64'),
          installedAt: expect.any(Number),
        },
      ],
    });
    const parsed = parseKeyringFile(text);
    expect(parsed.primaryKeyId).toBe('k2');
    const data = new Uint8Array(0);
    expect([...keyring.open(parsed.seal(new Uint8Array([3]), data), data)]).toEqual([3]);
  });

  it('refuses invalid files with INVALID_ARGUMENT', () => {
    const file = (value: unknown) => JSON.stringify(value);
    const key = { keyId: 'k1', key: keyA };
    invalid('');
    invalid('not json');
    invalid('[]');
    invalid('null');
    invalid(file({ version: 2, primary: 'k1', keys: [key] }));
    invalid(file({ version: 1, primary: 'k2', keys: [key] }));
    invalid(file({ version: 1, primary: 'k1', keys: [] }));
    invalid(file({ version: 1, primary: 'k1', keys: [key, key] }));
    invalid(file({ version: 1, primary: 'k1', keys: [key], extra: true }));
    invalid(file({ version: 1, primary: 'k1', keys: [{ ...key, note: 'x' }] }));
    invalid(file({ version: 1, primary: 'k1', keys: [{ keyId: 'k1', key: keyA.slice(0, -4) }] }));
    invalid(
      file({ version: 1, primary: 'k1', keys: [{ keyId: 'k1', key: keyA.replace('=', '') }] }),
    );
    invalid(file({ version: 1, primary: 'bad id', keys: [{ keyId: 'bad id', key: keyA }] }));
    invalid(
      file({
        version: 1,
        primary: 'k1',
        keys: Array.from({ length: 17 }, (_, i) => ({ keyId: `k${i}`, key: keyA })),
      }),
    );
    invalid('['.repeat(60_000));
    invalid(' '.repeat(70_000));
  });

  it('writes owner-only files and reads them back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dw-keyring-'));
    try {
      const path = join(dir, 'keyring.json');
      await writeKeyringFile(path, new Keyring([{ keyId: 'k1', key: KEY_A }], 'k1'));
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect((await readKeyringFile(path)).primaryKeyId).toBe('k1');
      expect(await readFile(path, 'utf8')).toContain(keyA);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fuzz: never throws anything but INVALID_ARGUMENT', () => {
    TRANSPORT_FUZZ_TARGETS.find((target) => target.name.startsWith('parseKeyringFile'))!.run(500);
  });
});
