/**
 * Compiles a checked CEL expression into plain JavaScript closures, for the subset of CEL
 * whose semantics the closures reproduce exactly; {@link compileExpression} returns
 * `undefined` for anything else, and the caller evaluates that expression with
 * `@bufbuild/cel`'s planned program instead. The property tests compare both on generated
 * expressions and inputs.
 *
 * The subset: bool, string and (safe) int constants; the variables and the fields of
 * `resource`, `resource.retention` and `user`; `request.key`, `request["key"]`,
 * `user.attributes.key` and `has(…)` of all of them; `!`, `&&`, `||` (with CEL's
 * commutative error absorption: `false && error` is `false`), `?:`; `==` and `!=` between
 * values of the same static scalar type; `<`, `<=`, `>`, `>=` between two ints, strings,
 * timestamps or durations; `in` over a list of strings or a map; `timestamp - timestamp`;
 * `duration("…")` and `timestamp("…")` of a constant with whole milliseconds;
 * `startsWith`, `endsWith`, `contains` on strings; `size` of strings, lists and maps;
 * and the `exists` and `all` loops over lists and maps.
 *
 * Values: strings and bools as themselves, ints as numbers (every int in the schema is a
 * safe integer), timestamps as epoch milliseconds, durations as milliseconds. An
 * evaluation error is a thrown {@link EvaluationFailure}.
 *
 * Cost: each evaluation is charged the expression's node count up front, and each loop
 * iteration the node count of its condition and step; going over the meter's limit throws
 * an {@link EvaluationFailure} with `costExceeded` set.
 *
 * @packageDocumentation
 */

import { isCelError, run } from '@bufbuild/cel';
import type { CelExpr, CheckedExpression } from './check.js';
import type { Activation, StaticType } from './schema.js';

/**
 * Counts the cost of one evaluation against its limit.
 *
 * @since 2.0.0
 */
export interface CostMeter {
  /** The cost spent so far. */
  steps: number;
  /** The most the evaluation may spend. */
  limit: number;
}

/**
 * An error while evaluating an expression: it fails closed.
 *
 * @since 2.0.0
 */
export class EvaluationFailure extends Error {
  /** Whether the failure is that the cost bound was exceeded. */
  readonly costExceeded: boolean;

  /**
   * @param message - What went wrong.
   * @param costExceeded - Whether the cost bound was exceeded.
   */
  constructor(message: string, costExceeded = false) {
    super(message);
    this.name = 'EvaluationFailure';
    this.costExceeded = costExceeded;
  }
}

/**
 * A compiled expression: returns the expression's value or throws an
 * {@link EvaluationFailure}.
 *
 * @since 2.0.0
 */
export type CompiledExpression = (activation: Activation, meter: CostMeter) => unknown;

type Fn = (a: Activation, m: CostMeter) => unknown;

/** Thrown inside the compiler (never while evaluating) when a node is outside the subset. */
class Unsupported extends Error {
  readonly what: string;

  constructor(what: string) {
    super(`not compiled: ${what}`);
    this.what = what;
  }
}

interface Cell {
  value: unknown;
  /** The error the cell holds instead of a value (a loop accumulator can hold one). */
  error: Error | undefined;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new EvaluationFailure(String(error));
}

const SCALARS = new Set<StaticType>(['bool', 'string', 'int', 'timestamp', 'duration']);
const ORDERED = new Set<StaticType>(['string', 'int', 'timestamp', 'duration']);

function missing(name: string): never {
  throw new EvaluationFailure(`no such key: ${name}`);
}

function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i += 1;
    }
    count += 1;
  }
  return count;
}

function isList(type: StaticType | undefined): type is { kind: 'list'; element: StaticType } {
  return typeof type === 'object' && type.kind === 'list';
}

function isMap(type: StaticType | undefined): type is { kind: 'map'; value: StaticType } {
  return typeof type === 'object' && type.kind === 'map';
}

/**
 * Compiles a checked expression, or tells that it is outside the compiled subset.
 *
 * @param checked - The checked expression.
 * @returns The compiled closure, or `undefined` when the library must evaluate it.
 * @since 2.0.0
 */
export function compileExpression(checked: CheckedExpression): CompiledExpression | undefined {
  try {
    const body = new Compiler(checked).compile(checked.parsed.expr, new Map());
    const baseCost = checked.nodeCount;
    return (activation, meter) => {
      meter.steps += baseCost;
      if (meter.steps > meter.limit) {
        throw new EvaluationFailure(`cost ${meter.steps} exceeds the bound ${meter.limit}`, true);
      }
      return body(activation, meter);
    };
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

/**
 * Why an expression is outside the compiled subset, for `explain`.
 *
 * @param checked - The checked expression.
 * @returns The first construct the compiler does not handle, or `undefined` when it
 *   compiles.
 * @since 2.0.0
 */
export function uncompiledReason(checked: CheckedExpression): string | undefined {
  try {
    new Compiler(checked).compile(checked.parsed.expr, new Map());
    return undefined;
  } catch (error) {
    if (error instanceof Unsupported) return error.what;
    throw error;
  }
}

class Compiler {
  readonly #types: ReadonlyMap<bigint, StaticType>;

  constructor(checked: CheckedExpression) {
    this.#types = checked.types;
  }

  type(node: CelExpr): StaticType {
    return this.#types.get(node.id) ?? 'dyn';
  }

  compile(node: CelExpr, scope: ReadonlyMap<string, Cell>): Fn {
    const kind = node.exprKind;
    switch (kind.case) {
      case 'constExpr': {
        const constant = kind.value.constantKind;
        if (constant.case === 'boolValue' || constant.case === 'stringValue') {
          const value = constant.value;
          return () => value;
        }
        if (constant.case === 'int64Value') {
          const value = Number(constant.value);
          if (!Number.isSafeInteger(value)) throw new Unsupported('an int beyond 2^53');
          return () => value;
        }
        throw new Unsupported(`a ${constant.case ?? 'missing'} constant`);
      }
      case 'identExpr':
        return this.ident(kind.value.name, scope);
      case 'selectExpr': {
        const operand = kind.value.operand;
        if (operand === undefined) throw new Unsupported('selection without operand');
        return this.select(operand, kind.value.field, kind.value.testOnly, scope);
      }
      case 'callExpr':
        return this.call(node, scope);
      case 'listExpr':
        throw new Unsupported('a list value outside `in`');
      case 'comprehensionExpr':
        return this.loop(node, scope);
      default:
        throw new Unsupported(kind.case ?? 'an empty node');
    }
  }

  ident(name: string, scope: ReadonlyMap<string, Cell>): Fn {
    const cell = scope.get(name);
    if (cell !== undefined) {
      return () => {
        if (cell.error !== undefined) throw cell.error;
        return cell.value;
      };
    }
    switch (name) {
      case 'operation':
        return (a) => a.operation;
      case 'request':
        return (a) => a.request;
      case 'now':
        return (a) => a.now;
      default:
        // `resource` and `user` as whole values are maps in CEL; the library handles them.
        throw new Unsupported(`the variable '${name}' as a value`);
    }
  }

  /** The path of a selection from a variable, for example ['resource', 'retention']. */
  path(node: CelExpr, scope: ReadonlyMap<string, Cell>): string[] | undefined {
    const kind = node.exprKind;
    if (kind.case === 'identExpr')
      return scope.has(kind.value.name) ? undefined : [kind.value.name];
    if (kind.case === 'selectExpr' && !kind.value.testOnly && kind.value.operand !== undefined) {
      const base = this.path(kind.value.operand, scope);
      return base === undefined ? undefined : [...base, kind.value.field];
    }
    return undefined;
  }

  select(operand: CelExpr, field: string, testOnly: boolean, scope: ReadonlyMap<string, Cell>): Fn {
    const base = this.path(operand, scope);
    const key = base?.join('.');
    if (key === 'resource' || key === 'user') {
      const isResource = key === 'resource';
      if (field === 'id') {
        if (isResource) return testOnly ? () => true : (a) => a.resourceId;
        return testOnly
          ? (a) => a.userId !== undefined
          : (a) => (a.userId === undefined ? missing('user.id') : a.userId);
      }
      const name = `${key}.${field}`;
      if (isResource) {
        return testOnly
          ? (a) => (a.resource as Record<string, unknown>)[field] !== undefined
          : (a) => {
              const value = (a.resource as Record<string, unknown>)[field];
              return value === undefined ? missing(name) : value;
            };
      }
      return testOnly
        ? (a) => (a.user as Record<string, unknown>)[field] !== undefined
        : (a) => {
            const value = (a.user as Record<string, unknown>)[field];
            return value === undefined ? missing(name) : value;
          };
    }
    if (key === 'resource.retention') {
      const name = `resource.retention.${field}`;
      return testOnly
        ? (a) => {
            const retention = a.resource.retention;
            if (retention === undefined) missing('resource.retention');
            return (retention as Record<string, unknown>)[field] !== undefined;
          }
        : (a) => {
            const retention = a.resource.retention;
            if (retention === undefined) missing('resource.retention');
            const value = (retention as Record<string, unknown>)[field];
            return value === undefined ? missing(name) : value;
          };
    }
    if (isMap(this.type(operand)))
      return this.mapKey(this.compile(operand, scope), () => field, testOnly, field);
    throw new Unsupported(`selecting '${field}'`);
  }

  mapKey(map: Fn, keyOf: Fn, testOnly: boolean, label: string): Fn {
    if (testOnly) {
      return (a, m) => Object.hasOwn(map(a, m) as object, keyOf(a, m) as string);
    }
    return (a, m) => {
      const record = map(a, m) as Record<string, unknown>;
      const key = keyOf(a, m) as string;
      return Object.hasOwn(record, key) ? record[key] : missing(label === '' ? key : label);
    };
  }

  call(node: CelExpr, scope: ReadonlyMap<string, Cell>): Fn {
    if (node.exprKind.case !== 'callExpr') throw new Unsupported('not a call');
    const call = node.exprKind.value;
    const name = call.function;
    const args = call.args;
    const [x, y, z] = args;
    const target = call.target;
    if (target === undefined) {
      if (name === '!_' && x !== undefined && this.type(x) === 'bool') {
        const f = this.compile(x, scope);
        return (a, m) => !(f(a, m) as boolean);
      }
      if ((name === '_&&_' || name === '_||_') && x !== undefined && y !== undefined) {
        return this.logic(name === '_&&_', x, y, scope);
      }
      if (name === '_?_:_' && x !== undefined && y !== undefined && z !== undefined) {
        if (this.type(x) !== 'bool') throw new Unsupported('a condition that is not a bool');
        const c = this.compile(x, scope);
        const t = this.compile(y, scope);
        const e = this.compile(z, scope);
        return (a, m) => ((c(a, m) as boolean) ? t(a, m) : e(a, m));
      }
      if (name === '@not_strictly_false' && x !== undefined && this.type(x) === 'bool') {
        const f = this.compile(x, scope);
        return (a, m) => {
          try {
            return f(a, m) !== false;
          } catch (error) {
            if (error instanceof EvaluationFailure && error.costExceeded) throw error;
            return true;
          }
        };
      }
      if (x !== undefined && y !== undefined && args.length === 2) {
        const compared = this.compare(name, x, y, scope);
        if (compared !== undefined) return compared;
      }
      if (
        name === '_[_]' &&
        x !== undefined &&
        y !== undefined &&
        isMap(this.type(x)) &&
        this.type(y) === 'string'
      ) {
        return this.mapKey(this.compile(x, scope), this.compile(y, scope), false, '');
      }
      if ((name === 'duration' || name === 'timestamp') && x !== undefined && args.length === 1) {
        return this.timeConstant(name, x);
      }
      if (name === 'size' && x !== undefined && args.length === 1) return this.size(x, scope);
      throw new Unsupported(`the function '${name}'`);
    }
    if (args.length === 0 && name === 'size') return this.size(target, scope);
    if (
      (name === 'startsWith' || name === 'endsWith' || name === 'contains') &&
      x !== undefined &&
      args.length === 1 &&
      this.type(target) === 'string' &&
      this.type(x) === 'string'
    ) {
      const s = this.compile(target, scope);
      const p = this.compile(x, scope);
      if (name === 'startsWith') return (a, m) => (s(a, m) as string).startsWith(p(a, m) as string);
      if (name === 'endsWith') return (a, m) => (s(a, m) as string).endsWith(p(a, m) as string);
      return (a, m) => (s(a, m) as string).includes(p(a, m) as string);
    }
    throw new Unsupported(`the method '${name}'`);
  }

  logic(isAnd: boolean, x: CelExpr, y: CelExpr, scope: ReadonlyMap<string, Cell>): Fn {
    if (this.type(x) !== 'bool' || this.type(y) !== 'bool') {
      throw new Unsupported('a logical operand that is not a bool');
    }
    const f = this.compile(x, scope);
    const g = this.compile(y, scope);
    // CEL's && and || are commutative: a decisive operand wins over an error in the other.
    const decisive = !isAnd;
    return (a, m) => {
      let first: unknown;
      let failed = false;
      try {
        if ((f(a, m) as boolean) === decisive) return decisive;
      } catch (error) {
        if (error instanceof EvaluationFailure && error.costExceeded) throw error;
        first = error;
        failed = true;
      }
      if ((g(a, m) as boolean) === decisive) return decisive;
      if (failed) throw first;
      return !decisive;
    };
  }

  compare(name: string, x: CelExpr, y: CelExpr, scope: ReadonlyMap<string, Cell>): Fn | undefined {
    const tx = this.type(x);
    const ty = this.type(y);
    if (name === '@in') return this.membership(x, y, scope);
    const equality = name === '_==_' || name === '_!=_';
    const ordering = name === '_<_' || name === '_<=_' || name === '_>_' || name === '_>=_';
    if (name === '_-_' && tx === 'timestamp' && ty === 'timestamp') {
      const f = this.compile(x, scope);
      const g = this.compile(y, scope);
      return (a, m) => (f(a, m) as number) - (g(a, m) as number);
    }
    if (!equality && !ordering) return undefined;
    if (tx !== ty || typeof tx !== 'string' || !(equality ? SCALARS : ORDERED).has(tx)) {
      throw new Unsupported(`${name} between ${JSON.stringify(tx)} and ${JSON.stringify(ty)}`);
    }
    const f = this.compile(x, scope);
    const g = this.compile(y, scope);
    switch (name) {
      case '_==_':
        return (a, m) => f(a, m) === g(a, m);
      case '_!=_':
        return (a, m) => f(a, m) !== g(a, m);
      case '_<_':
        return (a, m) => (f(a, m) as number) < (g(a, m) as number);
      case '_<=_':
        return (a, m) => (f(a, m) as number) <= (g(a, m) as number);
      case '_>_':
        return (a, m) => (f(a, m) as number) > (g(a, m) as number);
      default:
        return (a, m) => (f(a, m) as number) >= (g(a, m) as number);
    }
  }

  membership(x: CelExpr, y: CelExpr, scope: ReadonlyMap<string, Cell>): Fn {
    if (this.type(x) !== 'string') throw new Unsupported('`in` with a key that is not a string');
    const needle = this.compile(x, scope);
    const list = y.exprKind;
    if (list.case === 'listExpr') {
      const values: string[] = [];
      for (const element of list.value.elements) {
        const constant = element.exprKind;
        if (constant.case !== 'constExpr' || constant.value.constantKind.case !== 'stringValue') {
          throw new Unsupported('`in` a list literal of other than string constants');
        }
        values.push(constant.value.constantKind.value);
      }
      const set = new Set(values);
      return (a, m) => set.has(needle(a, m) as string);
    }
    const ty = this.type(y);
    if (isList(ty) && ty.element === 'string') {
      const haystack = this.compile(y, scope);
      return (a, m) => {
        const item = needle(a, m);
        return (haystack(a, m) as readonly string[]).includes(item as string);
      };
    }
    if (isMap(ty)) {
      const record = this.compile(y, scope);
      return (a, m) => {
        const item = needle(a, m);
        return Object.hasOwn(record(a, m) as object, item as string);
      };
    }
    throw new Unsupported('`in` over this type');
  }

  timeConstant(name: 'duration' | 'timestamp', x: CelExpr): Fn {
    const constant = x.exprKind;
    if (constant.case !== 'constExpr' || constant.value.constantKind.case !== 'stringValue') {
      throw new Unsupported(`${name}() of a non-constant`);
    }
    const text = constant.value.constantKind.value;
    const value = run(`${name}(${JSON.stringify(text)})`);
    if (isCelError(value) || typeof value !== 'object' || value === null) {
      throw new Unsupported(`${name}() of an invalid constant`);
    }
    // The library returns timestamps and durations as reflected protobuf messages.
    const message = (value as unknown as { message?: { seconds?: unknown; nanos?: unknown } })
      .message;
    if (
      message === undefined ||
      typeof message.seconds !== 'bigint' ||
      typeof message.nanos !== 'number'
    ) {
      throw new Unsupported(`${name}() of an unexpected value`);
    }
    if (message.nanos % 1_000_000 !== 0) throw new Unsupported(`a ${name} finer than 1 ms`);
    const ms = Number(message.seconds) * 1000 + message.nanos / 1_000_000;
    if (!Number.isSafeInteger(ms)) throw new Unsupported(`a ${name} beyond 2^53 ms`);
    return () => ms;
  }

  size(x: CelExpr, scope: ReadonlyMap<string, Cell>): Fn {
    const type = this.type(x);
    const f = this.compile(x, scope);
    if (type === 'string') return (a, m) => codePoints(f(a, m) as string);
    if (isList(type)) return (a, m) => (f(a, m) as readonly unknown[]).length;
    if (isMap(type)) {
      return (a, m) => {
        const record = f(a, m) as object;
        let count = 0;
        for (const key in record) if (Object.hasOwn(record, key)) count += 1;
        return count;
      };
    }
    throw new Unsupported('size() of this type');
  }

  loop(node: CelExpr, scope: ReadonlyMap<string, Cell>): Fn {
    if (node.exprKind.case !== 'comprehensionExpr') throw new Unsupported('not a loop');
    const loop = node.exprKind.value;
    const { iterRange, accuInit, loopCondition, loopStep, result } = loop;
    if (
      iterRange === undefined ||
      accuInit === undefined ||
      loopCondition === undefined ||
      loopStep === undefined ||
      result === undefined ||
      loop.iterVar2 !== ''
    ) {
      throw new Unsupported('this loop form');
    }
    // Only the bool-accumulating loops (exists, all and their like) are compiled.
    if (this.type(accuInit) !== 'bool' || this.type(loopStep) !== 'bool') {
      throw new Unsupported('a loop that builds a value other than a bool');
    }
    const rangeType = this.type(iterRange);
    const overMap = isMap(rangeType);
    if (!overMap && !isList(rangeType)) throw new Unsupported('a loop over this type');
    const range = this.compile(iterRange, scope);
    const init = this.compile(accuInit, scope);
    const item: Cell = { value: undefined, error: undefined };
    const accu: Cell = { value: undefined, error: undefined };
    const inner = new Map(scope);
    inner.set(loop.iterVar, item);
    inner.set(loop.accuVar, accu);
    const condition = this.compile(loopCondition, inner);
    const step = this.compile(loopStep, inner);
    const finish = this.compile(result, inner);
    const iterationCost = countNodes(loopCondition) + countNodes(loopStep);
    return (a, m) => {
      const source = range(a, m) as object;
      const items = overMap ? Object.keys(source) : (source as readonly unknown[]);
      // Save the cells: a loop nested in its own body's evaluation cannot recur, but
      // restoring keeps the closures safe if one ever did.
      const savedItem = item.value;
      const savedAccu = accu.value;
      const savedError = accu.error;
      try {
        accu.error = undefined;
        try {
          accu.value = init(a, m);
        } catch (error) {
          if (error instanceof EvaluationFailure && error.costExceeded) throw error;
          accu.error = asError(error);
        }
        for (const each of items) {
          m.steps += iterationCost;
          if (m.steps > m.limit) {
            throw new EvaluationFailure(`cost ${m.steps} exceeds the bound ${m.limit}`, true);
          }
          item.value = each;
          if (condition(a, m) !== true) break;
          try {
            accu.value = step(a, m);
            accu.error = undefined;
          } catch (error) {
            if (error instanceof EvaluationFailure && error.costExceeded) throw error;
            accu.error = asError(error);
          }
        }
        return finish(a, m);
      } finally {
        item.value = savedItem;
        accu.value = savedAccu;
        accu.error = savedError;
      }
    };
  }
}

/**
 * How many nodes an expression has (its loops counted once).
 *
 * @param node - The expression.
 * @returns The node count.
 * @since 2.0.0
 */
export function countNodes(node: CelExpr): number {
  const kind = node.exprKind;
  switch (kind.case) {
    case 'selectExpr':
      return 1 + (kind.value.operand === undefined ? 0 : countNodes(kind.value.operand));
    case 'callExpr':
      return (
        1 +
        (kind.value.target === undefined ? 0 : countNodes(kind.value.target)) +
        kind.value.args.reduce((sum, arg) => sum + countNodes(arg), 0)
      );
    case 'listExpr':
      return 1 + kind.value.elements.reduce((sum, element) => sum + countNodes(element), 0);
    case 'structExpr':
      return (
        1 +
        kind.value.entries.reduce(
          (sum, entry) =>
            sum +
            (entry.keyKind.case === 'mapKey' ? countNodes(entry.keyKind.value) : 0) +
            (entry.value === undefined ? 0 : countNodes(entry.value)),
          0,
        )
      );
    case 'comprehensionExpr': {
      const loop = kind.value;
      return (
        1 +
        [loop.iterRange, loop.accuInit, loop.loopCondition, loop.loopStep, loop.result].reduce(
          (sum, part) => sum + (part === undefined ? 0 : countNodes(part)),
          0,
        )
      );
    }
    default:
      return 1;
  }
}
