/**
 * `dw keyring generate | list | install | use | remove`: manage a keyring file,
 * the shared AES-256-GCM keys that encrypt cluster traffic. Rotation without
 * downtime: install the new key on every node, `use` it on every node, then
 * `remove` the old one.
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { Keyring } from '../native/transport/keyring.js';
import { readKeyringFile, writeKeyringFile } from '../native/transport/keyring-file.js';
import { parseNodeId } from './option-parsers.js';

/** A command-line failure that is the user's to fix (exit 2). */
export class UsageError extends Error {}

/** The `keyring` command and its subcommands. */
export function keyringCommand(): Command {
  const keyring = new Command('keyring').description(
    'manage the keyring file that encrypts cluster traffic (AES-256-GCM)',
  );
  const fileOption = ['--file <path>', 'the keyring file', 'dw-keyring.json'] as const;

  keyring
    .command('generate')
    .description('create a keyring file with one new random key, the primary')
    .option(...fileOption)
    .option(
      '--key-id <id>',
      'the new key’s id (default: key- and eight random hex digits)',
      parseNodeId,
    )
    .option('--force', 'overwrite an existing file')
    .action(async (options: { file: string; keyId?: string; force?: boolean }) => {
      if (existsSync(options.file) && options.force !== true) {
        throw new UsageError(`${options.file} exists; use --force to overwrite it`);
      }
      const keyId = options.keyId ?? newKeyId();
      await save(options.file, new Keyring([{ keyId, key: Keyring.generateKey() }], keyId));
      process.stdout.write(`wrote ${options.file} with primary key ${keyId}\n`);
    });

  keyring
    .command('list')
    .description('list the key ids and which one is primary (never the key material)')
    .option(...fileOption)
    .action(async (options: { file: string }) => {
      for (const info of (await load(options.file)).list()) {
        process.stdout.write(`${info.keyId}${info.primary ? '  (primary)' : ''}\n`);
      }
    });

  keyring
    .command('install')
    .description(
      'add a key: new and random, or given in base64 (step 1 of a rotation, on every node)',
    )
    .option(...fileOption)
    .option(
      '--key-id <id>',
      'the key’s id (default: key- and eight random hex digits)',
      parseNodeId,
    )
    .option('--key <base64>', 'the 32-byte key, base64; omit to generate one')
    .action(async (options: { file: string; keyId?: string; key?: string }) => {
      const ring = await load(options.file);
      const keyId = options.keyId ?? newKeyId();
      ring.install(
        keyId,
        options.key === undefined ? Keyring.generateKey() : decodeKey(options.key),
      );
      await save(options.file, ring);
      process.stdout.write(`installed ${keyId}\n`);
    });

  keyring
    .command('use')
    .description('make an installed key the primary (step 2 of a rotation, on every node)')
    .option(...fileOption)
    .requiredOption('--key-id <id>', 'the key to encrypt with from now on', parseNodeId)
    .action(async (options: { file: string; keyId: string }) => {
      const ring = await load(options.file);
      ring.use(options.keyId);
      await save(options.file, ring);
      process.stdout.write(`primary is now ${options.keyId}\n`);
    });

  keyring
    .command('remove')
    .description('remove a key that is not the primary (step 3 of a rotation, on every node)')
    .option(...fileOption)
    .requiredOption('--key-id <id>', 'the key to remove', parseNodeId)
    .action(async (options: { file: string; keyId: string }) => {
      const ring = await load(options.file);
      ring.remove(options.keyId);
      await save(options.file, ring);
      process.stdout.write(`removed ${options.keyId}\n`);
    });

  return keyring;
}

function newKeyId(): string {
  return `key-${randomBytes(4).toString('hex')}`;
}

function decodeKey(base64: string): Uint8Array {
  const key = Buffer.from(base64, 'base64');
  if (key.byteLength !== 32 || key.toString('base64') !== base64.trim()) {
    throw new UsageError('--key must be exactly 32 bytes, base64-encoded');
  }
  return new Uint8Array(key);
}

async function load(file: string): Promise<Keyring> {
  if (!existsSync(file)) throw new UsageError(`${file} does not exist; run dw keyring generate`);
  return readKeyringFile(file);
}

// writeKeyringFile writes a temporary file and renames it (never half-written), mode 0600.
async function save(file: string, ring: Keyring): Promise<void> {
  await writeKeyringFile(file, ring);
}
