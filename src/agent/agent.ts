/**
 * The `dw` node: the seven contracts assembled, served over the HTTP API, and
 * stopped gracefully.
 */

import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { createApiServer } from './http/server.js';
import type { KeyringApiOptions } from './http/routes/keyring.js';
import type { ScalingBounds } from './http/routes/scaling.js';
import type { NodeServices } from './services.js';

/** Where the HTTP API listens. */
export interface ListenAddress {
  readonly host: string;
  /** The port; `0` picks a free one (the log and {@link RunningAgent.url} say which). */
  readonly port: number;
}

/** The default HTTP bind address: loopback only, so nothing is exposed by accident. */
export const DEFAULT_HTTP_ADDRESS: ListenAddress = { host: '127.0.0.1', port: 7700 };

/** How long a graceful stop waits for open requests before closing connections. */
export const SHUTDOWN_GRACE_MS = 5000;

/** What starting an agent needs. */
export interface AgentOptions {
  readonly services: NodeServices;
  readonly http: ListenAddress;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Cluster-size bounds for scaling decisions. */
  readonly scalingBounds?: ScalingBounds;
  /** The keyring routes' keyring and API token; without it they answer `NO_KEYRING`. */
  readonly keyring?: KeyringApiOptions;
}

/** A started agent. */
export interface RunningAgent {
  /** The API's base URL, for example `http://127.0.0.1:7700`. */
  readonly url: string;
  /** Stops serving, leaves the cluster, and resolves when everything is closed. */
  stop(reason: string): Promise<void>;
}

/** Starts the HTTP API over `services`. */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { services, logger } = options;
  const server = createApiServer({
    services,
    logger,
    now: options.now ?? Date.now,
    ...(options.scalingBounds === undefined ? {} : { scalingBounds: options.scalingBounds }),
    ...(options.keyring === undefined ? {} : { keyring: options.keyring }),
  });
  server.listen(options.http.port, options.http.host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const url = `http://${formatAddress({ host: address.address, port: address.port })}`;
  const self = services.membership.getSelf();
  const details = services.networkDetails;
  logger.info(
    {
      url,
      nodeId: self.nodeId,
      mode: services.mode,
      ...(details === undefined
        ? {}
        : {
            clusterAddress: formatAddress(details.listenAddress),
            membership: details.membership,
            encryption: details.encryption,
          }),
    },
    'agent listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ reason }, 'agent stopping');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await services.membership.leave(reason);
      await closed;
      clearTimeout(grace);
      // After the API: the network says goodbye to its peers, then the runtime is released.
      await services.close?.();
      logger.info({ reason }, 'agent stopped');
    })();
    return stopping;
  };
  return { url, stop };
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatAddress(address: ListenAddress): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}
