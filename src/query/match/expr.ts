/**
 * The part of mongod's aggregation expression language that $expr filters and find projections
 * evaluate here, exactly; everything else is refused with 115 ("pocketmongo does not support <op>
 * inside $expr yet") so that a caller can route it elsewhere rather than get a guess.
 *
 * Supported (src/mongo/db/pipeline/expression.cpp semantics):
 * - field paths "$a.b" (ExpressionFieldPath::evaluatePath: documents are entered, an array maps
 *   the rest of the path over its document elements, dropping elements without the field and
 *   non-document elements; numeric components are field names), "$$ROOT", "$$CURRENT",
 *   "$$REMOVE" (missing), "$$name" / "$$name.path" from the caller's variables (`let`);
 * - constants: scalars, {$literal: v}, arrays (each element evaluated, a missing one becomes null),
 *   documents without operators whose values are constants;
 * - $eq $ne $gt $gte $lt $lte (exactly 2 arguments; Value::compare: BSON order across all types,
 *   exact numbers, missing equal to undefined and below null, strings by the collation);
 * - $and $or (any number of arguments, Value::coerceToBool each) and $not (exactly 1).
 */
import type { Document } from 'bson';
import { type ValueCompare } from './collation.js';
import { LocationCodes } from '../../errors.js';
import { located, notSupported } from '../queryErrors.js';
import { bsonTypeOf, BSON_TYPE, getField, isDocument, isPrototypeName, MISSING, objectKind } from './values.js';

/** An evaluated expression: a value, or MISSING. */
export type Evaluate = (root: unknown) => unknown;

export interface CompiledExpression {
  readonly evaluate: Evaluate;
  /** Set when the expression is a constant (its value). */
  readonly constant?: { readonly value: unknown };
}

export interface ExpressionContext {
  readonly compare: ValueCompare;
  readonly variables?: Document | undefined;
}

const SUPPORTED = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$and', '$or', '$not', '$literal']);

/** Value::coerceToBool. */
export function coerceToBool(v: unknown): boolean {
  if (v === MISSING || v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  switch (bsonTypeOf(v)) {
    case BSON_TYPE.int:
    case BSON_TYPE.double: {
      const d = typeof v === 'number' ? v : +(v as { value: number }).value;
      return d !== 0; // NaN is true, as a C++ double converts
    }
    case BSON_TYPE.long:
      return typeof v === 'bigint' ? BigInt.asIntN(64, v) !== 0n : !(v as { isZero(): boolean }).isZero();
    case BSON_TYPE.decimal:
      return !/^-?0(?:\.0*)?(?:E[+-]?\d+)?$/.test((v as { toString(): string }).toString());
    default:
      return true;
  }
}

/** A value for comparisons: missing compares as undefined (both canonical type 0). */
function comparable(v: unknown): unknown {
  return v === MISSING ? undefined : v;
}

/** Validates the components of a field path as FieldPath does (field_path.cpp). */
export function fieldPathParts(path: string): string[] {
  if (path.endsWith('.')) throw located(LocationCodes.FieldPathTrailingDot, "FieldPath must not end with a '.'.");
  const parts = path.split('.');
  for (const p of parts) {
    if (p === '') throw located(LocationCodes.FieldPathEmptyComponent, 'FieldPath field names may not be empty strings.');
    if (p.startsWith('$') && p !== '$id' && p !== '$ref' && p !== '$db') {
      throw located(LocationCodes.FieldPathDollarPrefix, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
    }
  }
  return parts;
}

/** ExpressionFieldPath::evaluatePath from component `i` of a document. */
function evaluatePath(doc: unknown, parts: readonly string[], proto: readonly boolean[], i: number): unknown {
  const v = getField(doc, parts[i]!, proto[i]!);
  if (i === parts.length - 1) return v;
  if (Array.isArray(v)) return evaluatePathArray(v, parts, proto, i + 1);
  if (isDocument(v)) return evaluatePath(v, parts, proto, i + 1);
  return MISSING;
}

function evaluatePathArray(arr: readonly unknown[], parts: readonly string[], proto: readonly boolean[], i: number): unknown[] {
  const out: unknown[] = [];
  for (const el of arr) {
    if (!isDocument(el)) continue;
    const v = evaluatePath(el, parts, proto, i);
    if (v !== MISSING) out.push(v);
  }
  return out;
}

/** A path read from a value (the root document or a variable). */
function pathReader(parts: readonly string[]): (base: unknown) => unknown {
  if (parts.length === 0) return (base) => base;
  const proto = parts.map(isPrototypeName);
  return (base) => {
    if (Array.isArray(base)) return evaluatePathArray(base, parts, proto, 0);
    if (objectKind(base) === 0) return MISSING;
    return evaluatePath(base, parts, proto, 0);
  };
}

function compileFieldPath(text: string, ctx: ExpressionContext): CompiledExpression {
  if (text.startsWith('$$')) {
    const body = text.slice(2);
    const dot = body.indexOf('.');
    const name = dot < 0 ? body : body.slice(0, dot);
    const parts = dot < 0 ? [] : fieldPathParts(body.slice(dot + 1));
    const read = pathReader(parts);
    switch (name) {
      case 'ROOT':
      case 'CURRENT':
        return { evaluate(root) { return read(root); } };
      case 'REMOVE':
        return { evaluate() { return MISSING; } };
      default:
        break;
    }
    if (name === '' || !/^[a-z\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*$/.test(name)) throw notSupported(`the variable reference '${text}' inside $expr`);
    const vars = ctx.variables;
    if (vars === undefined || !Object.hasOwn(vars, name)) {
      if (/^[A-Z]/.test(name) || name === 'NOW') throw notSupported(`the system variable $$${name} inside $expr`);
      throw located(LocationCodes.UndefinedVariable, `Use of undefined variable: ${name}`);
    }
    const value = vars[name];
    const v = read(value);
    return {
      evaluate() {
        return v;
      },
      constant: { value: v },
    };
  }
  if (text === '$') throw notSupported("the field path '$' inside $expr");
  const read = pathReader(fieldPathParts(text.slice(1)));
  return { evaluate(root) { return read(root); } };
}

function constant(value: unknown): CompiledExpression {
  return {
    evaluate() {
      return value;
    },
    constant: { value },
  };
}

/** The operands of an n-ary or fixed-arity operator: its array, or the one value. */
function operands(arg: unknown): unknown[] {
  return Array.isArray(arg) ? arg : [arg];
}

function fixedArity(op: string, arg: unknown, n: number, ctx: ExpressionContext): CompiledExpression[] {
  const args = operands(arg);
  if (args.length !== n) {
    throw located(LocationCodes.ExpressionArity, `Expression ${op} takes exactly ${n} arguments. ${args.length} were passed in.`);
  }
  return args.map((a) => compileExpression(a, ctx));
}

function comparison(op: string, arg: unknown, ctx: ExpressionContext): CompiledExpression {
  const [a, b] = fixedArity(op, arg, 2, ctx) as [CompiledExpression, CompiledExpression];
  const compare = ctx.compare;
  let test: (c: number) => boolean;
  switch (op) {
    case '$eq':
      test = (c) => c === 0;
      break;
    case '$ne':
      test = (c) => c !== 0;
      break;
    case '$gt':
      test = (c) => c > 0;
      break;
    case '$gte':
      test = (c) => c >= 0;
      break;
    case '$lt':
      test = (c) => c < 0;
      break;
    default:
      test = (c) => c <= 0;
      break;
  }
  const ea = a.evaluate;
  const eb = b.evaluate;
  return { evaluate(root) { return test(compare(comparable(ea(root)), comparable(eb(root)))); } };
}

/**
 * Compiles an aggregation expression (the subset above). Throws 115 for operators and forms not
 * evaluated here, and mongod's errors for the malformed supported ones.
 */
export function compileExpression(expr: unknown, ctx: ExpressionContext): CompiledExpression {
  if (typeof expr === 'string') return expr.startsWith('$') ? compileFieldPath(expr, ctx) : constant(expr);
  if (Array.isArray(expr)) {
    const items = expr.map((e) => compileExpression(e, ctx));
    if (items.every((i) => i.constant !== undefined)) return constant(items.map((i) => (i.constant!.value === MISSING ? null : i.constant!.value)));
    return {
      evaluate: (root) =>
        items.map((i) => {
          const v = i.evaluate(root);
          return v === MISSING ? null : v;
        }),
    };
  }
  if (objectKind(expr) !== 1) return constant(expr);
  const obj = expr as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length > 0 && keys[0]!.startsWith('$')) {
    const op = keys[0]!;
    if (keys.length !== 1) throw notSupported(`an expression object with several fields (${keys.join(', ')}) inside $expr`);
    if (!SUPPORTED.has(op)) throw notSupported(`${op} inside $expr`);
    const arg = obj[op];
    switch (op) {
      case '$literal':
        return constant(arg);
      case '$and':
      case '$or': {
        const items = operands(arg).map((a) => compileExpression(a, ctx).evaluate);
        const isAnd = op === '$and';
        return {
          evaluate(root) {
            for (const item of items) {
              if (coerceToBool(item(root)) !== isAnd) return !isAnd;
            }
            return isAnd;
          },
        };
      }
      case '$not': {
        const [a] = fixedArity(op, arg, 1, ctx) as [CompiledExpression];
        return { evaluate(root) { return !coerceToBool(a.evaluate(root)); } };
      }
      default:
        return comparison(op, arg, ctx);
    }
  }
  // A document of expressions (ExpressionObject): supported when every value is a constant.
  for (const k of keys) {
    if (k.startsWith('$') || k.includes('.')) throw notSupported(`the field name '${k}' in an expression object inside $expr`);
  }
  const fields = keys.map((k) => [k, compileExpression(obj[k], ctx)] as const);
  if (fields.every(([, f]) => f.constant !== undefined)) {
    const out: Record<string, unknown> = {};
    for (const [k, f] of fields) {
      if (f.constant!.value !== MISSING) {
        if (k === '__proto__') Object.defineProperty(out, k, { value: f.constant!.value, enumerable: true, writable: true, configurable: true });
        else out[k] = f.constant!.value;
      }
    }
    return constant(out);
  }
  throw notSupported('expression objects with computed fields inside $expr');
}
