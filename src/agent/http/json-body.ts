/**
 * Reading and validating JSON request bodies. A body that is too large, not
 * JSON, of the wrong shape, or with unknown fields is refused before any
 * handler runs, so bad input never changes state.
 */

import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { ApiError } from './api-error.js';

/** The largest request body the API accepts: 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads the whole body, refusing more than {@link MAX_BODY_BYTES}. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses `raw` as JSON and validates it against `schema`. */
export function parseJsonBody<T>(
  raw: Buffer,
  contentType: string | undefined,
  schema: z.ZodType<T>,
): T {
  if (contentType !== undefined && !/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/json');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ApiError(400, 'MALFORMED_JSON', `the request body is not valid JSON: ${detail}`);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new ApiError(400, 'INVALID_REQUEST', z.prettifyError(result.error).replace(/\n/g, '; '));
  }
  return result.data;
}

function tooLarge(): ApiError {
  return new ApiError(
    413,
    'PAYLOAD_TOO_LARGE',
    `request bodies are limited to ${MAX_BODY_BYTES} bytes`,
  );
}
