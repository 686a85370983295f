/**
 * Chooses and builds the services behind `dw agent`: the embedded defaults
 * (`--dev` without `--bind`) or a networked node (`--bind`, with the native
 * membership under `--membership native`, or etcd's), and the keyring API's
 * keyring and token.
 */

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { createEmbeddedServices } from '../agent/embedded-services.js';
import { withEtcdMembership } from '../agent/etcd-membership.js';
import { ReplicatedPolicies } from '../agent/replicated-policies.js';
import { AuditTrail } from '../governance/audit/audit-trail.js';
import { CelAutoGovernance } from '../governance/policy/cel-auto-governance.js';
import { startNetworkedServices } from '../agent/networked-services.js';
import type { ListenAddress } from '../agent/agent.js';
import { isLoopbackListener, type KeyringApiOptions } from '../agent/http/routes/keyring.js';
import type { NodeServices } from '../agent/services.js';
import { readKeyringFile } from '../native/transport/keyring-file.js';
import { KeyringStore } from '../native/transport/keyring-store.js';
import type { Keyring } from '../native/transport/keyring.js';
import { loadOrCreateApiToken } from './api-token.js';
import { UsageError } from './usage-error.js';

/** The `dw agent` options that decide the services. */
export interface AgentServiceOptions {
  readonly dev?: boolean;
  readonly bind?: ListenAddress;
  readonly join?: readonly ListenAddress[];
  readonly keyring?: string;
  readonly dataDir?: string;
  readonly peerLostAfterMs?: number;
  /** `codec` (AES-256-GCM per frame, the default) or `tls-psk` (TLS with the keyring's keys). */
  readonly transport?: 'codec' | 'tls-psk';
  readonly nodeId?: string;
  readonly lb?: string;
  readonly apiTokenFile?: string;
  /** `embedded` (the default: this node alone), `native` (SWIM + Raft; needs --bind, --data-dir) or `etcd`. */
  readonly membership?: 'embedded' | 'native' | 'etcd';
  /** Raft's tick (heartbeat interval), for `--membership native`. */
  readonly raftTickMs?: number;
  /** Raft's election timeout in ticks, for `--membership native`. */
  readonly raftElectionTicks?: number;
  /** etcd client URLs, for `--membership etcd`. */
  readonly etcdEndpoints?: readonly string[];
  /** Key prefix of the cluster in etcd. */
  readonly etcdPrefix?: string;
  /** Where the HTTP API will listen, to warn when the keyring API will refuse everyone. */
  readonly http?: ListenAddress;
}

/** What `dw agent` runs: the services and what the keyring API serves. */
export interface AgentServices {
  readonly services: NodeServices;
  /** The live keyring with its file (absent without `--keyring`), and the API token if any. */
  readonly keyringApi: KeyringApiOptions;
}

/**
 * Builds the node's services and the keyring API's options; a networked node
 * is listening for peers when this resolves.
 */
export async function createAgentServices(
  options: AgentServiceOptions,
  logger: Logger,
): Promise<AgentServices> {
  // Read (or created) before anything listens, so a bad token file fails the start cleanly.
  const token =
    options.apiTokenFile === undefined
      ? undefined
      : await loadOrCreateApiToken(options.apiTokenFile, logger);
  if (
    token === undefined &&
    options.keyring !== undefined &&
    options.http !== undefined &&
    options.http.host.toLowerCase() !== 'localhost' &&
    !isLoopbackListener({ address: options.http.host, family: '', port: options.http.port })
  ) {
    logger.warn(
      { http: options.http.host },
      'the keyring API (/v1/keyring) will answer 403: --http is not a loopback address and there is no --api-token-file',
    );
  }
  const keyring = options.keyring === undefined ? undefined : await loadKeyring(options.keyring);
  const base = await createServices(options, keyring, logger);
  let services = base;
  if (options.membership === 'etcd') {
    try {
      services = await withEtcdMembership(base, {
        endpoints: options.etcdEndpoints ?? [],
        ...(options.etcdPrefix === undefined ? {} : { prefix: options.etcdPrefix }),
        advertise: base.networkDetails?.listenAddress ??
          options.http ?? { host: '127.0.0.1', port: 0 },
        logger,
      });
    } catch (error) {
      await base.close?.();
      throw error;
    }
  }
  try {
    services = await withGovernance(services, options, logger);
  } catch (error) {
    await services.close?.();
    throw error;
  }
  return {
    services,
    keyringApi: {
      ...(keyring === undefined || options.keyring === undefined
        ? {}
        : { store: new KeyringStore(keyring, resolve(options.keyring)) }),
      ...(token === undefined ? {} : { token }),
    },
  };
}

async function createServices(
  options: AgentServiceOptions,
  keyring: Keyring | undefined,
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
    ...(options.transport === undefined ? {} : { transport: options.transport }),
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.peerLostAfterMs === undefined ? {} : { peerLostAfterMs: options.peerLostAfterMs }),
    ...(options.membership === 'native'
      ? {
          nativeMembership: {
            ...(options.raftTickMs === undefined ? {} : { raftTickMs: options.raftTickMs }),
            ...(options.raftElectionTicks === undefined
              ? {}
              : { raftElectionTicks: options.raftElectionTicks }),
          },
        }
      : {}),
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

/**
 * Adds the audit trail (`audit.db` in --data-dir, else in memory) and
 * cluster-wide policies kept in the cluster configuration.
 */
async function withGovernance(
  services: NodeServices,
  options: AgentServiceOptions,
  logger: Logger,
): Promise<NodeServices> {
  if (!(services.governance instanceof CelAutoGovernance)) return services;
  let path = ':memory:';
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true });
    path = join(options.dataDir, 'audit.db');
  }
  const audit = AuditTrail.open(path, {
    onCompactionError: (error) => logger.error({ err: error }, 'audit trail compaction failed'),
  });
  const policies = new ReplicatedPolicies(services.clusterConfig, services.governance, logger);
  try {
    await policies.start();
  } catch (error) {
    audit.close();
    throw error;
  }
  return {
    ...services,
    governanceAdmin: policies,
    audit,
    close: async () => {
      policies.stop();
      try {
        await services.close?.();
      } finally {
        audit.close();
      }
    },
  };
}
