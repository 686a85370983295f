/** The cluster configuration: read, list, put, compare-and-set, delete. */

import { z } from 'zod';
import type { ClusterConfigStore, ConfigExpectation } from '../../../contracts/cluster-config.js';
import { ApiError } from '../api-error.js';
import type { ApiRequest, Route } from '../router.js';

const putBody = z.strictObject({ key: z.string().min(1), value: z.string() });

const casBody = z
  .strictObject({
    key: z.string().min(1),
    value: z.string(),
    expectedRevision: z.number().int().min(0).optional(),
    expectedValue: z.string().nullable().optional(),
  })
  .refine(
    (body) => (body.expectedRevision === undefined) !== (body.expectedValue === undefined),
    'give exactly one of expectedRevision (0 = absent) or expectedValue (null = absent)',
  );

function requiredKey(request: ApiRequest): string {
  const key = request.query.get('key');
  if (key === null || key === '') {
    throw new ApiError(400, 'INVALID_REQUEST', 'the key query parameter is required');
  }
  return key;
}

/**
 * Routes under `/v1/config`. `GET /v1/config?key=k` reads one key (404 when
 * absent), `GET /v1/config?prefix=p` lists; `PUT /v1/config` writes;
 * `POST /v1/config/cas` compares and sets (200 with `succeeded: false` and
 * what was found when the expectation fails); `DELETE /v1/config?key=k`.
 */
export function clusterConfigRoutes(config: ClusterConfigStore): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/config',
      handler: async (request) => {
        const key = request.query.get('key');
        if (key !== null) {
          const entry = await config.get(key);
          if (entry === undefined) {
            throw new ApiError(404, 'NOT_FOUND', `no configuration key '${key}'`);
          }
          return { status: 200, body: { entry } };
        }
        return {
          status: 200,
          body: { entries: await config.list(request.query.get('prefix') ?? '') },
        };
      },
    },
    {
      method: 'PUT',
      path: '/v1/config',
      handler: async (request) => {
        const body = await request.json(putBody);
        return { status: 200, body: { entry: await config.put(body.key, body.value) } };
      },
    },
    {
      method: 'POST',
      path: '/v1/config/cas',
      handler: async (request) => {
        const body = await request.json(casBody);
        const expected: ConfigExpectation =
          body.expectedRevision === undefined
            ? { value: body.expectedValue ?? undefined }
            : { revision: body.expectedRevision };
        return { status: 200, body: await config.compareAndSet(body.key, expected, body.value) };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/config',
      handler: async (request) => ({
        status: 200,
        body: { deleted: await config.delete(requiredKey(request)) },
      }),
    },
  ];
}
