/**
 * `dw members`, `dw leader` and `dw config get | list | put | cas | delete`:
 * the cluster as a running agent sees it, through its HTTP API.
 */

import { Command, InvalidArgumentError } from 'commander';
import { agentClient, type AgentClient } from './agent-client.js';
import { UsageError } from './usage-error.js';

/** The agent these commands talk to unless `--agent` says otherwise. */
export const DEFAULT_AGENT_URL = 'http://127.0.0.1:7700';

interface AgentOptions {
  readonly agent: string;
  readonly apiTokenFile?: string;
  readonly json?: boolean;
}

interface NodeView {
  readonly nodeId: string;
  readonly address: string;
  readonly port: number;
  readonly role: string;
  readonly status: string;
}

interface EntryView {
  readonly key: string;
  readonly value: string;
  readonly revision: number;
}

function withAgentOptions(command: Command): Command {
  return command
    .option('--agent <url>', 'the running agent to ask', DEFAULT_AGENT_URL)
    .option('--api-token-file <file>', 'the agent’s API token file, when it requires one')
    .option('--json', 'print the agent’s JSON answer');
}

async function client(options: AgentOptions): Promise<AgentClient> {
  return await agentClient(options.agent, options.apiTokenFile);
}

function print(options: AgentOptions, json: unknown, text: () => string): void {
  process.stdout.write(options.json === true ? `${JSON.stringify(json, null, 2)}\n` : text());
}

function nodeLine(node: NodeView): string {
  return `${node.nodeId}  ${node.role}  ${node.status}  ${node.address}:${String(node.port)}\n`;
}

function entryLine(entry: EntryView): string {
  return `${entry.key}  (revision ${String(entry.revision)})  ${entry.value}\n`;
}

function parseRevision(value: string): number {
  const revision = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(revision)) {
    throw new InvalidArgumentError(
      `expected a revision (a whole number, 0 = absent), got '${value}'`,
    );
  }
  return revision;
}

/** `dw members`: every member with its role and status. */
export function membersCommand(): Command {
  return withAgentOptions(
    new Command('members')
      .description('list the cluster’s members as a running agent sees them')
      .exitOverride(),
  ).action(async (options: AgentOptions) => {
    const answer = (await (await client(options)).call('GET', '/v1/members')) as {
      members: NodeView[];
    };
    print(options, answer, () => answer.members.map(nodeLine).join(''));
  });
}

/** `dw leader`: the current leader, or a line saying there is none. */
export function leaderCommand(): Command {
  return withAgentOptions(
    new Command('leader')
      .description('show the cluster’s leader as a running agent sees it')
      .exitOverride(),
  ).action(async (options: AgentOptions) => {
    const answer = (await (await client(options)).call('GET', '/v1/leader')) as {
      leader: NodeView | null;
    };
    print(options, answer, () =>
      answer.leader === null ? 'no leader\n' : nodeLine(answer.leader),
    );
  });
}

/** `dw config get | list | put | cas | delete`: the cluster configuration. */
export function configCommand(): Command {
  // Subcommands inherit exitOverride, so a bad option exits 2 like everywhere else in dw.
  const config = new Command('config')
    .description('read and change the cluster configuration through a running agent (linearizable)')
    .exitOverride();
  withAgentOptions(config.command('get').description('print one key').argument('<key>')).action(
    async (key: string, options: AgentOptions) => {
      const query = new URLSearchParams({ key }).toString();
      const answer = (await (await client(options)).call('GET', `/v1/config?${query}`)) as {
        entry: EntryView;
      };
      print(options, answer, () => `${answer.entry.value}\n`);
    },
  );
  withAgentOptions(
    config
      .command('list')
      .description('print every key under a prefix')
      .argument('[prefix]', 'the prefix', ''),
  ).action(async (prefix: string, options: AgentOptions) => {
    const query = new URLSearchParams({ prefix }).toString();
    const answer = (await (await client(options)).call('GET', `/v1/config?${query}`)) as {
      entries: EntryView[];
    };
    print(options, answer, () => answer.entries.map(entryLine).join(''));
  });
  withAgentOptions(
    config.command('put').description('write one key').argument('<key>').argument('<value>'),
  ).action(async (key: string, value: string, options: AgentOptions) => {
    const answer = (await (await client(options)).call('PUT', '/v1/config', { key, value })) as {
      entry: EntryView;
    };
    print(options, answer, () => entryLine(answer.entry));
  });
  withAgentOptions(
    config
      .command('cas')
      .description(
        'write one key only if it is as expected (exit 1 and print what is there when not)',
      )
      .argument('<key>')
      .argument('<value>')
      .option('--revision <n>', 'the revision the key must have (0 = absent)', parseRevision)
      .option('--expect <value>', 'the value the key must hold')
      .option('--absent', 'the key must not exist'),
  ).action(
    async (
      key: string,
      value: string,
      options: AgentOptions & { revision?: number; expect?: string; absent?: boolean },
    ) => {
      const given = [options.revision, options.expect, options.absent].filter(
        (option) => option !== undefined,
      );
      if (given.length !== 1) {
        throw new UsageError('give exactly one of --revision, --expect or --absent');
      }
      const body = {
        key,
        value,
        ...(options.revision === undefined ? {} : { expectedRevision: options.revision }),
        ...(options.expect === undefined ? {} : { expectedValue: options.expect }),
        ...(options.absent === true ? { expectedValue: null } : {}),
      };
      const answer = (await (await client(options)).call('POST', '/v1/config/cas', body)) as {
        succeeded: boolean;
        current?: EntryView;
      };
      print(options, answer, () =>
        answer.succeeded
          ? entryLine(answer.current as EntryView)
          : `not changed: ${answer.current === undefined ? 'the key does not exist' : entryLine(answer.current)}`,
      );
      if (!answer.succeeded) process.exitCode = 1;
    },
  );
  withAgentOptions(config.command('delete').description('remove one key').argument('<key>')).action(
    async (key: string, options: AgentOptions) => {
      const query = new URLSearchParams({ key }).toString();
      const answer = (await (await client(options)).call('DELETE', `/v1/config?${query}`)) as {
        deleted: boolean;
      };
      print(options, answer, () => (answer.deleted ? 'deleted\n' : 'no such key\n'));
    },
  );
  return config;
}
