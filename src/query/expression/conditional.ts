/**
 * Conditional expressions (src/mongo/db/pipeline/expression.cpp: ExpressionCond, ExpressionIfNull,
 * ExpressionSwitch):
 * - $cond: [if, then, else] (exactly 3, 16020) or {if, then, else} (17080/17081/17082 missing,
 *   17083 unknown parameter); the condition by Value::coerceToBool; only the chosen branch is
 *   evaluated;
 * - $ifNull: two or more operands (1257300); the first that is not null/missing/undefined, else the
 *   last one's value as it is (possibly missing);
 * - $switch: {branches: [{case, then}, ...], default} (40060..40068); the first branch whose case
 *   is true; no match and no default: 40066 at evaluation.
 */
import { LocationCodes } from '../../errors.js';
import {
  computed,
  fail,
  fixedArity,
  isArgumentObject,
  variadic,
  type Node,
  type OperatorTable,
  type ParseContext,
} from './node.js';
import { coerceToBool, nullish, typeName } from './values.js';

function condNode(c: Node, t: Node, e: Node): Node {
  const ce = c.evaluate;
  const te = t.evaluate;
  const ee = e.evaluate;
  return computed((s) => (coerceToBool(ce(s)) ? te(s) : ee(s)), [c, t, e]);
}

function parseCond(arg: unknown, ctx: ParseContext, op: string): Node {
  if (!isArgumentObject(arg)) {
    const [c, t, e] = fixedArity(op, arg, 3, ctx) as [Node, Node, Node];
    return condNode(c, t, e);
  }
  let ifExpr: Node | undefined;
  let thenExpr: Node | undefined;
  let elseExpr: Node | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'if') ifExpr = ctx.parse(arg[k]);
    else if (k === 'then') thenExpr = ctx.parse(arg[k]);
    else if (k === 'else') elseExpr = ctx.parse(arg[k]);
    else throw fail(LocationCodes.CondUnknownParameter, `Unrecognized parameter to $cond: ${k}`);
  }
  if (ifExpr === undefined) throw fail(LocationCodes.CondMissingIf, "Missing 'if' parameter to $cond");
  if (thenExpr === undefined) throw fail(LocationCodes.CondMissingThen, "Missing 'then' parameter to $cond");
  if (elseExpr === undefined) throw fail(LocationCodes.CondMissingElse, "Missing 'else' parameter to $cond");
  return condNode(ifExpr, thenExpr, elseExpr);
}

function parseIfNull(arg: unknown, ctx: ParseContext): Node {
  const children = variadic(arg, ctx);
  if (children.length < 2) {
    throw fail(LocationCodes.IfNullArity, `$ifNull needs at least two arguments, had: ${children.length}`);
  }
  const evals = children.map((c) => c.evaluate);
  const last = evals.length - 1;
  return computed((s) => {
    for (let i = 0; i < last; i++) {
      const v = evals[i]!(s);
      if (!nullish(v)) return v;
    }
    return evals[last]!(s);
  }, children);
}

function parseSwitch(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) {
    throw fail(LocationCodes.SwitchNotObject, `$switch requires an object as an argument, found: ${typeName(arg)}`);
  }
  const cases: Node[] = [];
  const thens: Node[] = [];
  let dflt: Node | undefined;
  for (const field of Object.keys(arg)) {
    const value = arg[field];
    if (field === 'branches') {
      if (!Array.isArray(value)) {
        throw fail(LocationCodes.SwitchBranchesNotArray, `$switch expected an array for 'branches', found: ${typeName(value)}`);
      }
      for (const branch of value as unknown[]) {
        if (!isArgumentObject(branch)) {
          throw fail(LocationCodes.SwitchBranchNotObject, `$switch expected each branch to be an object, found: ${typeName(branch)}`);
        }
        let c: Node | undefined;
        let t: Node | undefined;
        for (const k of Object.keys(branch)) {
          if (k === 'case') c = ctx.parse(branch[k]);
          else if (k === 'then') t = ctx.parse(branch[k]);
          else throw fail(LocationCodes.SwitchBranchUnknownArgument, `$switch found an unknown argument to a branch: ${k}`);
        }
        if (c === undefined) throw fail(LocationCodes.SwitchBranchMissingCase, "$switch requires each branch have a 'case' expression");
        if (t === undefined) throw fail(LocationCodes.SwitchBranchMissingThen, "$switch requires each branch have a 'then' expression.");
        cases.push(c);
        thens.push(t);
      }
    } else if (field === 'default') {
      dflt = ctx.parse(value);
    } else {
      throw fail(LocationCodes.SwitchUnknownArgument, `$switch found an unknown argument: ${field}`);
    }
  }
  if (cases.length === 0) throw fail(LocationCodes.SwitchNoBranches, '$switch requires at least one branch.');
  const caseEvals = cases.map((c) => c.evaluate);
  const thenEvals = thens.map((t) => t.evaluate);
  const defaultEval = dflt?.evaluate;
  const n = caseEvals.length;
  return computed(
    (s) => {
      for (let i = 0; i < n; i++) {
        if (coerceToBool(caseEvals[i]!(s))) return thenEvals[i]!(s);
      }
      if (defaultEval === undefined) {
        throw fail(LocationCodes.SwitchNoMatch, '$switch could not find a matching branch for an input, and no default was specified.');
      }
      return defaultEval(s);
    },
    [...cases, ...thens, dflt],
  );
}

export const conditionalOperators: OperatorTable = {
  $cond: parseCond,
  $ifNull: parseIfNull,
  $switch: parseSwitch,
};
