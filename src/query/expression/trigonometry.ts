/**
 * Trigonometric expressions (src/mongo/db/pipeline/expression_trigonometric.h/.cpp, on
 * ExpressionSingleNumericArg / ExpressionTwoNumericArgs of expression.h): $sin $cos $tan $asin
 * $acos $atan $atan2 $sinh $cosh $tanh $asinh $acosh $atanh $degreesToRadians $radiansToDegrees.
 *
 * - null or missing operands give null; other non-numbers 28765 (one operand) or 51044 / 51045
 *   ($atan2, checked operand by operand: the second is not evaluated when the first is nullish or
 *   not a number).
 * - int, long and double operands are computed as doubles and give a Double. The bounded functions
 *   ($acos $asin $atanh in [-1,1], $acosh in [1,inf], $sin $cos $tan in (-inf,inf)) return a NaN
 *   operand itself and refuse an operand out of bounds with 50989, the numbers printed as
 *   mongod's StringBuilder prints doubles ("%g") and decimals.
 * - Doubles use JavaScript's Math (fdlibm): within an ulp of glibc's libm, whose result may differ
 *   in the last bit for some operands.
 * - Decimal128 operands: mongod computes in decimal with the Intel library (bid128_sin, ...), which
 *   is not reproduced: they are refused with 115 at evaluation, after the NaN and bounds checks
 *   mongod makes first (those are exact). $degreesToRadians and $radiansToDegrees multiply a
 *   decimal by Decimal128::kPiOver180 / k180OverPi (kPi = the 51-digit text of pi rounded to 34
 *   digits, divided by / into 180), which decimal128.ts computes exactly.
 */
import { Decimal128, Double } from 'bson';
import { LocationCodes, MongoError } from '../../errors.js';
import { decimalCompare, decimalDivide, decimalFromBigInt, decimalFromDouble, decimalIsNaN, decimalMultiply } from '../decimal128.js';
import { computed, fail, fixedArity, refuse, type Node, type OperatorTable, type ParseContext } from './node.js';
import { BSON_TYPE, coerceToDouble, doubleText, isNumber, nullish, typeName, typeOf } from './values.js';

/** ExpressionSingleNumericArg::evaluate: null for nullish, 28765 for a non-number, else `fn`. */
function singleNumeric(fn: (v: unknown, op: string) => unknown) {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const [child] = fixedArity(op, arg, 1, ctx) as [Node];
    const e = child.evaluate;
    return computed((s) => {
      const v = e(s);
      if (nullish(v)) return null;
      if (!isNumber(v)) throw new MongoError(LocationCodes.SingleNumericArgNotNumeric, `${op} only supports numeric types, not ${typeName(v)}`);
      return fn(v, op);
    }, [child]);
  };
}

function refuseDecimal(op: string): MongoError {
  return refuse(`${op} of a decimal value (Decimal128's trigonometric functions)`);
}

// ---------------------------------------------------------------------------------------------
// Bounded: $acos $asin $atanh $acosh $sin $cos $tan

interface Bounds {
  readonly lower: number;
  readonly upper: number;
  readonly inclusive: boolean;
}

const UNIT: Bounds = { lower: -1, upper: 1, inclusive: true };
const ACOSH: Bounds = { lower: 1, upper: Infinity, inclusive: true };
const REALS: Bounds = { lower: -Infinity, upper: Infinity, inclusive: false };

function boundsError(op: string, shown: string, b: Bounds): MongoError {
  const [open, close] = b.inclusive ? ['[', ']'] : ['(', ')'];
  return fail(
    LocationCodes.TrigOutOfBounds,
    `cannot apply ${op} to ${shown}, value must in ${open}${doubleText(b.lower)},${doubleText(b.upper)}${close}`,
  );
}

/** BoundType::checkLowerBound / checkUpperBound for a decimal: compared with Decimal128(bound). */
function decimalInBounds(d: Decimal128, b: Bounds): boolean {
  const lo = decimalCompare(d, decimalFromDouble(b.lower));
  const hi = decimalCompare(d, decimalFromDouble(b.upper));
  return b.inclusive ? lo >= 0 && hi <= 0 : lo > 0 && hi < 0;
}

/** ExpressionBoundedTrigonometric::evaluateNumericArg. */
function bounded(fn: (x: number) => number, b: Bounds) {
  return singleNumeric((v, op) => {
    if (typeOf(v) === BSON_TYPE.decimal) {
      const d = v as Decimal128;
      if (decimalIsNaN(d)) return v;
      if (!decimalInBounds(d, b)) throw boundsError(op, d.toString(), b);
      throw refuseDecimal(op);
    }
    const x = coerceToDouble(v);
    if (x !== x) return v;
    const inBounds = b.inclusive ? x >= b.lower && x <= b.upper : x > b.lower && x < b.upper;
    if (!inBounds) throw boundsError(op, doubleText(x), b);
    return new Double(fn(x));
  });
}

// ---------------------------------------------------------------------------------------------
// Unbounded: $atan $asinh $cosh $sinh $tanh

function unbounded(fn: (x: number) => number) {
  return singleNumeric((v, op) => {
    if (typeOf(v) === BSON_TYPE.decimal) throw refuseDecimal(op);
    return new Double(fn(coerceToDouble(v)));
  });
}

// ---------------------------------------------------------------------------------------------
// $atan2

function parseAtan2(arg: unknown, ctx: ParseContext, op: string): Node {
  const children = fixedArity(op, arg, 2, ctx);
  const a = children[0]!.evaluate;
  const b = children[1]!.evaluate;
  return computed((s) => {
    const y = a(s);
    if (nullish(y)) return null;
    if (!isNumber(y)) throw fail(LocationCodes.TwoNumericArgsFirstNotNumeric, `${op} only supports numeric types, not ${typeName(y)}`);
    const x = b(s);
    if (nullish(x)) return null;
    if (!isNumber(x)) throw fail(LocationCodes.TwoNumericArgsSecondNotNumeric, `${op} only supports numeric types, not ${typeName(x)}`);
    if (typeOf(y) === BSON_TYPE.decimal || typeOf(x) === BSON_TYPE.decimal) throw refuseDecimal(op);
    return new Double(Math.atan2(coerceToDouble(y), coerceToDouble(x)));
  }, children);
}

// ---------------------------------------------------------------------------------------------
// $degreesToRadians $radiansToDegrees

/** Decimal128::kPi: "3.14159265358979323846264338327950288419716939937510" rounded half-even to 34 digits. */
const DECIMAL_PI = Decimal128.fromString('3.141592653589793238462643383279503');
const DECIMAL_180 = decimalFromBigInt(180n);
const DECIMAL_PI_OVER_180 = decimalDivide(DECIMAL_PI, DECIMAL_180);
const DECIMAL_180_OVER_PI = decimalDivide(DECIMAL_180, DECIMAL_PI);
/** kDoublePi / 180.0 and 180.0 / kDoublePi, kDoublePi = 3.141592653589793 (Math.PI). */
const DOUBLE_PI_OVER_180 = Math.PI / 180;
const DOUBLE_180_OVER_PI = 180 / Math.PI;

/** doDegreeRadiansConversion: a decimal times the decimal factor, any other number as a double. */
function conversion(decimalFactor: Decimal128, doubleFactor: number) {
  return singleNumeric((v) => {
    if (typeOf(v) === BSON_TYPE.decimal) return decimalMultiply(v as Decimal128, decimalFactor);
    return new Double(coerceToDouble(v) * doubleFactor);
  });
}

export const trigonometryOperators: OperatorTable = {
  $acos: bounded(Math.acos, UNIT),
  $asin: bounded(Math.asin, UNIT),
  $atanh: bounded(Math.atanh, UNIT),
  $acosh: bounded(Math.acosh, ACOSH),
  $cos: bounded(Math.cos, REALS),
  $sin: bounded(Math.sin, REALS),
  $tan: bounded(Math.tan, REALS),
  $atan: unbounded(Math.atan),
  $asinh: unbounded(Math.asinh),
  $cosh: unbounded(Math.cosh),
  $sinh: unbounded(Math.sinh),
  $tanh: unbounded(Math.tanh),
  $atan2: parseAtan2,
  $degreesToRadians: conversion(DECIMAL_PI_OVER_180, DOUBLE_PI_OVER_180),
  $radiansToDegrees: conversion(DECIMAL_180_OVER_PI, DOUBLE_180_OVER_PI),
};
