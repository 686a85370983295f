import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedServices } from '../../src/agent/embedded-services.js';
import { createApiServer } from '../../src/agent/http/server.js';

// The API's request decoder (body reading, JSON parsing, schema validation) is the
// agent's one decoder of network input: it must refuse anything malformed with a
// 4xx and a stable code, never fail with 500, and never change state on refusal.

const server = createApiServer({
  services: createEmbeddedServices({ nodeId: 'fuzz-node' }),
  logger: pino({ level: 'silent' }),
  now: Date.now,
});
let base = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const postRoutes = [
  '/v1/load-balancer/select',
  '/v1/load-balancer/health-reports',
  '/v1/scaling/evaluate',
  '/v1/scaling/scale-out',
  '/v1/scaling/scale-in',
  '/v1/sync',
  '/v1/tiers/placement',
  '/v1/tiers/migrations',
  '/v1/governance/policies',
  '/v1/governance/evaluate',
  '/v1/peers/broadcast',
  '/v1/peers/fuzz-node/request',
  '/v1/gossip',
  '/v1/load-balancer/outcomes',
];

async function post(path: string, body: string): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

async function snapshot(): Promise<string> {
  const parts = await Promise.all(
    [
      '/v1/governance/policies',
      '/v1/tiers',
      '/v1/scaling/state',
      '/v1/members',
      '/v1/gossip/received',
    ].map(async (path) => (await fetch(`${base}${path}`)).text()),
  );
  return parts.join('\n');
}

// Bodies that are JSON of any shape, near-misses of real requests, and raw text.
const body = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .record({
      policyId: fc.oneof(fc.string(), fc.integer()),
      priority: fc.oneof(fc.integer(), fc.string(), fc.double()),
      metrics: fc.object(),
      requestKey: fc.oneof(fc.string(), fc.constant(null)),
      targetNodeId: fc.string(),
      mode: fc.string(),
    })
    .map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 200 }),
);

describe('HTTP API decoder fuzzing', () => {
  for (const path of postRoutes) {
    it(`POST ${path}: arbitrary bodies get a non-500 answer and refusals change nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(body, async (raw) => {
          const before = await snapshot();
          const answer = await post(path, raw);
          // 501 (no actuator, no sync) and 503 (no healthy node) are honest answers; 500 is a bug.
          expect(answer.status).not.toBe(500);
          if (answer.status >= 400) {
            expect(typeof answer.json.error.code).toBe('string');
            expect(answer.json.error.code).not.toBe('INTERNAL');
            if (answer.status === 400) expect(await snapshot()).toBe(before);
          }
        }),
        { numRuns: 60 },
      );
    });
  }
});
