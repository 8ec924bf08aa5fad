/**
 * Comparison expressions (ExpressionCompare, src/mongo/db/pipeline/expression.cpp): $eq $ne $gt
 * $gte $lt $lte give a bool and $cmp an int -1/0/1, by Value::compare: BSON order across all types
 * (canonical type first), numbers compared exactly across int/long/double/decimal (NaN equal to
 * NaN and below every other number), missing equal to undefined and below null, strings by the
 * operation's collation. Exactly two operands (16020).
 */
import { Int32 } from 'bson';
import { computed, fixedArity, type Node, type OperatorParser, type OperatorTable, type ParseContext } from './node.js';

const MINUS_ONE = new Int32(-1);
const ZERO = new Int32(0);
const ONE = new Int32(1);

function comparison(test: (c: number) => unknown): OperatorParser {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const children = fixedArity(op, arg, 2, ctx);
    const a = children[0]!.evaluate;
    const b = children[1]!.evaluate;
    const compare = ctx.compare;
    return computed((s) => {
      const x = a(s);
      return test(compare(x, b(s)));
    }, children);
  };
}

export const comparisonOperators: OperatorTable = {
  $eq: comparison((c) => c === 0),
  $ne: comparison((c) => c !== 0),
  $gt: comparison((c) => c > 0),
  $gte: comparison((c) => c >= 0),
  $lt: comparison((c) => c < 0),
  $lte: comparison((c) => c <= 0),
  $cmp: comparison((c) => (c < 0 ? MINUS_ONE : c > 0 ? ONE : ZERO)),
};
