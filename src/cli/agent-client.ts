/**
 * A small client for a running agent's HTTP API, for `dw … --agent <url>`.
 * Usage problems (a bad URL, an unreadable token file) are {@link UsageError}s
 * (exit 2); anything the agent refuses or a failed connection is an
 * {@link AgentRequestError} (exit 1).
 */

import { readApiToken } from './api-token.js';
import { UsageError } from './usage-error.js';

/** How long one request to the agent may take. */
export const AGENT_REQUEST_TIMEOUT_MS = 10_000;

/** The agent refused a request, or could not be reached (exit 1). */
export class AgentRequestError extends Error {
  /** The HTTP status, or `undefined` when there was no answer. */
  readonly status: number | undefined;
  /** The API's error code (such as `KEY_IS_PRIMARY`), when it answered with one. */
  readonly code: string | undefined;

  constructor(message: string, status?: number, code?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AgentRequestError';
    this.status = status;
    this.code = code;
  }
}

/** Calls one agent. */
export interface AgentClient {
  /** Sends a request; resolves with the JSON body (`undefined` for 204). */
  call(method: string, path: string, body?: unknown): Promise<unknown>;
}

/**
 * Parses `--agent` and reads `--api-token-file`.
 *
 * @throws UsageError for a URL that is not `http(s)://host[:port]` or an unreadable token file.
 */
export async function agentClient(agent: string, apiTokenFile?: string): Promise<AgentClient> {
  let base: URL;
  try {
    base = new URL(agent);
  } catch {
    throw new UsageError(`--agent must be a URL such as http://127.0.0.1:7700, got '${agent}'`);
  }
  if ((base.protocol !== 'http:' && base.protocol !== 'https:') || base.search !== '') {
    throw new UsageError(`--agent must be an http:// or https:// URL, got '${agent}'`);
  }
  const token = apiTokenFile === undefined ? undefined : await readApiToken(apiTokenFile);
  const root = base.href.replace(/\/+$/, '');
  return {
    call: async (method, path, body) => {
      const headers: Record<string, string> = {};
      if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetch(`${root}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(AGENT_REQUEST_TIMEOUT_MS),
        });
      } catch (error) {
        const reason = error instanceof Error && error.cause instanceof Error ? error.cause : error;
        throw new AgentRequestError(
          `could not reach the agent at ${root}: ${reason instanceof Error ? reason.message : String(reason)}`,
          undefined,
          undefined,
          error,
        );
      }
      const text = await response.text();
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        throw new AgentRequestError(
          `the agent at ${root} answered ${response.status} with a body that is not JSON`,
          response.status,
        );
      }
      if (!response.ok) {
        const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)
          ?.error;
        const code = typeof error?.code === 'string' ? error.code : undefined;
        const message = typeof error?.message === 'string' ? error.message : text;
        throw new AgentRequestError(
          `the agent refused (${response.status}${code === undefined ? '' : ` ${code}`}): ${message}`,
          response.status,
          code,
        );
      }
      return json;
    },
  };
}
