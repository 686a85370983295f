/**
 * The variables a CEL governance policy sees, their static types, and how a
 * {@link GovernanceContext} becomes the values bound to them.
 *
 * | variable    | CEL type             | from the context |
 * | ----------- | -------------------- | ---------------- |
 * | `operation` | `string`             | `operationType` |
 * | `resource`  | object (below)       | `resourceId` and `resource` |
 * | `user`      | object (below)       | `userId` and `user` |
 * | `request`   | `map(string, string)` | `metadata` |
 * | `now`       | `google.protobuf.Timestamp` | the runtime clock (`now()` option) at evaluation |
 *
 * `resource` has `id` (string), `path` (string), `labels` (list of string),
 * `classification` (string), `sizeBytes` (int), `region` (string), `createdAt` and
 * `lastAccessedAt` (timestamps) and `retention` with `state` (string), `heldUntil`
 * (timestamp) and `legalHold` (bool). `user` has `id` (string), `roles` (list of string),
 * `attributes` (map of string to string) and `region` (string).
 *
 * Absent attributes have no default: reading one (`resource.region` when the caller gave no
 * region, `user.id` for an anonymous operation, `request.tenant` when the metadata has no
 * `tenant`) is an evaluation error, so the policy fails closed. A default could turn a
 * deny into an allow (`resource.region == "us"` with a default `""`), so none is invented;
 * a policy that wants to be lenient tests presence with `has(resource.region)` or
 * `"tenant" in request`. `resource.id`, `operation`, `request` and `now` are always present.
 *
 * @packageDocumentation
 */

import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { CelInput } from '@bufbuild/cel';
import type {
  GovernanceContext,
  GovernanceResourceAttributes,
  GovernanceUserAttributes,
} from '../../contracts/auto-governance.js';
import { DistributedError } from '../../contracts/errors.js';

/**
 * The static type of a list.
 *
 * @since 2.0.0
 */
export interface ListStaticType {
  /** Always `list`. */
  readonly kind: 'list';
  /** The type of its items. */
  readonly element: StaticType;
}

/**
 * The static type of a map with string keys.
 *
 * @since 2.0.0
 */
export interface MapStaticType {
  /** Always `map`. */
  readonly kind: 'map';
  /** The type of its values. */
  readonly value: StaticType;
}

/**
 * The static type of one of the schema's objects (`resource`, `user`, …): a CEL map whose
 * keys the checker knows.
 *
 * @since 2.0.0
 */
export interface ObjectStaticType {
  /** Always `object`. */
  readonly kind: 'object';
  /** Its name in messages, for example `resource.retention`. */
  readonly name: string;
  /** Its fields and their types. */
  readonly fields: Readonly<Record<string, StaticType>>;
}

/**
 * A static type, as far as the checker and the compiler track types.
 *
 * @since 2.0.0
 */
export type StaticType =
  | 'bool'
  | 'int'
  | 'uint'
  | 'double'
  | 'string'
  | 'bytes'
  | 'null'
  | 'timestamp'
  | 'duration'
  | 'type'
  | 'dyn'
  | ListStaticType
  | MapStaticType
  | ObjectStaticType;

const stringList: StaticType = Object.freeze({ kind: 'list', element: 'string' });
const stringMap: StaticType = Object.freeze({ kind: 'map', value: 'string' });

/**
 * The static type of `resource.retention`.
 *
 * @since 2.0.0
 */
export const RETENTION_TYPE: StaticType = Object.freeze({
  kind: 'object',
  name: 'resource.retention',
  fields: Object.freeze({ state: 'string', heldUntil: 'timestamp', legalHold: 'bool' }),
});

/**
 * The static type of `resource`.
 *
 * @since 2.0.0
 */
export const RESOURCE_TYPE: StaticType = Object.freeze({
  kind: 'object',
  name: 'resource',
  fields: Object.freeze({
    id: 'string',
    path: 'string',
    labels: stringList,
    classification: 'string',
    sizeBytes: 'int',
    region: 'string',
    createdAt: 'timestamp',
    lastAccessedAt: 'timestamp',
    retention: RETENTION_TYPE,
  }),
});

/**
 * The static type of `user`.
 *
 * @since 2.0.0
 */
export const USER_TYPE: StaticType = Object.freeze({
  kind: 'object',
  name: 'user',
  fields: Object.freeze({
    id: 'string',
    roles: stringList,
    attributes: stringMap,
    region: 'string',
  }),
});

/**
 * Every variable a policy sees, with its static type.
 *
 * @since 2.0.0
 */
export const GOVERNANCE_VARIABLES: Readonly<Record<string, StaticType>> = Object.freeze({
  operation: 'string',
  resource: RESOURCE_TYPE,
  user: USER_TYPE,
  request: stringMap,
  now: 'timestamp',
});

/**
 * The values of one evaluation, in the form the compiled closures read: times are epoch
 * milliseconds, integers are numbers, absent attributes are `undefined`.
 *
 * @since 2.0.0
 */
export interface Activation {
  /** `operation`. */
  readonly operation: string;
  /** `resource.id`. */
  readonly resourceId: string;
  /** The other fields of `resource` (an empty object when the context has none). */
  readonly resource: GovernanceResourceAttributes;
  /** `user.id`, absent for an anonymous operation. */
  readonly userId: string | undefined;
  /** The other fields of `user` (an empty object when the context has none). */
  readonly user: GovernanceUserAttributes;
  /** `request`. */
  readonly request: Readonly<Record<string, string>>;
  /** `now`, in epoch milliseconds. */
  readonly now: number;
}

/**
 * Bounds on what a context may carry, so the cost of a loop over it is bounded.
 *
 * @since 2.0.0
 */
export interface ContextLimits {
  /** The most items of `resource.labels` and of `user.roles`. */
  readonly maxListItems: number;
  /** The most entries of `metadata` (`request`) and of `user.attributes`. */
  readonly maxMapEntries: number;
}

const EMPTY: Readonly<Record<string, never>> = Object.freeze({});

/** CEL timestamps run from year 1 to year 9999. */
const MIN_TIMESTAMP_MS = -62_135_596_800_000;
const MAX_TIMESTAMP_MS = 253_402_300_799_999;

function invalid(message: string): never {
  throw new DistributedError('INVALID_ARGUMENT', message);
}

function checkString(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') invalid(`${name} must be a string`);
}

function checkTime(name: string, value: unknown): void {
  if (
    value !== undefined &&
    (typeof value !== 'number' ||
      !Number.isSafeInteger(value) ||
      value < MIN_TIMESTAMP_MS ||
      value > MAX_TIMESTAMP_MS)
  ) {
    invalid(`${name} must be an integer number of epoch milliseconds within years 1 to 9999`);
  }
}

function checkList(name: string, value: unknown, limits: ContextLimits): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) invalid(`${name} must be a list of strings`);
  for (const item of value as unknown[]) {
    if (typeof item !== 'string') invalid(`${name} must be a list of strings`);
  }
  if (value.length > limits.maxListItems) {
    invalid(`${name} has ${value.length} items, more than maxListItems (${limits.maxListItems})`);
  }
}

function checkMap(name: string, value: unknown, limits: ContextLimits, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(`${name} must map names to strings`);
  }
  let entries = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (typeof (value as Record<string, unknown>)[key] !== 'string') {
      invalid(`${name} must map names to strings`);
    }
    entries += 1;
  }
  if (entries > limits.maxMapEntries) {
    invalid(`${name} has ${entries} entries, more than maxMapEntries (${limits.maxMapEntries})`);
  }
}

function checkObject(name: string, value: unknown): void {
  if (
    value !== undefined &&
    (typeof value !== 'object' || value === null || Array.isArray(value))
  ) {
    invalid(`${name} must be an object`);
  }
}

/**
 * Checks a context and turns it into the values a policy sees.
 *
 * @param context - The operation to evaluate.
 * @param now - The current time, epoch milliseconds.
 * @param limits - Bounds on lists and maps.
 * @returns The activation.
 * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a malformed context.
 * @since 2.0.0
 */
export function toActivation(
  context: GovernanceContext,
  now: number,
  limits: ContextLimits,
): Activation {
  if (typeof context !== 'object' || (context as unknown) === null) {
    invalid('a governance context must be an object');
  }
  if (typeof context.operationType !== 'string' || context.operationType.length === 0) {
    invalid('operationType must be a non-empty string');
  }
  if (typeof context.resourceId !== 'string' || context.resourceId.length === 0) {
    invalid('resourceId must be a non-empty string');
  }
  checkString('userId', context.userId);
  checkMap('metadata', context.metadata, limits, true);
  const resource = context.resource ?? EMPTY;
  checkObject('resource', resource);
  checkString('resource.path', resource.path);
  checkList('resource.labels', resource.labels, limits);
  checkString('resource.classification', resource.classification);
  if (
    resource.sizeBytes !== undefined &&
    (typeof resource.sizeBytes !== 'number' ||
      !Number.isSafeInteger(resource.sizeBytes) ||
      resource.sizeBytes < 0)
  ) {
    invalid('resource.sizeBytes must be a non-negative integer');
  }
  checkString('resource.region', resource.region);
  checkTime('resource.createdAt', resource.createdAt);
  checkTime('resource.lastAccessedAt', resource.lastAccessedAt);
  const retention = resource.retention;
  checkObject('resource.retention', retention);
  if (retention !== undefined) {
    checkString('resource.retention.state', retention.state);
    checkTime('resource.retention.heldUntil', retention.heldUntil);
    if (retention.legalHold !== undefined && typeof retention.legalHold !== 'boolean') {
      invalid('resource.retention.legalHold must be a boolean');
    }
  }
  const user = context.user ?? EMPTY;
  checkObject('user', user);
  checkList('user.roles', user.roles, limits);
  checkMap('user.attributes', user.attributes, limits, false);
  checkString('user.region', user.region);
  checkTime('now', now);
  return {
    operation: context.operationType,
    resourceId: context.resourceId,
    resource,
    userId: context.userId,
    user,
    request: context.metadata,
    now,
  };
}

function defined<T extends Record<string, unknown>>(entries: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) if (value !== undefined) out[key] = value;
  return out as Partial<T>;
}

/**
 * The same values in the form `@bufbuild/cel` evaluates: integers as `bigint`, times as
 * `google.protobuf.Timestamp`, objects as maps without their absent fields.
 *
 * @param activation - The activation.
 * @returns The bindings for a planned CEL program.
 * @since 2.0.0
 */
export function toCelBindings(activation: Activation): Record<string, CelInput> {
  const { resource, user } = activation;
  const ts = (ms: number | undefined) => (ms === undefined ? undefined : timestampFromMs(ms));
  const retention = resource.retention;
  return {
    operation: activation.operation,
    resource: defined({
      id: activation.resourceId,
      path: resource.path,
      labels: resource.labels === undefined ? undefined : [...resource.labels],
      classification: resource.classification,
      sizeBytes: resource.sizeBytes === undefined ? undefined : BigInt(resource.sizeBytes),
      region: resource.region,
      createdAt: ts(resource.createdAt),
      lastAccessedAt: ts(resource.lastAccessedAt),
      retention:
        retention === undefined
          ? undefined
          : defined({
              state: retention.state,
              heldUntil: ts(retention.heldUntil),
              legalHold: retention.legalHold,
            }),
    }) as CelInput,
    user: defined({
      id: activation.userId,
      roles: user.roles === undefined ? undefined : [...user.roles],
      attributes: user.attributes === undefined ? undefined : { ...user.attributes },
      region: user.region,
    }) as CelInput,
    request: { ...activation.request },
    now: timestampFromMs(activation.now),
  };
}
