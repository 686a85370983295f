/**
 * Finds the index guards of a checked CEL expression (see
 * `core/governance/policy-index.ts`): conjuncts of its top-level `&&` chain of the forms
 *
 * - `operation == "read"` (either side), `operation in ["read", "list"]`;
 * - `resource.path.startsWith("/finance/")`;
 * - a `||` of guards of one kind, for example
 *   `operation == "read" || operation == "list"`.
 *
 * Several operation guards intersect; of several path guards the first is used (each
 * must hold, so any one is a sound guard). Anything else is no guard.
 *
 * @packageDocumentation
 */

import type { PolicyGuards } from '../../core/governance/policy-index.js';
import type { CelExpr } from './check.js';

function conjuncts(node: CelExpr, out: CelExpr[]): CelExpr[] {
  const kind = node.exprKind;
  if (
    kind.case === 'callExpr' &&
    kind.value.function === '_&&_' &&
    kind.value.target === undefined
  ) {
    for (const arg of kind.value.args) conjuncts(arg, out);
  } else {
    out.push(node);
  }
  return out;
}

function stringConstant(node: CelExpr | undefined): string | undefined {
  const kind = node?.exprKind;
  if (kind?.case === 'constExpr' && kind.value.constantKind.case === 'stringValue') {
    return kind.value.constantKind.value;
  }
  return undefined;
}

function isIdent(node: CelExpr | undefined, name: string): boolean {
  const kind = node?.exprKind;
  return kind?.case === 'identExpr' && kind.value.name === name;
}

function isResourcePath(node: CelExpr | undefined): boolean {
  const kind = node?.exprKind;
  return (
    kind?.case === 'selectExpr' &&
    !kind.value.testOnly &&
    kind.value.field === 'path' &&
    isIdent(kind.value.operand, 'resource')
  );
}

type Guard = { readonly kind: 'operation' | 'path'; readonly values: readonly string[] };

function guardOf(node: CelExpr): Guard | undefined {
  const kind = node.exprKind;
  if (kind.case !== 'callExpr') return undefined;
  const call = kind.value;
  const [x, y] = call.args;
  if (call.target === undefined && call.function === '_||_' && x !== undefined && y !== undefined) {
    const left = guardOf(x);
    const right = guardOf(y);
    if (left === undefined || right === undefined || left.kind !== right.kind) return undefined;
    return { kind: left.kind, values: [...left.values, ...right.values] };
  }
  if (call.target === undefined && call.function === '_==_') {
    if (isIdent(x, 'operation')) {
      const value = stringConstant(y);
      return value === undefined ? undefined : { kind: 'operation', values: [value] };
    }
    if (isIdent(y, 'operation')) {
      const value = stringConstant(x);
      return value === undefined ? undefined : { kind: 'operation', values: [value] };
    }
    return undefined;
  }
  if (call.target === undefined && call.function === '@in' && isIdent(x, 'operation')) {
    const list = y?.exprKind;
    if (list?.case !== 'listExpr') return undefined;
    const values = list.value.elements.map(stringConstant);
    if (values.some((value) => value === undefined)) return undefined;
    return { kind: 'operation', values: values as string[] };
  }
  if (call.function === 'startsWith' && isResourcePath(call.target) && call.args.length === 1) {
    const prefix = stringConstant(x);
    return prefix === undefined ? undefined : { kind: 'path', values: [prefix] };
  }
  return undefined;
}

/**
 * The index guards of an expression.
 *
 * @param root - The expression's root node.
 * @returns Its guards; no field when it has none of that kind.
 * @since 2.0.0
 */
export function findGuards(root: CelExpr): PolicyGuards {
  let operations: Set<string> | undefined;
  let pathPrefixes: readonly string[] | undefined;
  for (const conjunct of conjuncts(root, [])) {
    const guard = guardOf(conjunct);
    if (guard === undefined) continue;
    if (guard.kind === 'operation') {
      const values = new Set(guard.values);
      operations =
        operations === undefined
          ? values
          : new Set([...operations].filter((value) => values.has(value)));
    } else {
      pathPrefixes ??= [...new Set(guard.values)];
    }
  }
  return Object.freeze({
    ...(operations === undefined ? {} : { operations: Object.freeze([...operations]) }),
    ...(pathPrefixes === undefined ? {} : { pathPrefixes: Object.freeze(pathPrefixes) }),
  });
}
