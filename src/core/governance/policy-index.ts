/**
 * The candidate index of governance (DIST-07): so that a decision touches only the
 * policies that can apply to an operation and a resource.
 *
 * Each policy is described by its {@link PolicyGuards}: facts taken from the top-level
 * conjunction of its expression (`a && b && …`) that must hold for the expression to hold,
 * for example `operation == "read"`, `operation in ["read", "list"]` or
 * `resource.path.startsWith("/finance/")`. A conjunction is false as soon as one conjunct
 * is false (in CEL even when another conjunct is an error), so a policy whose guard is
 * false for a request cannot apply to it and need not be evaluated. A policy without
 * guards is a candidate for every request.
 *
 * Layout: one bucket for policies without an operation guard and one bucket per guarded
 * operation name. In each bucket, policies without a path guard sit in a list, and
 * path-guarded ones in a map from prefix to policies plus the sorted distinct prefix
 * lengths, so that the prefixes of a path are looked up once per distinct length
 * (a flattened prefix trie). A request whose resource has no path gets every path-guarded
 * policy of its buckets: their guard is not false (reading the absent path is an error),
 * so they must be evaluated (and fail closed).
 *
 * Candidates come out in evaluation order (the order numbers given to
 * {@link buildPolicyIndex}), each once.
 *
 * @packageDocumentation
 */

/**
 * What must hold for a policy's expression to hold. An absent field is no guard.
 *
 * @since 2.0.0
 */
export interface PolicyGuards {
  /** The expression can hold only when the operation is one of these. */
  readonly operations?: readonly string[];
  /** The expression can hold only when the resource's path starts with one of these. */
  readonly pathPrefixes?: readonly string[];
}

/**
 * One policy given to the index: its position in evaluation order, and its guards.
 *
 * @since 2.0.0
 */
export interface IndexedPolicy {
  /** Its position in evaluation order (0 first); unique among the indexed policies. */
  readonly order: number;
  /** Its guards. */
  readonly guards: PolicyGuards;
}

/**
 * The policies of one operation bucket of a {@link PolicyIndex}.
 *
 * @since 2.0.0
 */
export interface PolicyIndexBucket {
  /** The policies without a path guard, by order number. */
  readonly unguarded: number[];
  /** The path-guarded policies, by prefix. */
  readonly byPrefix: Map<string, number[]>;
  /** The distinct lengths of the prefixes in `byPrefix`, ascending. */
  prefixLengths: number[];
}

/**
 * A built index; query it with {@link indexCandidates}. Immutable once built.
 *
 * @since 2.0.0
 */
export interface PolicyIndex {
  /** How many policies were indexed. */
  readonly size: number;
  /** Policies without an operation guard. */
  readonly anyOperation: Readonly<PolicyIndexBucket>;
  /** Policies with an operation guard, by operation. */
  readonly byOperation: ReadonlyMap<string, Readonly<PolicyIndexBucket>>;
}

function emptyBucket(): PolicyIndexBucket {
  return { unguarded: [], byPrefix: new Map(), prefixLengths: [] };
}

function addTo(bucket: PolicyIndexBucket, policy: IndexedPolicy): void {
  const prefixes = policy.guards.pathPrefixes;
  if (prefixes === undefined) {
    bucket.unguarded.push(policy.order);
    return;
  }
  for (const prefix of new Set(prefixes)) {
    const list = bucket.byPrefix.get(prefix);
    if (list === undefined) bucket.byPrefix.set(prefix, [policy.order]);
    else list.push(policy.order);
  }
}

function seal(bucket: PolicyIndexBucket): void {
  bucket.prefixLengths = [...new Set([...bucket.byPrefix.keys()].map((p) => p.length))].sort(
    (a, b) => a - b,
  );
}

/**
 * Builds the index of a policy set.
 *
 * @param policies - Every policy to index, each with a distinct `order`.
 * @returns The index.
 * @since 2.0.0
 */
export function buildPolicyIndex(policies: readonly IndexedPolicy[]): PolicyIndex {
  const anyOperation = emptyBucket();
  const byOperation = new Map<string, PolicyIndexBucket>();
  for (const policy of policies) {
    const operations = policy.guards.operations;
    if (operations === undefined) {
      addTo(anyOperation, policy);
      continue;
    }
    for (const operation of new Set(operations)) {
      let bucket = byOperation.get(operation);
      if (bucket === undefined) {
        bucket = emptyBucket();
        byOperation.set(operation, bucket);
      }
      addTo(bucket, policy);
    }
  }
  seal(anyOperation);
  for (const bucket of byOperation.values()) seal(bucket);
  return Object.freeze({ size: policies.length, anyOperation, byOperation });
}

/**
 * The policies that can apply to a request, in evaluation order, each once.
 *
 * @param index - The index.
 * @param operation - The request's operation.
 * @param path - The resource's path, or `undefined` when the request has none.
 * @param out - Cleared, then filled with the candidates' order numbers (reused to spare
 *   an allocation per decision).
 * @returns `out`.
 * @since 2.0.0
 */
export function indexCandidates(
  index: PolicyIndex,
  operation: string,
  path: string | undefined,
  out: number[],
): number[] {
  out.length = 0;
  collect(index.anyOperation, path, out);
  const bucket = index.byOperation.get(operation);
  if (bucket !== undefined) collect(bucket, path, out);
  if (out.length > 1) {
    // Insertion sort: the lists are short and each bucket's part is already sorted.
    for (let i = 1; i < out.length; i += 1) {
      const order = out[i] as number;
      let j = i - 1;
      while (j >= 0 && (out[j] as number) > order) {
        out[j + 1] = out[j] as number;
        j -= 1;
      }
      out[j + 1] = order;
    }
    // Several matching prefixes of one policy put it in more than once.
    let kept = 1;
    for (let i = 1; i < out.length; i += 1) {
      const order = out[i] as number;
      if (order !== out[kept - 1]) out[kept++] = order;
    }
    out.length = kept;
  }
  return out;
}

function collect(
  bucket: Readonly<PolicyIndexBucket>,
  path: string | undefined,
  out: number[],
): void {
  for (const order of bucket.unguarded) out.push(order);
  if (bucket.byPrefix.size === 0) return;
  if (path === undefined) {
    for (const list of bucket.byPrefix.values()) for (const order of list) out.push(order);
    return;
  }
  for (const length of bucket.prefixLengths) {
    if (length > path.length) break;
    const list = bucket.byPrefix.get(length === path.length ? path : path.slice(0, length));
    if (list !== undefined) for (const order of list) out.push(order);
  }
}
