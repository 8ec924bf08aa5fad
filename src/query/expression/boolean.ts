/**
 * Boolean expressions (ExpressionAnd, ExpressionOr, ExpressionNot; evaluate_logical.cpp):
 * $and and $or take any number of operands, evaluate them left to right and stop at the first that
 * decides (Value::coerceToBool); no operands: $and true, $or false. $not takes exactly one.
 */
import { computed, fixedArity, variadic, type Node, type OperatorTable, type ParseContext } from './node.js';
import { coerceToBool } from './values.js';

function parseAndOr(isAnd: boolean) {
  return (arg: unknown, ctx: ParseContext): Node => {
    const children = variadic(arg, ctx);
    const evals = children.map((c) => c.evaluate);
    return computed((s) => {
      for (const e of evals) {
        if (coerceToBool(e(s)) !== isAnd) return !isAnd;
      }
      return isAnd;
    }, children);
  };
}

function parseNot(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 1, ctx);
  const a = children[0]!.evaluate;
  return computed((s) => !coerceToBool(a(s)), children);
}

export const booleanOperators: OperatorTable = {
  $and: parseAndOr(true),
  $or: parseAndOr(false),
  $not: parseNot,
};
