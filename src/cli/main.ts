#!/usr/bin/env node
/**
 * The `dw` command. Exit codes: 0 success, 1 the command failed while running,
 * 2 the command line was wrong.
 */

import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { pino } from 'pino';
import { DEFAULT_HTTP_ADDRESS, startAgent } from '../agent/agent.js';
import { CONTRACT_VERSION } from '../contracts/common.js';
import { LOAD_BALANCER_NAMES } from '../loadbalancing/factory.js';
import { DEFAULT_SCALING_BOUNDS } from '../agent/http/routes/scaling.js';
import { keyringCommand, UsageError } from './keyring-command.js';
import { createAgentServices } from './agent-services.js';
import { auditCommand } from './audit-command.js';
import { policyCommand } from './policy-command.js';
import { configCommand, leaderCommand, membersCommand } from './cluster-commands.js';
import {
  parseAddressList,
  parseCount,
  parseListenAddress,
  parseMilliseconds,
  parseNodeId,
  parseUrlList,
} from './option-parsers.js';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

const packageVersion = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

const program = new Command('dw')
  .description('Run and operate DataWarehouse distributed nodes.')
  .version(packageVersion, '-V, --version', 'print the version and exit')
  .helpOption('-h, --help', 'show help for dw or a command')
  .showHelpAfterError('(run dw --help for usage)')
  .exitOverride();

program
  .command('agent')
  .description('run a node: the seven contracts behind an HTTP JSON API')
  .option(
    '--dev',
    'development: without --bind, the embedded single-node defaults; with --bind, allow plaintext cluster traffic (no --keyring needed)',
  )
  .option(
    '--bind <host:port>',
    'run a networked node listening for peers here (port 0 picks a free one; the log says which)',
    parseListenAddress,
  )
  .option(
    '--join <host:port,...>',
    'peers to dial at start to find the cluster (with --bind; repeatable)',
    parseAddressList,
  )
  .option('--keyring <file>', 'the keyring file that encrypts cluster traffic (with --bind)')
  .option(
    '--api-token-file <file>',
    'the bearer token the keyring API (/v1/keyring) requires; created with a random token if absent (without it, the keyring API is served only on a loopback --http)',
  )
  .addOption(
    new Option(
      '--transport <kind>',
      'how the keyring protects cluster streams: codec (AES-256-GCM per frame) or tls-psk (TLS 1.2 with the keyring keys as pre-shared keys; with --bind and --keyring)',
    )
      .choices(['codec', 'tls-psk'])
      .default('codec'),
  )
  .option(
    '--data-dir <dir>',
    'the node’s data directory: the audit trail (audit.db) and, with --bind, the runtime’s storage (default: the audit trail in memory, a temporary directory removed on exit)',
  )
  .option(
    '--peer-lost-after-ms <ms>',
    'report an unreachable peer lost after this long (with --bind; default 30000)',
    parseMilliseconds,
  )
  .addOption(
    new Option(
      '--membership <kind>',
      'who forms the cluster and elects the leader: embedded (this node alone), native (SWIM + Raft among the --bind peers; needs --data-dir) or etcd',
    )
      .choices(['embedded', 'native', 'etcd'])
      .default('embedded'),
  )
  .option(
    '--etcd-endpoints <url,...>',
    'etcd client URLs, for --membership etcd (repeatable)',
    parseUrlList,
  )
  .option('--etcd-prefix <prefix>', 'key prefix of this cluster in etcd (default /dw/)')
  .option(
    '--raft-tick-ms <ms>',
    'with --membership native: one Raft tick, the leader heartbeat interval (default 100)',
    parseMilliseconds,
  )
  .option(
    '--raft-election-ticks <count>',
    'with --membership native: ticks without a leader before an election; the timeout is drawn from [n, 2n) ticks (default 10)',
    parseCount,
  )
  .option(
    '--http <host:port>',
    `where the HTTP API listens (port 0 picks a free one)`,
    parseListenAddress,
    DEFAULT_HTTP_ADDRESS,
  )
  .option(
    '--node-id <id>',
    'this node’s id: letters, digits, ".", "_" and "-" (default: node- and eight random hex digits)',
    parseNodeId,
  )
  .option(
    '--min-nodes <count>',
    'the smallest cluster scaling decisions may aim for',
    parseCount,
    DEFAULT_SCALING_BOUNDS.minNodes,
  )
  .option(
    '--max-nodes <count>',
    'the largest cluster scaling decisions may aim for',
    parseCount,
    DEFAULT_SCALING_BOUNDS.maxNodes,
  )
  .addOption(
    new Option(
      '--lb <algorithm>',
      'the load-balancing strategy (default: the embedded round robin)',
    ).choices(LOAD_BALANCER_NAMES),
  )
  .addOption(
    new Option('--log-level <level>', 'the lowest log level written')
      .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
      .default('info'),
  )
  .action(async (options: AgentCommandOptions) => {
    const problem = agentUsageProblem(options);
    if (problem !== undefined) {
      process.stderr.write(`dw agent: ${problem}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    if (options.minNodes > options.maxNodes) {
      process.stderr.write('dw agent: --min-nodes must not exceed --max-nodes\n');
      process.exitCode = EXIT_USAGE;
      return;
    }
    await runAgent(options);
  });

program.addCommand(keyringCommand());
program.addCommand(membersCommand());
program.addCommand(leaderCommand());
program.addCommand(configCommand());
program.addCommand(auditCommand());
program.addCommand(policyCommand());

program
  .command('version')
  .description('print the SDK and contract versions')
  .action(() => {
    process.stdout.write(
      `dw ${packageVersion} (contracts ${CONTRACT_VERSION}, node ${process.version})\n`,
    );
  });

interface AgentCommandOptions {
  readonly dev?: boolean;
  readonly bind?: { readonly host: string; readonly port: number };
  readonly join?: readonly { readonly host: string; readonly port: number }[];
  readonly keyring?: string;
  readonly apiTokenFile?: string;
  readonly membership: 'embedded' | 'native' | 'etcd';
  readonly raftTickMs?: number;
  readonly raftElectionTicks?: number;
  readonly transport: 'codec' | 'tls-psk';
  readonly etcdEndpoints?: readonly string[];
  readonly etcdPrefix?: string;
  readonly dataDir?: string;
  readonly peerLostAfterMs?: number;
  readonly http: { readonly host: string; readonly port: number };
  readonly nodeId?: string;
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly lb?: string;
  readonly logLevel: string;
}

/** What is wrong with the agent's options, or `undefined`. */
function agentUsageProblem(options: AgentCommandOptions): string | undefined {
  if (
    options.transport === 'tls-psk' &&
    (options.bind === undefined || options.keyring === undefined)
  ) {
    return '--transport tls-psk needs --bind host:port and --keyring <file>';
  }
  if (options.membership === 'etcd' && options.etcdEndpoints === undefined) {
    return '--membership etcd needs --etcd-endpoints http://host:2379[,…]';
  }
  if (
    options.membership !== 'etcd' &&
    (options.etcdEndpoints ?? options.etcdPrefix) !== undefined
  ) {
    return '--etcd-endpoints and --etcd-prefix need --membership etcd';
  }
  if (
    options.membership === 'native' &&
    (options.bind === undefined || options.dataDir === undefined)
  ) {
    return '--membership native needs --bind host:port and --data-dir <dir> (Raft keeps its log there)';
  }
  if (
    options.membership !== 'native' &&
    (options.raftTickMs ?? options.raftElectionTicks) !== undefined
  ) {
    return '--raft-tick-ms and --raft-election-ticks need --membership native';
  }
  if (options.bind === undefined) {
    if (options.dev !== true) {
      return 'without --bind, only the embedded single-node mode exists: run `dw agent --dev`, or give --bind host:port and --keyring <file> for a networked node';
    }
    const networkOnly: readonly (readonly [string, unknown])[] = [
      ['--join', options.join],
      ['--keyring', options.keyring],
      ['--peer-lost-after-ms', options.peerLostAfterMs],
    ];
    const given = networkOnly.find(([, value]) => value !== undefined);
    if (given !== undefined) return `${given[0]} needs --bind host:port`;
  } else if (options.keyring === undefined && options.dev !== true) {
    return '--bind needs --keyring <file> (create one with `dw keyring generate`), or --dev for plaintext';
  }
  return undefined;
}

async function runAgent(options: AgentCommandOptions): Promise<void> {
  const logger = pino({ level: options.logLevel, base: { service: 'dw' } });
  const { services, keyringApi } = await createAgentServices(options, logger);
  let agent: Awaited<ReturnType<typeof startAgent>>;
  try {
    agent = await startAgent({
      services,
      http: options.http,
      logger,
      scalingBounds: { minNodes: options.minNodes, maxNodes: options.maxNodes },
      keyring: keyringApi,
    });
  } catch (error) {
    // The HTTP port may be taken: release the cluster socket and the runtime before failing.
    await services.close?.();
    throw error;
  }
  const stopOn = (signal: NodeJS.Signals): void => {
    process.once(signal, () => {
      agent.stop(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          logger.fatal({ err: error }, 'graceful stop failed');
          process.exit(EXIT_FAILURE);
        },
      );
    });
  };
  stopOn('SIGINT');
  stopOn('SIGTERM');
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    const finishedNormally =
      error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
    process.exitCode = finishedNormally ? 0 : EXIT_USAGE;
  } else {
    process.stderr.write(`dw: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}
