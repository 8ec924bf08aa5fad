/**
 * Arithmetic expressions (src/mongo/db/exec/expression/evaluate_math.cpp, expression.cpp):
 * $add $subtract $multiply $divide $mod $abs $round $trunc go through ../numeric.ts (exact, with
 * mongod's type promotion and errors); $ceil $floor $sqrt $exp $ln $log $log10 $pow here; the
 * accumulator forms $sum $avg $max $min (ExpressionFromAccumulator); the bitwise $bitAnd $bitOr
 * $bitXor $bitNot; $rand.
 *
 * Doubles use JavaScript's Math (IEEE: sqrt, ceil, floor exact; exp, log, log10 and pow are within
 * an ulp of glibc's and may differ from mongod in the last bit). Decimal transcendental results
 * (Decimal128::exponential/logarithm/power/squareRoot, from the Intel library) are not reproduced:
 * those inputs are refused (115) at evaluation.
 */
import { Decimal128, Double, Int32, Long } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import { decimalCompare, decimalFromBigInt, decimalIsNaN, decimalIsNegative, decimalIsZero, decimalQuantizeLikeMongod } from '../decimal128.js';
import { abs, add, AvgAccumulator, divide, mod, multiply, round, subtract, SumAccumulator, toDecimal, trunc, type BsonNumber } from '../numeric.js';
import {
  computed,
  fail,
  fixedArity,
  isArgumentObject,
  rangedArity,
  refuse,
  variadic,
  type Node,
  type OperatorTable,
  type ParseContext,
} from './node.js';
import { BSON_TYPE, coerceToDouble, doubleText, doubleValue, intValue, longValue, nullish, typeName, typeOf } from './values.js';

// ---------------------------------------------------------------------------------------------
// $add $subtract $multiply $divide $mod

/**
 * $add and $multiply evaluate their operands left to right and stop at the first null/missing one
 * (result null) or the first one of a wrong type (an error), as AddState / MultiplyState do; the
 * values kept so far are handed to numeric.ts, which applies the same checks in the same order.
 */
function naryNumeric(fn: (...operands: unknown[]) => unknown, allowDate: boolean) {
  return (arg: unknown, ctx: ParseContext): Node => {
    const children = variadic(arg, ctx);
    const evals = children.map((c) => c.evaluate);
    const n = evals.length;
    if (n === 2) {
      const a = evals[0]!;
      const b = evals[1]!;
      return computed((s) => {
        const x = a(s);
        if (x === null || x === undefined) return null;
        if (!numericOrDate(x, allowDate)) return fn(x);
        const y = b(s);
        return fn(x, y);
      }, children);
    }
    return computed((s) => {
      const buf: unknown[] = [];
      let dates = 0;
      for (let i = 0; i < n; i++) {
        const v = evals[i]!(s);
        buf.push(v);
        // the operands so far are accumulated first (a date overflow before a null is an error)
        if (v === null || v === undefined) return fn(...buf);
        if (!numericOrDate(v, allowDate)) return fn(...buf);
        if (v instanceof Date && ++dates > 1) return fn(...buf);
      }
      return fn(...buf);
    }, children);
  };
}

function numericOrDate(v: unknown, allowDate: boolean): boolean {
  const t = typeOf(v);
  return t === BSON_TYPE.int || t === BSON_TYPE.long || t === BSON_TYPE.double || t === BSON_TYPE.decimal || (allowDate && t === BSON_TYPE.date);
}

function binary(fn: (a: unknown, b: unknown) => unknown) {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const children = fixedArity(op, arg, 2, ctx);
    const a = children[0]!.evaluate;
    const b = children[1]!.evaluate;
    return computed((s) => {
      const x = a(s);
      return fn(x, b(s));
    }, children);
  };
}

// ---------------------------------------------------------------------------------------------
// Single numeric argument: $abs $ceil $floor $sqrt $exp $ln $log10

function singleNumeric(fn: (v: unknown, op: string) => unknown) {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const [child] = fixedArity(op, arg, 1, ctx) as [Node];
    const e = child.evaluate;
    return computed((s) => {
      const v = e(s);
      if (nullish(v)) return null;
      const t = typeOf(v);
      if (t !== BSON_TYPE.int && t !== BSON_TYPE.long && t !== BSON_TYPE.double && t !== BSON_TYPE.decimal) {
        throw new MongoError(LocationCodes.SingleNumericArgNotNumeric, `${op} only supports numeric types, not ${typeName(v)}`);
      }
      return fn(v, op);
    }, [child]);
  };
}

/** An int or long (or plain number) as the bson object it is. */
function asStored(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) && v >= -2147483648 && v <= 2147483647 ? new Int32(v) : new Double(v);
  if (typeof v === 'bigint') return Long.fromBigInt(BigInt.asIntN(64, v));
  return v;
}

function ceilOrFloor(mode: 'ceiling' | 'floor') {
  return (v: unknown): unknown => {
    switch (typeOf(v)) {
      case BSON_TYPE.double: {
        const d = doubleValue(v);
        return new Double(mode === 'ceiling' ? Math.ceil(d) : Math.floor(d));
      }
      case BSON_TYPE.decimal:
        return decimalQuantizeLikeMongod(v as Decimal128, 0, mode);
      default:
        return asStored(v); // integers: unchanged
    }
  };
}

function noDecimal(v: unknown, op: string): void {
  if (typeOf(v) === BSON_TYPE.decimal) throw refuse(`${op} of a decimal value (Decimal128's transcendental functions)`);
}

function sqrtOf(v: unknown, op: string): unknown {
  if (typeOf(v) === BSON_TYPE.decimal) {
    const d = v as Decimal128;
    if (!decimalIsNaN(d) && decimalCompare(d, DECIMAL_ZERO) < 0) {
      throw fail(LocationCodes.SqrtNegative, "$sqrt's argument must be greater than or equal to 0");
    }
    noDecimal(v, op);
  }
  const x = coerceToDouble(v);
  if (x < 0) throw fail(LocationCodes.SqrtNegative, "$sqrt's argument must be greater than or equal to 0");
  return new Double(Math.sqrt(x));
}

const DECIMAL_ZERO = decimalFromBigInt(0n);
const DECIMAL_ONE = decimalFromBigInt(1n);

function expOf(v: unknown, op: string): unknown {
  noDecimal(v, op);
  return new Double(Math.exp(coerceToDouble(v)));
}

function lnOf(v: unknown, op: string): unknown {
  if (typeOf(v) === BSON_TYPE.decimal && decimalCompare(v as Decimal128, DECIMAL_ZERO) > 0) noDecimal(v, op);
  const x = coerceToDouble(v);
  if (!(x > 0 || x !== x)) throw fail(LocationCodes.LnNotPositive, `$ln's argument must be a positive number, but is ${doubleText(x)}`);
  return new Double(Math.log(x));
}

function log10Of(v: unknown, op: string): unknown {
  if (typeOf(v) === BSON_TYPE.decimal && decimalCompare(v as Decimal128, DECIMAL_ZERO) > 0) noDecimal(v, op);
  const x = coerceToDouble(v);
  if (!(x > 0 || x !== x)) throw fail(LocationCodes.Log10NotPositive, `$log10's argument must be a positive number, but is ${doubleText(x)}`);
  return new Double(Math.log10(x));
}

// ---------------------------------------------------------------------------------------------
// $log $pow

function parseLog(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 2, ctx);
  const a = children[0]!.evaluate;
  const b = children[1]!.evaluate;
  return computed((s) => {
    const x = a(s);
    const base = b(s);
    if (nullish(x) || nullish(base)) return null;
    const tx = typeOf(x);
    const tb = typeOf(base);
    if (!isNumericCode(tx)) throw fail(LocationCodes.LogArgNotNumeric, `$log's argument must be numeric, not ${typeName(x)}`);
    if (!isNumericCode(tb)) throw fail(LocationCodes.LogBaseNotNumeric, `$log's base must be numeric, not ${typeName(base)}`);
    if (tx === BSON_TYPE.decimal || tb === BSON_TYPE.decimal) {
      const xd = toDecimal(x as BsonNumber);
      const bd = toDecimal(base as BsonNumber);
      // mongod computes in decimal when the argument is > 0 and the base > 0 and != 1
      if (decimalCompare(xd, DECIMAL_ZERO) > 0 && decimalCompare(bd, DECIMAL_ONE) !== 0 && decimalCompare(bd, DECIMAL_ZERO) > 0) {
        throw refuse(`${op} of decimal values (Decimal128::logarithm)`);
      }
    }
    const xd = coerceToDouble(x);
    const bd = coerceToDouble(base);
    if (!(xd > 0 || xd !== xd)) throw fail(LocationCodes.LogArgNotPositive, `$log's argument must be a positive number, but is ${doubleText(xd)}`);
    if (!((bd > 0 && bd !== 1) || bd !== bd)) {
      throw fail(LocationCodes.LogBaseInvalid, `$log's base must be a positive number not equal to 1, but is ${doubleText(bd)}`);
    }
    return new Double(Math.log(xd) / Math.log(bd));
  }, children);
}

function isNumericCode(t: number): boolean {
  return t === BSON_TYPE.int || t === BSON_TYPE.long || t === BSON_TYPE.double || t === BSON_TYPE.decimal;
}

const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

function parsePow(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 2, ctx);
  const a = children[0]!.evaluate;
  const b = children[1]!.evaluate;
  return computed((s) => {
    const base = a(s);
    const exp = b(s);
    if (nullish(base) || nullish(exp)) return null;
    const tb = typeOf(base);
    const te = typeOf(exp);
    if (!isNumericCode(tb)) throw fail(LocationCodes.PowBaseNotNumeric, `$pow's base must be numeric, not ${typeName(base)}`);
    if (!isNumericCode(te)) throw fail(LocationCodes.PowExpNotNumeric, `$pow's exponent must be numeric, not ${typeName(exp)}`);
    if (tb === BSON_TYPE.decimal || te === BSON_TYPE.decimal) {
      if (decimalIsZero(toDecimal(base as BsonNumber)) && decimalIsNegative(toDecimal(exp as BsonNumber))) {
        throw fail(LocationCodes.PowZeroNegative, '$pow cannot take a base of 0 and a negative exponent');
      }
      throw refuse(`${op} of decimal values (Decimal128::power)`);
    }
    const bd = coerceToDouble(base);
    const ed = coerceToDouble(exp);
    if (bd === 0 && ed < 0) throw fail(LocationCodes.PowZeroNegative, '$pow cannot take a base of 0 and a negative exponent');
    if (tb === BSON_TYPE.double || te === BSON_TYPE.double) return new Double(Math.pow(bd, ed));
    const anyLong = tb === BSON_TYPE.long || te === BSON_TYPE.long;
    const format = (r: bigint): unknown => {
      if (anyLong) return Long.fromBigInt(r);
      return r >= -2147483648n && r <= 2147483647n ? new Int32(Number(r)) : Long.fromBigInt(r);
    };
    const bl = tb === BSON_TYPE.int ? BigInt(intValue(base)) : longValue(base);
    const el = te === BSON_TYPE.int ? BigInt(intValue(exp)) : longValue(exp);
    if (bl === 0n) return format(el === 0n ? 1n : 0n);
    if (bl === 1n) return format(1n);
    if (bl === -1n) return format(el % 2n === 0n ? 1n : -1n);
    const asDouble = (): unknown => new Double(Math.pow(Number(bl), Number(el)));
    if (el > 63n || el < 0n) return asDouble();
    const r = bl ** el;
    if (r < INT64_MIN || r > INT64_MAX) return asDouble();
    return format(r);
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $round $trunc

function roundOrTrunc(fn: typeof round) {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const children = rangedArity(op, arg, 1, 2, ctx);
    const a = children[0]!.evaluate;
    if (children.length === 1) return computed((s) => fn(a(s)), children);
    const p = children[1]!.evaluate;
    return computed((s) => {
      const v = a(s);
      // the value is checked before the place is evaluated (evaluateRoundOrTrunc)
      if (nullish(v)) return null;
      if (!isNumericCode(typeOf(v))) return fn(v);
      return fn(v, p(s));
    }, children);
  };
}

// ---------------------------------------------------------------------------------------------
// $sum $avg $max $min (ExpressionFromAccumulator)

interface Accumulator {
  add(v: unknown): void;
  result(): unknown;
}

function fromAccumulator(make: (ctx: ParseContext) => () => Accumulator) {
  return (arg: unknown, ctx: ParseContext): Node => {
    const children = variadic(arg, ctx);
    const evals = children.map((c) => c.evaluate);
    const create = make(ctx);
    return computed((s) => {
      const acc = create();
      if (evals.length === 1) {
        const v = evals[0]!(s);
        if (Array.isArray(v)) for (const x of v) acc.add(x);
        else acc.add(v);
      } else {
        for (const e of evals) acc.add(e(s));
      }
      return acc.result();
    }, children);
  };
}

/** AccumulatorMinMax: null/missing/undefined are ignored; none left: null. */
function minMax(sense: 1 | -1) {
  return (ctx: ParseContext) => {
    const compare = ctx.compare;
    return (): Accumulator => {
      let best: unknown;
      let seen = false;
      return {
        add(v) {
          if (nullish(v)) return;
          if (!seen || compare(best, v) * sense > 0) {
            best = v;
            seen = true;
          }
        },
        result: () => (seen ? best : null),
      };
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Bitwise

function bitwise(kind: 'and' | 'or' | 'xor') {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const children = variadic(arg, ctx);
    const evals = children.map((c) => c.evaluate);
    return computed((s) => {
      let isLong = false;
      let acc: bigint = kind === 'and' ? -1n : 0n;
      for (const e of evals) {
        const v = e(s);
        if (nullish(v)) return null;
        const t = typeOf(v);
        let x: bigint;
        if (t === BSON_TYPE.int) x = BigInt(intValue(v));
        else if (t === BSON_TYPE.long) {
          x = longValue(v);
          isLong = true;
        } else {
          throw new MongoError(ErrorCodes.TypeMismatch, `${op} only supports int and long operands.`);
        }
        acc = kind === 'and' ? acc & x : kind === 'or' ? acc | x : acc ^ x;
      }
      return isLong ? Long.fromBigInt(BigInt.asIntN(64, acc)) : new Int32(Number(BigInt.asIntN(32, acc)));
    }, children);
  };
}

function bitNot(v: unknown, op: string): unknown {
  switch (typeOf(v)) {
    case BSON_TYPE.int:
      return new Int32(~intValue(v));
    case BSON_TYPE.long:
      return Long.fromBigInt(BigInt.asIntN(64, ~longValue(v)));
    default:
      throw new MongoError(ErrorCodes.TypeMismatch, `${op} only supports int and long, not: ${typeName(v)}.`);
  }
}

// ---------------------------------------------------------------------------------------------
// $rand

function parseRand(arg: unknown): Node {
  if (!isArgumentObject(arg) || Object.keys(arg).length !== 0) {
    throw fail(LocationCodes.RandHasArguments, '$rand does not currently accept arguments');
  }
  return { constant: false, evaluate() { return new Double(Math.random()); } };
}

export const arithmeticOperators: OperatorTable = {
  $add: naryNumeric(add, true),
  $subtract: binary(subtract),
  $multiply: naryNumeric(multiply, false),
  $divide: binary(divide),
  $mod: binary(mod),
  $abs: singleNumeric((v) => abs(v)),
  $ceil: singleNumeric(ceilOrFloor('ceiling')),
  $floor: singleNumeric(ceilOrFloor('floor')),
  $sqrt: singleNumeric(sqrtOf),
  $exp: singleNumeric(expOf),
  $ln: singleNumeric(lnOf),
  $log10: singleNumeric(log10Of),
  $log: parseLog,
  $pow: parsePow,
  $round: roundOrTrunc(round),
  $trunc: roundOrTrunc(trunc),
  $sum: fromAccumulator(() => () => new SumAccumulator()),
  $avg: fromAccumulator(() => () => new AvgAccumulator()),
  $max: fromAccumulator(minMax(-1)),
  $min: fromAccumulator(minMax(1)),
  $stdDevPop: (_arg, _ctx, op) => {
    throw refuse(`${op} in aggregation expressions`);
  },
  $stdDevSamp: (_arg, _ctx, op) => {
    throw refuse(`${op} in aggregation expressions`);
  },
  $bitAnd: bitwise('and'),
  $bitOr: bitwise('or'),
  $bitXor: bitwise('xor'),
  $bitNot: singleNumeric(bitNot),
  $rand: parseRand,
};
