/**
 * Request body schemas. Every object is strict: an unknown field is a 400, so a
 * typo never silently does something else.
 */

import { z } from 'zod';
import { GOVERNANCE_ACTIONS, GOVERNANCE_POLICY_TYPES } from '../../contracts/auto-governance.js';
import { CONSISTENCY_LEVELS } from '../../contracts/consistency-level.js';
import { HEALTH_STATUSES } from '../../contracts/health.js';
import { SYNC_MODES } from '../../contracts/replication-sync.js';

const id = z.string().min(1).max(256);
const text = z.string().max(4096);
const count = z.number().int().nonnegative();
const percent = z.number().min(0).max(100);
const epochMs = z.number().int().nonnegative();
const labels = z.record(z.string().max(256), z.string().max(4096));

/** `POST /v1/load-balancer/select`. */
export const selectNodeBody = z.strictObject({
  requestKey: z.string().max(4096),
  nodeIds: z.array(id).max(10_000).exactOptional(),
  metadata: labels.exactOptional(),
});

/** `POST /v1/load-balancer/health-reports`. */
export const healthReportBody = z.strictObject({
  nodeId: id,
  report: z.strictObject({
    cpuUsage: percent,
    memoryUsage: percent,
    activeConnections: count,
    averageLatencyMs: z.number().nonnegative(),
    reportedAt: epochMs.exactOptional(),
    status: z.enum(HEALTH_STATUSES).exactOptional(),
  }),
});

/** `POST /v1/load-balancer/outcomes`: how a request routed to a node ended. */
export const requestOutcomeBody = z.strictObject({
  nodeId: id,
  latencyMs: z.number().nonnegative().max(86_400_000),
  success: z.boolean(),
});

const scalingMetrics = z.strictObject({
  cpuUsage: percent,
  memoryUsage: percent,
  storageUsage: percent,
  activeConnections: count,
  queueDepth: count,
  collectedAt: epochMs.exactOptional(),
});

/** `POST /v1/scaling/evaluate`. Node counts default to the current membership. */
export const scalingEvaluateBody = z.strictObject({
  metrics: scalingMetrics,
  minNodes: count.exactOptional(),
  maxNodes: count.exactOptional(),
});

/** `POST /v1/scaling/scale-out`. */
export const scaleOutBody = z.strictObject({
  requestedNodes: z.number().int().positive().max(1000),
  reason: text,
  proposalId: id.exactOptional(),
  nodes: z
    .array(
      z.strictObject({
        nodeId: id.exactOptional(),
        address: z.string().min(1).max(255),
        port: z.number().int().min(1).max(65_535),
        metadata: labels.exactOptional(),
      }),
    )
    .max(1000)
    .exactOptional(),
});

/** `POST /v1/scaling/scale-in`. */
export const scaleInBody = z.strictObject({
  nodeIds: z.array(id).min(1).max(1000),
  reason: text,
  drainTimeoutMs: count.exactOptional(),
});

/** `POST /v1/sync`. */
export const syncBody = z.strictObject({
  targetNodeId: id,
  mode: z.enum(SYNC_MODES),
  dataSetFilter: z.array(id).max(10_000).exactOptional(),
  sinceTimestamp: epochMs.exactOptional(),
  consistency: z.enum(CONSISTENCY_LEVELS).exactOptional(),
});

/** `POST /v1/tiers/placement`. */
export const placementBody = z.strictObject({
  dataKey: id,
  dataSizeBytes: count,
  accessCount: count,
  lastAccessedAt: epochMs,
  createdAt: epochMs,
  metadata: labels.exactOptional(),
});

/** `POST /v1/tiers/migrations`. */
export const migrationBody = z.strictObject({
  dataKey: id,
  sourceTier: id,
  targetTier: id,
  deleteFromSource: z.boolean(),
});

/** `POST /v1/governance/policies`. */
export const policyBody = z.strictObject({
  policyId: id,
  name: z.string().min(1).max(256),
  description: text,
  type: z.enum(GOVERNANCE_POLICY_TYPES),
  expression: z.string().max(16_384),
  action: z.enum(GOVERNANCE_ACTIONS),
  priority: z.number().int(),
  isEnabled: z.boolean(),
});

/** A resource's governance attributes (GovernanceResourceAttributes). */
const resourceAttributes = z.strictObject({
  path: text.exactOptional(),
  labels: z.array(id).max(256).exactOptional(),
  classification: id.exactOptional(),
  sizeBytes: z.number().int().min(0).exactOptional(),
  region: id.exactOptional(),
  createdAt: z.number().int().min(0).exactOptional(),
  lastAccessedAt: z.number().int().min(0).exactOptional(),
  retention: z
    .strictObject({
      state: id.exactOptional(),
      heldUntil: z.number().int().min(0).exactOptional(),
      legalHold: z.boolean().exactOptional(),
    })
    .exactOptional(),
});

/** `POST /v1/governance/evaluate`. */
export const governanceContextBody = z.strictObject({
  operationType: id,
  resourceId: z.string().min(1).max(4096),
  userId: id.exactOptional(),
  metadata: labels.exactOptional(),
  resource: resourceAttributes.exactOptional(),
  user: z
    .strictObject({
      roles: z.array(id).max(256).exactOptional(),
      attributes: labels.exactOptional(),
      region: id.exactOptional(),
    })
    .exactOptional(),
});

// Base64 of at most 1 MiB of bytes (the network's default message limit; the body limit is 1 MiB too).
const base64Bytes = z.base64().max(Math.ceil((1024 * 1024) / 3) * 4);

/** `POST /v1/peers/broadcast` and `POST /v1/peers/{peerId}/request`: bytes as base64. */
export const peerDataBody = z.strictObject({ data: base64Bytes });

/** `POST /v1/gossip`: the payload as base64. */
export const gossipBody = z.strictObject({ payload: base64Bytes });

/** `POST /v1/keyring/keys`: a key id and, optionally, the key as base64 (absent: the agent generates one). */
export const keyringInstallBody = z.strictObject({
  keyId: z.string().max(256),
  key: z.string().max(1024).exactOptional(),
});

/** `POST /v1/keyring/primary`. */
export const keyringPrimaryBody = z.strictObject({ keyId: z.string().max(256) });

/** `POST /v1/governance/residency`: may this resource be stored on this node? */
export const residencyBody = z.strictObject({
  resource: resourceAttributes.extend({ resourceId: z.string().min(1).max(4096) }),
  node: z.strictObject({
    nodeId: id,
    region: id,
    labels: labels.exactOptional(),
  }),
  operation: z.enum(['place', 'replicate']).exactOptional(),
  userId: id.exactOptional(),
});

/** `POST /v1/governance/classify`: content as text or base64 (at most 1 MiB either way). */
export const classifyBody = z
  .strictObject({
    text: z
      .string()
      .max(1024 * 1024)
      .exactOptional(),
    base64: base64Bytes.exactOptional(),
  })
  .refine(
    (body) => (body.text === undefined) !== (body.base64 === undefined),
    'give text or base64',
  );
