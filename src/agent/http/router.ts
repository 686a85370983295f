/**
 * A small router: method plus a path pattern with `:name` segments. Enough for
 * a versioned JSON API without a framework.
 */

import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { ApiError } from './api-error.js';
import { parseJsonBody, readBody } from './json-body.js';

/** What a handler sees of a request. */
export interface ApiRequest {
  /** The values of the pattern's `:name` segments, URL-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The query string. */
  readonly query: URLSearchParams;
  /** The request headers (names in lower case). */
  readonly headers: IncomingHttpHeaders;
  /** Reads the body as JSON and validates it against `schema` (unknown fields are refused). */
  json<T>(schema: z.ZodType<T>): Promise<T>;
}

/** What a handler answers: a status and a JSON body (none for 204). */
export interface ApiResponse {
  readonly status: number;
  readonly body?: unknown;
  /** Close the connection after answering (the request was not read to its end). */
  readonly closeConnection?: boolean;
}

/** Handles one route. */
export type Handler = (request: ApiRequest) => Promise<ApiResponse> | ApiResponse;

/** One route of the API. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly handler: Handler;
}

/** What a guard sees of a request before its route runs. */
export interface GuardedOperation {
  /** The HTTP method. */
  readonly method: Route['method'];
  /** The request path. */
  readonly path: string;
  /** The matched route's pattern, e.g. `/v1/governance/policies/:policyId`. */
  readonly route: string;
  /** The query string. */
  readonly query: URLSearchParams;
  /** The request headers (names in lower case). */
  readonly headers: IncomingHttpHeaders;
}

/** Runs before every matched route; throws (an {@link ApiError}) to refuse the request. */
export type Guard = (operation: GuardedOperation) => Promise<void>;

interface CompiledRoute extends Route {
  readonly segments: readonly string[];
}

/** Matches requests to routes. */
export class Router {
  readonly #routes: CompiledRoute[];
  readonly #guard: Guard | undefined;

  /**
   * @param routes - The routes.
   * @param guard - Runs before every matched route (the governance check).
   */
  constructor(routes: readonly Route[], guard?: Guard) {
    this.#routes = routes.map((route) => ({ ...route, segments: splitPath(route.path) }));
    this.#guard = guard;
  }

  /** Every route, for listing and documentation. */
  get routes(): readonly Route[] {
    return this.#routes;
  }

  /** Finds the route for a request and runs it. Throws {@link ApiError} for no route. */
  async dispatch(request: IncomingMessage): Promise<ApiResponse> {
    const url = parseTarget(request.url);
    const segments = splitPath(url.pathname);
    const matching = this.#routes
      .map((route) => ({ route, params: matchSegments(route.segments, segments) }))
      .filter((match) => match.params !== undefined);
    if (matching.length === 0) {
      throw new ApiError(404, 'NOT_FOUND', `no such resource: ${url.pathname}`);
    }
    const found = matching.find((match) => match.route.method === request.method);
    if (!found?.params) {
      const allowed = matching.map((match) => match.route.method).join(', ');
      throw new ApiError(
        405,
        'METHOD_NOT_ALLOWED',
        `${request.method ?? '?'} not allowed here; use ${allowed}`,
      );
    }
    await this.#guard?.({
      method: found.route.method,
      path: url.pathname,
      route: found.route.path,
      query: url.searchParams,
      headers: request.headers,
    });
    let body: Promise<Buffer> | undefined;
    const apiRequest: ApiRequest = {
      params: found.params,
      query: url.searchParams,
      headers: request.headers,
      json: async <T>(schema: z.ZodType<T>) => {
        body ??= readBody(request);
        return parseJsonBody(await body, request.headers['content-type'], schema);
      },
    };
    return found.route.handler(apiRequest);
  }
}

/**
 * Parses the request target. Only origin-form targets (`/path?query`) are served;
 * `//host/path` and absolute URLs would otherwise let a client name another host.
 */
function parseTarget(target: string | undefined): URL {
  if (target === undefined || !target.startsWith('/') || target.startsWith('//')) {
    throw new ApiError(400, 'INVALID_REQUEST', 'the request target must be a path starting with /');
  }
  try {
    return new URL(target, 'http://agent.invalid');
  } catch {
    throw new ApiError(400, 'INVALID_REQUEST', 'the request target is not a valid path');
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment.length > 0);
}

function matchSegments(
  pattern: readonly string[],
  actual: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
    const value = actual[index] ?? '';
    if (part.startsWith(':')) {
      try {
        params[part.slice(1)] = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    } else if (part !== value) {
      return undefined;
    }
  }
  return params;
}
