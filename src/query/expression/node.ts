/**
 * The compiled form shared by the operator families: a Node evaluates against a Scope, and a
 * ParseContext lets an operator's parser parse its operands (in the current variable scope or a
 * nested one) and reach the operation's collation. Also the argument-count checks of mongod's
 * ExpressionFixedArity / ExpressionRangedArity (src/mongo/db/pipeline/expression.h).
 */
import type { Document } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import type { ValueCompare } from '../match/collation.js';

/** Variables at evaluation time (see compile.ts). */
export interface Scope {
  readonly root: Document;
  readonly current: Document;
  readonly now: Date;
  readonly variables: ReadonlyMap<string, unknown>;
}

export type Evaluate = (scope: Scope) => unknown;

export interface Node {
  readonly evaluate: Evaluate;
  /** No field paths, no variables, nothing nondeterministic below: the value never changes. */
  readonly constant: boolean;
  /** Set for an ExpressionConstant (a literal, $literal, $const): its value. */
  readonly literal?: { readonly value: unknown };
  /** Set for a field path or variable reference: mongod's fullPathWithPrefix ("$CURRENT.a", "$x"). */
  readonly fieldPath?: string;
}

export interface ParseContext {
  /** Parses an operand (Expression::parseOperand) in the current variable scope. */
  parse(expr: unknown): Node;
  /**
   * A context whose variable scope adds `names` (already validated), each bound to a fresh slot
   * of `frame`; returns the slots in the order of the names.
   */
  define(names: readonly string[]): { readonly ctx: ParseContext; readonly slots: readonly number[] };
  /** Storage of the variables bound inside the expression ($let, $map's "as", ...). */
  readonly frame: unknown[];
  /** Comparison under the operation's collation (strings by the collator, the rest BSON order). */
  readonly compare: ValueCompare;
  /** The collator, when the collation is not the simple one. */
  readonly collator: Intl.Collator | undefined;
}

export type OperatorParser = (arg: unknown, ctx: ParseContext, op: string) => Node;
export type OperatorTable = Readonly<Record<string, OperatorParser>>;

// ---------------------------------------------------------------------------------------------
// Node construction

export function constantNode(value: unknown): Node {
  return {
    evaluate() {
      return value;
    },
    constant: true,
    literal: { value },
  };
}

/**
 * A node computed from its children. When every child is constant the node is constant and its
 * value is computed once, on first use (errors are raised when it is used, and again each time).
 */
export function computed(evaluate: Evaluate, children: readonly (Node | undefined)[], deterministic = true): Node {
  const constant = deterministic && children.every((c) => c === undefined || c.constant);
  if (!constant) return { evaluate, constant: false };
  let done = false;
  let cached: unknown;
  return {
    constant: true,
    evaluate(scope) {
      if (!done) {
        cached = evaluate(scope);
        done = true;
      }
      return cached;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Arguments

/** ExpressionNary::parseArguments: an array's elements, or the one operand. */
export function operandList(arg: unknown): readonly unknown[] {
  return Array.isArray(arg) ? arg : [arg];
}

export function parseAll(args: readonly unknown[], ctx: ParseContext): Node[] {
  return args.map((a) => ctx.parse(a));
}

/** ExpressionFixedArity: exactly `n` operands (16020). */
export function fixedArity(op: string, arg: unknown, n: number, ctx: ParseContext): Node[] {
  const args = operandList(arg);
  if (args.length !== n) {
    throw new MongoError(
      LocationCodes.ExpressionArity,
      `Expression ${op} takes exactly ${n} arguments. ${args.length} were passed in.`,
    );
  }
  return parseAll(args, ctx);
}

/** ExpressionRangedArity: between `min` and `max` operands (16020). */
export function rangedArity(op: string, arg: unknown, min: number, max: number, ctx: ParseContext): Node[] {
  const args = operandList(arg);
  if (args.length < min || args.length > max) {
    throw new MongoError(
      LocationCodes.ExpressionArity,
      `Expression ${op} takes at least ${min} arguments, and at most ${max}. ${args.length} were passed in.`,
    );
  }
  return parseAll(args, ctx);
}

/** ExpressionVariadic: any number of operands. */
export function variadic(arg: unknown, ctx: ParseContext): Node[] {
  return parseAll(operandList(arg), ctx);
}

// ---------------------------------------------------------------------------------------------
// Errors

export function fail(code: number, message: string): MongoError {
  return new MongoError(code, message);
}

/** The refusal callers fall back on: 115 "pocketmongo does not support <what> yet". */
export function refuse(what: string): MongoError {
  return new MongoError(ErrorCodes.CommandNotSupported, `pocketmongo does not support ${what} yet`);
}

/** The parse-time refusal of an operator this evaluator does not implement. */
export function refuseOperator(op: string): MongoError {
  return refuse(`${op} in aggregation expressions`);
}

/** Whether `v` is a plain object given as an operator's named arguments. */
export function isArgumentObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  if ((v as { _bsontype?: unknown })._bsontype !== undefined) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------------------------------------
// Variable names

export function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}
export function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}


/** Variables::validateNameForUserWrite ($let vars, $map/$filter "as"). */
export function validateVariableNameForWrite(name: string): void {
  if (name === 'CURRENT') return;
  if (name.length === 0) throw new MongoError(LocationCodes.VariableWriteEmpty, 'empty variable names are not allowed');
  const c0 = name.charCodeAt(0);
  if (!(isLower(c0) || c0 >= 0x80)) {
    throw new MongoError(LocationCodes.VariableWriteBadFirst, `'${name}' starts with an invalid character for a user variable name`);
  }
  for (let i = 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!(isLower(c) || isUpper(c) || isDigit(c) || c === 95 || c >= 0x80)) {
      throw fail(
        LocationCodes.VariableWriteBadChar,
        `'${name}' contains an invalid character for a variable name: '${name[i]!}'`,
      );
    }
  }
}

