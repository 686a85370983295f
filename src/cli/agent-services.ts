/**
 * Chooses and builds the services behind `dw agent`: the embedded defaults
 * (`--dev` without `--bind`) or a networked node (`--bind`).
 */

import type { Logger } from 'pino';
import { createEmbeddedServices } from '../agent/embedded-services.js';
import { startNetworkedServices } from '../agent/networked-services.js';
import type { ListenAddress } from '../agent/agent.js';
import type { NodeServices } from '../agent/services.js';
import { readKeyringFile } from '../native/transport/keyring-file.js';
import type { Keyring } from '../native/transport/keyring.js';
import { UsageError } from './keyring-command.js';

/** The `dw agent` options that decide the services. */
export interface AgentServiceOptions {
  readonly dev?: boolean;
  readonly bind?: ListenAddress;
  readonly join?: readonly ListenAddress[];
  readonly keyring?: string;
  readonly dataDir?: string;
  readonly peerLostAfterMs?: number;
  readonly nodeId?: string;
  readonly lb?: string;
}

/** Builds the node's services; a networked node is listening for peers when this resolves. */
export async function createAgentServices(
  options: AgentServiceOptions,
  logger: Logger,
): Promise<NodeServices> {
  const common = {
    ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
    ...(options.lb === undefined ? {} : { loadBalancer: options.lb }),
  };
  if (options.bind === undefined) {
    return createEmbeddedServices({
      ...common,
      onListenerError: (error) => logger.error({ err: error }, 'an event listener threw'),
    });
  }
  const keyring = options.keyring === undefined ? undefined : await loadKeyring(options.keyring);
  const allowPlaintext = options.dev === true;
  if (allowPlaintext) {
    logger.warn(
      { sendsPlaintext: keyring === undefined },
      keyring === undefined
        ? '--dev: cluster traffic is PLAINTEXT (no keyring): anyone on the network can read and forge it; never use in production'
        : '--dev: plaintext cluster traffic is accepted beside encrypted traffic; never use in production',
    );
  }
  return startNetworkedServices({
    ...common,
    bind: options.bind,
    join: options.join ?? [],
    ...(keyring === undefined ? {} : { keyring }),
    allowPlaintext,
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.peerLostAfterMs === undefined ? {} : { peerLostAfterMs: options.peerLostAfterMs }),
    logger,
  });
}

async function loadKeyring(file: string): Promise<Keyring> {
  try {
    return await readKeyringFile(file);
  } catch (error) {
    // A missing or malformed keyring file is the user's to fix (exit 2).
    throw new UsageError(
      `--keyring ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
