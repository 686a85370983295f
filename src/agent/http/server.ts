/**
 * The agent's HTTP JSON API server: routes requests, answers errors as
 * `{ "error": { "code", "message" } }`, and logs every request.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { PeerActivity } from '../peer-activity.js';
import type { NodeServices } from '../services.js';
import { toApiError } from './api-error.js';
import { operationGuard } from '../operation-guard.js';
import { auditRoutes } from './routes/audit.js';
import { clusterConfigRoutes } from './routes/cluster-config.js';
import { clusterRoutes } from './routes/cluster.js';
import { governanceRoutes } from './routes/governance.js';
import { isLoopbackListener, keyringRoutes, type KeyringApiOptions } from './routes/keyring.js';
import { loadBalancerRoutes } from './routes/load-balancer.js';
import { peerRoutes } from './routes/peers.js';
import { DEFAULT_SCALING_BOUNDS, scalingRoutes, type ScalingBounds } from './routes/scaling.js';
import { syncRoutes } from './routes/sync.js';
import { tierRoutes } from './routes/tiers.js';
import { Router, type ApiResponse } from './router.js';

/** What the API server needs. */
export interface ApiServerOptions {
  readonly services: NodeServices;
  readonly logger: Logger;
  /** The wall clock, in epoch milliseconds. */
  readonly now: () => number;
  /** Cluster-size bounds for scaling decisions; defaults to {@link DEFAULT_SCALING_BOUNDS}. */
  readonly scalingBounds?: ScalingBounds;
  /** The keyring routes' keyring and API token; without it they answer `NO_KEYRING`. */
  readonly keyring?: KeyringApiOptions;
}

/**
 * Every route of the `/v1` API; `activity` holds what the peer routes show as received,
 * `listenerIsLoopback` tells the keyring routes whether they may be served without a token.
 */
export function apiRouter(
  services: NodeServices,
  now: () => number,
  activity: PeerActivity,
  scalingBounds: ScalingBounds = DEFAULT_SCALING_BOUNDS,
  keyring: KeyringApiOptions = {},
  listenerIsLoopback: () => boolean = () => false,
): Router {
  return new Router(
    [
      ...clusterRoutes(services, now),
      ...clusterConfigRoutes(services.clusterConfig),
      ...loadBalancerRoutes(services, now),
      ...peerRoutes(services, activity, now),
      ...scalingRoutes(services, scalingBounds),
      ...syncRoutes(services),
      ...tierRoutes(services),
      ...governanceRoutes(services),
      ...keyringRoutes(keyring, listenerIsLoopback, now),
      ...auditRoutes(services.audit),
    ],
    operationGuard(services.governance, services.audit, services.governanceAdmin),
  );
}

/**
 * Creates the HTTP server; the caller listens and closes. It records what the
 * network delivers (see {@link PeerActivity}) until the server closes.
 */
export function createApiServer(options: ApiServerOptions): Server {
  const { logger, now } = options;
  const activity = new PeerActivity(options.services.network, options.services.gossip, { now });
  const router = apiRouter(
    options.services,
    now,
    activity,
    options.scalingBounds,
    options.keyring,
    () => isLoopbackListener(server.address()),
  );
  const server = createServer((request, response) => {
    const startedAt = now();
    void handle(router, request, logger).then((answer) => {
      send(response, answer);
      logger.info(
        {
          method: request.method,
          path: request.url,
          status: answer.status,
          durationMs: now() - startedAt,
        },
        'request',
      );
    });
  });
  server.once('close', () => activity.close());
  return server;
}

async function handle(
  router: Router,
  request: IncomingMessage,
  logger: Logger,
): Promise<ApiResponse> {
  try {
    return await router.dispatch(request);
  } catch (error) {
    const apiError = toApiError(error);
    if (apiError.status >= 500 && apiError.code === 'INTERNAL') {
      logger.error({ err: error, method: request.method, path: request.url }, 'request failed');
    }
    const body = { error: { code: apiError.code, message: apiError.message } };
    if (apiError.status === 413) {
      // Reading the rest of an oversized body would cost what the limit exists to prevent.
      return { status: 413, body, closeConnection: true };
    }
    // Drain what the client is still sending (bounded by MAX_BODY_BYTES), so the connection stays usable.
    request.resume();
    return { status: apiError.status, body };
  }
}

function send(response: ServerResponse, answer: ApiResponse): void {
  if (answer.body === undefined) {
    response.writeHead(answer.status).end();
    return;
  }
  const json = JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
    ...(answer.closeConnection === true ? { connection: 'close' } : {}),
  });
  response.end(json, () => {
    if (answer.closeConnection === true) response.socket?.destroy();
  });
}
