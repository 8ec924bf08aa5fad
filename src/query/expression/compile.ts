/**
 * mongod 7.0's aggregation expression language, evaluated on stored BSON values (documents decoded
 * with `promoteValues: false`): an expression is compiled once (parsing raises mongod's errors with
 * mongod's codes and texts) and evaluated per document without re-parsing.
 *
 * Parsing follows src/mongo/db/pipeline/expression.cpp (Expression::parseOperand/parseObject/
 * parseExpression, ExpressionFieldPath::parse, ExpressionObject::parse, ExpressionArray,
 * ExpressionConstant, ExpressionLet) and src/mongo/db/pipeline/variables.cpp (variable names,
 * VariablesParseState::getVariable):
 * - a string starting with "$" is a field path ("$a.b", read from CURRENT) or a variable
 *   ("$$name", "$$name.path"); other scalars are constants;
 * - an array is an array of expressions (a missing element becomes null);
 * - a document whose first field starts with "$" is an operator and must have exactly one field
 *   (15983); an unknown operator is InvalidPipelineOperator (168) "Unrecognized expression '$x'";
 *   an operator mongod has and this evaluator does not is refused at parse time with 115 so a
 *   caller can fall back; any other document is a document of expressions (field names checked as
 *   FieldPath does: 15998, 16410, 16411, 16412), {} a constant;
 * - variables: ROOT, CURRENT (rebindable), REMOVE (missing), NOW, the caller's user variables
 *   (ExpressionOptions.variables, values in Scope.variables), and those bound inside the
 *   expression by $let, $map, $filter, $reduce; an unknown name is 17276.
 *
 * Field paths traverse as ExpressionFieldPath::evaluatePath does: documents are entered; an array
 * maps the rest of the path over its elements, dropping non-documents and elements without the
 * field; numeric components are field names, never array indexes. The value returned for a path is
 * the stored object itself (a Decimal128 keeps its bytes).
 *
 * Results are BSON values (bson Int32/Long/Double/Decimal128 for numbers, never plain JS numbers
 * from arithmetic); `undefined` is a missing value. Returned values may be stored objects or
 * values shared between evaluations: callers must not mutate them.
 */
import type { Document } from 'bson';
import { bsonText } from '../../bson/bsonText.js';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import { collatorFor, comparatorFor } from '../match/collation.js';
import { fieldPathParts } from '../match/expr.js';
import { getField, isPrototypeName, MISSING, objectKind } from '../match/values.js';
import { arithmeticOperators } from './arithmetic.js';
import { arrayOperators } from './array.js';
import { booleanOperators } from './boolean.js';
import { comparisonOperators } from './comparison.js';
import { conditionalOperators } from './conditional.js';
import { dateOperators } from './date.js';
import {
  computed,
  constantNode,
  isDigit,
  isLower,
  isUpper,
  validateVariableNameForWrite,
  fail,
  isArgumentObject,
  refuse,
  refuseOperator,
  type Node,
  type OperatorParser,
  type OperatorTable,
  type ParseContext,
  type Scope,
} from './node.js';
import { metaOperators } from './meta.js';
import { objectOperators } from './object.js';
import { percentileOperators } from './percentile.js';
import { setOperators } from './set.js';
import { stringOperators } from './string.js';
import { trigonometryOperators } from './trigonometry.js';
import { typeOperators } from './type.js';
import { defineField } from './values.js';
import { finalRefusal } from '../queryErrors.js';

export type { Scope } from './node.js';
export { coerceToBool } from './values.js';

export interface ExpressionOptions {
  /** The operation's collation (string comparisons in $eq/$lt/..., $in, $indexOfArray, set operators, $max/$min...). */
  readonly collation?: Document;
  /** Names of the user variables in scope ($$name from `let`, $let, $map's `as`, ...): an unknown $$name is mongod's error 17276 at parse time. */
  readonly variables?: readonly string[];
}

export interface CompiledExpression {
  /** The value, on BSON values; `undefined` means missing (a $project/$addFields field that evaluates to missing is left out; $$REMOVE is missing). */
  evaluate(scope: Scope): unknown;
  /** True when the expression is a constant (no field paths or variables), for the callers' optimisations. */
  readonly constant: boolean;
}

/** Variables at evaluation time for a document: ROOT and CURRENT are the document. */
export function scopeFor(root: Document, now: Date, variables: ReadonlyMap<string, unknown> = new Map()): Scope {
  return { root, current: root, now, variables };
}

// ---------------------------------------------------------------------------------------------
// Operators

/** 7.0 operators this evaluator refuses (115) so that callers fall back. */
const REFUSED: readonly string[] = [
  '$expr',
  '$toHashedIndexKey',
  '$_internalJsEmit',
  '$_internalFindAllValuesAtPath',
  '$_internalFleEq',
  '$_internalFleBetween',
  '$_internalKeyStringValue',
  '$_internalSortKey',
  '$_internalOwningShard',
  '$_internalIndexKey',
];

const OPERATORS: ReadonlyMap<string, OperatorParser> = (() => {
  const table = new Map<string, OperatorParser>();
  const families: OperatorTable[] = [
    arithmeticOperators,
    comparisonOperators,
    booleanOperators,
    conditionalOperators,
    arrayOperators,
    setOperators,
    stringOperators,
    typeOperators,
    objectOperators,
    dateOperators,
    metaOperators,
    trigonometryOperators,
    percentileOperators,
    { $literal: parseLiteral, $const: parseLiteral, $let: parseLet },
    // Server-side JavaScript: refused for good (no fallback runs it), as $where and $accumulator.
    {
      $function: () => {
        throw finalRefusal('server-side JavaScript ($function)');
      },
    },
  ];
  for (const family of families) {
    for (const [name, parser] of Object.entries(family)) {
      if (table.has(name)) throw new Error(`duplicate expression operator ${name}`);
      table.set(name, parser);
    }
  }
  for (const name of REFUSED) {
    if (!table.has(name)) table.set(name, (_arg, _ctx, op) => {
      throw refuseOperator(op);
    });
  }
  return table;
})();

/** Whether `name` is an expression operator mongod 7.0 knows (implemented here or refused). */
export function isExpressionOperator(name: string): boolean {
  return OPERATORS.has(name);
}

// ---------------------------------------------------------------------------------------------
// Variables

/** A variable bound inside the expression: its name and slot, innermost first. */
interface Binding {
  readonly name: string;
  readonly slot: number;
  readonly next: Binding | undefined;
}

const BUILTINS = new Set(['ROOT', 'REMOVE', 'NOW', 'CLUSTER_TIME', 'JS_SCOPE', 'IS_MR', 'USER_ROLES', 'SEARCH_META']);

/** Variables::validateNameForUserRead ("$$name"). */
function validateVariableNameForRead(name: string): void {
  if (name.length === 0) throw fail(LocationCodes.VariableReadEmpty, 'empty variable names are not allowed');
  const c0 = name.charCodeAt(0);
  if (!(isLower(c0) || isUpper(c0) || c0 >= 0x80)) {
    throw fail(LocationCodes.VariableReadBadFirst, `'${name}' starts with an invalid character for a user variable name`);
  }
  for (let i = 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!(isLower(c) || isUpper(c) || isDigit(c) || c === 95 || c >= 0x80)) {
      throw fail(
        LocationCodes.VariableReadBadChar,
        `'${name}' contains an invalid character for a variable name: '${name[i]!}'`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Field paths

/** ExpressionFieldPath::evaluatePath from component `i` of a document. */
function evaluatePath(doc: unknown, parts: readonly string[], proto: readonly boolean[], i: number): unknown {
  const v = getField(doc, parts[i]!, proto[i]!);
  if (v === MISSING) return undefined;
  if (i === parts.length - 1) return v;
  if (Array.isArray(v)) return evaluatePathArray(v, parts, proto, i + 1);
  if (objectKind(v) !== 0) return evaluatePath(v, parts, proto, i + 1);
  return undefined;
}

function evaluatePathArray(arr: readonly unknown[], parts: readonly string[], proto: readonly boolean[], i: number): unknown[] {
  const out: unknown[] = [];
  for (const el of arr) {
    if (objectKind(el) === 0) continue;
    const v = evaluatePath(el, parts, proto, i);
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** Reads a path below a variable's value (a document, or an array mapped element-wise). */
function pathReader(parts: readonly string[]): ((base: unknown) => unknown) | undefined {
  if (parts.length === 0) return undefined;
  const proto = parts.map(isPrototypeName);
  return (base) => {
    if (Array.isArray(base)) return evaluatePathArray(base, parts, proto, 0);
    if (objectKind(base) === 0) return undefined;
    return evaluatePath(base, parts, proto, 0);
  };
}

/** FieldPath's checks of a path's components, plus embedded nulls. */
function checkedParts(path: string): string[] {
  if (path.includes('\0')) throw fail(LocationCodes.FieldPathNullByte, "FieldPath field names may not contain '\0'.");
  return fieldPathParts(path);
}

// ---------------------------------------------------------------------------------------------
// The parser

class Parser implements ParseContext {
  constructor(
    readonly frame: unknown[],
    readonly compare: ParseContext['compare'],
    readonly collator: Intl.Collator | undefined,
    private readonly userVariables: ReadonlySet<string>,
    private readonly bindings: Binding | undefined,
  ) {}

  define(names: readonly string[]): { ctx: ParseContext; slots: number[] } {
    let bindings = this.bindings;
    const slots: number[] = [];
    for (const name of names) {
      const slot = this.frame.length;
      this.frame.push(undefined);
      slots.push(slot);
      bindings = { name, slot, next: bindings };
    }
    return { ctx: new Parser(this.frame, this.compare, this.collator, this.userVariables, bindings), slots };
  }

  parse(expr: unknown): Node {
    if (typeof expr === 'string') return expr.startsWith('$') ? this.parseFieldPath(expr) : constantNode(expr);
    if (Array.isArray(expr)) return this.parseArray(expr);
    if (isArgumentObject(expr)) {
      const keys = Object.keys(expr);
      if (keys.length === 0) return constantNode({});
      if (keys[0]!.startsWith('$')) return this.parseOperator(expr, keys);
      return this.parseObject(expr, keys);
    }
    return constantNode(expr);
  }

  private parseOperator(expr: Record<string, unknown>, keys: readonly string[]): Node {
    if (keys.length !== 1) {
      throw fail(
        LocationCodes.ExpressionNotSingleField,
        `An object representing an expression must have exactly one field: ${objectText(expr)}`,
      );
    }
    const op = keys[0]!;
    const parser = OPERATORS.get(op);
    if (parser === undefined) throw fail(ErrorCodes.InvalidPipelineOperator, `Unrecognized expression '${op}'`);
    return parser(expr[op], this, op);
  }

  private parseArray(items: readonly unknown[]): Node {
    const children = items.map((e) => this.parse(e));
    const evals = children.map((c) => c.evaluate);
    const n = evals.length;
    return computed((scope) => {
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) {
        const v = evals[i]!(scope);
        out[i] = v === undefined ? null : v;
      }
      return out;
    }, children);
  }

  private parseObject(expr: Record<string, unknown>, keys: readonly string[]): Node {
    for (const k of keys) checkFieldName(k);
    const children = keys.map((k) => this.parse(expr[k]));
    const evals = children.map((c) => c.evaluate);
    const n = keys.length;
    return computed((scope) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const v = evals[i]!(scope);
        if (v !== undefined) defineField(out, keys[i]!, v);
      }
      return out;
    }, children);
  }

  private parseFieldPath(text: string): Node {
    if (text.includes('\0')) throw fail(LocationCodes.FieldPathEmbeddedNull, 'field path must not contain embedded null characters');
    if (text.length < 2) throw fail(LocationCodes.FieldPathDollarAlone, "'$' by itself is not a valid FieldPath");
    if (text[1] === '$') {
      const body = text.slice(2);
      const dot = body.indexOf('.');
      const name = dot < 0 ? body : body.slice(0, dot);
      validateVariableNameForRead(name);
      const parts = dot < 0 ? [] : checkedParts(body.slice(dot + 1));
      return this.variableNode(name, parts, `$${body}`);
    }
    const parts = checkedParts(text.slice(1));
    return this.variableNode('CURRENT', parts, `$CURRENT.${text.slice(1)}`);
  }

  private variableNode(name: string, parts: readonly string[], fullPath: string): Node {
    const read = pathReader(parts);
    const base = this.variableReader(name);
    const evaluate = read === undefined ? base : (scope: Scope) => read(base(scope));
    return { evaluate, constant: false, fieldPath: fullPath };
  }

  /** VariablesParseState::getVariable, then the value's reader. */
  private variableReader(name: string): (scope: Scope) => unknown {
    for (let b = this.bindings; b !== undefined; b = b.next) {
      if (b.name === name) {
        const frame = this.frame;
        const slot = b.slot;
        return () => frame[slot];
      }
    }
    if (this.userVariables.has(name)) return (scope) => scope.variables.get(name);
    switch (name) {
      case 'ROOT':
        return (scope) => scope.root;
      case 'CURRENT':
        return (scope) => scope.current;
      case 'REMOVE':
        return () => undefined;
      case 'NOW':
        return (scope) => scope.now;
      case 'JS_SCOPE':
        return () => {
          throw fail(LocationCodes.JsScopeUndefined, "Use of undefined variable '$$JS_SCOPE'.");
        };
      case 'IS_MR':
        return () => {
          throw fail(LocationCodes.IsMrUndefined, "Use of undefined variable '$$IS_MR'.");
        };
      default:
        if (BUILTINS.has(name)) throw refuse(`the system variable $$${name}`);
        throw new MongoError(LocationCodes.UndefinedVariable, `Use of undefined variable: ${name}`);
    }
  }
}

/** FieldPath::uassertValidFieldName for the fields of an expression object. */
function checkFieldName(name: string): void {
  if (name.length === 0) throw fail(LocationCodes.FieldPathEmptyComponent, 'FieldPath field names may not be empty strings.');
  if (name.startsWith('$') && name !== '$id' && name !== '$ref' && name !== '$db') {
    throw fail(LocationCodes.FieldPathDollarPrefix, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
  }
  if (name.includes('\0')) throw fail(LocationCodes.FieldPathNullByte, "FieldPath field names may not contain '\0'.");
  if (name.includes('.')) {
    throw fail(LocationCodes.FieldPathDot, "FieldPath field names may not contain '.'. Consider using $getField or $setField.");
  }
}

/** BSONObj::toString of an operator document, as 15983 quotes it. */
function objectText(expr: Record<string, unknown>): string {
  const parts = Object.keys(expr).map((k) => `${k}: ${specText(expr[k])}`);
  return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`;
}

function specText(v: unknown): string {
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[ ${v.map(specText).join(', ')} ]`;
  if (isArgumentObject(v)) return objectText(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) && Math.abs(v) <= 2147483647 ? String(v) : doubleSpecText(v);
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && (v as { _bsontype?: unknown })._bsontype === 'Double') return doubleSpecText((v as { value: number }).value);
  if (typeof v === 'object' && (v as { _bsontype?: unknown })._bsontype === 'Int32') return String((v as { value: number }).value);
  if (typeof v === 'object' && (v as { _bsontype?: unknown })._bsontype === 'Long') return String(v);
  return bsonText(v);
}

function doubleSpecText(d: number): string {
  return Number.isInteger(d) ? `${d}.0` : String(d);
}

// ---------------------------------------------------------------------------------------------
// $literal, $let

function parseLiteral(arg: unknown): Node {
  return constantNode(arg);
}

/** ExpressionLet::parse: {vars: {name: expr, ...}, in: expr}; vars see only the outer scope. */
function parseLet(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) throw fail(LocationCodes.LetNotObject, '$let only supports an object as its argument');
  let vars: unknown;
  let hasVars = false;
  let inExpr: unknown;
  let hasIn = false;
  for (const k of Object.keys(arg)) {
    if (k === 'vars') {
      vars = arg[k];
      hasVars = true;
    } else if (k === 'in') {
      inExpr = arg[k];
      hasIn = true;
    } else {
      throw fail(LocationCodes.LetUnknownParameter, `Unrecognized parameter to $let: ${k}`);
    }
  }
  if (!hasVars) throw fail(LocationCodes.LetMissingVars, "Missing 'vars' parameter to $let");
  if (!hasIn) throw fail(LocationCodes.LetMissingIn, "Missing 'in' parameter to $let");
  if (!isArgumentObject(vars)) throw fail(LocationCodes.ExpectedObject, 'invalid parameter: expected an object (vars)');
  const names = Object.keys(vars);
  const values = names.map((n) => ctx.parse(vars[n]));
  for (const n of names) validateVariableNameForWrite(n);
  const { ctx: inner, slots } = ctx.define(names);
  const body = inner.parse(inExpr);
  const frame = ctx.frame;
  const evals = values.map((v) => v.evaluate);
  const bodyEval = body.evaluate;
  const n = names.length;
  return {
    constant: false,
    evaluate(scope) {
      for (let i = 0; i < n; i++) frame[slots[i]!] = evals[i]!(scope);
      return bodyEval(scope);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Entry

/**
 * Compiles an aggregation expression. Throws MongoError at parse time with mongod's code and text
 * for a malformed expression, 168 for an unknown operator and 115 for an operator (or a form of
 * one) this evaluator refuses.
 */
export function compileExpression(expr: unknown, options: ExpressionOptions = {}): CompiledExpression {
  const collator = collatorFor(options.collation);
  const parser = new Parser([], comparatorFor(collator), collator, new Set(options.variables ?? []), undefined);
  const node = parser.parse(expr);
  return { evaluate: node.evaluate, constant: node.constant };
}

/** Variables::validateNameForUserWrite, for callers that bind variables (a command's `let`). */
export { validateVariableNameForWrite } from './node.js';
