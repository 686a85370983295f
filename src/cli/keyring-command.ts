/**
 * `dw keyring generate | list | install | use | remove`: manage the shared
 * AES-256-GCM keys that encrypt cluster traffic, in a keyring file (`--file`)
 * or on a running agent (`--agent <url>`, through its HTTP API; the agent
 * writes each change to its own keyring file). Rotation without downtime:
 * install the new key on every node, `use` it on every node, then `remove`
 * the old one on every node.
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { KEY_ID_PATTERN, Keyring, type KeyDetails } from '../native/transport/keyring.js';
import {
  decodeKeyBase64,
  readKeyringFile,
  writeKeyringFile,
} from '../native/transport/keyring-file.js';
import { agentClient, type AgentClient } from './agent-client.js';
import { UsageError } from './usage-error.js';

export { UsageError } from './usage-error.js';

/** The keyring file used when neither `--file` nor `--agent` is given. */
export const DEFAULT_KEYRING_FILE = 'dw-keyring.json';

/** Where a subcommand works: a keyring file, or a running agent. */
interface TargetOptions {
  readonly file?: string;
  readonly agent?: string;
  readonly apiTokenFile?: string;
  readonly json?: boolean;
}

type Target =
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'agent'; readonly client: AgentClient };

/** The `keyring` command and its subcommands. */
export function keyringCommand(): Command {
  const keyring = new Command('keyring')
    .description(
      'manage the keys that encrypt cluster traffic (AES-256-GCM): in a keyring file, or on a running agent with --agent',
    )
    // Set before the subcommands are made, which inherit it: a bad option value then throws a
    // CommanderError, which `dw` turns into exit 2, rather than exiting 1 on its own.
    .exitOverride();

  keyring
    .command('generate')
    .description('create a keyring file with one new random key, the primary (file only)')
    .option('--file <path>', `the keyring file (default: ${DEFAULT_KEYRING_FILE})`)
    .option(
      '--key-id <id>',
      'the new key’s id (default: key- and eight random hex digits)',
      parseKeyId,
    )
    .option('--force', 'overwrite an existing file')
    .action(async (options: { file?: string; keyId?: string; force?: boolean }) => {
      const file = options.file ?? DEFAULT_KEYRING_FILE;
      if (existsSync(file) && options.force !== true) {
        throw new UsageError(`${file} exists; use --force to overwrite it`);
      }
      const keyId = options.keyId ?? newKeyId();
      await writeKeyringFile(file, new Keyring([{ keyId, key: Keyring.generateKey() }], keyId));
      process.stdout.write(`wrote ${file} with primary key ${keyId}\n`);
    });

  targetOptions(keyring.command('list'))
    .description('list the key ids, fingerprints and which one is primary (never the key material)')
    .option('--json', 'print the full descriptions as JSON')
    .action(async (options: TargetOptions) => {
      const target = await resolveTarget(options);
      const keys =
        target.kind === 'file'
          ? (await load(target.file)).details()
          : ((await target.client.call('GET', '/v1/keyring')) as { keys: KeyDetails[] }).keys;
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
        return;
      }
      for (const info of keys) {
        process.stdout.write(
          `${info.keyId}  ${info.fingerprint}${info.primary ? '  (primary)' : ''}\n`,
        );
      }
    });

  targetOptions(keyring.command('install'))
    .description(
      'add a key (step 1 of a rotation, on every node): from --key-from, from --key, or new and random',
    )
    .option(
      '--key-id <id>',
      'the key’s id (default: the primary of --key-from, else key- and eight random hex digits)',
      parseKeyId,
    )
    .option(
      '--key-from <keyring-file>',
      'take the key with --key-id (default: that file’s primary) from this keyring file; how to give every node the same new key',
    )
    .option(
      '--key <base64>',
      'the 32-byte key, base64 (visible to other local users: prefer --key-from)',
    )
    .action(async (options: TargetOptions & { keyId?: string; key?: string; keyFrom?: string }) => {
      const target = await resolveTarget(options);
      const { keyId, key } = await keyToInstall(options);
      if (target.kind === 'file') {
        const ring = await load(target.file);
        const installed = ring.install(keyId, key ?? Keyring.generateKey());
        if (installed) await writeKeyringFile(target.file, ring);
        const details = ring.details().find((info) => info.keyId === keyId);
        report(installed, keyId, details?.fingerprint ?? '');
        return;
      }
      const answer = (await target.client.call('POST', '/v1/keyring/keys', {
        keyId,
        ...(key === undefined ? {} : { key: Buffer.from(key).toString('base64') }),
      })) as { installed: boolean; key: KeyDetails };
      report(answer.installed, keyId, answer.key.fingerprint);
    });

  targetOptions(keyring.command('use'))
    .description('make an installed key the primary (step 2 of a rotation, on every node)')
    .requiredOption('--key-id <id>', 'the key to encrypt with from now on', parseKeyId)
    .action(async (options: TargetOptions & { keyId: string }) => {
      const target = await resolveTarget(options);
      if (target.kind === 'file') {
        const ring = await load(target.file);
        ring.use(options.keyId);
        await writeKeyringFile(target.file, ring);
      } else {
        await target.client.call('POST', '/v1/keyring/primary', { keyId: options.keyId });
      }
      process.stdout.write(`primary is now ${options.keyId}\n`);
    });

  targetOptions(keyring.command('remove'))
    .description('remove a key that is not the primary (step 3 of a rotation, on every node)')
    .requiredOption('--key-id <id>', 'the key to remove', parseKeyId)
    .action(async (options: TargetOptions & { keyId: string }) => {
      const target = await resolveTarget(options);
      if (target.kind === 'file') {
        const ring = await load(target.file);
        ring.remove(options.keyId);
        await writeKeyringFile(target.file, ring);
      } else {
        await target.client.call('DELETE', `/v1/keyring/keys/${encodeURIComponent(options.keyId)}`);
      }
      process.stdout.write(`removed ${options.keyId}\n`);
    });

  return keyring;
}

/** Adds the options that choose between a keyring file and a running agent. */
function targetOptions(command: Command): Command {
  return command
    .option(
      '--file <path>',
      `the keyring file (default: ${DEFAULT_KEYRING_FILE}; not with --agent)`,
    )
    .option(
      '--agent <url>',
      'change the keyring of the running agent at this URL (for example http://127.0.0.1:7700) instead of a file',
    )
    .option(
      '--api-token-file <path>',
      'with --agent: the agent’s API token file (needed unless the agent listens on loopback without a token)',
    );
}

async function resolveTarget(options: TargetOptions): Promise<Target> {
  if (options.agent === undefined) {
    if (options.apiTokenFile !== undefined) {
      throw new UsageError('--api-token-file needs --agent <url>');
    }
    return { kind: 'file', file: options.file ?? DEFAULT_KEYRING_FILE };
  }
  if (options.file !== undefined) {
    throw new UsageError('give --file or --agent, not both');
  }
  return { kind: 'agent', client: await agentClient(options.agent, options.apiTokenFile) };
}

/** The key id and key an `install` names; no key: generate one (where the keyring is). */
async function keyToInstall(options: {
  keyId?: string;
  key?: string;
  keyFrom?: string;
}): Promise<{ keyId: string; key?: Uint8Array }> {
  if (options.key !== undefined && options.keyFrom !== undefined) {
    throw new UsageError('give --key or --key-from, not both');
  }
  if (options.keyFrom !== undefined) {
    const source = await load(options.keyFrom);
    const keyId = options.keyId ?? source.primaryKeyId;
    const found = source.exportKeys().find((material) => material.keyId === keyId);
    if (found === undefined) {
      throw new UsageError(`${options.keyFrom} holds no key ${keyId}`);
    }
    return { keyId, key: found.key };
  }
  const keyId = options.keyId ?? newKeyId();
  if (options.key === undefined) return { keyId };
  const key = decodeKeyBase64(options.key.trim());
  if (key === undefined) {
    throw new UsageError('--key must be exactly 32 bytes, base64-encoded (44 characters)');
  }
  return { keyId, key };
}

function report(installed: boolean, keyId: string, fingerprint: string): void {
  process.stdout.write(
    installed
      ? `installed ${keyId} (fingerprint ${fingerprint})\n`
      : `${keyId} was already installed with this key (fingerprint ${fingerprint})\n`,
  );
}

function parseKeyId(value: string): string {
  if (!KEY_ID_PATTERN.test(value)) {
    throw new InvalidArgumentError(
      `expected 1 to 64 letters, digits, '.', '_' or '-', got '${value}'`,
    );
  }
  return value;
}

function newKeyId(): string {
  return `key-${randomBytes(4).toString('hex')}`;
}

async function load(file: string): Promise<Keyring> {
  if (!existsSync(file)) throw new UsageError(`${file} does not exist; run dw keyring generate`);
  return readKeyringFile(file);
}
