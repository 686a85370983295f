/**
 * The workload of `npm run bench -- governance`: a realistic mix of access, residency,
 * classification, retention and compliance rules over generated tenants, users and
 * resources, each rule written four ways (CEL, Cedar, casbin ABAC, a plain JavaScript
 * closure) with the same meaning, and a stream of generated requests.
 *
 * Rule meaning shared by all four: every deciding rule is a deny (a Cedar `forbid`, a
 * casbin `deny` row) at priority 10 whose exceptions are written into its own condition
 * (`… && !("admin" in user.roles)`); obligations (`encrypt`, `audit`, `notify`) are
 * priority-5 rules that never decide (Cedar `permit`s, casbin `allow` rows); one catch-all
 * allow at priority 0 (Cedar `permit(principal, action, resource)`). So in every engine an
 * operation is denied exactly when some deny rule holds. The requests carry every
 * attribute the rules read, so no engine meets an evaluation error (engines differ on
 * errors: CEL here fails closed, Cedar skips an erroring policy).
 */

import type { GovernanceAction, GovernanceContext } from '../src/contracts/auto-governance.js';

/** One rule in the four languages. */
export interface WorkloadRule {
  readonly id: string;
  readonly action: GovernanceAction;
  readonly priority: number;
  readonly cel: string;
  readonly cedar: string;
  readonly casbin: string;
  readonly closure: (request: FlatRequest) => boolean;
}

/** A request in the flat form the closures read. */
export interface FlatRequest {
  readonly operation: string;
  readonly path: string;
  readonly labels: readonly string[];
  readonly classification: string;
  readonly sizeBytes: number;
  readonly region: string;
  readonly createdAt: number;
  readonly heldUntil: number;
  readonly legalHold: boolean;
  readonly userId: string;
  readonly roles: readonly string[];
  readonly tenant: string;
  readonly userRegion: string;
  readonly targetRegion: string;
  readonly now: number;
}

/** One request in every engine's input form. */
export interface WorkloadRequest {
  readonly flat: FlatRequest;
  readonly context: GovernanceContext;
  readonly cedar: CedarCall;
  readonly casbin: readonly [
    Record<string, unknown>,
    Record<string, unknown>,
    string,
    Record<string, unknown>,
  ];
}

/** The call object of Cedar's stateful API (typed loosely to keep the bench self-contained). */
export interface CedarCall {
  readonly principal: { type: string; id: string };
  readonly action: { type: string; id: string };
  readonly resource: { type: string; id: string };
  readonly context: Record<string, unknown>;
  readonly preparsedPolicySetId: string;
  readonly validateRequest: boolean;
  readonly entities: unknown[];
}

/** A small seeded PRNG (mulberry32), so every run sees the same workload. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const NOW = Date.UTC(2025, 6, 1);
const HOUR = 3_600_000;
const REGIONS = ['eu-west', 'eu-central', 'us-east', 'ap-south'] as const;
const ROLES = ['admin', 'pii-reader', 'support', 'bulk', 'analyst', 'auditor'] as const;
const OPERATIONS = [
  ['read', 0.5],
  ['write', 0.2],
  ['delete', 0.15],
  ['replicate', 0.1],
  ['list', 0.05],
] as const;
const RULE_KINDS = 7;

/** How many tenants a rule set of `count` rules spreads over: about seven rules each. */
export function tenantsFor(count: number): number {
  return Math.max(1, Math.ceil(count / RULE_KINDS));
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/**
 * `count` rules (the last one the catch-all allow).
 *
 * @param count - How many rules, at least 2.
 */
export function generateRules(count: number): WorkloadRule[] {
  const tenants = tenantsFor(count - 1);
  const rules: WorkloadRule[] = [];
  // Two global rules, then tenant-scoped rules of seven kinds, then the catch-all allow.
  const globals: WorkloadRule[] = [
    {
      id: 'g-size',
      action: 'deny',
      priority: 10,
      cel: 'operation == "write" && resource.sizeBytes > 900000000 && !("bulk" in user.roles)',
      cedar:
        'forbid(principal, action == Action::"write", resource) when { resource.sizeBytes > 900000000 && !principal.roles.contains("bulk") };',
      casbin: "r.act == 'write' && r.obj.sizeBytes > 900000000 && !r.sub.roles.includes('bulk')",
      closure: (r) =>
        r.operation === 'write' && r.sizeBytes > 900_000_000 && !r.roles.includes('bulk'),
    },
    {
      id: 'g-restricted',
      action: 'deny',
      priority: 10,
      cel: 'resource.classification == "restricted" && !("auditor" in user.roles) && user.region != resource.region',
      cedar:
        'forbid(principal, action, resource) when { resource.classification == "restricted" && !principal.roles.contains("auditor") && principal.region != resource.region };',
      casbin:
        "r.obj.classification == 'restricted' && !r.sub.roles.includes('auditor') && r.sub.region != r.obj.region",
      closure: (r) =>
        r.classification === 'restricted' &&
        !r.roles.includes('auditor') &&
        r.userRegion !== r.region,
    },
  ];
  for (const rule of globals) if (rules.length < count - 1) rules.push(rule);
  for (let k = 0; rules.length < count - 1; k += 1) {
    const t = Math.floor(k / RULE_KINDS) % tenants;
    const prefix = `/tenants/t${t}/`;
    const region = REGIONS[t % REGIONS.length] as string;
    const label = `pii-${t % 10}`;
    const id = `r${k}`;
    switch (k % RULE_KINDS) {
      case 0: // access: only admins delete
        rules.push({
          id,
          action: 'deny',
          priority: 10,
          cel: `operation == "delete" && resource.path.startsWith("${prefix}") && !("admin" in user.roles)`,
          cedar: `forbid(principal, action == Action::"delete", resource) when { resource.path like "${prefix}*" && !principal.roles.contains("admin") };`,
          casbin: `r.act == 'delete' && r.obj.path.startsWith('${prefix}') && !r.sub.roles.includes('admin')`,
          closure: (r) =>
            r.operation === 'delete' && r.path.startsWith(prefix) && !r.roles.includes('admin'),
        });
        break;
      case 1: // residency: the tenant's data stays in its region
        rules.push({
          id,
          action: 'deny',
          priority: 10,
          cel: `operation in ["write", "replicate"] && resource.path.startsWith("${prefix}") && request.targetRegion != "${region}"`,
          cedar: `forbid(principal, action in [Action::"write", Action::"replicate"], resource) when { resource.path like "${prefix}*" && context.targetRegion != "${region}" };`,
          casbin: `(r.act == 'write' || r.act == 'replicate') && r.obj.path.startsWith('${prefix}') && r.env.targetRegion != '${region}'`,
          closure: (r) =>
            (r.operation === 'write' || r.operation === 'replicate') &&
            r.path.startsWith(prefix) &&
            r.targetRegion !== region,
        });
        break;
      case 2: // classification: PII is read by PII readers only
        rules.push({
          id,
          action: 'deny',
          priority: 10,
          cel: `operation == "read" && resource.path.startsWith("${prefix}") && "${label}" in resource.labels && !("pii-reader" in user.roles)`,
          cedar: `forbid(principal, action == Action::"read", resource) when { resource.path like "${prefix}*" && resource.labels.contains("${label}") && !principal.roles.contains("pii-reader") };`,
          casbin: `r.act == 'read' && r.obj.path.startsWith('${prefix}') && r.obj.labels.includes('${label}') && !r.sub.roles.includes('pii-reader')`,
          closure: (r) =>
            r.operation === 'read' &&
            r.path.startsWith(prefix) &&
            r.labels.includes(label) &&
            !r.roles.includes('pii-reader'),
        });
        break;
      case 3: // access: no cross-tenant access except support
        rules.push({
          id,
          action: 'deny',
          priority: 10,
          cel: `resource.path.startsWith("${prefix}") && user.attributes.tenant != "t${t}" && !("support" in user.roles)`,
          cedar: `forbid(principal, action, resource) when { resource.path like "${prefix}*" && principal.attributes.tenant != "t${t}" && !principal.roles.contains("support") };`,
          casbin: `r.obj.path.startsWith('${prefix}') && r.sub.attributes.tenant != 't${t}' && !r.sub.roles.includes('support')`,
          closure: (r) =>
            r.path.startsWith(prefix) && r.tenant !== `t${t}` && !r.roles.includes('support'),
        });
        break;
      case 4: // retention: held data is not deleted
        rules.push({
          id,
          action: 'deny',
          priority: 10,
          cel: `operation == "delete" && resource.path.startsWith("${prefix}") && (resource.retention.legalHold || resource.retention.heldUntil > now)`,
          cedar: `forbid(principal, action == Action::"delete", resource) when { resource.path like "${prefix}*" && (resource.legalHold || resource.heldUntilMs > context.nowMs) };`,
          casbin: `r.act == 'delete' && r.obj.path.startsWith('${prefix}') && (r.obj.legalHold || r.obj.heldUntil > r.env.now)`,
          closure: (r) =>
            r.operation === 'delete' &&
            r.path.startsWith(prefix) &&
            (r.legalHold || r.heldUntil > r.now),
        });
        break;
      case 5: // compliance: confidential data must be encrypted
        rules.push({
          id,
          action: 'encrypt',
          priority: 5,
          cel: `resource.path.startsWith("${prefix}") && resource.classification == "confidential"`,
          cedar: `permit(principal, action, resource) when { resource.path like "${prefix}*" && resource.classification == "confidential" };`,
          casbin: `r.obj.path.startsWith('${prefix}') && r.obj.classification == 'confidential'`,
          closure: (r) => r.path.startsWith(prefix) && r.classification === 'confidential',
        });
        break;
      default: // retention: stale data read is audited
        rules.push({
          id,
          action: 'audit',
          priority: 5,
          cel: `operation == "read" && resource.path.startsWith("${prefix}") && now - resource.createdAt > duration("${(t % 5) + 1}000h")`,
          cedar: `permit(principal, action == Action::"read", resource) when { resource.path like "${prefix}*" && context.nowMs - resource.createdAtMs > ${((t % 5) + 1) * 1000 * HOUR} };`,
          casbin: `r.act == 'read' && r.obj.path.startsWith('${prefix}') && r.env.now - r.obj.createdAt > ${((t % 5) + 1) * 1000 * HOUR}`,
          closure: (r) =>
            r.operation === 'read' &&
            r.path.startsWith(prefix) &&
            r.now - r.createdAt > ((t % 5) + 1) * 1000 * HOUR,
        });
    }
  }
  rules.push({
    id: 'catch-all',
    action: 'allow',
    priority: 0,
    cel: 'true',
    cedar: 'permit(principal, action, resource);',
    casbin: 'true',
    closure: () => true,
  });
  return rules;
}

/**
 * `count` requests over the tenants of a rule set of `ruleCount` rules.
 *
 * @param count - How many requests.
 * @param ruleCount - The rule set's size (sets the number of tenants).
 * @param seed - The PRNG seed.
 * @param policySetId - The Cedar preparsed policy set id.
 */
export function generateRequests(
  count: number,
  ruleCount: number,
  seed: number,
  policySetId: string,
): WorkloadRequest[] {
  const random = seededRandom(seed);
  const tenants = tenantsFor(ruleCount - 1);
  const requests: WorkloadRequest[] = [];
  for (let i = 0; i < count; i += 1) {
    const t = Math.floor(random() * tenants);
    // Mostly users of the resource's own tenant, sometimes another one.
    const userTenant = random() < 0.85 ? t : Math.floor(random() * tenants);
    let roll = random();
    let operation = 'read';
    for (const [name, share] of OPERATIONS) {
      if (roll < share) {
        operation = name;
        break;
      }
      roll -= share;
    }
    const roles = ROLES.filter(() => random() < 0.2);
    const labels = Array.from(
      { length: Math.floor(random() * 3) },
      () => `pii-${Math.floor(random() * 10)}`,
    );
    if (random() < 0.5) labels.push('contains:email');
    const flat: FlatRequest = {
      operation,
      path: `/tenants/t${t}/data/object-${i}.parquet`,
      labels,
      classification: pick(random, ['public', 'internal', 'confidential', 'restricted']),
      sizeBytes: Math.floor(random() * 1_000_000_000),
      region: pick(random, REGIONS),
      createdAt: NOW - Math.floor(random() * 6000) * HOUR,
      heldUntil: NOW + Math.floor((random() - 0.7) * 10_000) * HOUR,
      legalHold: random() < 0.05,
      userId: `user-${Math.floor(random() * 10_000)}`,
      roles,
      tenant: `t${userTenant}`,
      userRegion: pick(random, REGIONS),
      targetRegion: pick(random, REGIONS),
      now: NOW,
    };
    const resourceId = `object-${i}`;
    requests.push({
      flat,
      context: {
        operationType: operation,
        resourceId,
        userId: flat.userId,
        metadata: { targetRegion: flat.targetRegion },
        resource: {
          path: flat.path,
          labels: flat.labels,
          classification: flat.classification,
          sizeBytes: flat.sizeBytes,
          region: flat.region,
          createdAt: flat.createdAt,
          retention: { heldUntil: flat.heldUntil, legalHold: flat.legalHold },
        },
        user: { roles: flat.roles, attributes: { tenant: flat.tenant }, region: flat.userRegion },
      },
      cedar: {
        principal: { type: 'User', id: flat.userId },
        action: { type: 'Action', id: operation },
        resource: { type: 'Resource', id: resourceId },
        context: { targetRegion: flat.targetRegion, nowMs: NOW },
        preparsedPolicySetId: policySetId,
        validateRequest: false,
        entities: [
          {
            uid: { type: 'User', id: flat.userId },
            attrs: {
              roles: [...flat.roles],
              attributes: { tenant: flat.tenant },
              region: flat.userRegion,
            },
            parents: [],
          },
          {
            uid: { type: 'Resource', id: resourceId },
            attrs: {
              path: flat.path,
              labels: [...flat.labels],
              classification: flat.classification,
              sizeBytes: flat.sizeBytes,
              region: flat.region,
              createdAtMs: flat.createdAt,
              heldUntilMs: flat.heldUntil,
              legalHold: flat.legalHold,
            },
            parents: [],
          },
        ],
      },
      casbin: [
        {
          id: flat.userId,
          roles: flat.roles,
          attributes: { tenant: flat.tenant },
          region: flat.userRegion,
        },
        {
          id: resourceId,
          path: flat.path,
          labels: flat.labels,
          classification: flat.classification,
          sizeBytes: flat.sizeBytes,
          region: flat.region,
          createdAt: flat.createdAt,
          heldUntil: flat.heldUntil,
          legalHold: flat.legalHold,
        },
        operation,
        { targetRegion: flat.targetRegion, now: NOW },
      ],
    });
  }
  return requests;
}
