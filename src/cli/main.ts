#!/usr/bin/env node
/**
 * The `dw` command. Exit codes: 0 success, 1 the command failed while running,
 * 2 the command line was wrong.
 */

import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { pino } from 'pino';
import { DEFAULT_HTTP_ADDRESS, startAgent } from '../agent/agent.js';
import { createEmbeddedServices } from '../agent/embedded-services.js';
import { CONTRACT_VERSION } from '../contracts/common.js';
import { LOAD_BALANCER_NAMES } from '../loadbalancing/factory.js';
import { DEFAULT_SCALING_BOUNDS } from '../agent/http/routes/scaling.js';
import { keyringCommand, UsageError } from './keyring-command.js';
import { parseCount, parseListenAddress, parseNodeId } from './option-parsers.js';

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
    'run the embedded single-node defaults (one node, no cluster networking); required until multi-node mode lands',
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
    if (options.dev !== true) {
      process.stderr.write(
        'dw agent: only the embedded single-node mode exists in this version; run `dw agent --dev`\n',
      );
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
  readonly http: { readonly host: string; readonly port: number };
  readonly nodeId?: string;
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly lb?: string;
  readonly logLevel: string;
}

async function runAgent(options: AgentCommandOptions): Promise<void> {
  const logger = pino({ level: options.logLevel, base: { service: 'dw' } });
  const services = createEmbeddedServices({
    ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
    ...(options.lb === undefined ? {} : { loadBalancer: options.lb }),
    onListenerError: (error) => logger.error({ err: error }, 'an event listener threw'),
  });
  const agent = await startAgent({
    services,
    http: options.http,
    logger,
    scalingBounds: { minNodes: options.minNodes, maxNodes: options.maxNodes },
  });
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
