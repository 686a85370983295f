/**
 * Parsing and checking a CEL policy expression once, at registration: the syntax (by
 * `@bufbuild/cel`'s parser), then every name against the governance schema
 * (`schema.ts`): variables, fields of `resource`, `resource.retention` and `user`, and
 * functions of the CEL standard library with their arity. Along the way it infers the
 * static type of every node, which the compiler uses.
 *
 * A problem is reported with its position as `line:column` (both from 1). Type errors
 * the checker does not model (for example `operation < 1`) remain evaluation errors, which
 * fail closed.
 *
 * @packageDocumentation
 */

import { celEnv, parse } from '@bufbuild/cel';
import { GOVERNANCE_VARIABLES, type StaticType } from './schema.js';

/**
 * A parsed CEL expression, as `@bufbuild/cel` returns it.
 *
 * @since 2.0.0
 */
export type ParsedCel = ReturnType<typeof parse>;

/**
 * One node of a parsed CEL expression.
 *
 * @since 2.0.0
 */
export type CelExpr = ParsedCel['expr'];

/**
 * An expression that parsed and checked.
 *
 * @since 2.0.0
 */
export interface CheckedExpression {
  /** The source text. */
  readonly source: string;
  /** The parsed expression. */
  readonly parsed: ParsedCel;
  /** The static type of every node, by node id. */
  readonly types: ReadonlyMap<bigint, StaticType>;
  /** How many nodes the expression has: its cost when it has no loop. */
  readonly nodeCount: number;
  /** Whether it has a loop (a comprehension: `exists`, `all`, `map`, …). */
  readonly hasLoop: boolean;
}

/**
 * What is wrong with an expression, and where.
 *
 * @since 2.0.0
 */
export class ExpressionProblem extends Error {
  /** The line, from 1. */
  readonly line: number;
  /** The column, from 1. */
  readonly column: number;

  /**
   * @param line - The line, from 1.
   * @param column - The column, from 1.
   * @param problem - What is wrong.
   */
  constructor(line: number, column: number, problem: string) {
    super(`${line}:${column}: ${problem}`);
    this.name = 'ExpressionProblem';
    this.line = line;
    this.column = column;
  }
}

/** Functions the library's planner implements itself rather than through its resolver. */
const SPECIAL_FUNCTIONS = new Set(['_&&_', '_||_', '_?_:_', '@not_strictly_false', '_[_]', '@in']);

/** Type names CEL lets an expression mention, for example in `type(x) == string`. */
const TYPE_NAMES = new Set([
  'bool',
  'int',
  'uint',
  'double',
  'string',
  'bytes',
  'list',
  'map',
  'null_type',
  'type',
  'google.protobuf.Timestamp',
  'google.protobuf.Duration',
]);

let signatures: ReadonlyMap<string, ReadonlySet<string>> | undefined;

/** Every standard function, by name, with its `f<arity>` / `m<arity>` forms. */
function standardSignatures(): ReadonlyMap<string, ReadonlySet<string>> {
  if (signatures !== undefined) return signatures;
  const found = new Map<string, Set<string>>();
  for (const func of celEnv().funcs) {
    const forms = found.get(func.name) ?? new Set<string>();
    forms.add(`${func.target === undefined ? 'f' : 'm'}${func.arguments.length}`);
    found.set(func.name, forms);
  }
  signatures = found;
  return found;
}

const BOOL_FUNCTIONS = new Set([
  '_==_',
  '_!=_',
  '_<_',
  '_<=_',
  '_>_',
  '_>=_',
  '!_',
  '_&&_',
  '_||_',
  '@in',
  '@not_strictly_false',
  'startsWith',
  'endsWith',
  'contains',
  'matches',
]);

const SCALAR_CONVERSIONS: Readonly<Record<string, StaticType>> = {
  int: 'int',
  uint: 'uint',
  double: 'double',
  string: 'string',
  bool: 'bool',
  bytes: 'bytes',
  timestamp: 'timestamp',
  duration: 'duration',
  type: 'type',
  dyn: 'dyn',
};

function sameType(a: StaticType, b: StaticType): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'list' && b.kind === 'list') return sameType(a.element, b.element);
  if (a.kind === 'map' && b.kind === 'map') return sameType(a.value, b.value);
  return a === b;
}

/**
 * A position in an expression's text.
 *
 * @since 2.0.0
 */
export interface LineColumn {
  /** The line, from 1. */
  readonly line: number;
  /** The column, from 1. */
  readonly column: number;
}

/**
 * Turns a character offset into a 1-based line and column.
 *
 * @param source - The text.
 * @param offset - A 0-based offset into it.
 * @returns The line and column.
 * @since 2.0.0
 */
export function lineColumn(source: string, offset: number): LineColumn {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), source.length);
  for (let i = 0; i < end; i += 1) {
    if (source.charCodeAt(i) === 10) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * Parses and checks an expression against the governance schema.
 *
 * @param source - The expression.
 * @returns The checked expression.
 * @throws {@link ExpressionProblem} naming the first problem and its position.
 * @since 2.0.0
 */
export function checkExpression(source: string): CheckedExpression {
  let parsed: ParsedCel;
  try {
    parsed = parse(source);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = /^<input>:(\d+):(\d+):\s*(.*)$/s.exec(message);
    if (at !== null) throw new ExpressionProblem(Number(at[1]), Number(at[2]), at[3] ?? message);
    throw new ExpressionProblem(1, 1, message);
  }
  const positions = parsed.sourceInfo?.positions ?? {};
  const fail = (node: CelExpr, problem: string): never => {
    const offset = positions[node.id.toString()] ?? 0;
    const { line, column } = lineColumn(source, offset);
    throw new ExpressionProblem(line, column, problem);
  };
  const types = new Map<bigint, StaticType>();
  let nodeCount = 0;
  let hasLoop = false;
  const std = standardSignatures();

  const visit = (node: CelExpr, scope: ReadonlyMap<string, StaticType>): StaticType => {
    nodeCount += 1;
    const type = infer(node, scope);
    types.set(node.id, type);
    return type;
  };

  const infer = (node: CelExpr, scope: ReadonlyMap<string, StaticType>): StaticType => {
    const kind = node.exprKind;
    switch (kind.case) {
      case 'constExpr': {
        switch (kind.value.constantKind.case) {
          case 'boolValue':
            return 'bool';
          case 'int64Value':
            return 'int';
          case 'uint64Value':
            return 'uint';
          case 'doubleValue':
            return 'double';
          case 'stringValue':
            return 'string';
          case 'bytesValue':
            return 'bytes';
          case 'nullValue':
            return 'null';
          default:
            return fail(node, 'unsupported constant');
        }
      }
      case 'identExpr': {
        const name = kind.value.name;
        const local = scope.get(name);
        if (local !== undefined) return local;
        const variable = GOVERNANCE_VARIABLES[name];
        if (variable !== undefined) return variable;
        if (TYPE_NAMES.has(name)) return 'type';
        return fail(
          node,
          `unknown variable '${name}'; the variables are ${Object.keys(GOVERNANCE_VARIABLES).join(', ')}`,
        );
      }
      case 'selectExpr': {
        const operand = kind.value.operand;
        if (operand === undefined) return fail(node, 'selection without an operand');
        const base = visit(operand, scope);
        const field = kind.value.field;
        const result = selectType(base, field, node);
        return kind.value.testOnly ? 'bool' : result;
      }
      case 'callExpr': {
        const call = kind.value;
        const target = call.target === undefined ? undefined : visit(call.target, scope);
        const args = call.args.map((arg) => visit(arg, scope));
        const name = call.function;
        if (!SPECIAL_FUNCTIONS.has(name)) {
          const forms = std.get(name);
          const form = `${call.target === undefined ? 'f' : 'm'}${call.args.length}`;
          if (forms === undefined) return fail(node, `unknown function '${name}'`);
          if (!forms.has(form)) {
            return fail(
              node,
              `'${name}' takes other arguments (called ${call.target === undefined ? 'as a function' : 'as a method'} with ${call.args.length})`,
            );
          }
        }
        return callType(name, target, args);
      }
      case 'listExpr': {
        const elements = kind.value.elements.map((element) => visit(element, scope));
        const first = elements[0];
        const element =
          first !== undefined && elements.every((each) => sameType(each, first)) ? first : 'dyn';
        return { kind: 'list', element };
      }
      case 'structExpr': {
        if (kind.value.messageName !== '') {
          return fail(node, `message types are not available ('${kind.value.messageName}')`);
        }
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') visit(entry.keyKind.value, scope);
          if (entry.value !== undefined) visit(entry.value, scope);
        }
        return { kind: 'map', value: 'dyn' };
      }
      case 'comprehensionExpr': {
        hasLoop = true;
        const loop = kind.value;
        if (
          loop.iterRange === undefined ||
          loop.accuInit === undefined ||
          loop.loopCondition === undefined ||
          loop.loopStep === undefined ||
          loop.result === undefined
        ) {
          return fail(node, 'incomplete comprehension');
        }
        const range = visit(loop.iterRange, scope);
        const accu = visit(loop.accuInit, scope);
        const inner = new Map(scope);
        inner.set(loop.iterVar, elementType(range));
        if (loop.iterVar2 !== '') inner.set(loop.iterVar2, 'dyn');
        inner.set(loop.accuVar, accu);
        visit(loop.loopCondition, inner);
        visit(loop.loopStep, inner);
        return visit(loop.result, inner);
      }
      default:
        return fail(node, 'unsupported expression');
    }
  };

  const selectType = (base: StaticType, field: string, node: CelExpr): StaticType => {
    if (base === 'dyn') return 'dyn';
    if (typeof base === 'string') return fail(node, `a ${base} has no field '${field}'`);
    if (base.kind === 'map') return base.value;
    if (base.kind === 'object') {
      const type = base.fields[field];
      if (type === undefined || !Object.hasOwn(base.fields, field)) {
        return fail(
          node,
          `${base.name} has no field '${field}'; its fields are ${Object.keys(base.fields).join(', ')}`,
        );
      }
      return type;
    }
    return fail(node, `a list has no field '${field}'`);
  };

  const root = parsed.expr;
  const rootType = visit(root, new Map());
  if (rootType !== 'bool' && rootType !== 'dyn') {
    fail(root, `a policy expression must be a bool, not ${describe(rootType)}`);
  }
  return Object.freeze({ source, parsed, types, nodeCount, hasLoop });
}

function elementType(range: StaticType): StaticType {
  if (typeof range === 'string') return 'dyn';
  if (range.kind === 'list') return range.element;
  if (range.kind === 'map') return 'string';
  return 'dyn';
}

function callType(
  name: string,
  target: StaticType | undefined,
  args: readonly StaticType[],
): StaticType {
  if (BOOL_FUNCTIONS.has(name)) return 'bool';
  const conversion = SCALAR_CONVERSIONS[name];
  if (conversion !== undefined && target === undefined) return conversion;
  if (name === 'size' || name.startsWith('get')) return 'int';
  const [a, b, c] = target === undefined ? args : [target, ...args];
  if (name === '_?_:_' && b !== undefined && c !== undefined) return sameType(b, c) ? b : 'dyn';
  if (name === '_[_]' && a !== undefined) {
    if (typeof a !== 'string' && a.kind === 'list') return a.element;
    if (typeof a !== 'string' && a.kind === 'map') return a.value;
    return 'dyn';
  }
  if (name === '_-_' && a === 'timestamp' && b === 'timestamp') return 'duration';
  if ((name === '_-_' || name === '_+_') && a === 'timestamp' && b === 'duration') {
    return 'timestamp';
  }
  if (
    (name === '_-_' || name === '_+_' || name === '_*_' || name === '_/_' || name === '_%_') &&
    a !== undefined &&
    b !== undefined
  ) {
    return sameType(a, b) && typeof a === 'string' && a !== 'dyn' ? a : 'dyn';
  }
  if (name === '-_' && a !== undefined) return a;
  return 'dyn';
}

function describe(type: StaticType): string {
  if (typeof type === 'string') return `a ${type}`;
  if (type.kind === 'object') return `the object ${type.name}`;
  return `a ${type.kind}`;
}
